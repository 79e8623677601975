//! Request arrivals, the other source of work besides continuous streams: Poisson
//! arrivals at a rate shaped by the constant / ramp / daily profiles, or a CSV trace of
//! arrival timestamps. A request is one item entering the pipeline at its arrival
//! (an uploaded image, an API call); every layout sees the same arrivals, drawn from
//! the scenario's seed.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use rand::Rng;
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use toml::Spanned;

use super::Profile;
use crate::error::InputError;
use crate::sim::{rng_stream, Rng64, Time, NS_PER_SEC};

/// Highest arrival rate, requests per second (memory does not grow with it, time does).
pub const MAX_RATE_PER_S: f64 = 1e6;

/// An arrival rate, read as `"20/s"`, `"1200/min"`, `"5/h"`, `"100/d"` or a number
/// per second; held per second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate(pub f64);

impl Rate {
    /// Parses `"20/s"`-style text.
    pub fn parse(text: &str) -> Result<Rate, String> {
        let bad = || {
            format!("expected a rate like \"20/s\", \"1200/min\", \"5/h\" or \"100/d\" (a number ≥ 0 per unit), got {text:?}")
        };
        let (n, unit) = text.trim().split_once('/').ok_or_else(bad)?;
        let n: f64 = n.trim().parse().map_err(|_| bad())?;
        let per = match unit.trim() {
            "s" | "sec" | "second" => 1.0,
            "min" | "minute" => 60.0,
            "h" | "hour" => 3600.0,
            "d" | "day" => 86_400.0,
            _ => return Err(bad()),
        };
        Rate::checked(n / per).map_err(|_| bad())
    }

    fn checked(per_s: f64) -> Result<Rate, String> {
        if per_s.is_finite() && per_s >= 0.0 {
            Ok(Rate(per_s))
        } else {
            Err(format!("expected a rate ≥ 0, got {per_s}"))
        }
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Text {
            Number(f64),
            Text(String),
        }
        match Text::deserialize(d).map_err(|_| {
            de::Error::custom("expected a rate like \"20/s\" or a number of requests per second")
        })? {
            Text::Number(n) => Rate::checked(n).map_err(de::Error::custom),
            Text::Text(t) => Rate::parse(&t).map_err(de::Error::custom),
        }
    }
}

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.0)
    }
}

/// `[workload.requests]`: where requests come from.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    /// Arrival rate of a Poisson source (the peak, for ramp and daily profiles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<Spanned<Rate>>,
    #[serde(default)]
    pub profile: Profile,
    /// Rate at the start of a ramp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ramp_from: Option<Spanned<Rate>>,
    /// `rate` × the weight of the hour of day (24 numbers in 0..=1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hourly_weights: Option<Spanned<Vec<f64>>>,
    /// A CSV file of arrival timestamps, relative to the scenario: one column of
    /// seconds since the start or RFC 3339 timestamps, header optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<Spanned<String>>,
}

/// How a Poisson source's rate changes over the period.
#[derive(Debug, Clone, PartialEq)]
pub enum RateShape {
    Constant,
    /// Linear from this rate (per second) at the start to the peak at the end.
    Ramp(f64),
    /// The peak × the weight of the hour of day.
    Daily(Vec<f64>),
}

/// Resolved request arrivals.
#[derive(Debug, Clone, PartialEq)]
pub enum Arrivals {
    Poisson {
        peak_per_s: f64,
        shape: RateShape,
    },
    /// Arrival times from a trace file, sorted, relative to the start of the run.
    Trace {
        file: String,
        times: Arc<Vec<Time>>,
    },
}

impl Arrivals {
    /// The expected arrival rate at `t` of a run of length `duration`, per second
    /// (a trace: its arrivals in the minute up to `t`, per second).
    pub fn rate_at(&self, t: Time, duration: Time) -> f64 {
        match self {
            Arrivals::Poisson { peak_per_s, shape } => match shape {
                RateShape::Constant => *peak_per_s,
                RateShape::Ramp(from) => {
                    let frac = if duration == 0 {
                        1.0
                    } else {
                        (t as f64 / duration as f64).clamp(0.0, 1.0)
                    };
                    from + (peak_per_s - from) * frac
                }
                RateShape::Daily(w) => {
                    let hour = (t / (3600 * NS_PER_SEC)) as usize % w.len().max(1);
                    peak_per_s * w.get(hour).copied().unwrap_or(1.0)
                }
            },
            Arrivals::Trace { times, .. } => {
                let window = 60 * NS_PER_SEC;
                let lo = times.partition_point(|&x| x < t.saturating_sub(window));
                let hi = times.partition_point(|&x| x < t);
                (hi - lo) as f64 / 60.0
            }
        }
    }

