//! Work per item as a CPU-time distribution written with units in a scenario
//! (`"lognormal(median 40ms, p99 120ms)"`), or drawn from a stage calibration measured
//! from Lambda logs (`"empirical(thumbnail.cal.toml)"`).
//!
//! Two steps: [`CpuDistSpec`] is what the string says (parsed and checked, usable in a
//! `toml::Spanned` so errors carry line and column); [`CpuDistSpec::resolve`] reads
//! any calibration file and gives a [`CpuDist`] ready to draw from. The parametric
//! families reuse [`Dist`], so they draw exactly what `Dist` draws.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rand::Rng;
use rand_distr::Distribution;
use serde::de::{self, Deserializer};
use serde::Deserialize;
use statrs::distribution::ContinuousCDF;

use super::stage_calibration::{ms, StageCalibration};
use crate::error::{InputError, Result};
use crate::sim::{round_u64, Dist, Sampler, Time, NS_PER_SEC};

/// Every form, listed in parse errors.
pub const FORMS: &str = "40ms, constant(40ms), lognormal(median 40ms, p99 120ms), \
lognormal(mean 40ms, sd 10ms), exponential(mean 10ms), uniform(10ms, 20ms), \
gamma(mean 40ms, cv 0.5), empirical(FILE.cal.toml)";

/// The longest CPU time one item may take: a day. Longer is a typo, not a workload.
pub const MAX_NS: Time = 86_400 * NS_PER_SEC;

/// Time units accepted, in nanoseconds.
const UNITS: [(&str, f64); 6] = [
    ("ns", 1.0),
    ("us", 1e3),
    ("µs", 1e3),
    ("ms", 1e6),
    ("s", 1e9),
    ("min", 60e9),
];

/// z of the standard normal distribution at 0.99 (as in `sim::dist`).
const Z99: f64 = 2.326_347_874_040_840_8;

/// A CPU-time distribution as written (times in ns).
#[derive(Debug, Clone, PartialEq)]
pub enum CpuDistSpec {
    Constant(Time),
    Lognormal {
        median: Time,
        p99: Time,
    },
    /// A lognormal given by its mean and standard deviation.
    LognormalMoments {
        mean: Time,
        sd: Time,
    },
    Exponential {
        mean: Time,
    },
    Uniform {
        low: Time,
        high: Time,
    },
    /// Gamma with this mean and coefficient of variation (sd / mean).
    Gamma {
        mean: Time,
        cv: f64,
    },
    /// Samples from a stage calibration file (relative to the scenario's folder).
    Empirical(PathBuf),
}

/// A mistake in a distribution string: where (byte offset in the string) and what.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (at character {}); the forms are: {FORMS}",
            self.message,
            self.offset + 1
        )
    }
}

impl std::error::Error for ParseError {}

fn fail<T>(offset: usize, message: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError {
        offset,
        message: message.into(),
    })
}

/// One argument inside the parentheses: `key value` or just `value`.
struct Arg<'a> {
    key: Option<&'a str>,
    value: &'a str,
    /// Byte offset of the value in the whole string.
    at: usize,
}

impl std::str::FromStr for CpuDistSpec {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        CpuDistSpec::parse(s)
    }
}

