//! What every layout shares: the workload (streams, phases, chunks, frames), the real
//! detectors fed in stream order, the timeline, and CPU draws from the cost model.

use std::collections::BTreeMap;

use rand::Rng;
use serde::Serialize;

use super::{RunContext, StreamDefect};
use crate::frames::generate::{generate, Clip, GenerateSpec};
use crate::kernels::{CostModel, DetectorBank, DetectorParams, Kernel};
use crate::scenario::Resolved;
use crate::sim::{rng_stream, Rng64, Time, NS_PER_SEC};

/// The sample stream the real detectors run on, cycled by every stream.
pub struct RealSample {
    pub clip: Clip,
    pub params: DetectorParams,
}

impl RealSample {
    /// Generates the scenario's sample clip at the analysis size and frame rate.
    pub fn generate(r: &Resolved) -> crate::Result<RealSample> {
        let w = &r.scenario.workload;
        let spec = GenerateSpec::new(
            &w.sample.photo,
            r.frame_size,
            w.frames_per_second.get_ref().0,
            w.sample.seconds,
        )
        .with_defects(&w.sample.defects);
        Ok(RealSample {
            clip: generate(&spec)?,
            params: DetectorParams::default(),
        })
    }
}

/// The workload as every layout sees it: which streams are active when, each
/// stream's phase, its chunks and frames. Built from the scenario seed alone, so all
/// layouts get the same streams.
pub struct Workload {
    /// Offset of each stream's frame clock within one chunk, ns.
    pub phases: Vec<Time>,
    pub chunk: Time,
    pub frames_per_chunk: u32,
    /// Interval between analysed frames, ns (exact to the nanosecond).
    pub frame_interval: f64,
    /// Decoded source frames per analysed frame.
    pub decoded_per_frame: f64,
    pub duration: Time,
    /// Frames of the sample clip that carry an injected defect (cycled).
    pub defect_mask: Vec<bool>,
    streams_override: Option<u32>,
    /// Request arrivals, when the source is requests (`None`: streams). A request is
    /// a job of one item entering the pipeline at its arrival.
    pub arrivals: Option<crate::scenario::source::Arrivals>,
    seed: u64,
}

impl Workload {
    pub fn new(ctx: &RunContext) -> crate::Result<Workload> {
        let r = ctx.resolved;
        let w = &r.scenario.workload;
        let peak = ctx.streams_override.unwrap_or(*w.streams.get_ref());
        let chunk = crate::sim::secs(w.chunk_seconds.get_ref().0);
        let mut rng = rng_stream(r.scenario.seed, "workload", 0);
        let phases = (0..peak)
            .map(|_| rng.random_range(0..chunk.max(1)))
            .collect();
        let fps = w.frames_per_second.get_ref().0;
        let frames_per_chunk = (fps * w.chunk_seconds.get_ref().0).round() as u32;
        Ok(Workload {
            phases,
            chunk,
            frames_per_chunk,
            frame_interval: NS_PER_SEC as f64 / fps,
            decoded_per_frame: w.source_fps.0 / fps,
            duration: ctx.duration(),
            defect_mask: defect_mask(ctx)?,
            streams_override: ctx.streams_override,
            arrivals: r.arrivals.clone(),
            seed: r.scenario.seed,
        })
    }

