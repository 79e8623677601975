//! Bounds on every scenario quantity that drives memory or time, checked when the
//! file is read (so a mistake names its line and column), and the work estimate a run
//! is checked against before it starts. The figures are documented in README.md
//! ("Limits").

use std::collections::BTreeMap;

use super::{at, Profile, Resolved, Scenario};
use crate::cloud::Ec2Scaling;
use crate::error::{InputError, Result};
use crate::sim::{Time, NS_PER_SEC};

/// Most concurrent streams (memory grows with streams).
pub const MAX_STREAMS: u32 = 1_000_000;
/// Highest source frame rate, frames per second.
pub const MAX_SOURCE_FPS: f64 = 240.0;
/// Longest simulated period: a year.
pub const MAX_DURATION: Time = 366 * 24 * 3600 * NS_PER_SEC;
/// Most instances or tasks a fleet may have (fixed size, or the autoscaler's max).
pub const MAX_INSTANCES: u32 = 100_000;
/// Longest sample clip the real detectors cycle through, seconds.
pub const MAX_SAMPLE_SECONDS: f64 = 600.0;
/// Most bytes of decoded sample frames held in memory (1 GiB).
pub const MAX_SAMPLE_BYTES: f64 = (1u64 << 30) as f64;
/// Most simulated events a run may take without `--allow-large`: about 5 minutes on
/// two cores at the measured few million events per second (see bench/run_speed.sh).
pub const MAX_EVENTS: f64 = 2e9;
/// Most analysed frames a run with the real detectors may take without
/// `--allow-large` (each costs milliseconds of CPU per detector).
pub const MAX_REAL_FRAMES: f64 = 200_000.0;

/// Checks the bounds of `s`, the scenario parsed from `text` (the content of `file`).
pub(super) fn check(s: &Scenario, file: &str, text: &str) -> Result<()> {
    let err = |span: std::ops::Range<usize>, msg: String| at(file, text, span, msg);
    let at_path = |path: &str, msg: String| -> crate::Error {
        InputError::at_path(file, text, path, msg).into()
    };
    let duration = s.duration.get_ref().0;
    if duration > MAX_DURATION {
        return Err(err(
            s.duration.span(),
            format!(
                "duration must be at most 366 days, got {}",
                s.duration.get_ref()
            ),
        ));
    }
    let w = &s.workload;
    let streams = *w.streams.get_ref();
    if streams > MAX_STREAMS {
        return Err(err(
            w.streams.span(),
            format!("streams must be at most {MAX_STREAMS}, got {streams}"),
        ));
    }
    if let Some(from) = w.ramp_from {
        if from > MAX_STREAMS {
            return Err(at_path(
                "workload.ramp_from",
                format!("ramp_from must be at most {MAX_STREAMS}, got {from}"),
            ));
        }
    }
    if w.source_fps.0 > MAX_SOURCE_FPS {
        return Err(at_path(
            "workload.source_fps",
            format!(
                "source_fps must be at most {MAX_SOURCE_FPS}, got {}",
                w.source_fps.0
            ),
        ));
    }
    if let (Profile::Daily, Some(hw)) = (w.profile, &w.hourly_weights) {
        check_hourly_weights(hw, "workload", file, text)?;
    }
    let sample = &w.sample;
    if !(sample.seconds.is_finite() && sample.seconds > 0.0 && sample.seconds <= MAX_SAMPLE_SECONDS)
    {
        return Err(at_path(
            "workload.sample.seconds",
            format!(
                "sample seconds must be more than 0 and at most {MAX_SAMPLE_SECONDS}, got {}",
                sample.seconds
            ),
        ));
    }
    let bytes =
        sample.seconds * w.frames_per_second.get_ref().0 * w.frame_size.0.pixels() as f64 * 1.5;
    if bytes > MAX_SAMPLE_BYTES {
        return Err(at_path(
            "workload.sample.seconds",
            format!(
                "the sample clip would hold {:.1} GiB of frames (seconds × frames_per_second × frame size), more than 1 GiB: use fewer seconds or a smaller frame_size",
                bytes / MAX_SAMPLE_BYTES
            ),
        ));
    }

    // Layouts: names map to distinct file names; fleets are bounded.
    let mut stems: BTreeMap<String, &str> = BTreeMap::new();
    for (i, l) in s.layouts.iter().enumerate() {
        let stem = crate::report::export::slug(&l.name);
        if let Some(other) = stems.insert(stem.clone(), &l.name) {
            if other != l.name {
                return Err(at_path(
                    &format!("layouts[{i}].name"),
                    format!(
                        "layouts `{other}` and `{}` would share the file name `{stem}` in reports: rename one (names differ in letters or digits, not only in spaces or punctuation)",
                        l.name
                    ),
                ));
            }
        }
        let fleets = [
            (l.ec2.as_ref().map(|e| &e.get_ref().scaling), "ec2"),
            (l.fargate.as_ref().map(|f| &f.get_ref().scaling), "fargate"),
        ];
        for (scaling, section) in fleets {
            let Some(scaling) = scaling else { continue };
            let (field, n) = match scaling {
                Ec2Scaling::Fixed { instances } => ("instances", *instances),
                Ec2Scaling::TargetTracking { max, .. } => ("max", *max),
            };
            if n > MAX_INSTANCES {
                return Err(at_path(
                    &format!("layouts[{i}].{section}.scaling.{field}"),
                    format!(
                        "layout `{}`: {field} must be at most {MAX_INSTANCES}, got {n}",
                        l.name
                    ),
                ));
            }
            if let Ec2Scaling::Fixed { instances: 0 } = scaling {
                return Err(at_path(
                    &format!("layouts[{i}].{section}.scaling.instances"),
                    format!(
                        "layout `{}`: a fixed fleet needs at least 1 instance",
                        l.name
                    ),
                ));
            }
        }
    }

    // Assumptions: a range runs from low to high.
    for (path, a) in &s.assumptions {
        let num = |v: &Option<toml::Value>| {
            v.as_ref()
                .and_then(|v| v.as_float().or_else(|| v.as_integer().map(|i| i as f64)))
        };
        if let (Some(lo), Some(hi)) = (num(&a.low), num(&a.high)) {
            if !(lo <= hi) {
                let span = crate::error::value_span(text, &format!("assumptions.\"{path}\".low"));
                let span = if span.is_empty() {
                    text.find(&format!("\"{path}\""))
                        .map_or(0..0, |i| i..i + path.len() + 2)
                } else {
                    span
                };
                return Err(err(
                    span,
                    format!("assumption `{path}`: low ({lo}) must not be above high ({hi})"),
                ));
            }
        }
    }
    Ok(())
}