    /// The highest rate the source reaches, per second (the thinning bound).
    fn max_rate(&self) -> f64 {
        match self {
            Arrivals::Poisson { peak_per_s, shape } => match shape {
                RateShape::Constant => *peak_per_s,
                RateShape::Ramp(from) => peak_per_s.max(*from),
                RateShape::Daily(w) => peak_per_s * w.iter().copied().fold(0.0, f64::max),
            },
            Arrivals::Trace { .. } => 0.0,
        }
    }

    /// Expected arrivals over `[0, duration)` (a trace: its arrivals in the period).
    pub fn expected(&self, duration: Time) -> f64 {
        match self {
            Arrivals::Trace { times, .. } => times.partition_point(|&x| x < duration) as f64,
            Arrivals::Poisson { .. } => {
                // The rate is piecewise linear or constant within an hour: integrate
                // per second.
                let mut total = 0.0;
                let mut t = 0;
                let step = NS_PER_SEC.max(duration / 100_000);
                while t < duration {
                    let dt = step.min(duration - t);
                    total += self.rate_at(t, duration) * dt as f64 / NS_PER_SEC as f64;
                    t += step;
                }
                total
            }
        }
    }

    /// The arrival times over `[0, duration)`, in order, from the scenario's `seed`.
    pub fn stream(&self, seed: u64, duration: Time) -> ArrivalStream<'_> {
        ArrivalStream {
            arrivals: self,
            rng: rng_stream(seed, "arrivals", 0),
            max_rate: self.max_rate(),
            t: 0.0,
            next: 0,
            duration,
        }
    }
}

/// Arrival times in order: a Poisson process of the peak rate thinned to the rate at
/// each instant (Lewis and Shedler), or a trace's times.
pub struct ArrivalStream<'a> {
    arrivals: &'a Arrivals,
    rng: Rng64,
    max_rate: f64,
    /// Time of the last candidate, ns (fractional so gaps do not round away).
    t: f64,
    next: usize,
    duration: Time,
}

impl Iterator for ArrivalStream<'_> {
    type Item = Time;

    fn next(&mut self) -> Option<Time> {
        match self.arrivals {
            Arrivals::Trace { times, .. } => {
                let t = *times.get(self.next)?;
                self.next += 1;
                (t < self.duration).then_some(t)
            }
            Arrivals::Poisson { .. } => {
                if self.max_rate <= 0.0 {
                    return None;
                }
                let mean_gap = NS_PER_SEC as f64 / self.max_rate;
                loop {
                    let u: f64 = self.rng.random();
                    self.t += -(1.0 - u).ln() * mean_gap;
                    if !(self.t < self.duration as f64) {
                        return None;
                    }
                    let at = self.t as Time;
                    let keep: f64 = self.rng.random();
                    if keep * self.max_rate < self.arrivals.rate_at(at, self.duration) {
                        return Some(at);
                    }
                }
            }
        }
    }
}

/// Reads a trace of arrival timestamps: the first column of each row is seconds since
/// the start (a number ≥ 0) or an RFC 3339 timestamp (taken from the earliest one);
/// a first row that is neither is a header. Other columns are ignored. Errors name
/// the trace file, line and column.
pub fn read_trace(path: &Path) -> crate::Result<Vec<Time>> {
    let text = crate::error::read_text(path)?;
    parse_trace(&path.display().to_string(), &text)
}