    /// The arrival times of a request source, in order (the same in every layout);
    /// `None` for streams.
    pub fn requests(&self) -> Option<crate::scenario::source::ArrivalStream<'_>> {
        self.arrivals
            .as_ref()
            .map(|a| a.stream(self.seed, self.duration))
    }

    /// Streams active at `t`.
    /// (A request source: the arrival rate per second at `t`, rounded.)
    pub fn active(&self, r: &Resolved, t: Time) -> u32 {
        if let Some(a) = &self.arrivals {
            return a.rate_at(t, self.duration).round() as u32;
        }
        let n = match self.streams_override {
            Some(s) => s,
            None => r.scenario.workload.active_streams(t, self.duration),
        };
        n.min(self.phases.len() as u32)
    }

    /// Number of streams that can ever be active.
    pub fn max_streams(&self) -> u32 {
        self.phases.len() as u32
    }

    /// Capture time of frame `i` (within the chunk) of chunk `k` of stream `s`.
    pub fn capture(&self, s: u32, k: u64, i: u32) -> Time {
        let chunk_start = self.phases[s as usize] + k * self.chunk;
        chunk_start + crate::sim::round_u64(i as f64 * self.frame_interval)
    }

    /// Capture time of item `i` of job `k` of stream `s`, which entered the pipeline
    /// at `entered`: the stream's frame clock, or for a request its arrival.
    pub fn item_capture(&self, s: u32, k: u64, i: u32, entered: Time) -> Time {
        match self.arrivals {
            Some(_) => entered,
            None => self.capture(s, k, i),
        }
    }

    /// When chunk `k` of stream `s` has been fully captured.
    pub fn chunk_ready(&self, s: u32, k: u64) -> Time {
        self.phases[s as usize] + (k + 1) * self.chunk
    }

    /// Whether frame number `frame` of a stream shows an injected defect.
    pub fn has_defect(&self, frame: u64) -> bool {
        !self.defect_mask.is_empty()
            && self.defect_mask[(frame % self.defect_mask.len() as u64) as usize]
    }

    /// Stream-hours over the simulated period.
    pub fn stream_hours(&self, r: &Resolved) -> f64 {
        match self.streams_override {
            Some(s) => s as f64 * self.duration as f64 / (3600.0 * NS_PER_SEC as f64),
            None => r.scenario.workload.stream_hours(self.duration),
        }
    }
}

/// Which frames of the (cycled) sample clip carry a defect, from the defect spec
/// alone (no frames are generated for this).
fn defect_mask(ctx: &RunContext) -> crate::Result<Vec<bool>> {
    let w = &ctx.resolved.scenario.workload;
    let fps = w.frames_per_second.get_ref().0;
    let total = (w.sample.seconds * fps).round().max(1.0) as u64;
    if let Some(real) = ctx.real {
        let mut mask = vec![false; real.clip.frames.len().max(1)];
        for d in &real.clip.truth {
            for f in d.start_frame..d.end_frame.min(mask.len() as u64) {
                mask[f as usize] = true;
            }
        }
        return Ok(mask);
    }
    let mut mask = vec![false; total as usize];
    if w.sample.defects.trim().is_empty() {
        return Ok(mask);
    }
    for spec in crate::frames::defects::parse_defects(&w.sample.defects)? {
        let (a, b) = spec.place.frames(fps, total);
        for f in a..b.min(total) {
            mask[f as usize] = true;
        }
    }
    Ok(mask)
}

/// CPU time of `n` repetitions of `kernel`: one draw for one frame; for several,
/// the mean times `n` plus one draw's deviation scaled by √n, which keeps the mean
/// and variance of the sum of `n` independent draws without drawing `n` times (the
/// hot path of the serverless layouts draws per chunk, not per frame).
pub fn cpu_ns(cost: &dyn CostModel, kernel: Kernel, n: f64, rng: &mut Rng64) -> u64 {
    if n <= 0.0 {
        return 0;
    }
    if n == 1.0 {
        return cost.cpu_ns(kernel, rng.random::<f64>());
    }
    let mean = cost.mean_cpu_ns(kernel);
    let dev = cost.cpu_ns(kernel, rng.random::<f64>()) as f64 - mean;
    crate::sim::round_u64((n * mean + n.sqrt() * dev).max(0.0))
}

