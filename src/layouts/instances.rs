//! The instance layouts shared by monolith, cloned-monolith and fargate: each
//! stream's frames (or each request) decoded and analysed in one process on a fleet
//! of instances (or tasks), items passed in memory — no S3, no Step Functions. Each
//! analysed frame is one job of single-threaded CPU work on its stream's machine; a
//! request one job on the earliest free core of any machine.

use std::collections::BTreeMap;

use super::common::{
    mean_work_ns, work_ns, CpuLedger, Progress, RealDetectors, Timeline, Workload,
};
use super::{Gate, ItemCounts};
use super::{LayoutRun, RunContext};
use crate::cloud::{Ec2Fleet, Ec2Scaling, Machines};
use crate::pricing::{price, Usage};
use crate::scenario::pipeline::Per;
use crate::scenario::LayoutSpec;
use crate::sim::{rng_stream, EventQueue, Histogram, Time, NS_PER_SEC};

/// A fleet of machines whose cores run the jobs: EC2 instances or Fargate tasks.
pub trait Fleet {
    /// The scheduler and autoscaler.
    fn machines(&mut self) -> &mut dyn Machines;
    /// The account quota its vCPUs count against.
    fn quota_gate(&self) -> Gate;
    /// Share of a machine's cores the autoscaler aims at (1 for a fixed fleet): the
    /// headroom streams are bin-packed with.
    fn target_cpu(&self) -> f64;
    /// Most machines running at once.
    fn peak(&self) -> u32;
    /// Writes what the fleet used if it stops at `until`.
    fn meter(&self, usage: &mut Usage, until: Time);
}

/// The autoscaler's target, or 1 for a fixed fleet.
pub fn target_of(scaling: &Ec2Scaling) -> f64 {
    match scaling {
        Ec2Scaling::TargetTracking { target_cpu, .. } => *target_cpu,
        Ec2Scaling::Fixed { .. } => 1.0,
    }
}

impl Fleet for Ec2Fleet {
    fn machines(&mut self) -> &mut dyn Machines {
        Ec2Fleet::machines(self)
    }
    fn quota_gate(&self) -> Gate {
        Gate::Ec2VcpuQuota
    }
    fn target_cpu(&self) -> f64 {
        target_of(&self.config().scaling)
    }
    fn peak(&self) -> u32 {
        self.stats().peak_instances
    }
    fn meter(&self, usage: &mut Usage, until: Time) {
        Ec2Fleet::meter(self, usage, until)
    }
}

/// One group of processes: its fleet and the stages it runs. Every group runs the
/// pipeline's first stage (a clone repeats the media conversion); the monolith's one
/// group runs every other stage, each clone of the cloned monolith a share of the
/// stages side by side, and the first group the last stage too.
pub struct Group {
    pub fleet: Box<dyn Fleet>,
    /// Stages besides the first, by index in the pipeline.
    pub stages: Vec<usize>,
}

/// The stages of the monolith's single group: all but the first.
pub fn all_stages(ctx: &RunContext) -> Vec<usize> {
    (1..ctx.resolved.pipeline.stages.len()).collect()
}

/// Target tracking at 70% CPU from one machine up, sized for the streams at the
/// start (`initial = 0`): the default scaling of the instance layouts (an
/// assumption, listed in the report).
pub fn default_scaling() -> crate::cloud::Ec2Scaling {
    crate::cloud::Ec2Scaling::TargetTracking {
        target_cpu: 0.7,
        cooldown: crate::sim::Dur(300 * NS_PER_SEC),
        min: 1,
        max: 10_000,
        initial: 0,
    }
}

/// How long a scaling rule takes to settle: a target tracker's cooldown (a fixed
/// fleet does not move).
pub fn settling_of(s: &crate::cloud::Ec2Scaling) -> Time {
    match s {
        crate::cloud::Ec2Scaling::TargetTracking { cooldown, .. } => cooldown.0,
        crate::cloud::Ec2Scaling::Fixed { .. } => 0,
    }
}

/// Mean CPU nanoseconds one item costs a group running the first stage and
/// `stages` (a per-batch stage's share spread over the batch's items).
pub fn mean_frame_cpu(ctx: &RunContext, stages: &[usize]) -> f64 {
    let p = &ctx.resolved.pipeline;
    let items = ctx.resolved.items_per_job();
    std::iter::once(0)
        .chain(stages.iter().copied())
        .map(|i| {
            let st = &p.stages[i];
            let m = mean_work_ns(ctx.cost, &st.work);
            match st.per {
                Per::Item => m,
                Per::Batch => m / items,
            }
        })
        .sum()
}

