//! Steady segments, the fast mode's second half: a stretch of constant load (the
//! whole period of a constant profile, each hour of a daily one) is simulated for a
//! warm-up and a measured window, and the window stands for the rest of the stretch.
//!
//! A stretch of length `L` at `n` streams is run twice with the same seed: for the
//! warm-up `W` alone and for `W + M`. Runs are deterministic and a run's first `W`
//! does not depend on what comes after, so the longer run less the shorter is the
//! work of the items that arrived in the window — cold starts, the full token
//! buckets of a fresh account and the first fleet are in both and cancel, and so
//! does the end effect (the work in flight when a run stops is the same in steady
//! state at `W` as at `W + M`). A lone stretch is then
//! `short + (long − short)·(L − W)/M`: the warm-up once, the window's rate for the
//! rest, one end effect. Of several, each counts its window's rate over its whole
//! length, and the period's one start and one end are shared between the first and
//! the last ([`stretch_weights`]). Latency distributions combine the same way,
//! bucket by bucket. Stretches run in the period's order, each starting from the
//! Lambda execution environments the one before scaled to: Lambda's scaling rule is
//! the one limit a fresh start cannot warm up past in minutes (at the day's evening
//! levels, half an hour). What this leaves out: a level change in the full run meets
//! a system shaped by the levels before, where a stretch starts from its own first
//! fleet and, but for those environments, its own cold account; the error this makes
//! is measured against the full simulation by `bench/fidelity.sh`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{simulate, GateWaits, ItemCounts, LayoutRun, RunContext, TimelinePoint};
use crate::pricing::Usage;
use crate::scenario::overload::OverloadPolicy;
use crate::scenario::{LayoutSpec, Profile, Resolved};
use crate::sim::{Histogram, Time, NS_PER_SEC};

/// Shortest warm-up before the measured window (an assumption, as for the onset
/// probes): every function warm, the first chunks' retries over. [`warmup`]
/// lengthens it for a layout's drop deadlines and autoscaler, the stopping rule
/// until its two runs end alike.
pub const WARMUP: Time = 60 * NS_PER_SEC;

/// Measured window of each stretch: three minutes of steady load, checked against
/// the full simulation by `bench/fidelity.sh`.
pub const WINDOW: Time = 180 * NS_PER_SEC;

/// Deadlines a backlog needs to settle at each queue: one for the oldest waiting item
/// to age out, and about as long again for the work it started (an execution whose
/// states wait on a throttled quota) to run through; the stopping rule doubles the
/// warm-up where that is not enough.
const BACKLOG_DEADLINES: Time = 2;

const HOUR: Time = 3600 * NS_PER_SEC;

/// A stretch of the period at a constant stream count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub start: Time,
    pub len: Time,
    pub streams: u32,
}

/// The stretches of constant load of `r`'s period of `duration`, adjacent hours at
/// the same count merged; `None` when the load is not piecewise constant (a ramp)
/// or is a request source (its arrivals are not a stream count).
pub fn plan(r: &Resolved, duration: Time) -> Option<Vec<Segment>> {
    if r.arrivals.is_some() || duration == 0 {
        return None;
    }
    let w = &r.scenario.workload;
    let cuts: Vec<Time> = match w.profile {
        Profile::Constant => vec![0],
        Profile::Daily => (0..duration.div_ceil(HOUR)).map(|h| h * HOUR).collect(),
        Profile::Ramp => return None,
    };
    let mut segments: Vec<Segment> = Vec::new();
    for (i, &t) in cuts.iter().enumerate() {
        let end = cuts.get(i + 1).copied().unwrap_or(duration);
        let streams = w.active_streams(t, duration);
        match segments.last_mut() {
            Some(s) if s.streams == streams => s.len += end - t,
            _ => segments.push(Segment {
                start: t,
                len: end - t,
                streams,
            }),
        }
    }
    Some(segments)
}