/// [`read_trace`] on the text of `file`.
pub fn parse_trace(file: &str, text: &str) -> crate::Result<Vec<Time>> {
    let err = |span: Range<usize>, msg: String| -> crate::Error {
        InputError::at_span(file, text, span, msg).into()
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut seconds: Vec<(f64, Range<usize>)> = Vec::new();
    let mut stamps: Vec<(i128, Range<usize>)> = Vec::new();
    let mut first = true;
    for record in reader.records() {
        let record = record.map_err(|e| {
            let at = e.position().map_or(0, |p| p.byte() as usize);
            err(at..at, format!("not a CSV row: {e}"))
        })?;
        let start = record.position().map_or(0, |p| p.byte() as usize);
        let field = record.get(0).unwrap_or("");
        if field.is_empty() && record.len() <= 1 {
            continue; // a blank line
        }
        let offset = text[start..].find(field).map_or(start, |i| start + i);
        let span = offset..offset + field.len();
        let header = first;
        first = false;
        if let Ok(s) = field.parse::<f64>() {
            if !stamps.is_empty() {
                return Err(err(span, format!("expected an RFC 3339 timestamp like the rows above, got {field:?} (a trace is all seconds or all timestamps)")));
            }
            if !(s.is_finite() && s >= 0.0) {
                return Err(err(
                    span,
                    format!("expected seconds since the start (a number ≥ 0), got {field}"),
                ));
            }
            if s * NS_PER_SEC as f64 > super::bounds::MAX_DURATION as f64 {
                return Err(err(
                    span,
                    format!("{s} s is past the longest run (366 days)"),
                ));
            }
            seconds.push((s, span));
        } else if let Ok(t) = humantime::parse_rfc3339_weak(field) {
            if !seconds.is_empty() {
                return Err(err(span, format!("expected seconds like the rows above, got {field:?} (a trace is all seconds or all timestamps)")));
            }
            let ns = match t.duration_since(std::time::UNIX_EPOCH) {
                Ok(d) => d.as_nanos() as i128,
                Err(e) => -(e.duration().as_nanos() as i128),
            };
            stamps.push((ns, span));
        } else if !header {
            return Err(err(
                span,
                format!("expected seconds since the start (a number ≥ 0) or an RFC 3339 timestamp (2026-12-01T09:30:00Z), got {field:?}"),
            ));
        }
    }
    let mut times: Vec<Time> = if !stamps.is_empty() {
        let t0 = stamps.iter().map(|s| s.0).min().expect("not empty");
        let mut out = Vec::with_capacity(stamps.len());
        for (ns, span) in stamps {
            let rel = ns - t0;
            if rel > super::bounds::MAX_DURATION as i128 {
                return Err(err(
                    span,
                    "more than 366 days after the earliest timestamp (the longest run)".into(),
                ));
            }
            out.push(rel as Time);
        }
        out
    } else {
        seconds.iter().map(|(s, _)| crate::sim::secs(*s)).collect()
    };
    if times.is_empty() {
        return Err(err(
            0..0,
            "the trace has no arrivals: expected one timestamp per row (seconds since the start or RFC 3339)".into(),
        ));
    }
    times.sort_unstable();
    Ok(times)
}

/// Resolves `[workload.requests]`: a rate or a trace (not both), the profile's
/// parameters, the trace read relative to `dir`.
pub fn resolve(
    spec: &Spanned<RequestSpec>,
    dir: &Path,
    file: &str,
    text: &str,
) -> crate::Result<Arrivals> {
    let err = |span: Range<usize>, msg: String| -> crate::Error {
        InputError::at_span(file, text, span, msg).into()
    };
    let s = spec.get_ref();
    match (&s.rate, &s.trace) {
        (Some(_), Some(t)) => Err(err(
            t.span(),
            "give either `rate` (Poisson arrivals) or `trace` (a CSV of arrival times), not both"
                .into(),
        )),
        (None, None) => Err(err(
            spec.span(),
            "[workload.requests] needs `rate` (e.g. \"20/s\", Poisson arrivals) or `trace` (a CSV file of arrival times)".into(),
        )),
        (None, Some(trace)) => {
            for (given, name) in [
                (s.ramp_from.as_ref().map(|r| r.span()), "ramp_from"),
                (s.hourly_weights.as_ref().map(|h| h.span()), "hourly_weights"),
            ] {
                if let Some(span) = given {
                    return Err(err(span, format!("`{name}` shapes a Poisson `rate`; a trace's arrivals are its timestamps")));
                }
            }
            if s.profile != Profile::Constant {
                return Err(err(
                    trace.span(),
                    "a trace's arrivals are its timestamps: leave `profile` out".into(),
                ));
            }
            let path = dir.join(trace.get_ref());
            let times = read_trace(&path).map_err(|e| match e {
                // A trace that cannot be read: point at the scenario's line.
                crate::Error::Input(i) if i.line.is_none() => err(
                    trace.span(),
                    format!("trace {}: {}", i.file, i.message),
                ),
                other => other,
            })?;
            Ok(Arrivals::Trace {
                file: trace.get_ref().clone(),
                times: Arc::new(times),
            })
        }
        (Some(rate), None) => {
            let peak = rate.get_ref().0;
            if peak > MAX_RATE_PER_S {
                return Err(err(
                    rate.span(),
                    format!("rate must be at most {MAX_RATE_PER_S:.0}/s, got {peak}/s"),
                ));
            }
            let shape = match s.profile {
                Profile::Constant => RateShape::Constant,
                Profile::Ramp => {
                    let Some(from) = &s.ramp_from else {
                        return Err(err(
                            rate.span(),
                            "a ramp profile needs `ramp_from` (the rate at the start)".into(),
                        ));
                    };
                    if from.get_ref().0 > MAX_RATE_PER_S {
                        return Err(err(
                            from.span(),
                            format!("ramp_from must be at most {MAX_RATE_PER_S:.0}/s"),
                        ));
                    }
                    RateShape::Ramp(from.get_ref().0)
                }
                Profile::Daily => {
                    let Some(hw) = &s.hourly_weights else {
                        return Err(err(
                            rate.span(),
                            "a daily profile needs `hourly_weights` (24 numbers in 0..=1)".into(),
                        ));
                    };
                    super::bounds::check_hourly_weights(hw, "workload.requests", file, text)?;
                    RateShape::Daily(hw.get_ref().clone())
                }
            };
            if peak == 0.0 && !matches!(shape, RateShape::Ramp(f) if f > 0.0) {
                return Err(err(
                    rate.span(),
                    "rate must be more than 0 (no request would arrive)".into(),
                ));
            }
            Ok(Arrivals::Poisson {
                peak_per_s: peak,
                shape,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Time = 3600 * NS_PER_SEC;

    fn poisson(rate: f64, shape: RateShape) -> Arrivals {
        Arrivals::Poisson {
            peak_per_s: rate,
            shape,
        }
    }

    #[test]
    fn rates_read_with_units() {
        assert_eq!(Rate::parse("20/s"), Ok(Rate(20.0)));
        assert_eq!(Rate::parse("1200 / min"), Ok(Rate(20.0)));
        assert_eq!(Rate::parse("36/h"), Ok(Rate(0.01)));
        assert!(Rate::parse("20").is_err());
        assert!(Rate::parse("-1/s").is_err());
        assert!(Rate::parse("5/week").is_err());
    }

    #[test]
    fn poisson_arrivals_are_seeded_and_average_to_the_rate() {
        let a = poisson(20.0, RateShape::Constant);
        let run = |seed| a.stream(seed, 100 * NS_PER_SEC).collect::<Vec<_>>();
        let first = run(7);
        // Exact for the seed: the same arrivals every time.
        assert_eq!(first, run(7));
        assert_eq!(first.len(), 2_089);
        assert_ne!(first, run(8));
        assert!(first.windows(2).all(|w| w[0] <= w[1]));
        // Over many arrivals the count is within 3 standard deviations of the mean
        // (λT = 200,000, σ = √λT ≈ 447).
        let n = a.stream(3, 10_000 * NS_PER_SEC).count() as f64;
        assert!((n - 200_000.0).abs() < 3.0 * 200_000f64.sqrt(), "{n}");
        // Gaps are exponential: their coefficient of variation is 1.
        let times: Vec<Time> = a.stream(3, 10_000 * NS_PER_SEC).collect();
        let gaps: Vec<f64> = times.windows(2).map(|w| (w[1] - w[0]) as f64).collect();
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
        assert!(
            (var.sqrt() / mean - 1.0).abs() < 0.02,
            "{}",
            var.sqrt() / mean
        );
    }

    #[test]
    fn the_daily_profile_modulates_the_rate() {
        let mut w = vec![0.0; 24];
        w[1] = 1.0;
        w[2] = 0.25;
        let a = poisson(10.0, RateShape::Daily(w));
        let times: Vec<Time> = a.stream(1, 4 * HOUR).collect();
        let in_hour = |h: u64| times.iter().filter(|&&t| t / HOUR == h).count() as f64;
        assert_eq!(in_hour(0), 0.0);
        assert_eq!(in_hour(3), 0.0);
        // 36,000 expected in hour 1, 9,000 in hour 2 (σ = 190 and 95).
        assert!((in_hour(1) - 36_000.0).abs() < 600.0, "{}", in_hour(1));
        assert!((in_hour(2) - 9_000.0).abs() < 300.0, "{}", in_hour(2));
        assert!((a.expected(4 * HOUR) - 45_000.0).abs() < 1e-6);
        assert_eq!(a.rate_at(HOUR + 5, 4 * HOUR), 10.0);
    }

    #[test]
    fn a_ramp_grows_linearly() {
        let a = poisson(100.0, RateShape::Ramp(0.0));
        let d = 1000 * NS_PER_SEC;
        let times: Vec<Time> = a.stream(5, d).collect();
        let first_half = times.iter().filter(|&&t| t < d / 2).count() as f64;
        // A quarter of the 50,000 expected arrivals come in the first half.
        assert!((first_half - 12_500.0).abs() < 400.0, "{first_half}");
        assert!((times.len() as f64 - 50_000.0).abs() < 700.0);
    }

    #[test]
    fn traces_read_seconds_or_timestamps() {
        let t = parse_trace("a.csv", "arrival\n0.5\n0\n2\n").unwrap();
        assert_eq!(t, vec![0, NS_PER_SEC / 2, 2 * NS_PER_SEC]);
        let t = parse_trace(
            "b.csv",
            "2026-12-01T09:00:01Z,upload\n2026-12-01T09:00:00.250Z,x\n\n",
        )
        .unwrap();
        assert_eq!(t, vec![0, 750_000_000]);
        let a = Arrivals::Trace {
            file: "b.csv".into(),
            times: Arc::new(vec![0, 5, 3 * NS_PER_SEC]),
        };
        assert_eq!(a.stream(1, NS_PER_SEC).collect::<Vec<_>>(), vec![0, 5]);
        assert_eq!(a.expected(NS_PER_SEC), 2.0);
    }

    #[test]
    fn trace_errors_name_line_and_column() {
        let e = |text: &str| parse_trace("t.csv", text).unwrap_err().to_string();
        let m = e("seconds\n1\n2\nlater\n");
        assert!(
            m.starts_with("t.csv:4:1:") && m.contains("got \"later\""),
            "{m}"
        );
        let m = e("1\n  -3\n");
        assert!(m.starts_with("t.csv:2:3:") && m.contains("≥ 0"), "{m}");
        let m = e("1\n2026-12-01T09:00:00Z\n");
        assert!(
            m.starts_with("t.csv:2:1:") && m.contains("all seconds"),
            "{m}"
        );
        let m = e("when\n");
        assert!(m.contains("no arrivals"), "{m}");
        let m = e("2026-01-01T00:00:00Z\n2027-06-01T00:00:00Z\n");
        assert!(m.starts_with("t.csv:2:1:") && m.contains("366 days"), "{m}");
    }

    const REQUESTS: &str = r#"
name = "r"
duration = "1h"
[workload.requests]
rate = "1200/min"
[[stages]]
name = "a"
work = "10ms"
[[layouts]]
name = "m"
kind = "monolith"
"#;

    #[test]
    fn a_request_workload_is_one_item_per_job_quoted_per_1000_requests() {
        let r = crate::scenario::Scenario::parse("r.toml", REQUESTS, None).unwrap();
        assert_eq!(r.arrivals, Some(poisson(20.0, RateShape::Constant)));
        assert_eq!(r.items_per_job(), 1.0);
        assert!(r.constant_load());
        assert_eq!(r.cost_unit().label(), "per 1,000 requests");
        assert_eq!(r.scenario.workload.stream_hours(r.duration), 0.0);
        // 20/s for an hour, 2 steps per request, 1 layout.
        let events = crate::scenario::bounds::estimated_events(&r, r.duration);
        assert!((events - 72_000.0 * 2.0).abs() < 1e-6, "{events}");
        // Without [workload.requests], the stream fields are needed.
        let streams = REQUESTS.replace(
            "[workload.requests]\nrate = \"1200/min\"",
            "[workload]\nstreams = 2",
        );
        let e = crate::scenario::Scenario::parse("s.toml", &streams, None)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("s.toml:4:") && e.contains("missing field `frames_per_second`"),
            "{e}"
        );
    }
}