/// Instances a target-tracking fleet should start with: enough cores for the streams
/// active (or the requests arriving) at time 0 at the target utilisation of the
/// `cores` each machine leaves to the work, and room for those streams at the
/// bin-packing share ([`streams_per_machine`]) (`initial = 0` in the scenario asks
/// for this), within min..max.
pub fn initial_size(
    ctx: &RunContext,
    stages: &[usize],
    cores_per_machine: f64,
    target: f64,
    min: u32,
    max: u32,
) -> u32 {
    let w = &ctx.resolved.scenario.workload;
    let (items_per_s, streams) = match &ctx.resolved.arrivals {
        Some(a) => (a.rate_at(0, ctx.duration()), 0),
        None => {
            let streams = ctx
                .streams_override
                .unwrap_or_else(|| w.active_streams(0, ctx.duration()));
            (streams as f64 * w.frames_per_second.get_ref().0, streams)
        }
    };
    let cores = items_per_s * mean_frame_cpu(ctx, stages) / NS_PER_SEC as f64;
    let by_cpu = (cores / (cores_per_machine * target)).ceil() as u32;
    let per = pipeline_streams_per_machine(ctx, stages, cores_per_machine, target);
    by_cpu
        .max(streams.div_ceil(per))
        .clamp(min.max(1), max.max(1))
}