/// The warm-up a layout's stretches get: [`WARMUP`], or the drop deadline times the
/// places an item can wait for it if longer (under overload every queue is full and
/// an item's latency is those waits: the warm-up must outlast them), or the time
/// the layout's own controls take to settle if longer still (an autoscaler's
/// cooldown).
pub fn warmup(ctx: &RunContext, spec: &LayoutSpec) -> Time {
    let layout = super::of(spec);
    let backlog = match ctx.overload(spec) {
        policy @ OverloadPolicy::DropAfter { after, .. } => {
            // Per item, the deadline bounds an item's waits along its whole path.
            let points = if policy.per_item() {
                1
            } else {
                layout.drop_points(&ctx.resolved.pipeline)
            };
            after.saturating_mul(BACKLOG_DEADLINES * points as Time)
        }
        OverloadPolicy::Queue => 0,
    };
    WARMUP.max(backlog).max(layout.settling(spec))
}

/// Whether steady segments shorten a run of `spec` over `segments`: some stretch is
/// longer than its warm-up and window, and the layout drops what it cannot carry (a
/// queue that grows all period has no steady state).
pub fn applies(ctx: &RunContext, spec: &LayoutSpec, segments: &[Segment]) -> bool {
    let w = warmup(ctx, spec);
    match ctx.overload(spec) {
        OverloadPolicy::Queue => false,
        OverloadPolicy::DropAfter { .. } => segments.iter().any(|s| w + (w + WINDOW) < s.len),
    }
}

/// How much of the period a fast run simulates per layout at most (for the work
/// check before it starts): a segmented layout runs each distinct stretch for its
/// warm-up twice and a window (before any doubling), the others the whole period.
pub fn simulated_span(ctx: &RunContext, segments: &[Segment], duration: Time) -> Time {
    let distinct: std::collections::BTreeSet<(u32, Time)> =
        segments.iter().map(|s| (s.streams, s.len)).collect();
    ctx.resolved
        .scenario
        .layouts
        .iter()
        .map(|spec| {
            if !applies(ctx, spec, segments) {
                return duration;
            }
            let w = warmup(ctx, spec);
            distinct
                .iter()
                .map(|&(_, len)| (w + (w + WINDOW)).min(len))
                .sum::<Time>()
                .min(duration)
        })
        .max()
        .unwrap_or(duration)
}

/// The runs that stand for one stretch (or several at the same count and length).
struct Piece {
    /// The run of the warm-up and the window, or of the whole stretch.
    long: LayoutRun,
    /// The run of the warm-up alone (`None`: `long` is the whole stretch).
    short: Option<LayoutRun>,
    /// The warm-up that settled it, and the simulated length of `long`.
    warmup: Time,
    simulated: Time,
}

/// Largest difference, as a share of the window's items, between the items still in
/// flight when the warm-up run stops and when the longer run stops: equal in steady
/// state (they cancel in the difference), and what is left over is counted once per
/// window. Above it, the warm-up is doubled and both are run again.
pub const SETTLED: f64 = 0.005;

/// Whether a stretch's two runs end alike: the items served after each run's end
/// (what was in flight) differ by at most [`SETTLED`] of the window's items.
fn settled(short: &LayoutRun, long: &LayoutRun) -> bool {
    let window = long.items.offered.saturating_sub(short.items.offered) as f64;
    let ends = (long.items.late as f64 - short.items.late as f64).abs();
    ends <= SETTLED * window.max(1.0)
}