/// Checks a daily profile's `hourly_weights` (at `prefix.hourly_weights`): 24 numbers
/// in 0..=1, a bad one named by its index.
pub(super) fn check_hourly_weights(
    hw: &toml::Spanned<Vec<f64>>,
    prefix: &str,
    file: &str,
    text: &str,
) -> Result<()> {
    let weights = hw.get_ref();
    if weights.len() != 24 {
        return Err(at(
            file,
            text,
            hw.span(),
            format!(
                "hourly_weights needs 24 numbers (one per hour), got {}",
                weights.len()
            ),
        ));
    }
    if let Some((i, x)) = weights
        .iter()
        .enumerate()
        .find(|(_, x)| !(x.is_finite() && (0.0..=1.0).contains(*x)))
    {
        return Err(InputError::at_path(
            file,
            text,
            &format!("{prefix}.hourly_weights[{i}]"),
            format!("hourly_weights[{i}] (hour {i}) must be a number in 0..=1, got {x}"),
        )
        .into());
    }
    Ok(())
}

/// Estimated simulated events of running every layout of `r` once: for each layout,
/// streams × seconds × frames analysed per second × (detectors + 2) — a frame's
/// conversion, one analysis per detector and its share of the orchestration.
pub fn estimated_events(r: &Resolved, duration: Time) -> f64 {
    if let Some(a) = &r.arrivals {
        return request_events(r, a, duration);
    }
    let w = &r.scenario.workload;
    let streams = (*w.streams.get_ref()).max(w.ramp_from.unwrap_or(0)) as f64;
    r.scenario.layouts.len() as f64
        * streams
        * (duration as f64 / NS_PER_SEC as f64)
        * w.frames_per_second.get_ref().0
        * (r.detectors.len() as f64 + 2.0)
}

/// A request source's events: for each layout, the expected arrivals × (stages + 1)
/// — each stage's work and the request's arrival.
fn request_events(r: &Resolved, a: &super::source::Arrivals, duration: Time) -> f64 {
    r.scenario.layouts.len() as f64 * a.expected(duration) * (r.pipeline.stages.len() as f64 + 1.0)
}

/// Analysed frames of one layout's run: streams × seconds × frames per second (none
/// for a request source: the real detectors run on streams only).
pub fn analysed_frames(r: &Resolved, duration: Time) -> f64 {
    if r.arrivals.is_some() {
        return 0.0;
    }
    let w = &r.scenario.workload;
    *w.streams.get_ref() as f64
        * (duration as f64 / NS_PER_SEC as f64)
        * w.frames_per_second.get_ref().0
}