/// CPU time of a stage's `work` for `n` items (kernels drawn as [`cpu_ns`]; a
/// distribution's sum of `n` draws approximated the same way: `n` means plus one
/// draw's deviation scaled by √n).
pub fn work_ns(
    cost: &dyn CostModel,
    work: &crate::scenario::pipeline::Work,
    n: f64,
    rng: &mut Rng64,
    ledger: &mut CpuLedger,
) -> u64 {
    use crate::scenario::pipeline::Work;
    match work {
        Work::None => 0,
        Work::Kernels(list) => {
            let mut total = 0u64;
            for &(k, times) in list {
                let c = cpu_ns(cost, k, n * times, rng);
                ledger.add(k, c);
                total = total.saturating_add(c);
            }
            total
        }
        Work::Cpu(_) | Work::Dist(_) => {
            if n <= 0.0 {
                return 0;
            }
            let (one, mean) = match work {
                Work::Cpu(d) => (d.sample(rng), d.mean()),
                Work::Dist(d) => (d.sample(rng), d.mean_ns()),
                _ => unreachable!("matched above"),
            };
            if n == 1.0 {
                return one;
            }
            crate::sim::round_u64((n * mean + n.sqrt() * (one as f64 - mean)).max(0.0))
        }
    }
}

/// Mean CPU nanoseconds of `work` for one item.
pub fn mean_work_ns(cost: &dyn CostModel, work: &crate::scenario::pipeline::Work) -> f64 {
    use crate::scenario::pipeline::Work;
    match work {
        Work::None => 0.0,
        Work::Kernels(list) => list.iter().map(|&(k, n)| n * cost.mean_cpu_ns(k)).sum(),
        Work::Cpu(d) => d.mean(),
        Work::Dist(d) => d.mean_ns(),
    }
}

/// CPU seconds spent per kernel (an array by kernel: `add` is on the hot path).
#[derive(Default)]
pub struct CpuLedger([Option<u128>; Kernel::ALL.len()]);

impl CpuLedger {
    pub fn add(&mut self, kernel: Kernel, ns: u64) {
        *self.0[kernel as usize].get_or_insert(0) += ns as u128;
    }
    /// Seconds of each kernel that ran, by name.
    pub fn seconds(&self) -> BTreeMap<String, f64> {
        Kernel::ALL
            .iter()
            .zip(&self.0)
            .filter_map(|(k, v)| v.map(|v| (k.name().to_string(), v as f64 / NS_PER_SEC as f64)))
            .collect()
    }
}

/// Per-stream real detectors, fed frames strictly in stream order even when chunks
/// finish out of order (a reorder buffer per stream).
pub struct RealDetectors<'a> {
    sample: &'a RealSample,
    banks: Vec<Option<DetectorBank>>,
    next_chunk: Vec<u64>,
    /// Chunks settled out of order, by stream: analysed (true) or dropped.
    done: Vec<BTreeMap<u64, bool>>,
    frames_per_chunk: u32,
}

impl<'a> RealDetectors<'a> {
    pub fn new(
        sample: &'a RealSample,
        streams: u32,
        detectors: &[Kernel],
        frames_per_chunk: u32,
    ) -> Self {
        let clip = &sample.clip;
        RealDetectors {
            sample,
            banks: (0..streams)
                .map(|_| {
                    Some(DetectorBank::new(
                        detectors,
                        clip.fps,
                        clip.size,
                        &sample.params,
                    ))
                })
                .collect(),
            next_chunk: vec![0; streams as usize],
            done: vec![BTreeMap::new(); streams as usize],
            frames_per_chunk,
        }
    }

    /// Chunk `k` of stream `s` has been analysed: run the detectors on every frame
    /// that is now in order.
    pub fn chunk_done(&mut self, s: u32, k: u64) {
        self.settle(s, k, true);
    }

    /// Chunk `k` of stream `s` was dropped (never analysed): the detectors skip it.
    pub fn chunk_skipped(&mut self, s: u32, k: u64) {
        self.settle(s, k, false);
    }