impl CpuDistSpec {
    /// Parses `40ms`, `lognormal(median 40ms, p99 120ms)` and the other [`FORMS`].
    pub fn parse(s: &str) -> Result<CpuDistSpec, ParseError> {
        let lead = s.len() - s.trim_start().len();
        let t = s.trim();
        if t.is_empty() {
            return fail(0, "expected a CPU-time distribution, got an empty string");
        }
        if t.starts_with(|c: char| c.is_ascii_digit() || c == '.' || c == '-' || c == '+') {
            return Ok(CpuDistSpec::Constant(duration(t, lead)?));
        }
        let name_len = t
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(t.len());
        let name = &t[..name_len];
        let rest = &t[name_len..];
        let open = lead + name_len + (rest.len() - rest.trim_start().len());
        if !rest.trim_start().starts_with('(') {
            return fail(open, format!("expected `(` after `{name}`"));
        }
        if !t.ends_with(')') {
            return fail(lead + t.len(), "expected `)` at the end");
        }
        let inner_start = open + 1;
        let inner = &s[inner_start..lead + t.len() - 1];
        if name == "empirical" {
            let file = inner.trim().trim_matches(|c| c == '"' || c == '\'');
            if file.is_empty() {
                return fail(inner_start, "empirical(FILE) needs the calibration file");
            }
            return Ok(CpuDistSpec::Empirical(PathBuf::from(file)));
        }
        let args = split_args(inner, inner_start)?;
        let keys: Vec<&str> = args.iter().map(|a| a.key.unwrap_or("")).collect();
        let d = |i: usize| duration(args[i].value, args[i].at);
        let spec = match (name, keys.as_slice()) {
            ("constant", [""]) => CpuDistSpec::Constant(d(0)?),
            ("lognormal", ["median", "p99"]) => {
                let (median, p99) = (d(0)?, d(1)?);
                if p99 <= median {
                    return fail(
                        args[1].at,
                        format!(
                            "a lognormal needs p99 > median, got median {} and p99 {} \
                             (for a fixed time write constant(…))",
                            ms(median as f64),
                            ms(p99 as f64)
                        ),
                    );
                }
                CpuDistSpec::Lognormal { median, p99 }
            }
            ("lognormal", ["mean", "sd"]) => CpuDistSpec::LognormalMoments {
                mean: d(0)?,
                sd: d(1)?,
            },
            ("exponential", ["mean"]) => CpuDistSpec::Exponential { mean: d(0)? },
            ("uniform", ["", ""]) | ("uniform", ["low", "high"]) => {
                let (low, high) = (d(0)?, d(1)?);
                if high <= low {
                    return fail(
                        args[1].at,
                        "a uniform needs its low end before its high end: uniform(10ms, 20ms)",
                    );
                }
                CpuDistSpec::Uniform { low, high }
            }
            ("gamma", ["mean", "cv"]) => {
                let a = &args[1];
                let cv = a
                    .value
                    .parse::<f64>()
                    .ok()
                    .filter(|c| c.is_finite() && *c > 0.0 && *c <= 10.0);
                let Some(cv) = cv else {
                    return fail(
                        a.at,
                        format!(
                            "cv is sd / mean, a plain number in (0, 10], got `{}`",
                            a.value
                        ),
                    );
                };
                CpuDistSpec::Gamma { mean: d(0)?, cv }
            }
            ("constant" | "lognormal" | "exponential" | "uniform" | "gamma", _) => {
                let expected = match name {
                    "constant" => "constant(40ms)",
                    "lognormal" => {
                        "lognormal(median 40ms, p99 120ms) or lognormal(mean 40ms, sd 10ms)"
                    }
                    "exponential" => "exponential(mean 10ms)",
                    "uniform" => "uniform(10ms, 20ms)",
                    _ => "gamma(mean 40ms, cv 0.5)",
                };
                return fail(inner_start, format!("expected {expected}"));
            }
            _ => return fail(lead, format!("unknown distribution `{name}`")),
        };
        Ok(spec)
    }