/// The work check done before a run starts: past [`MAX_EVENTS`] (or
/// [`MAX_REAL_FRAMES`] with the real detectors) the run stops with a message saying
/// how much work it would be and what to change, unless `allow_large`.
pub fn check_work(
    r: &Resolved,
    duration: Time,
    real_kernels: bool,
    allow_large: bool,
) -> Result<()> {
    if allow_large {
        return Ok(());
    }
    let span = r.scenario.workload.streams.span();
    let secs = duration as f64 / NS_PER_SEC as f64;
    let events = estimated_events(r, duration);
    if let (Some(a), true) = (&r.arrivals, events > MAX_EVENTS) {
        return Err(InputError::at_path(
            &r.file,
            &r.text,
            "workload.requests",
            format!(
                "this run would simulate about {events:.2e} events ({} layouts × {:.3e} expected requests × {} steps per request), more than the {MAX_EVENTS:.0e} a run may take (several minutes): shorten the duration (`duration` or --duration), lower the rate, use fewer grid points, or pass --allow-large",
                r.scenario.layouts.len(),
                a.expected(duration),
                r.pipeline.stages.len() + 1
            ),
        )
        .into());
    }
    if events > MAX_EVENTS {
        return Err(at(
            &r.file,
            &r.text,
            span,
            format!(
                "this run would simulate about {events:.2e} events ({} layouts × {} streams × {secs} s × {} frames/s × {} steps per frame), more than the {MAX_EVENTS:.0e} a run may take (several minutes): shorten the duration (`duration` or --duration), lower `workload.streams` or `frames_per_second`, use fewer grid points, or pass --allow-large",
                r.scenario.layouts.len(),
                r.scenario.workload.streams.get_ref(),
                r.scenario.workload.frames_per_second.get_ref().0,
                r.detectors.len() + 2
            ),
        ));
    }
    let frames = analysed_frames(r, duration);
    if real_kernels && frames > MAX_REAL_FRAMES {
        return Err(at(
            &r.file,
            &r.text,
            span,
            format!(
                "the real detectors would analyse about {frames:.2e} frames per layout, more than {MAX_REAL_FRAMES:.0e} (hours of CPU): use the fast mode (--kernels sampled), a shorter duration or fewer streams, or pass --allow-large"
            ),
        ));
    }
    Ok(())
}

/// Checks a `--duration` flag's value: more than 0 and at most [`MAX_DURATION`].
pub fn check_duration_flag(d: Time, flag: &str, text: &str) -> Result<Time> {
    if d == 0 {
        return Err(InputError::new(
            flag,
            format!("{text:?}: the duration must be longer than 0"),
        )
        .into());
    }
    if d > MAX_DURATION {
        return Err(InputError::new(
            flag,
            format!("{text:?}: the duration must be at most 366 days"),
        )
        .into());
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> crate::Result<Resolved> {
        Scenario::parse("s.toml", text, None)
    }

    fn classroom_with(from: &str, to: &str) -> String {
        assert!(super::super::CLASSROOM.contains(from), "{from}");
        super::super::CLASSROOM.replacen(from, to, 1)
    }

    #[test]
    fn bounds_name_line_and_column() {
        let cases = [
            ("streams = 3", "streams = 1000000000", "at most 1000000"),
            (
                "source_fps = 25",
                "source_fps = 1e9",
                "source_fps must be at most",
            ),
        ];
        for (from, to, want) in cases {
            let err = parse(&classroom_with(from, to)).unwrap_err();
            let shown = err.to_string();
            assert!(err.is_input() && shown.contains(want), "{shown}");
            assert!(
                shown.starts_with("s.toml:")
                    && shown.split(':').nth(1).unwrap().parse::<usize>().is_ok(),
                "{shown}"
            );
        }
    }

    #[test]
    fn work_estimate_stops_large_runs_unless_allowed() {
        let r = parse(&super::super::CLASSROOM.replacen(
            "duration = \"1min\"",
            "duration = \"300d\"",
            1,
        ))
        .unwrap();
        let err = check_work(&r, r.duration, false, false)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--allow-large") && err.contains("events"),
            "{err}"
        );
        check_work(&r, r.duration, false, true).unwrap();
        let small = Scenario::classroom();
        check_work(&small, small.duration, true, false).unwrap();
    }

    #[test]
    fn zero_and_huge_duration_flags_are_rejected() {
        assert!(check_duration_flag(0, "--duration", "0s").is_err());
        assert!(check_duration_flag(MAX_DURATION + 1, "--duration", "100000h").is_err());
        assert_eq!(check_duration_flag(5, "--duration", "5ns").unwrap(), 5);
    }
}
