//! Where throttling starts: a short search over stream counts. Each probe simulates
//! the layout with a constant number of streams for a few minutes (sampled kernels)
//! and asks whether any request was throttled; bisection finds the smallest such
//! count to within 1%.

use serde::Serialize;

use super::{simulate, RunContext};
use crate::scenario::LayoutSpec;
use crate::sim::{Time, NS_PER_SEC};

/// Simulated length of each probe: long enough for a full StateTransition bucket
/// (5,000 tokens) to drain at a few percent above its refill rate.
pub const PROBE: Time = 180 * NS_PER_SEC;

/// The smallest stream count at which a layout is throttled.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Onset {
    pub layout: String,
    /// Smallest stream count found throttled, or `None` if none up to `searched_up_to`.
    pub streams: Option<u32>,
    pub searched_up_to: u32,
    /// The service that throttled most at `streams` (lambda, step_functions, s3).
    pub service: Option<String>,
    /// Probes run.
    pub probes: u32,
}

/// Searches `1..=max_streams` for the throttling onset of `spec`.
pub fn find(ctx: &RunContext, spec: &LayoutSpec, max_streams: u32) -> crate::Result<Onset> {
    let mut probes = 0;
    let mut probe = |streams: u32| -> crate::Result<Option<String>> {
        probes += 1;
        let c = RunContext {
            resolved: ctx.resolved,
            cost: ctx.cost,
            real: None,
            progress: None,
            streams_override: Some(streams),
            duration_override: Some(ctx.resolved.duration.min(PROBE)),
            quotas_raised: ctx.quotas_raised,
        };
        let run = simulate(&c, spec)?;
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
    })
}