    /// Reads the calibration file of an `empirical(FILE)`, relative to `base_dir`
    /// unless absolute; the other forms need nothing.
    pub fn resolve(&self, base_dir: &Path) -> Result<CpuDist> {
        let draw = match *self {
            CpuDistSpec::Constant(v) => Draw::dist(Dist::fixed(v)),
            CpuDistSpec::Lognormal { median, p99 } => Draw::dist(Dist::lognormal(median, p99)),
            CpuDistSpec::LognormalMoments { mean, sd } => {
                // sigma^2 = ln(1 + cv^2), median = mean / sqrt(1 + cv^2).
                let cv = sd as f64 / mean as f64;
                let s2 = cv.mul_add(cv, 1.0).ln();
                let median = mean as f64 / cv.mul_add(cv, 1.0).sqrt();
                let p99 = median * (Z99 * s2.sqrt()).exp();
                Draw::dist(Dist::lognormal(round_u64(median), round_u64(p99)))
            }
            CpuDistSpec::Exponential { mean } => Draw::dist(Dist::exponential(mean)),
            CpuDistSpec::Uniform { low, high } => Draw::dist(Dist::uniform(low, high)),
            CpuDistSpec::Gamma { mean, cv } => {
                let shape = 1.0 / (cv * cv);
                let error = |e: &dyn fmt::Display| {
                    crate::Error::Other(format!("gamma(mean {mean} ns, cv {cv}): {e}"))
                };
                let sampler =
                    rand_distr::Gamma::new(shape, mean as f64 / shape).map_err(|e| error(&e))?;
                // Quantiles in units of the mean, where the inverse CDF converges well.
                let unit = statrs::distribution::Gamma::new(shape, shape).map_err(|e| error(&e))?;
                Draw::Gamma(sampler, unit, mean as f64)
            }
            CpuDistSpec::Empirical(ref file) => {
                let path = base_dir.join(file);
                Draw::Empirical(Arc::new(StageCalibration::load(&path)?))
            }
        };
        Ok(CpuDist {
            spec: self.clone(),
            draw,
        })
    }

    /// [`resolve`](Self::resolve) for a value read from a scenario: a calibration
    /// file that cannot be read is reported at the value's position in the scenario
    /// (`scenario_file`, whose text is `scenario_text`).
    pub fn resolve_spanned(
        spanned: &toml::Spanned<CpuDistSpec>,
        base_dir: &Path,
        scenario_file: &str,
        scenario_text: &str,
    ) -> Result<CpuDist> {
        spanned.get_ref().resolve(base_dir).map_err(|e| match e {
            crate::Error::Input(i) if i.line.is_none() => InputError::at_span(
                scenario_file,
                scenario_text,
                spanned.span(),
                format!("{}: {}", i.file, i.message),
            )
            .into(),
            other => other,
        })
    }
}

impl fmt::Display for CpuDistSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = |ns: Time| human(ns);
        match self {
            CpuDistSpec::Constant(v) => write!(f, "constant({})", t(*v)),
            CpuDistSpec::Lognormal { median, p99 } => {
                write!(f, "lognormal(median {}, p99 {})", t(*median), t(*p99))
            }
            CpuDistSpec::LognormalMoments { mean, sd } => {
                write!(f, "lognormal(mean {}, sd {})", t(*mean), t(*sd))
            }
            CpuDistSpec::Exponential { mean } => write!(f, "exponential(mean {})", t(*mean)),
            CpuDistSpec::Uniform { low, high } => write!(f, "uniform({}, {})", t(*low), t(*high)),
            CpuDistSpec::Gamma { mean, cv } => write!(f, "gamma(mean {}, cv {cv})", t(*mean)),
            CpuDistSpec::Empirical(p) => write!(f, "empirical({})", p.display()),
        }
    }
}

impl<'de> Deserialize<'de> for CpuDistSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        CpuDistSpec::parse(&s).map_err(|e| de::Error::custom(format!("in {s:?}: {e}")))
    }
}

/// A time for people, in the largest unit that keeps it short and exact to 1 ns.
fn human(ns: Time) -> String {
    for (unit, size) in [("min", 60e9), ("s", 1e9), ("ms", 1e6), ("us", 1e3)] {
        let x = ns as f64 / size;
        if x >= 1.0 && (x * 1000.0).fract() == 0.0 {
            return format!("{x}{unit}");
        }
    }
    format!("{ns}ns")
}