/// A stretch's weights on its (long, short) runs: its steady rate over its length,
/// `(long − short)·L/M`, plus `share` of its boundary effect, what the short run
/// holds beyond the steady rate over `W`: `short − (long − short)·W/M` (a fresh
/// start — cold functions, full buckets, an empty backlog — and the drain of what is
/// in flight when it stops). The full run has one start and one end, not one per
/// stretch, so the boundary is shared between the first and the last stretch; a
/// backlog's drain counted at every stretch came out +1.06% on the bill of an
/// overloaded distributed layout over four hourly stretches. With one stretch
/// (share 1) this is `short + (long − short)·(L − W)/M`.
fn stretch_weights(len: Time, warmup: Time, share: f64) -> (f64, f64) {
    let steady = len as f64 / WINDOW as f64;
    let w = warmup as f64 / WINDOW as f64;
    (steady - share * w, -steady + share * (1.0 + w))
}

/// The share of the period's one start and one end that stretch `i` of `n` stands
/// for: half each for the first and the last, all of both when there is one.
fn boundary_share(i: usize, n: usize) -> f64 {
    match (i == 0, i + 1 == n) {
        (true, true) => 1.0,
        (true, false) | (false, true) => 0.5,
        (false, false) => 0.0,
    }
}

/// Simulates `spec` over `segments` (the plan of `ctx`'s period): each stretch of
/// constant load run for its warm-up and window and projected to its length, or run
/// whole when it is not longer than those. The stopping rule: a warm-up after which
/// the two runs do not end alike ([`settled`]) is doubled, until the runs would cost
/// the stretch itself, which then runs whole.
///
/// Stretches are run in the period's order, each starting with the Lambda execution
/// environments the one before scaled to (`RunContext::lambda_scaled_to`): in the
/// full run a level meets functions the levels before left warm, and the scaling
/// rule (2023: a burst of 3,000, then 500 a minute) holds back only what it adds. A
/// stretch started from none would spend its warm-up and window climbing to its
/// level: at 10,000 streams over half an hour, every hour of the day. Stretches at
/// the same stream count and length that start from the same environments share
/// their runs.
pub fn simulate_segments(
    ctx: &RunContext,
    spec: &LayoutSpec,
    segments: &[Segment],
) -> crate::Result<LayoutRun> {
    let w0 = warmup(ctx, spec);
    // Progress: the share of the planned runs of each distinct stretch (a doubled
    // warm-up runs past its share; the most of the two runs side by side counts, so
    // the bar only moves forward).
    let distinct: Vec<(u32, Time)> = segments
        .iter()
        .map(|s| (s.streams, s.len))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let plans: Vec<Time> = distinct
        .iter()
        .map(|&(_, len)| (w0 + (w0 + WINDOW)).min(len))
        .collect();
    let total: Time = plans.iter().sum::<Time>().max(1);
    let done: Vec<AtomicU64> = distinct.iter().map(|_| AtomicU64::new(0)).collect();
    let report = |i: usize, simulated: f64| {
        if let Some(p) = ctx.progress {
            done[i].fetch_max(simulated.min(plans[i] as f64) as u64, Ordering::Relaxed);
            let sum: u64 = done.iter().map(|d| d.load(Ordering::Relaxed)).sum();
            p((sum as f64 / total as f64).min(1.0));
        }
    };
    let piece = |streams: u32, len: Time, scaled_to: &[u32]| -> crate::Result<Piece> {
        let i = distinct.binary_search(&(streams, len)).unwrap_or(0);
        let run = |duration: Time, before: Time| {
            let share = |f: f64| report(i, before as f64 + f * duration as f64);
            let c = RunContext {
                streams_override: Some(streams),
                duration_override: Some(duration),
                progress: Some(&share),
                lambda_scaled_to: scaled_to,
                ..*ctx
            };
            simulate(&c, spec)
        };
        let (mut w, mut spent) = (w0, 0);
        while spent + w + (w + WINDOW) < len {
            // Side by side: neither run depends on the other.
            let (short, long) = rayon::join(|| run(w, 0), || run(w + WINDOW, w));
            let (short, long) = (short?, long?);
            spent += w + (w + WINDOW);
            if settled(&short, &long) {
                return Ok(Piece {
                    long,
                    short: Some(short),
                    warmup: w,
                    simulated: w + WINDOW,
                });
            }
            w *= 2;
        }
        Ok(Piece {
            long: run(len, 0)?,
            short: None,
            warmup: len,
            simulated: len,
        })
    };
    type Key = (u32, Time, Vec<u32>);
    let mut pieces: BTreeMap<Key, Piece> = BTreeMap::new();
    let mut keys: Vec<Key> = Vec::with_capacity(segments.len());
    let mut scaled_to: Vec<u32> = Vec::new();
    for s in segments {
        let key = (s.streams, s.len, scaled_to);
        if !pieces.contains_key(&key) {
            let p = piece(s.streams, s.len, &key.2)?;
            pieces.insert(key.clone(), p);
        }
        scaled_to = pieces[&key].long.lambda_environments.clone();
        keys.push(key);
    }
    let mut weights: BTreeMap<&Key, (f64, f64)> = BTreeMap::new();
    for (i, (s, k)) in segments.iter().zip(&keys).enumerate() {
        let p = &pieces[k];
        let e = weights.entry(k).or_default();
        if p.short.is_some() {
            let (long, short) = stretch_weights(s.len, p.warmup, boundary_share(i, segments.len()));
            e.0 += long;
            e.1 += short;
        } else {
            e.0 += 1.0;
        }
    }
    let mut parts: Vec<(&LayoutRun, f64)> = Vec::new();
    for (k, (long, _)) in &weights {
        parts.push((&pieces[*k].long, *long));
    }
    for (k, (_, short)) in &weights {
        if let Some(s) = &pieces[*k].short {
            parts.push((s, *short));
        }
    }
    let mut run = combine(ctx, &parts);
    run.events = pieces
        .values()
        .map(|p| p.long.events + p.short.as_ref().map_or(0, |s| s.events))
        .sum();
    run.timeline = timeline(ctx.duration(), segments, &|i| &pieces[&keys[i]]);
    if let (Some(last), Some(k)) = (segments.last(), keys.last()) {
        let p = &pieces[k];
        run.sim_end = last.start + last.len + p.long.sim_end.saturating_sub(p.simulated);
    }
    Ok(run)
}