    fn settle(&mut self, s: u32, k: u64, analysed: bool) {
        let si = s as usize;
        self.done[si].insert(k, analysed);
        while let Some(analysed) = self.done[si].remove(&self.next_chunk[si]) {
            let chunk = self.next_chunk[si];
            if analysed {
                for i in 0..self.frames_per_chunk as u64 {
                    self.frame(s, chunk * self.frames_per_chunk as u64 + i);
                }
            }
            self.next_chunk[si] += 1;
        }
    }

    /// Runs the detectors on frame `g` of stream `s` (frames must come in order).
    pub fn frame(&mut self, s: u32, g: u64) {
        let clip = &self.sample.clip;
        let idx = g % clip.frames.len() as u64;
        if let Some(bank) = self.banks[s as usize].as_mut() {
            bank.push(&clip.frames[idx as usize], clip.audio_for_frame(idx));
        }
    }

    /// Every stream's defects, streams in order.
    pub fn finish(mut self) -> Vec<StreamDefect> {
        let mut out = Vec::new();
        for (s, bank) in self.banks.iter_mut().enumerate() {
            if let Some(b) = bank.take() {
                if b.frames() == 0 {
                    continue;
                }
                for defect in b.finish() {
                    out.push(StreamDefect {
                        stream: s as u32,
                        defect,
                    });
                }
            }
        }
        out
    }
}

/// Reports the share of simulated time done, once per percent.
pub struct Progress<'a> {
    report: Option<&'a (dyn Fn(f64) + Sync)>,
    duration: Time,
    mark: u64,
}

impl<'a> Progress<'a> {
    pub fn new(report: Option<&'a (dyn Fn(f64) + Sync)>, duration: Time) -> Self {
        Progress {
            report,
            duration,
            mark: 0,
        }
    }

    /// Called with each event's time.
    pub fn at(&mut self, now: Time) {
        if let Some(p) = self.report {
            let mark = now / (self.duration / 100).max(1);
            if mark != self.mark {
                self.mark = mark;
                p((now as f64 / self.duration as f64).min(1.0));
            }
        }
    }
}

/// One bucket of a layout's timeline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct TimelinePoint {
    pub time_s: f64,
    pub active_streams: u32,
    pub lambda_concurrency: u32,
    pub throttles_per_s: f64,
    pub instances: u32,
}

/// Samples the timeline every `every` ns.
pub struct Timeline {
    pub every: Time,
    pub points: Vec<TimelinePoint>,
    last_throttles: u64,
}

impl Timeline {
    /// About 300 points over the period, at least one a second.
    pub fn new(duration: Time) -> Timeline {
        let every = (duration / 300).max(NS_PER_SEC).div_ceil(NS_PER_SEC) * NS_PER_SEC;
        Timeline {
            every,
            points: Vec::new(),
            last_throttles: 0,
        }
    }

    /// Records the bucket ending at `t`; `throttles` is the running total.
    pub fn sample(&mut self, t: Time, active: u32, lambda: u32, throttles: u64, instances: u32) {
        let delta = throttles.saturating_sub(self.last_throttles);
        self.last_throttles = throttles;
        self.points.push(TimelinePoint {
            time_s: t.saturating_sub(self.every) as f64 / NS_PER_SEC as f64,
            active_streams: active,
            lambda_concurrency: lambda,
            throttles_per_s: delta as f64 * NS_PER_SEC as f64 / self.every as f64,
            instances,
        });
    }
}

/// The layout's S3 assumptions (its `[layouts.s3]` or the defaults), named under
/// `layouts.NAME.`: every layout that hands data through S3 states them alike.
pub fn s3_assumptions(spec: &crate::scenario::LayoutSpec) -> Vec<crate::cloud::Assumption> {
    let s3 = spec
        .s3
        .as_ref()
        .map(|s| s.get_ref().clone())
        .unwrap_or_default();
    s3.assumptions()
        .into_iter()
        .map(|a| {
            crate::cloud::Assumption::new(
                &format!("layouts.{}.{}", spec.name, a.name),
                a.value,
                &a.note,
            )
        })
        .collect()
}