/// Settles `initial = 0` of a target-tracking scaling to the demand at time 0, for
/// machines leaving `cores` vCPUs each to the work.
pub fn size_scaling(ctx: &RunContext, stages: &[usize], cores: f64, scaling: &mut Ec2Scaling) {
    if let Ec2Scaling::TargetTracking {
        target_cpu,
        min,
        max,
        initial,
        ..
    } = scaling
    {
        if *initial == 0 {
            *initial = initial_size(ctx, stages, cores, *target_cpu, *min, *max);
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Ev {
    Frame {
        stream: u32,
        index: u64,
    },
    /// A request arrives: a job of one item, on any machine.
    Request,
    Autoscale,
    Tick,
}

/// Streams one machine leaving `cores` vCPUs to the work takes, each needing
/// `stream_cores`, before the next machine is used: bin-packing up to the
/// autoscaler's target (the headroom).
pub fn streams_per_machine(cores: f64, target: f64, stream_cores: f64) -> u32 {
    if stream_cores <= 0.0 {
        return u32::MAX;
    }
    ((cores * target / stream_cores).floor() as u32).max(1)
}

/// [`streams_per_machine`] for a group running the first stage and `stages` on
/// machines leaving `cores` vCPUs to the work: what the streams are pinned at and
/// the first fleet is sized for.
pub fn pipeline_streams_per_machine(
    ctx: &RunContext,
    stages: &[usize],
    cores: f64,
    target: f64,
) -> u32 {
    let fps = ctx.resolved.scenario.workload.frames_per_second.get_ref().0;
    let stream_cores = fps * mean_frame_cpu(ctx, stages) / NS_PER_SEC as f64;
    streams_per_machine(cores, target, stream_cores)
}

/// Caps each group's fleet at what the account's vCPU quota leaves it beside the
/// other groups (all of a layout's fleets count against one quota).
fn apply_quota(ctx: &RunContext, groups: &mut [Group]) {
    for g in 0..groups.len() {
        let gate = groups[g].fleet.quota_gate();
        let Some(quota) = ctx.quota(gate) else {
            continue;
        };
        let others: u64 = groups
            .iter_mut()
            .enumerate()
            .filter(|(h, _)| *h != g)
            .map(|(_, o)| {
                let m = o.fleet.machines();
                m.live() as u64 * m.cores() as u64
            })
            .sum();
        let m = groups[g].fleet.machines();
        let cap = quota.saturating_sub(others) / m.cores().max(1) as u64;
        m.set_max_machines(cap.min(u32::MAX as u64) as u32);
    }
}

/// Runs the groups over the workload and meters what their fleets used. Each stream
/// is pinned to one machine of each group (its decode sequential there); a request
/// goes to the earliest free core of each group. An item not started within the
/// overload policy's deadline, or not before the period ends, is dropped in every
/// group.
pub fn simulate(
    ctx: &RunContext,
    spec: &LayoutSpec,
    mut groups: Vec<Group>,
) -> crate::Result<LayoutRun> {
    let r = ctx.resolved;
    let cost = ctx.cost;
    let wl = Workload::new(ctx)?;
    let duration = wl.duration;
    let policy = ctx.overload(spec);
    let autoscale_every = spec
        .autoscale_every
        .as_ref()
        .map_or(60 * NS_PER_SEC, |d| d.get_ref().0.max(NS_PER_SEC));
    for g in groups.iter_mut() {
        let target = g.fleet.target_cpu();
        let m = g.fleet.machines();
        let per = pipeline_streams_per_machine(ctx, &g.stages, m.usable_cores(), target);
        m.pin_streams(wl.max_streams(), per);
    }
    apply_quota(ctx, &mut groups);

    let mut q: EventQueue<Ev> = EventQueue::new();
    let mut requests = wl.requests();
    let first_request = requests.as_mut().and_then(|a| a.next());
    if let Some(t) = first_request {
        q.push(t, Ev::Request);
    }
    for s in 0..wl.max_streams() {
        q.push(
            wl.phases[s as usize],
            Ev::Frame {
                stream: s,
                index: 0,
            },
        );
    }
    let mut timeline = Timeline::new(duration);
    q.push(timeline.every, Ev::Tick);
    if autoscale_every < duration {
        q.push(autoscale_every, Ev::Autoscale);
    }

    let mut real = ctx
        .real
        .map(|s| RealDetectors::new(s, wl.max_streams(), &r.detectors, wl.frames_per_chunk));
    let mut latency = Histogram::new();
    let mut notify_latency = Histogram::new();
    let mut frames_captured = 0u64;
    // Items analysed by each stage between the first and the last (the detectors);
    // a pipeline with nothing in between counts its last stage.
    let middle = r.pipeline.counted_stages();
    let mut runner = ItemRunner {
        pipeline: &r.pipeline,
        analysed: r.pipeline.stages[middle.clone()]
            .iter()
            .map(|st| (st.name.clone(), 0))
            .collect(),
        middle,
        cost,
        rng: rng_stream(r.scenario.seed, &spec.name, 1),
        ledger: CpuLedger::default(),
        policy,
        items: ItemCounts::default(),
        gate_waits: super::GateWaits::default(),
        starts: vec![None; groups.len()],
        duration,
    };
    let mut last_end: Time = 0;
    let mut progress = Progress::new(ctx.progress, duration);
    // Frame and request events still to come.
    let mut frames_pending = wl.max_streams() as usize + usize::from(first_request.is_some());

    while let Some((now, ev)) = q.pop() {
        progress.at(now);
        match ev {
            Ev::Frame { stream, index } => {
                frames_pending -= 1;
                // Frames belong to chunks as in every layout: a chunk that starts
                // within the period is captured whole, by a stream active at its start.
                let per_chunk = wl.frames_per_chunk as u64;
                if wl.capture(stream, (index + 1) / per_chunk, 0) < duration {
                    let next = wl.phases[stream as usize]
                        + ((index + 1) as f64 * wl.frame_interval).round() as Time;
                    q.push(
                        next,
                        Ev::Frame {
                            stream,
                            index: index + 1,
                        },
                    );
                    frames_pending += 1;
                }
                let active = wl.active(r, wl.capture(stream, index / per_chunk, 0));
                if stream >= active {
                    for g in groups.iter_mut() {
                        g.fleet.machines().release(stream);
                    }
                    continue;
                }
                for g in groups.iter_mut() {
                    g.fleet.machines().place_new(now, stream, active);
                }
                frames_captured += 1;
                // The period's last chunk is captured whole: its frames may start until
                // it is ready. A per-batch stage runs with the chunk's last frame.
                let start_by = duration.max(wl.chunk_ready(stream, index / per_chunk));
                let last_of_batch = (index + 1) % per_chunk == 0;
                let Some(done) =
                    runner.offer(&mut groups, now, Some(stream), start_by, last_of_batch)
                else {
                    continue;
                };
                last_end = last_end.max(done);
                latency.record(done - now);
                if wl.has_defect(index) {
                    notify_latency.record(done - now);
                }
                if let Some(rd) = real.as_mut() {
                    rd.frame(stream, index);
                }
            }
            Ev::Request => {
                frames_pending -= 1;
                if let Some(next) = requests.as_mut().and_then(|a| a.next()) {
                    q.push(next, Ev::Request);
                    frames_pending += 1;
                }
                frames_captured += 1;
                if let Some(done) = runner.offer(&mut groups, now, None, duration, true) {
                    last_end = last_end.max(done);
                    latency.record(done - now);
                }
            }
            Ev::Autoscale => {
                apply_quota(ctx, &mut groups);
                for g in groups.iter_mut() {
                    g.fleet.machines().tick(now);
                }
                // No evaluation after the period: nothing new starts then, and a
                // scale-in stamped later must not extend the bill.
                if now + autoscale_every < duration {
                    q.push(now + autoscale_every, Ev::Autoscale);
                }
            }
            Ev::Tick => {
                let active = if now <= duration {
                    wl.active(r, now)
                } else {
                    0
                };
                let live: u32 = groups.iter_mut().map(|g| g.fleet.machines().live()).sum();
                timeline.sample(now, active, 0, 0, live);
                if frames_pending > 0 {
                    q.push(now + timeline.every, Ev::Tick);
                }
            }
        }
    }

    let mut usage = Usage {
        catalog: Some(r.catalog.id.clone()),
        ..Usage::default()
    };
    for g in &groups {
        g.fleet.meter(&mut usage, duration);
    }
    let bill = price(&usage, &r.catalog);
    let zero = |names: &[&str]| {
        names
            .iter()
            .map(|s| (s.to_string(), 0u64))
            .collect::<BTreeMap<_, _>>()
    };
    Ok(LayoutRun {
        name: spec.name.clone(),
        kind: super::of(spec).kind(),
        family: super::Family::Instances,
        step_functions: false,
        usage,
        bill,
        period_hours: duration as f64 / 3.6e12,
        stream_hours: wl.stream_hours(r),
        latency,
        notify_latency,
        throttles: zero(&["lambda", "step_functions", "s3"]),
        retries: zero(&["lambda", "step_functions", "s3"]),
        frames_captured,
        frames_by_detector: runner.analysed,
        peak_lambda_concurrency: 0,
        lambda_environments: Vec::new(),
        peak_instances: groups.iter().map(|g| g.fleet.peak()).sum(),
        timeline: timeline.points,
        defects: real.map(|rd| rd.finish()).unwrap_or_default(),
        cpu_seconds_by_kernel: runner.ledger.seconds(),
        executions: 0,
        events: q.events_processed(),
        sim_end: last_end,
        items: runner.items,
        gate_waits: runner.gate_waits,
        overload: policy,
    })
}

/// Offers items to the groups: the overload rule, the kernel-cost stream, the CPU by
/// kernel, the items analysed by each counted stage and what became of each item.
struct ItemRunner<'a> {
    pipeline: &'a crate::scenario::pipeline::Pipeline,
    middle: std::ops::Range<usize>,
    cost: &'a dyn crate::kernels::CostModel,
    rng: crate::sim::Rng64,
    ledger: CpuLedger,
    analysed: BTreeMap<String, u64>,
    policy: crate::scenario::overload::OverloadPolicy,
    items: ItemCounts,
    gate_waits: super::GateWaits,
    /// Where the item would start in each group.
    starts: Vec<Option<Time>>,
    duration: Time,
}

impl ItemRunner<'_> {
    /// One item submitted at `now` — a frame of `stream`, or a request (`None`) —
    /// through every group: the first stage in each (a clone repeats it), then the
    /// group's own stages, a per-batch one only with the batch's last item. Dropped
    /// in all groups if any cannot start it by `start_by` or within the overload
    /// deadline. Returns when the last group is done (`None`: dropped).
    fn offer(
        &mut self,
        groups: &mut [Group],
        now: Time,
        stream: Option<u32>,
        start_by: Time,
        last_of_batch: bool,
    ) -> Option<Time> {
        let mut dropped = false;
        for (g, slot) in groups.iter_mut().zip(self.starts.iter_mut()) {
            let m = g.fleet.machines();
            *slot = match stream {
                Some(s) => m.start_for(now, s),
                None => m.start_any(now),
            };
            let held = slot.map_or(Time::MAX, |t| t - now);
            if g.fleet.machines().capped() && held > 0 {
                let wait = self.policy.deadline().map_or(held, |d| held.min(d));
                self.gate_waits.add(g.fleet.quota_gate(), wait);
            }
            dropped |= slot.is_none_or(|t| t >= start_by || !self.policy.may_start(now, t));
        }
        if dropped {
            self.items.record(1, None, self.duration);
            return None;
        }
        let (mut start, mut done) = (Time::MAX, now);
        for g in groups.iter_mut() {
            let (mut decode, mut rest) = (0u64, 0u64);
            for i in std::iter::once(0).chain(g.stages.iter().copied()) {
                let st = &self.pipeline.stages[i];
                let n = match st.per {
                    Per::Item => 1.0,
                    Per::Batch if last_of_batch => 1.0,
                    Per::Batch => continue,
                };
                let w = work_ns(self.cost, &st.work, n, &mut self.rng, &mut self.ledger);
                if i == 0 {
                    decode += w;
                } else {
                    rest += w;
                }
                if self.middle.contains(&i) {
                    *self.analysed.get_mut(&st.name).expect("middle stage") += 1;
                }
            }
            let m = g.fleet.machines();
            let ran = match stream {
                Some(s) => m.run_for(now, s, decode, rest),
                None => m.run_any(now, decode + rest),
            };
            if let Some((s, end)) = ran {
                start = start.min(s);
                done = done.max(end);
            }
        }
        self.items.record(1, Some((start, done)), self.duration);
        Some(done)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{by_kind, RunContext};
    use crate::kernels::cost::FixedCost;
    use crate::scenario::Scenario;
    use crate::sim::millis;

    /// Requests from a trace through the monolith with fixed CPU times: each one
    /// job of every stage, queued on the instance's two cores.
    #[test]
    fn requests_queue_on_the_cores_as_jobs_of_one_item() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t.csv"), "0\n0\n0\n1\n").unwrap();
        let text = r#"
name = "r"
duration = "10s"
[workload.requests]
trace = "t.csv"
[[stages]]
name = "a"
cpu = { kind = "fixed", value = "10ms" }
[[stages]]
name = "b"
cpu = { kind = "fixed", value = "15ms" }
[[stages]]
name = "c"
per = "batch"
cpu = { kind = "fixed", value = "5ms" }
[[layouts]]
name = "m"
kind = "monolith"
[layouts.ec2]
instance_type = "c5.large"
scaling = { kind = "fixed", instances = 1 }
reserve_vcpu = 0.0
"#;
        let r = Scenario::parse("r.toml", text, Some(dir.path())).unwrap();
        let cost = FixedCost::uniform(1_000, 1_000);
        let ctx = RunContext::new(&r, &cost);
        let spec = &r.scenario.layouts[0];
        let run = by_kind("monolith").unwrap().simulate(&ctx, spec).unwrap();
        assert_eq!(run.frames_captured, 4);
        assert_eq!(run.frames_by_detector["b"], 4);
        assert_eq!(run.stream_hours, 0.0);
        // 30 ms a request: two at 0 s side by side on the two cores, the third after
        // one of them, the fourth alone at 1 s.
        assert_eq!(run.latency.count(), 4);
        assert_eq!(run.latency.max(), millis(60));
        assert_eq!(run.latency.quantile(0.5), millis(30));
        assert_eq!(run.sim_end, crate::sim::secs(1.0) + millis(30));

        // The default reserve of a c5.large, 0.07 vCPU (6% of the first, 1% of the
        // second), leaves each core 96.5% to the work: 30 ms of CPU holds one 31.09 ms.
        let text = text.replace("reserve_vcpu = 0.0\n", "");
        let r = Scenario::parse("r.toml", &text, Some(dir.path())).unwrap();
        let ctx = RunContext::new(&r, &cost);
        let run = by_kind("monolith")
            .unwrap()
            .simulate(&ctx, &r.scenario.layouts[0])
            .unwrap();
        let held = (30e6_f64 / 0.965).ceil() as u64;
        assert_eq!(run.latency.max(), 2 * held);
        assert_eq!(run.sim_end, crate::sim::secs(1.0) + held);
    }
}