/// What accumulates over a layout's runs — throttles, retries, frames, CPU,
/// executions, items and gate waits — as the weighted sum Σ wᵢ·runᵢ (weights may be
/// negative; each total kept at zero or above, counts rounded), the gates'
/// capacities the first part's times `capacity_scale`. Steady segments sum their
/// runs with it; a cohort scales its one run by the load it stands for.
pub struct Counts {
    throttles: BTreeMap<String, u64>,
    retries: BTreeMap<String, u64>,
    frames_captured: u64,
    frames_by_detector: BTreeMap<String, u64>,
    cpu_seconds_by_kernel: BTreeMap<String, f64>,
    executions: u64,
    items: ItemCounts,
    gate_waits: GateWaits,
}

impl Counts {
    pub fn weighted(parts: &[(&LayoutRun, f64)], capacity_scale: f64) -> Counts {
        let sum = |get: &dyn Fn(&LayoutRun) -> f64| -> f64 {
            parts.iter().map(|(r, w)| get(r) * w).sum::<f64>().max(0.0)
        };
        let count = |get: &dyn Fn(&LayoutRun) -> u64| sum(&|r| get(r) as f64).round() as u64;
        let counts = |get: &dyn Fn(&LayoutRun) -> &BTreeMap<String, u64>| {
            let keys: std::collections::BTreeSet<&String> =
                parts.iter().flat_map(|(r, _)| get(r).keys()).collect();
            keys.into_iter()
                .map(|k| (k.clone(), count(&|r| get(r).get(k).copied().unwrap_or(0))))
                .collect::<BTreeMap<String, u64>>()
        };
        let cpu_keys: std::collections::BTreeSet<&String> = parts
            .iter()
            .flat_map(|(r, _)| r.cpu_seconds_by_kernel.keys())
            .collect();
        let (analysed, late, dropped) = (
            count(&|r| r.items.analysed),
            count(&|r| r.items.late),
            count(&|r| r.items.dropped),
        );
        Counts {
            throttles: counts(&|r| &r.throttles),
            retries: counts(&|r| &r.retries),
            frames_captured: count(&|r| r.frames_captured),
            frames_by_detector: counts(&|r| &r.frames_by_detector),
            cpu_seconds_by_kernel: cpu_keys
                .into_iter()
                .map(|k| {
                    let v = sum(&|r| r.cpu_seconds_by_kernel.get(k).copied().unwrap_or(0.0));
                    (k.clone(), v)
                })
                .collect(),
            executions: count(&|r| r.executions),
            items: ItemCounts {
                offered: analysed + late + dropped,
                analysed,
                late,
                dropped,
            },
            gate_waits: GateWaits::combined(
                &parts
                    .iter()
                    .map(|(r, w)| (&r.gate_waits, *w))
                    .collect::<Vec<_>>(),
                capacity_scale,
            ),
        }
    }

