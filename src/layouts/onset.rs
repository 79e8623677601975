//! Where throttling starts in steady state: a short search over stream counts. Each
//! probe simulates the layout with a constant number of streams (sampled kernels,
//! each stream's chunks at its own phase within the chunk, as in every run) for a
//! warm-up and then a measured window, and asks whether any request was throttled in
//! the window: the cold start of the first chunks (no warm functions, every stream's
//! first chunk in the first seconds) is a start-up transient, not the steady load.
//! Bisection finds the smallest such count to within 1%. A probe stops at the first
//! throttle in the window (`RunContext::stop_at_first_throttle_after`): its answer is
//! then known, and what it ran is the whole probe's prefix.

use serde::Serialize;

use super::{simulate, RunContext};
use crate::scenario::LayoutSpec;
use crate::sim::{Time, NS_PER_SEC};

/// Simulated length of each probe's measured window: long enough for a full
/// StateTransition bucket (5,000 tokens) to drain at a few percent above its refill
/// rate.
pub const PROBE: Time = 180 * NS_PER_SEC;

/// Simulated warm-up before the window, not measured (an assumption): long enough
/// for every function to have warm instances (cold starts take up to a few seconds)
/// and for the retries of the first chunks' throttles to be over.
pub const WARMUP: Time = 60 * NS_PER_SEC;

/// The smallest stream count at which a layout is throttled.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Onset {
    pub layout: String,
    /// Smallest stream count found throttled, or `None` if none up to `searched_up_to`.
    pub streams: Option<u32>,
    pub searched_up_to: u32,
    /// The service that throttled most at `streams` (lambda, step_functions, s3), in
    /// its probe up to the first throttle after the warm-up (where the probe stops).
    pub service: Option<String>,
    /// Probes run.
    pub probes: u32,
    /// `streams` as a share of the scenario's load (its stream count, the top of the
    /// search).
    pub share_of_load: Option<f64>,
}

/// Searches `1..=max_streams` for the throttling onset of `spec`.
pub fn find(ctx: &RunContext, spec: &LayoutSpec, max_streams: u32) -> crate::Result<Onset> {
    let mut probes = 0;
    let mut probe = |streams: u32| -> crate::Result<Option<String>> {
        probes += 1;
        let duration = ctx.resolved.duration.min(WARMUP + PROBE);
        // A period too short for both keeps a quarter of it as the warm-up.
        let warmup = WARMUP.min(duration / 4);
        let c = RunContext {
            real: None,
            progress: None,
            streams_override: Some(streams),
            duration_override: Some(duration),
            stop_at_first_throttle_after: Some(warmup),
            ..*ctx
        };
        let run = simulate(&c, spec)?;
        if throttles_after(&run.timeline, warmup) == 0 {
            return Ok(None);
        }
        Ok(run
            .throttles
            .iter()
            .filter(|(_, n)| **n > 0)
            .max_by_key(|(_, n)| **n)
            .map(|(s, _)| s.clone()))
    };
    let top = probe(max_streams)?;
    if top.is_none() {
        return Ok(Onset {
            layout: spec.name.clone(),
            streams: None,
            searched_up_to: max_streams,
            service: None,
            probes,
            share_of_load: None,
        });
    }
    let (mut lo, mut hi, mut service) = (0u32, max_streams, top);
    while hi - lo > (hi / 100).max(1) {
        let mid = lo + (hi - lo) / 2;
        match probe(mid)? {
            Some(s) => {
                hi = mid;
                service = Some(s);
            }
            None => lo = mid,
        }
    }
    Ok(Onset {
        layout: spec.name.clone(),
        streams: Some(hi),
        searched_up_to: max_streams,
        service,
        probes,
        share_of_load: Some(hi as f64 / max_streams.max(1) as f64),
    })
}

/// Throttles in the timeline's buckets that start at or after `from` (the timeline
/// holds each bucket's rate; its running total is what the layout counted).
pub fn throttles_after(timeline: &[super::TimelinePoint], from: Time) -> u64 {
    let every_s = match timeline {
        [a, b, ..] => b.time_s - a.time_s,
        [a] => a.time_s.max(1.0),
        [] => return 0,
    };
    timeline
        .iter()
        .map(|p| bucket_throttles(p, every_s, from))
        .sum()
}

/// Throttles in one timeline bucket `every_s` wide, if it starts at or after `from`:
/// the one criterion of the search and of a probe that stops at its answer
/// ([`RunContext::probe_answered`]).
pub fn bucket_throttles(p: &super::TimelinePoint, every_s: f64, from: Time) -> u64 {
    if p.time_s >= from as f64 / NS_PER_SEC as f64 {
        (p.throttles_per_s * every_s).round() as u64
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layouts::TimelinePoint;

    #[test]
    fn only_throttles_after_the_warm_up_count() {
        let point = |t: f64, per_s: f64| TimelinePoint {
            time_s: t,
            throttles_per_s: per_s,
            ..TimelinePoint::default()
        };
        let tl: Vec<_> = (0..10)
            .map(|i| point(i as f64 * 2.0, if i < 3 { 50.0 } else { 0.0 }))
            .collect();
        assert_eq!(throttles_after(&tl, 0), 300, "3 buckets of 2 s at 50/s");
        assert_eq!(throttles_after(&tl, 6 * NS_PER_SEC), 0, "over before 6 s");
        let mut late = tl.clone();
        late[8].throttles_per_s = 0.5;
        assert_eq!(throttles_after(&late, 6 * NS_PER_SEC), 1);
        assert_eq!(throttles_after(&[], 0), 0);
    }
}