/// Splits `a, b` into arguments, each `key value` or `value`; `base` is the byte
/// offset of `inner` in the whole string.
fn split_args(inner: &str, base: usize) -> Result<Vec<Arg<'_>>, ParseError> {
    let mut out = Vec::new();
    let mut pos = 0;
    for part in inner.split(',') {
        let lead = part.len() - part.trim_start().len();
        let p = part.trim();
        let at = base + pos + lead;
        if p.is_empty() {
            return fail(at, "expected an argument");
        }
        let starts_with_word = p.starts_with(|c: char| c.is_ascii_alphabetic());
        let arg = match p.split_once(char::is_whitespace) {
            Some((key, value)) if starts_with_word => {
                let value_at = at + p.len() - value.trim_start().len();
                Arg {
                    key: Some(key),
                    value: value.trim(),
                    at: value_at,
                }
            }
            _ => Arg {
                key: None,
                value: p,
                at,
            },
        };
        out.push(arg);
        pos += part.len() + 1;
    }
    Ok(out)
}

/// `40ms`, `1.5 s`, `250us`: a positive time of at most a day, in ns; `at` is its
/// offset in the whole string.
fn duration(text: &str, at: usize) -> Result<Time, ParseError> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')))
        .unwrap_or(t.len());
    // `1e3ms` has an `e` inside the number; a unit never starts with one.
    let (number, unit) = (&t[..split], t[split..].trim());
    let unit_at = at + t.len() - t[split..].trim_start().len();
    let x: f64 = number.parse().map_err(|_| ParseError {
        offset: at,
        message: format!("expected a time such as 40ms, got `{t}`"),
    })?;
    let Some(&(_, size)) = UNITS.iter().find(|(u, _)| *u == unit) else {
        return fail(
            unit_at,
            if unit.is_empty() {
                format!("`{t}` needs a unit: ns, us, ms, s or min")
            } else {
                format!("unknown unit `{unit}`: expected ns, us, ms, s or min")
            },
        );
    };
    if !x.is_finite() || x <= 0.0 {
        return fail(at, format!("a CPU time must be positive, got `{t}`"));
    }
    let ns = x * size;
    if ns > MAX_NS as f64 {
        return fail(at, format!("`{t}` is longer than a day: check the unit"));
    }
    let ns = round_u64(ns);
    if ns == 0 {
        return fail(at, format!("`{t}` is below one nanosecond"));
    }
    Ok(ns)
}

#[derive(Debug, Clone)]
enum Draw {
    Dist(Dist, Sampler),
    /// The sampler, the unit-mean distribution for quantiles, the mean.
    Gamma(rand_distr::Gamma<f64>, statrs::distribution::Gamma, f64),
    Empirical(Arc<StageCalibration>),
}

impl Draw {
    fn dist(d: Dist) -> Draw {
        let s = d.sampler();
        Draw::Dist(d, s)
    }
}

/// A CPU-time distribution ready to draw from.
#[derive(Debug, Clone)]
pub struct CpuDist {
    spec: CpuDistSpec,
    draw: Draw,
}

impl CpuDist {
    /// What was written.
    pub fn spec(&self) -> &CpuDistSpec {
        &self.spec
    }