    /// Writes these counts over `run`'s.
    pub fn write_into(self, run: &mut LayoutRun) {
        run.throttles = self.throttles;
        run.retries = self.retries;
        run.frames_captured = self.frames_captured;
        run.frames_by_detector = self.frames_by_detector;
        run.cpu_seconds_by_kernel = self.cpu_seconds_by_kernel;
        run.executions = self.executions;
        run.items = self.items;
        run.gate_waits = self.gate_waits;
    }
}

/// The weighted sum of runs of one layout, Σ wᵢ·runᵢ: what accumulates is summed
/// ([`Counts`], usage, latency histograms bucket by bucket), peaks are the largest of
/// the parts with a positive weight, and what describes the layout is the first
/// part's.
fn combine(ctx: &RunContext, parts: &[(&LayoutRun, f64)]) -> LayoutRun {
    let first = parts[0].0;
    let peak = |get: &dyn Fn(&LayoutRun) -> u32| {
        parts
            .iter()
            .filter(|(_, w)| *w > 0.0)
            .map(|(r, _)| get(r))
            .max()
            .unwrap_or(0)
    };
    let usage = Usage::combined(
        &parts
            .iter()
            .map(|(r, w)| (&r.usage, *w))
            .collect::<Vec<_>>(),
    );
    let histogram = |get: &dyn Fn(&LayoutRun) -> &Histogram| {
        Histogram::combined(&parts.iter().map(|(r, w)| (get(r), *w)).collect::<Vec<_>>())
    };
    let duration = ctx.duration();
    let mut run = LayoutRun {
        name: first.name.clone(),
        kind: first.kind,
        family: first.family,
        step_functions: first.step_functions,
        bill: crate::pricing::price(&usage, &ctx.resolved.catalog),
        usage,
        period_hours: duration as f64 / HOUR as f64,
        stream_hours: ctx.resolved.scenario.workload.stream_hours(duration),
        latency: histogram(&|r| &r.latency),
        notify_latency: histogram(&|r| &r.notify_latency),
        throttles: BTreeMap::new(),
        retries: BTreeMap::new(),
        frames_captured: 0,
        frames_by_detector: BTreeMap::new(),
        peak_lambda_concurrency: peak(&|r| r.peak_lambda_concurrency),
        lambda_environments: (0..first.lambda_environments.len())
            .map(|i| peak(&|r| r.lambda_environments.get(i).copied().unwrap_or(0)))
            .collect(),
        peak_instances: peak(&|r| r.peak_instances),
        timeline: Vec::new(),
        defects: Vec::new(),
        cpu_seconds_by_kernel: BTreeMap::new(),
        executions: 0,
        events: 0,
        sim_end: duration,
        items: ItemCounts::default(),
        gate_waits: GateWaits::default(),
        overload: first.overload,
    };
    Counts::weighted(parts, 1.0).write_into(&mut run);
    run
}

/// The period's timeline at the step a full run samples it: where a stretch was
/// simulated, its run's points (averaged into the step); past what was simulated,
/// the mean of its window.
fn timeline<'p>(
    duration: Time,
    segments: &[Segment],
    piece: &dyn Fn(usize) -> &'p Piece,
) -> Vec<TimelinePoint> {
    let every = super::common::Timeline::new(duration).every;
    let secs = |t: Time| t as f64 / NS_PER_SEC as f64;
    let mean = |pts: &[&TimelinePoint], time_s: f64, active: u32| -> TimelinePoint {
        let n = pts.len().max(1) as f64;
        let avg = |get: &dyn Fn(&TimelinePoint) -> f64| pts.iter().map(|p| get(p)).sum::<f64>() / n;
        TimelinePoint {
            time_s,
            active_streams: active,
            lambda_concurrency: avg(&|p| p.lambda_concurrency as f64).round() as u32,
            throttles_per_s: avg(&|p| p.throttles_per_s),
            instances: avg(&|p| p.instances as f64).round() as u32,
        }
    };
    let mut out = Vec::new();
    let mut t = 0;
    while t < duration {
        let Some((i, s)) = segments
            .iter()
            .enumerate()
            .find(|(_, s)| s.start <= t && t < s.start + s.len)
        else {
            break;
        };
        let p = piece(i);
        let offset = t - s.start;
        let (from, to) = if offset + every <= p.simulated {
            (secs(offset), secs(offset + every))
        } else {
            (secs(p.warmup.min(p.simulated)), f64::INFINITY)
        };
        let pts: Vec<&TimelinePoint> = p
            .long
            .timeline
            .iter()
            .filter(|q| q.time_s >= from && q.time_s < to)
            .collect();
        let pts = if pts.is_empty() {
            p.long
                .timeline
                .iter()
                .rev()
                .find(|q| q.time_s <= from)
                .into_iter()
                .collect()
        } else {
            pts
        };
        out.push(mean(&pts, secs(t), s.streams));
        t += every;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::FixedCost;
    use crate::scenario::Scenario;

    fn scenario(body: &str) -> Resolved {
        Scenario::parse("t.toml", body, None).unwrap()
    }

    const DAILY: &str = r#"
name = "t"
seed = 7
duration = "4h"
kernels = "sampled"
[workload]
streams = 40
profile = "daily"
hourly_weights = [0.5, 0.5, 1.0, 0.25, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]
frames_per_second = 2
frame_size = "1280x720"
detectors = ["black", "freeze"]
chunk_seconds = 2
"#;
    const LAYOUT: &str = "[[layouts]]\nname = \"l\"\nkind = \"lambda-direct\"\n";

    #[test]
    fn a_daily_profile_is_a_stretch_per_level() {
        let r = scenario(&format!("{DAILY}{LAYOUT}"));
        let segs = plan(&r, r.duration).unwrap();
        let h = HOUR;
        assert_eq!(
            segs,
            vec![
                Segment {
                    start: 0,
                    len: 2 * h,
                    streams: 20
                },
                Segment {
                    start: 2 * h,
                    len: h,
                    streams: 40
                },
                Segment {
                    start: 3 * h,
                    len: h,
                    streams: 10
                },
            ]
        );
        let ramp = scenario(
            &(DAILY.replace("profile = \"daily\"", "profile = \"ramp\"\nramp_from = 1") + LAYOUT),
        );
        assert_eq!(plan(&ramp, ramp.duration), None);
    }

    /// The work check counts a segmented layout's warm-ups and windows, not the
    /// period: here three stretches (2 h, 1 h, 1 h) of 2W + M each, W being 2 × the
    /// 60 s deadline (per item); under `queue` (not segmented) the whole 4 h.
    #[test]
    fn the_work_check_counts_the_simulated_span() {
        let r = scenario(&format!("{DAILY}{LAYOUT}"));
        let segs = plan(&r, r.duration).unwrap();
        let cost = FixedCost::uniform(20_000_000, 100_000);
        let ctx = RunContext::new(&r, &cost);
        let w = warmup(&ctx, &r.scenario.layouts[0]);
        assert_eq!(w, 120 * NS_PER_SEC);
        assert_eq!(
            simulated_span(&ctx, &segs, r.duration),
            3 * (2 * w + WINDOW)
        );
        let queued = scenario(&format!("overload = \"queue\"\n{DAILY}{LAYOUT}"));
        let ctx = RunContext::new(&queued, &cost);
        assert_eq!(
            simulated_span(&ctx, &segs, queued.duration),
            queued.duration
        );
    }

    /// With a per-frame cost that never varies, a stretch's runs differ only by the
    /// items that arrived in the window: the projection counts every frame and item
    /// the full run does, to the few frames of the stretches' ends, and bills the
    /// same to a fraction of a percent.
    #[test]
    fn a_projected_stretch_counts_what_the_full_run_does() {
        let body = DAILY.replace("duration = \"4h\"", "duration = \"30min\"") + LAYOUT;
        let r = scenario(&body);
        let cost = FixedCost::uniform(20_000_000, 100_000);
        let ctx = RunContext::new(&r, &cost);
        let spec = &r.scenario.layouts[0];
        let segs = plan(&r, r.duration).unwrap();
        assert!(applies(&ctx, spec, &segs));
        let full = simulate(&ctx, spec).unwrap();
        let fast = simulate_segments(&ctx, spec, &segs).unwrap();
        let near = |a: f64, b: f64, tol: f64| (a - b).abs() <= tol * b.abs();
        assert!(full.frames_captured > 0);
        assert!(
            near(
                fast.frames_captured as f64,
                full.frames_captured as f64,
                0.002
            ),
            "{} vs {}",
            fast.frames_captured,
            full.frames_captured
        );
        assert!(near(
            fast.items.offered as f64,
            full.items.offered as f64,
            0.002
        ));
        assert!(
            near(fast.bill.total_usd, full.bill.total_usd, 0.005),
            "{} vs {}",
            fast.bill.total_usd,
            full.bill.total_usd
        );
        assert_eq!(fast.stream_hours, full.stream_hours);
        assert!(near(
            fast.latency.quantile(0.95) as f64,
            full.latency.quantile(0.95) as f64,
            0.05
        ));
        // It simulated less: a warm-up of two deadlines at each of the pipeline's
        // three queues (360 s), then 360 + 180 s: 900 s instead of 1,800 s.
        assert!(
            fast.events < full.events * 2 / 3,
            "{} vs {}",
            fast.events,
            full.events
        );
        // The timeline covers the period at the full run's step.
        let in_period = full.timeline.iter().filter(|p| p.time_s < 1800.0).count();
        assert_eq!(fast.timeline.len(), in_period);
        assert!(fast.timeline.iter().all(|p| p.active_streams == 20));
    }

    /// Stretches share the period's one start and one end: the weights give a lone
    /// stretch `short + (long − short)·(L − W)/M`, the shares of several add up to
    /// one start and one end, and over three stretches of an unloaded layout the
    /// steady rates and that one boundary count the frames and bill the full run
    /// does. (Counting the boundary at every stretch, the drains of an overloaded
    /// distributed layout put its bill 1.06% high in `bench/fidelity.sh`.)
    #[test]
    fn stretches_count_the_periods_start_and_end_once() {
        let (l, w) = (3600 * NS_PER_SEC, 120 * NS_PER_SEC);
        let (long, short) = stretch_weights(l, w, boundary_share(0, 1));
        let k = (l - w) as f64 / WINDOW as f64;
        assert!((long - k).abs() < 1e-12 && (short - (1.0 - k)).abs() < 1e-12);
        let shares: Vec<f64> = (0..4).map(|i| boundary_share(i, 4)).collect();
        assert_eq!(shares, vec![0.5, 0.0, 0.0, 0.5]);
        let r = scenario(&format!("{DAILY}{LAYOUT}"));
        let cost = FixedCost::uniform(20_000_000, 100_000);
        let ctx = RunContext::new(&r, &cost);
        let spec = &r.scenario.layouts[0];
        let segs = plan(&r, r.duration).unwrap();
        assert_eq!(segs.len(), 3);
        let full = simulate(&ctx, spec).unwrap();
        let fast = simulate_segments(&ctx, spec, &segs).unwrap();
        let near = |x: f64, y: f64, tol: f64| (x - y).abs() <= tol * y;
        let (a, b) = (full.frames_captured as f64, fast.frames_captured as f64);
        assert!(near(b, a, 0.002), "frames: fast {b} vs full {a}");
        let (a, b) = (full.bill.total_usd, fast.bill.total_usd);
        assert!(near(b, a, 0.005), "bill: fast {b} vs full {a}");
    }

    /// A stretch starts with the Lambda environments the one before scaled to, as
    /// the full run's functions are still warm from it: the 2023 scaling rule (cut
    /// here to a burst of 60, then 10 a minute) holds back only what the level adds.
    /// Started from none, the second stretch (twice the first's streams, about twice
    /// its environments) spends its warm-up and window climbing at 10 a minute.
    #[test]
    fn a_stretch_starts_from_the_environments_the_one_before_scaled_to() {
        let body = DAILY
            .replace(
                "duration = \"4h\"",
                "duration = \"2h\"\nquota_era = \"2023\"",
            )
            .replace("[0.5, 0.5, 1.0, 0.25,", "[0.5, 1.0, 0, 0,")
            + LAYOUT;
        let mut r = scenario(&body);
        let q = &mut r.catalog.quotas.lambda_scaling_2023;
        (q.initial_burst, q.per_minute) = (200, 10);
        let cost = FixedCost::uniform(150_000_000, 100_000);
        let ctx = RunContext {
            quotas_raised: true,
            ..RunContext::new(&r, &cost)
        };
        let spec = &r.scenario.layouts[0];
        let segs = plan(&r, r.duration).unwrap();
        assert_eq!(segs.iter().map(|s| s.streams).collect::<Vec<_>>(), [20, 40]);
        let served = |run: &LayoutRun| run.items.analysed as f64 / run.items.offered as f64;
        let full = simulate(&ctx, spec).unwrap();
        let fast = simulate_segments(&ctx, spec, &segs).unwrap();
        // The first level takes the whole burst; the second needs as many again.
        let envs: u32 = fast.lambda_environments.iter().sum();
        assert!(envs > 100, "{:?}", fast.lambda_environments);
        assert!(served(&full) > 0.99, "full serves {}", served(&full));
        assert!(
            (served(&fast) - served(&full)).abs() < 0.005,
            "fast serves {}, full {}",
            served(&fast),
            served(&full)
        );
        // From a fresh account the second level would not keep up.
        let second = RunContext {
            streams_override: Some(40),
            duration_override: Some(20 * 60 * NS_PER_SEC),
            ..ctx
        };
        let fresh = simulate(&second, spec).unwrap();
        assert!(served(&fresh) < 0.9, "a fresh 40 serves {}", served(&fresh));
    }

    #[test]
    fn a_queue_has_no_steady_state() {
        let body = DAILY.replace(
            "duration = \"4h\"",
            "duration = \"30min\"\noverload = \"queue\"",
        ) + LAYOUT;
        let r = scenario(&body);
        let cost = FixedCost::uniform(20_000_000, 100_000);
        let ctx = RunContext::new(&r, &cost);
        let segs = plan(&r, r.duration).unwrap();
        assert!(!applies(&ctx, &r.scenario.layouts[0], &segs));
    }
}