    /// One draw of CPU time, in ns; deterministic given the generator's state.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Time {
        match &self.draw {
            Draw::Dist(_, s) => s.sample(rng),
            Draw::Gamma(g, ..) => round_u64(g.sample(rng)),
            Draw::Empirical(cal) => cal.cpu.sample(rng),
        }
    }

    /// The mean, in ns.
    pub fn mean_ns(&self) -> f64 {
        match &self.draw {
            Draw::Dist(d, _) => d.mean(),
            Draw::Gamma(_, _, mean) => *mean,
            Draw::Empirical(cal) => cal.cpu.mean(),
        }
    }

    /// The `p` quantile in ns: exact for each family; for empirical, the sample
    /// quantile. `p` is clamped to 0..=1.
    pub fn quantile(&self, p: f64) -> f64 {
        let p = if p.is_nan() { 0.5 } else { p.clamp(0.0, 1.0) };
        match &self.draw {
            Draw::Dist(d, _) => d.quantile(p),
            Draw::Gamma(_, unit, mean) => unit.inverse_cdf(p) * mean,
            Draw::Empirical(cal) => cal.cpu.quantile(p),
        }
    }

    /// The stage calibration behind an `empirical(FILE)`: its cold-start samples and
    /// cold share are there for the Lambda model.
    pub fn calibration(&self) -> Option<&StageCalibration> {
        match &self.draw {
            Draw::Empirical(cal) => Some(cal),
            _ => None,
        }
    }

    /// One line for the assumptions table.
    pub fn describe(&self) -> String {
        let q = |p| ms(self.quantile(p));
        match &self.draw {
            Draw::Empirical(cal) => format!(
                "{}: CPU time of {} Lambda invocations of `{}` (p50 {}, p99 {}, mean {}), \
                 {:.2}% cold starts",
                self.spec,
                cal.records(),
                cal.stage,
                q(0.5),
                q(0.99),
                ms(self.mean_ns()),
                cal.cold_share() * 100.0
            ),
            _ => format!(
                "{} CPU time per item (p50 {}, p99 {}, mean {})",
                self.spec,
                q(0.5),
                q(0.99),
                ms(self.mean_ns())
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{millis, rng_stream};

    fn spec(s: &str) -> CpuDistSpec {
        CpuDistSpec::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn dist(s: &str) -> CpuDist {
        spec(s).resolve(Path::new(".")).unwrap()
    }

    fn err(s: &str) -> ParseError {
        CpuDistSpec::parse(s).expect_err(s)
    }

    #[test]
    fn parses_every_form_with_units() {
        assert_eq!(spec("40ms"), CpuDistSpec::Constant(millis(40)));
        assert_eq!(
            spec(" constant( 1.5 s ) "),
            CpuDistSpec::Constant(1_500_000_000)
        );
        assert_eq!(spec("250us"), CpuDistSpec::Constant(250_000));
        assert_eq!(spec("2min"), CpuDistSpec::Constant(120_000_000_000));
        assert_eq!(spec("800ns"), CpuDistSpec::Constant(800));
        assert_eq!(
            spec("lognormal(median 40ms, p99 120ms)"),
            CpuDistSpec::Lognormal {
                median: millis(40),
                p99: millis(120)
            }
        );
        assert_eq!(
            spec("lognormal(mean 40ms, sd 10ms)"),
            CpuDistSpec::LognormalMoments {
                mean: millis(40),
                sd: millis(10)
            }
        );
        assert_eq!(
            spec("exponential(mean 10ms)"),
            CpuDistSpec::Exponential { mean: millis(10) }
        );
        assert_eq!(
            spec("uniform(10ms, 20ms)"),
            CpuDistSpec::Uniform {
                low: millis(10),
                high: millis(20)
            }
        );
        assert_eq!(
            spec("gamma(mean 40ms, cv 0.5)"),
            CpuDistSpec::Gamma {
                mean: millis(40),
                cv: 0.5
            }
        );
        assert_eq!(
            spec("empirical(logs/thumbnail.cal.toml)"),
            CpuDistSpec::Empirical("logs/thumbnail.cal.toml".into())
        );
        // Display writes a form that parses back to the same value.
        for s in [
            "40ms",
            "lognormal(median 40ms, p99 120ms)",
            "uniform(10ms, 20ms)",
            "gamma(mean 1.5s, cv 0.25)",
            "exponential(mean 250us)",
            "constant(800ns)",
        ] {
            assert_eq!(spec(&spec(s).to_string()), spec(s), "{s}");
        }
    }

    #[test]
    fn rejects_bad_values_with_the_offset_and_the_forms() {
        let e = err("lognormal(median 40ms, p99 20ms)");
        assert_eq!(e.offset, 27);
        assert!(e.message.contains("p99 > median"), "{}", e.message);
        assert!(
            e.to_string()
                .contains("the forms are: 40ms, constant(40ms)"),
            "{e}"
        );
        for (s, offset, says) in [
            ("-5ms", 0, "positive"),
            ("0ms", 0, "positive"),
            ("constant(2 days)", 11, "unknown unit `days`"),
            ("40", 2, "needs a unit"),
            ("25h", 2, "unknown unit `h`"),
            ("1441min", 0, "longer than a day"),
            ("lognormal(median NaN ms, p99 1s)", 17, "expected a time"),
            ("uniform(20ms, 10ms)", 14, "low end before its high end"),
            ("gamma(mean 4ms, cv -1)", 19, "cv is sd / mean"),
            (
                "lognormal(p99 4ms, median 1ms)",
                10,
                "expected lognormal(median",
            ),
            ("weibull(1ms)", 0, "unknown distribution `weibull`"),
            ("exponential 10ms", 12, "expected `(`"),
            ("exponential(mean 10ms", 21, "expected `)`"),
            ("", 0, "empty"),
            ("empirical( )", 10, "needs the calibration file"),
        ] {
            let e = err(s);
            assert_eq!(e.offset, offset, "{s}: {e}");
            assert!(e.message.contains(says), "{s}: {e}");
        }
    }

    #[test]
    fn toml_errors_name_line_and_column() {
        #[derive(Deserialize, Debug)]
        struct Stage {
            #[allow(dead_code)]
            name: String,
            work: toml::Spanned<CpuDistSpec>,
        }
        let text = "name = \"resize\"\nwork = \"lognormal(median 40ms, p99 10ms)\"\n";
        let e = crate::error::parse_toml::<Stage>("s.toml", text).unwrap_err();
        let shown = e.to_string();
        assert!(shown.starts_with("s.toml:2:8: "), "{shown}");
        assert!(shown.contains("p99 > median"), "{shown}");
        assert!(shown.contains("gamma(mean 40ms, cv 0.5)"), "{shown}");
        let ok = "name = \"r\"\nwork = \"exponential(mean 3ms)\"\n";
        let ok = crate::error::parse_toml::<Stage>("s.toml", ok).unwrap();
        assert_eq!(ok.work.span(), 18..41); // the quoted string on line 2
        assert_eq!(
            ok.work.get_ref(),
            &CpuDistSpec::Exponential { mean: millis(3) }
        );
    }

    #[test]
    fn lognormal_draws_hit_the_stated_median_and_p99() {
        // 100,000 draws, fixed seed; sample quantiles from the sorted draws. With
        // sigma = ln(3)/z99 = 0.472 the standard error of the sample p50 is about
        // 0.19% of the median and of the sample p99 about 0.56% of the p99, so the
        // tolerances, 1% and 2.5%, are five and four and a half standard errors.
        let d = dist("lognormal(median 40ms, p99 120ms)");
        let mut rng = rng_stream(7, "work", 0);
        let mut draws: Vec<u64> = (0..100_000).map(|_| d.sample(&mut rng)).collect();
        draws.sort_unstable();
        let (p50, p99) = (draws[49_999] as f64 / 1e6, draws[98_999] as f64 / 1e6);
        assert!((p50 / 40.0 - 1.0).abs() < 0.01, "p50 {p50} ms");
        assert!((p99 / 120.0 - 1.0).abs() < 0.025, "p99 {p99} ms");
        let mean = draws.iter().map(|&x| x as f64).sum::<f64>() / 1e5;
        assert!((d.quantile(0.5) - 40e6).abs() < 1.0);
        assert!((d.quantile(0.99) - 120e6).abs() < 1.0);
        assert!((mean / d.mean_ns() - 1.0).abs() < 0.01, "mean {mean}");
    }

    #[test]
    fn moments_gamma_and_uniform_have_their_stated_mean_and_quantiles() {
        let ln = dist("lognormal(mean 40ms, sd 10ms)");
        assert!((ln.mean_ns() / 40e6 - 1.0).abs() < 1e-6, "{}", ln.mean_ns());
        let g = dist("gamma(mean 40ms, cv 0.5)");
        assert_eq!(g.mean_ns(), 40e6);
        // The gamma's quantile inverts its CDF.
        let unit = statrs::distribution::Gamma::new(4.0, 4.0).unwrap();
        for p in [0.01, 0.5, 0.99] {
            assert!((unit.cdf(g.quantile(p) / 40e6) - p).abs() < 1e-9, "p {p}");
        }
        let mut rng = rng_stream(3, "work", 0);
        let n = 100_000;
        let mean = (0..n).map(|_| g.sample(&mut rng) as f64).sum::<f64>() / n as f64;
        assert!((mean / 40e6 - 1.0).abs() < 0.01, "{mean}");
        let u = dist("uniform(10ms, 20ms)");
        assert_eq!(u.quantile(0.5), 15e6);
        assert_eq!(u.mean_ns(), 15e6);
        let e = dist("exponential(mean 10ms)");
        assert!((e.quantile(0.5) - 10e6 * std::f64::consts::LN_2).abs() < 1e-3);
        assert_eq!(dist("40ms").sample(&mut rng), 40_000_000);
        assert_eq!(
            dist("lognormal(median 30ms, p99 90ms)").describe(),
            "lognormal(median 30ms, p99 90ms) CPU time per item (p50 30.00 ms, p99 90.00 ms, mean 33.54 ms)"
        );
    }

    #[test]
    fn draws_are_those_of_dist() {
        let d = dist("lognormal(median 20ms, p99 150ms)");
        let reference = Dist::lognormal(millis(20), millis(150));
        let (mut a, mut b) = (rng_stream(5, "w", 0), rng_stream(5, "w", 0));
        for _ in 0..1000 {
            assert_eq!(d.sample(&mut a), reference.sample(&mut b));
        }
    }

    #[test]
    fn empirical_reads_its_calibration_relative_to_the_scenario() {
        let dir = tempfile::tempdir().unwrap();
        let cal = "stage = \"resize\"\nmb_per_vcpu = 1769\nrecords = 4\ncold_starts = 1\ncold_share = 0.25\nskipped_lines = 0\n[samples]\ncpu_ns = [40, 10, 30, 20]\ninit_ns = [500]\n";
        std::fs::write(dir.path().join("r.cal.toml"), cal).unwrap();
        let d = spec("empirical(r.cal.toml)").resolve(dir.path()).unwrap();
        assert_eq!(d.quantile(0.0), 10.0);
        assert_eq!(d.quantile(0.5), 25.0);
        assert_eq!(d.mean_ns(), 25.0);
        let c = d.calibration().unwrap();
        assert_eq!(c.cold_share(), 0.25);
        assert_eq!(c.cold_start().unwrap().samples(), &[500]);
        let mut rng = rng_stream(1, "e", 0);
        assert!((0..1000).all(|_| (10..=40).contains(&d.sample(&mut rng))));
        assert!(
            d.describe().contains("4 Lambda invocations of `resize`"),
            "{}",
            d.describe()
        );

        // A missing file is reported at the value in the scenario.
        let text = "work = \"empirical(nowhere.cal.toml)\"\n";
        #[derive(Deserialize)]
        struct S {
            work: toml::Spanned<CpuDistSpec>,
        }
        let s: S = toml::from_str(text).unwrap();
        let e = CpuDistSpec::resolve_spanned(&s.work, dir.path(), "s.toml", text).unwrap_err();
        let shown = e.to_string();
        assert!(shown.starts_with("s.toml:1:8: "), "{shown}");
        assert!(shown.contains("nowhere.cal.toml"), "{shown}");
    }
}
