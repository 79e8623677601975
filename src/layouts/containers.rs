//! Microservices on containers: each pipeline stage its own ECS service (Fargate tasks
//! or EC2 instances), SQS standard queues between the stages, each service autoscaled
//! on its queue's backlog. The architecture most teams run, and the comparison the
//! Prime Video story leaves out.
//!
//! How it runs (every figure that is not published is listed by `assumptions`):
//! - **Jobs.** A job is one chunk of a stream (`frames_per_chunk` items), as the
//!   serverless layouts run one execution per chunk, or one request (one item, from
//!   its arrival). The stages that read the source take jobs from an in-process queue
//!   (the stream ingest or the request front end, as the monolith's converter reads
//!   its streams); every other stage reads its own SQS queue.
//! - **Consumers.** Each vCPU of a task runs one consumer: a long-poll receive (up to
//!   `receive_batch` messages); per message, a GET of its body if it came through S3,
//!   the reader's deserialization, and — once the job's last input has arrived — the
//!   stage's work, its serialization and, over the SQS limit, one PUT of its output;
//!   then one message per reader queue and a batched delete.
//! - **Hand-offs.** One message per job per reader, `items × output_bytes` long, billed
//!   per 64 KB chunk on send and on receive; over 256 KiB the producer PUTs the body to
//!   S3 once and sends each reader a pointer (the extended-client pattern), and each
//!   reader GETs it.
//! - **Autoscaling.** Every `autoscale_every` until the period ends: desired tasks =
//!   ⌈mean messages in the queue (visible or in flight) over the window ÷ target per
//!   task⌉ within [min, max], with scale-out and scale-in cooldowns; a new task serves
//!   after the launch delay; a task scaled in finishes the batch and long poll in hand.
//! - **Billing.** Each task per second (Fargate's or EC2's minimum) from its launch to
//!   its stop, but not past the period's end unless it is still busy with work then.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ops::Range;

use rand::Rng;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::common::{
    mean_work_ns, work_ns, CpuLedger, Progress, RealDetectors, Timeline, Workload,
};
use super::{CheckContext, Family, Gate, GateWaits, Layout, LayoutRun, RunContext};
use crate::cloud::s3::PrefixId;
use crate::cloud::sqs::{Delivered, Delivery, MsgId, PollEnd, PollerId, Receive};
use crate::cloud::{
    Assumption, FargateConfig, RetryPolicy, S3Bucket, S3Config, S3Op, SqsConfig, SqsQueue,
};
use crate::pricing::bill::{ec2_billed_seconds, fargate_billed_seconds};
use crate::pricing::usage::{Ec2Usage, FargateUsage, Fraction, NonNegative};
use crate::pricing::{price, Architecture, Catalog, Usage};
use crate::scenario::overload::OverloadPolicy;
use crate::scenario::pipeline::{Input, OutputBytes, Per, Pipeline};
use crate::scenario::source::ArrivalStream;
use crate::scenario::LayoutSpec;
use crate::sim::{rng_stream, Dur, EventQueue, Histogram, Rng64, Time, TimeWeighted, NS_PER_SEC};

/// Where a service's tasks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Launch {
    /// Fargate tasks of `task_vcpu` / `task_memory_gb`.
    #[default]
    Fargate,
    /// One task per EC2 instance of `instance_type` (ECS on EC2, no bin-packing).
    Ec2,
}

/// One service's size and scaling; what is not set comes from `service`, then from
/// the defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// Fargate: vCPUs of a task (1, 2, 4, 8 or 16).
    pub task_vcpu: Option<u32>,
    /// Fargate: memory of a task, GB.
    pub task_memory_gb: Option<f64>,
    /// EC2: the instance type each task runs on.
    pub instance_type: Option<String>,
    pub min_tasks: Option<u32>,
    pub max_tasks: Option<u32>,
    /// Tasks at time 0; 0 (the default) sizes them for the load at time 0.
    pub initial_tasks: Option<u32>,
    /// Mean messages in the queue (visible or in flight) per task the autoscaler
    /// aims at; default 0.7 per vCPU (about 70% of the consumers busy).
    pub target_messages_per_task: Option<f64>,
}

impl ServiceSpec {
    /// These settings, with what they leave unset taken from `base`.
    fn or(&self, base: &ServiceSpec) -> ServiceSpec {
        ServiceSpec {
            task_vcpu: self.task_vcpu.or(base.task_vcpu),
            task_memory_gb: self.task_memory_gb.or(base.task_memory_gb),
            instance_type: self.instance_type.clone().or(base.instance_type.clone()),
            min_tasks: self.min_tasks.or(base.min_tasks),
            max_tasks: self.max_tasks.or(base.max_tasks),
            initial_tasks: self.initial_tasks.or(base.initial_tasks),
            target_messages_per_task: self
                .target_messages_per_task
                .or(base.target_messages_per_task),
        }
    }
}

/// The `[layouts.containers]` section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainersSpec {
    #[serde(default)]
    pub launch: Launch,
    /// Fargate tasks' architecture (EC2: the instance type's).
    pub architecture: Option<Architecture>,
    /// EC2: vCPUs of each instance the ECS agent, container runtime and OS keep;
    /// default [`crate::cloud::ec2::default_reserve_vcpu`].
    pub reserve_vcpu: Option<f64>,
    /// Task start request to serving. Default: Fargate 1 min, EC2 2 min.
    pub launch_delay: Option<Dur>,
    pub scale_out_cooldown: Option<Dur>,
    pub scale_in_cooldown: Option<Dur>,
    /// Every queue's settings (latency, long-poll wait, batch, visibility timeout).
    pub sqs: Option<SqsConfig>,
    /// Defaults for every stage's service.
    pub service: Option<Spanned<ServiceSpec>>,
    /// Per-stage overrides, by stage name.
    #[serde(default)]
    pub stages: BTreeMap<String, Spanned<ServiceSpec>>,
}

/// Defaults (assumptions, listed in the report).
const FARGATE_VCPU: u32 = 1;
const FARGATE_GB: f64 = 2.0;
const EC2_TYPE: &str = "c5.large";
pub(crate) const MAX_TASKS: u32 = 10_000;
const OUT_COOLDOWN: Time = 60 * NS_PER_SEC;
const IN_COOLDOWN: Time = 300 * NS_PER_SEC;
/// Share of consumers busy the sizing and the default backlog target aim at (the
/// instance layouts' default CPU target): 0.7 messages in hand per vCPU.
const SIZING_CPU: f64 = 0.7;

/// One stage's service, resolved.
#[derive(Debug, Clone, PartialEq)]
struct Plan {
    vcpu: u32,
    /// Share of each vCPU the consumers get (EC2: what the agent and OS reserve
    /// leaves; Fargate: 1).
    share: f64,
    memory_gb: f64,
    instance_type: Option<String>,
    min: u32,
    max: u32,
    /// 0: sized for the load at time 0.
    initial: u32,
    target: f64,
}

/// The whole section, resolved and checked.
#[derive(Debug, Clone)]
struct Settings {
    launch: Launch,
    architecture: Architecture,
    launch_delay: Time,
    out_cooldown: Time,
    in_cooldown: Time,
    sqs: SqsConfig,
    plans: Vec<Plan>,
}

/// A mistake in the section: where, and what.
type SpanError = (Range<usize>, String);

fn settings(
    spec: &LayoutSpec,
    pipeline: &Pipeline,
    catalog: &Catalog,
) -> Result<Settings, SpanError> {
    let empty = ContainersSpec::default();
    let (c, section) = match &spec.containers {
        Some(s) => (s.get_ref(), s.span()),
        None => (&empty, spec.kind.span()),
    };
    let sqs = c.sqs.clone().unwrap_or_default();
    sqs.check(catalog).map_err(|m| (section.clone(), m))?;
    for (name, entry) in &c.stages {
        if pipeline.index(name).is_none() {
            let names: Vec<&str> = pipeline.stages.iter().map(|s| s.name.as_str()).collect();
            let hint = crate::error::nearest(name, &names)
                .map(|n| format!(" (did you mean `{n}`?)"))
                .unwrap_or_default();
            return Err((
                entry.span(),
                format!(
                    "no stage `{name}` in the pipeline{hint}; its stages: {}",
                    names.join(", ")
                ),
            ));
        }
    }
    let base = c.service.as_ref();
    let plans = pipeline
        .stages
        .iter()
        .map(|st| {
            let own = c.stages.get(&st.name);
            let span = own.or(base).map_or(section.clone(), |s| s.span());
            let merged = match (own, base) {
                (Some(o), Some(b)) => o.get_ref().or(b.get_ref()),
                (Some(x), None) | (None, Some(x)) => x.get_ref().clone(),
                (None, None) => ServiceSpec::default(),
            };
            plan(c.launch, c.reserve_vcpu, &st.name, &merged, catalog).map_err(|m| (span, m))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let positive = |d: Option<Dur>, default: Time, what: &str| match d {
        Some(Dur(0)) => Err((section.clone(), format!("{what} must be more than 0"))),
        Some(Dur(t)) => Ok(t),
        None => Ok(default),
    };
    let default_delay = match c.launch {
        Launch::Fargate => FargateConfig::default().launch_delay.0,
        Launch::Ec2 => crate::cloud::Ec2Config::default().launch_delay.0,
    };
    if c.launch == Launch::Fargate && c.reserve_vcpu.is_some() {
        return Err((
            section,
            "`reserve_vcpu` needs launch = \"ec2\": a Fargate task's vCPUs are its own".into(),
        ));
    }
    if c.launch == Launch::Ec2 && c.architecture.is_some() {
        return Err((
            section,
            "with launch = \"ec2\" the architecture is the instance type's: remove `architecture`"
                .into(),
        ));
    }
    Ok(Settings {
        launch: c.launch,
        architecture: c.architecture.unwrap_or(Architecture::X86_64),
        launch_delay: positive(c.launch_delay, default_delay, "launch_delay")?,
        out_cooldown: c.scale_out_cooldown.map_or(OUT_COOLDOWN, |d| d.0),
        in_cooldown: c.scale_in_cooldown.map_or(IN_COOLDOWN, |d| d.0),
        sqs,
        plans,
    })
}

/// One stage's service from its settings, checked.
fn plan(
    launch: Launch,
    reserve_vcpu: Option<f64>,
    stage: &str,
    spec: &ServiceSpec,
    catalog: &Catalog,
) -> Result<Plan, String> {
    let ServiceSpec {
        task_vcpu,
        task_memory_gb,
        instance_type,
        min_tasks: min,
        max_tasks: max,
        initial_tasks: initial,
        target_messages_per_task: target,
    } = spec.clone();
    let what = format!("service `{stage}`");
    let (vcpu, memory_gb, instance_type, share) = match launch {
        Launch::Fargate => {
            if instance_type.is_some() {
                return Err(format!(
                    "{what}: `instance_type` needs launch = \"ec2\"; Fargate tasks take task_vcpu and task_memory_gb"
                ));
            }
            let cfg = FargateConfig {
                name: stage.into(),
                task_vcpu: task_vcpu.unwrap_or(FARGATE_VCPU),
                task_memory_gb: task_memory_gb.unwrap_or(FARGATE_GB),
                ..FargateConfig::default()
            };
            cfg.check()?;
            (cfg.task_vcpu, cfg.task_memory_gb, None, 1.0)
        }
        Launch::Ec2 => {
            if task_vcpu.is_some() || task_memory_gb.is_some() {
                return Err(format!(
                    "{what}: with launch = \"ec2\" a task is one whole instance: set instance_type, not task_vcpu or task_memory_gb"
                ));
            }
            let name = instance_type.unwrap_or_else(|| EC2_TYPE.into());
            let it = catalog.instance(&name)?;
            let reserve = crate::cloud::ec2::reserve_of(reserve_vcpu, it.vcpu)
                .map_err(|m| format!("{what}: {m}"))?;
            let share = (it.vcpu as f64 - reserve) / it.vcpu as f64;
            (it.vcpu, it.memory_gib, Some(name), share)
        }
    };
    let min = min.unwrap_or(1);
    let max = max.unwrap_or(MAX_TASKS.max(min));
    let bound = crate::scenario::bounds::MAX_INSTANCES;
    if min == 0 || min > max || max > bound {
        return Err(format!(
            "{what}: needs 1 <= min_tasks <= max_tasks <= {bound}, got min_tasks {min}, max_tasks {max}"
        ));
    }
    let initial = initial.unwrap_or(0);
    if initial > max {
        return Err(format!(
            "{what}: initial_tasks ({initial}) is above max_tasks ({max})"
        ));
    }
    let target = target.unwrap_or(SIZING_CPU * vcpu as f64);
    if !(target.is_finite() && target > 0.0) {
        return Err(format!(
            "{what}: target_messages_per_task must be a number above 0, got {target}"
        ));
    }
    Ok(Plan {
        vcpu,
        share,
        memory_gb,
        instance_type,
        min,
        max,
        initial,
        target,
    })
}

pub struct Containers;

impl Layout for Containers {
    fn kind(&self) -> &'static str {
        "containers"
    }
    fn summary(&self) -> &'static str {
        "each stage its own ECS service (Fargate or EC2), SQS queues between them, scaled on backlog"
    }
    fn family(&self) -> Family {
        Family::Containers
    }
    fn lifts_quotas(&self) -> bool {
        true
    }
    fn sections(&self) -> &'static [&'static str] {
        &["containers", "s3", "retry", "autoscale_every"]
    }
    fn check(&self, spec: &LayoutSpec, cx: &CheckContext) -> crate::Result<()> {
        settings(spec, cx.pipeline, cx.catalog)
            .map(|_| ())
            .map_err(|(span, m)| cx.error(spec, span, &m))?;
        if let Some(s3) = &spec.s3 {
            cx.model(spec, s3.span(), s3.get_ref().check())?;
        }
        Ok(())
    }
    fn assumptions(&self, spec: &LayoutSpec) -> Vec<Assumption> {
        assumptions(spec)
    }
    /// A stale message is dropped from each stage's queue.
    fn drop_points(&self, pipeline: &crate::scenario::pipeline::Pipeline) -> u32 {
        pipeline.depth().max(1)
    }
    fn settling(&self, spec: &LayoutSpec) -> Time {
        let c = spec.containers.as_ref().map(|c| c.get_ref());
        let out = c
            .and_then(|c| c.scale_out_cooldown)
            .map_or(OUT_COOLDOWN, |d| d.0);
        let inn = c
            .and_then(|c| c.scale_in_cooldown)
            .map_or(IN_COOLDOWN, |d| d.0);
        out.max(inn)
    }
    fn simulate(&self, ctx: &RunContext, spec: &LayoutSpec) -> crate::Result<LayoutRun> {
        simulate(ctx, spec)
    }
}

fn assumptions(spec: &LayoutSpec) -> Vec<Assumption> {
    let p = |n: &str| format!("layouts.{}.containers.{n}", spec.name);
    let c = spec
        .containers
        .as_ref()
        .map(|c| c.get_ref().clone())
        .unwrap_or_default();
    let from = |set: bool, note: &str| {
        if set {
            "set in the scenario".to_string()
        } else {
            note.to_string()
        }
    };
    let base = c
        .service
        .as_ref()
        .map(|s| s.get_ref().clone())
        .unwrap_or_default();
    let mut v = vec![
        Assumption::new(
            &p("launch"),
            match c.launch {
                Launch::Fargate => "fargate",
                Launch::Ec2 => "ec2",
            },
            "where each stage's tasks run: a design choice; on EC2 one task per instance, no bin-packing of services (U)",
        ),
        Assumption::new(
            &p("service.task_size"),
            match c.launch {
                Launch::Fargate => format!(
                    "{} vCPU / {} GB",
                    base.task_vcpu.unwrap_or(FARGATE_VCPU),
                    base.task_memory_gb.unwrap_or(FARGATE_GB)
                ),
                Launch::Ec2 => base.instance_type.clone().unwrap_or_else(|| EC2_TYPE.into()),
            },
            &from(
                c.service.is_some(),
                "a small task per service, the usual microservice size (U); per stage in `stages`",
            ),
        ),
        Assumption::new(
            &p("service.target_messages_per_task"),
            base.target_messages_per_task
                .map_or("0.7 per vCPU".to_string(), |t| t.to_string()),
            "target tracking on SQS backlog per task (ApproximateNumberOfMessagesVisible + NotVisible, one-minute mean; for the first stage its jobs waiting and in hand): 0.7 messages in hand per consumer keeps about 70% of them busy, as the instance layouts' 70% CPU target (U)",
        ),
        Assumption::new(
            &p("service.initial_tasks"),
            base.initial_tasks.unwrap_or(0),
            "0: sized for the load at time 0 at 70% CPU, as the instance layouts' initial = 0 (U)",
        ),
        Assumption::new(
            &p("scale_out_cooldown"),
            c.scale_out_cooldown.unwrap_or(Dur(OUT_COOLDOWN)),
            "time between scale-outs (U; Application Auto Scaling lets each be set)",
        ),
        Assumption::new(
            &p("scale_in_cooldown"),
            c.scale_in_cooldown.unwrap_or(Dur(IN_COOLDOWN)),
            "time between scale-ins (AWS default 300 s, U)",
        ),
        Assumption::new(
            &p("launch_delay"),
            c.launch_delay.unwrap_or(match c.launch {
                Launch::Fargate => FargateConfig::default().launch_delay,
                Launch::Ec2 => crate::cloud::Ec2Config::default().launch_delay,
            }),
            "task start request to serving, billed from the request (Fargate about a minute, an ECS instance 1-3 min: reference/aws.md §4, U)",
        ),
        Assumption::new(
            &p("consumers"),
            "one per vCPU",
            "each vCPU of a task runs one single-threaded consumer loop: receive, work, hand on, delete (U)",
        ),
        Assumption::new(
            &p("ingest"),
            "in-process",
            "stages that read the source take a stream's chunks directly (no queue in front), as the monolith's converter reads its streams (U)",
        ),
        Assumption::new(
            &p("hand_off"),
            "one message per chunk per reader",
            "a message carries the chunk's items; over 256 KiB the producer PUTs the body to S3 once and each reader's queue gets a pointer, which the reader GETs (extended-client pattern; the library would PUT once per send) (U)",
        ),
        Assumption::new(
            &p("billing"),
            "until the period ends",
            "tasks are billed to the end of the period, later only while busy with work captured in it; the autoscaler decides nothing after the period (U)",
        ),
    ];
    if c.launch == Launch::Ec2 {
        let instance = base
            .instance_type
            .clone()
            .unwrap_or_else(|| EC2_TYPE.into());
        v.push(super::monolith::reserve_assumption(
            &p("reserve_vcpu"),
            c.reserve_vcpu,
            &instance,
        ));
    }
    let sqs = c.sqs.unwrap_or_default();
    for a in sqs.assumptions() {
        v.push(Assumption::new(&p(&a.name), a.value, &a.note));
    }
    v.push(Assumption::new(
        &p("sqs.empty_receives"),
        "billed",
        "a long poll that ends with no message is one billed request; consumers poll all day, idle or not (SQS pricing, reference/aws.md §6)",
    ));
    v.extend(super::common::s3_assumptions(spec));
    v
}

// ---------------------------------------------------------------------------------
// The simulation.

/// A chunk of a stream: `(stream << 32) | chunk`; a request: its number.
type JobKey = u64;

fn job_key(stream: u32, chunk: u64) -> JobKey {
    ((stream as u64) << 32) | chunk
}

/// A job on its way through the stages.
struct Job {
    stream: u32,
    chunk: u64,
    /// When the job entered (a chunk: when it was ready; a request: its arrival).
    entered: Time,
    /// Bytes of one JPEG frame of this chunk (drawn once, as the serverless layouts do).
    frame_bytes: u64,
    /// Inputs arrived, per stage.
    arrived: Vec<u16>,
    /// Per stage, the longest the job waited in line (for a consumer, in queues) on
    /// any path to the stage and in its own queue: what an overload deadline `per =
    /// "item"` bounds.
    waited: Vec<Time>,
    /// Stages counted as the analysis (the detectors) still to finish it.
    middle_left: u32,
    /// Sink stages still to finish it.
    sinks_left: u32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum WorkerState {
    /// Its task is launching.
    Starting,
    /// A source stage's consumer with nothing to do.
    Idle,
    /// In a long poll that ends at the given time unless a message comes first.
    Polling(PollerId, Time),
    Busy,
    Stopped,
}

/// One consumer (one vCPU of a task).
struct Worker {
    task: u32,
    state: WorkerState,
    /// The messages of its current receive.
    batch: Vec<Delivery>,
    /// Jobs it finished in its current batch, to hand on.
    outputs: Vec<JobKey>,
}

struct Task {
    launched: Time,
    draining: bool,
    stopped: Option<Time>,
    /// When its last work ended.
    busy_until: Time,
    first_worker: u32,
    workers_live: u32,
}

/// One stage's ECS service.
struct Service {
    stage: usize,
    plan: Plan,
    tasks: Vec<Task>,
    workers: Vec<Worker>,
    /// The SQS queue it reads (none for a stage that reads the source).
    queue: Option<SqsQueue>,
    /// Jobs waiting for a consumer of a source stage.
    ingest: VecDeque<JobKey>,
    idle: Vec<u32>,
    busy: u32,
    pollers: BTreeMap<PollerId, u32>,
    /// Long polls' deadlines: (when, consumer, poller). One timer event per service
    /// stands for all of them, so polls a message ends early leave nothing behind in
    /// the event queue.
    deadlines: BTreeSet<(Time, u32, PollerId)>,
    /// When the service's timer event fires.
    timer_at: Option<Time>,
    /// What each message in the queue carries: the job, the stage that sent it and
    /// when (a consumer discards one older than the overload deadline).
    messages: BTreeMap<MsgId, (JobKey, usize, Time)>,
    /// Messages in the queue (or jobs waiting and in progress), time-weighted over
    /// the autoscaler's window.
    backlog: TimeWeighted,
    last_out: Option<Time>,
    last_in: Option<Time>,
    /// Tasks launched, not draining, not stopped.
    live: u32,
    /// Whether the vCPU quota held it below the tasks it wanted at its last scale-out
    /// (or at time 0): the waits of its messages then count against the quota.
    capped: bool,
}

impl Service {
    fn backlog_now(&self) -> f64 {
        match &self.queue {
            Some(q) => q.depth() as f64,
            None => (self.ingest.len() + self.busy as usize) as f64,
        }
    }

    fn note_backlog(&mut self, now: Time) {
        let v = self.backlog_now();
        self.backlog.set(now, v);
    }

    /// Launches a task at `now` that serves from `ready`; returns its index.
    fn launch(&mut self, now: Time) -> u32 {
        let id = self.tasks.len() as u32;
        self.tasks.push(Task {
            launched: now,
            draining: false,
            stopped: None,
            busy_until: now,
            first_worker: self.workers.len() as u32,
            workers_live: self.plan.vcpu,
        });
        for _ in 0..self.plan.vcpu {
            self.workers.push(Worker {
                task: id,
                state: WorkerState::Starting,
                batch: Vec::new(),
                outputs: Vec::new(),
            });
        }
        self.live += 1;
        id
    }

    /// Tasks running now (draining ones included).
    fn running(&self) -> u32 {
        self.tasks.iter().filter(|t| t.stopped.is_none()).count() as u32
    }

    /// Billed seconds of every task, by `rule`, if the period ends at `end`.
    fn billed_seconds(&self, end: Time, rule: impl Fn(Time) -> u64) -> u64 {
        self.tasks
            .iter()
            .map(|t| {
                let stop = t.stopped.unwrap_or(Time::MAX).min(end.max(t.busy_until));
                rule(stop.saturating_sub(t.launched))
            })
            .sum()
    }
}

#[derive(Debug, Clone, Copy)]
enum Ev {
    ChunkReady {
        stream: u32,
        chunk: u64,
    },
    /// Request `index` arrives.
    Request {
        index: u64,
    },
    Ready {
        svc: u32,
        task: u32,
    },
    Receive {
        svc: u32,
        worker: u32,
    },
    /// The earliest long-poll deadline of a service.
    PollTimer {
        svc: u32,
    },
    /// A receive's messages reach the consumer.
    Got {
        svc: u32,
        worker: u32,
    },
    /// The consumer has done its batch (or a source job).
    Done {
        svc: u32,
        worker: u32,
    },
    Autoscale,
    Tick,
}

struct Sim<'a> {
    /// The layout's name.
    name: String,
    ctx: &'a RunContext<'a>,
    wl: Workload,
    settings: Settings,
    q: EventQueue<Ev>,
    services: Vec<Service>,
    jobs: BTreeMap<JobKey, Job>,
    readers: Vec<Vec<usize>>,
    is_sink: Vec<bool>,
    /// Stages counted as the analysis: between the first and the last (the last if
    /// there is nothing in between).
    middle: Range<usize>,
    s3: S3Bucket,
    prefixes: Vec<Option<PrefixId>>,
    retry: RetryPolicy,
    max_message_bytes: u64,
    rng_work: Rng64,
    rng_sqs: Rng64,
    rng_s3: Rng64,
    ledger: CpuLedger,
    real: Option<RealDetectors<'a>>,
    latency: Histogram,
    notify_latency: Histogram,
    frames_by_stage: BTreeMap<String, u64>,
    frames_captured: u64,
    /// Frames whose analysis finished after the period.
    frames_late: u64,
    /// Frames of jobs dropped by the overload policy before their analysis ended.
    frames_dropped: u64,
    /// What is done with work that waits too long.
    overload: OverloadPolicy,
    jobs_captured: u64,
    /// Sources whose next job is still to come: streams, and the request arrivals.
    streams_running: u32,
    /// The request arrivals still to come (a request source).
    requests: Option<ArrivalStream<'a>>,
    s3_throttles: u64,
    s3_retries: u64,
    last_end: Time,
    autoscale_every: Time,
    /// Most tasks running at once, over every service.
    peak_tasks: u32,
    /// The account quota every service's vCPUs count against, and its limit (`None`:
    /// lifted).
    quota_gate: Gate,
    quota: Option<u64>,
    /// The quota cannot hold one task of every service: nothing runs, every job is
    /// dropped as it enters.
    blocked: bool,
    gate_waits: GateWaits,
}

fn simulate(ctx: &RunContext, spec: &LayoutSpec) -> crate::Result<LayoutRun> {
    let r = ctx.resolved;
    let input = |m: String| {
        crate::Error::Input(crate::InputError::new(
            &r.file,
            format!("layout `{}`: {m}", spec.name),
        ))
    };
    let settings = settings(spec, &r.pipeline, &r.catalog).map_err(|(_, m)| input(m))?;
    let wl = Workload::new(ctx)?;
    let pipeline = &r.pipeline;
    let n = pipeline.stages.len();
    let readers: Vec<Vec<usize>> = (0..n).map(|i| pipeline.readers(i).collect()).collect();
    let middle = pipeline.counted_stages();
    let mut services = Vec::with_capacity(n);
    for (i, st) in pipeline.stages.iter().enumerate() {
        let queue = if st.after.is_empty() {
            None
        } else {
            let cfg = SqsConfig {
                name: format!("{}-{}", spec.name, st.name),
                ..settings.sqs.clone()
            };
            Some(SqsQueue::new(&r.catalog, cfg).map_err(input)?)
        };
        services.push(Service {
            stage: i,
            plan: settings.plans[i].clone(),
            tasks: Vec::new(),
            workers: Vec::new(),
            queue,
            ingest: VecDeque::new(),
            idle: Vec::new(),
            busy: 0,
            pollers: BTreeMap::new(),
            deadlines: BTreeSet::new(),
            timer_at: None,
            messages: BTreeMap::new(),
            backlog: TimeWeighted::new(0),
            last_out: None,
            last_in: None,
            live: 0,
            capped: false,
        });
    }
    let s3_cfg = S3Config {
        name: format!("{}-payloads", spec.name),
        ..spec
            .s3
            .as_ref()
            .map(|s| s.get_ref().clone())
            .unwrap_or_default()
    };
    let quota_gate = match settings.launch {
        Launch::Fargate => Gate::FargateVcpuQuota,
        Launch::Ec2 => Gate::Ec2VcpuQuota,
    };
    let sim = Sim {
        name: spec.name.clone(),
        peak_tasks: 0,
        quota_gate,
        quota: ctx.quota(quota_gate),
        blocked: false,
        gate_waits: GateWaits::default(),
        ctx,
        settings,
        q: EventQueue::new(),
        jobs: BTreeMap::new(),
        is_sink: (0..n).map(|i| readers[i].is_empty()).collect(),
        readers,
        middle: middle.clone(),
        s3: S3Bucket::new(&r.catalog, s3_cfg).map_err(input)?,
        // A request source writes under one prefix, as stream 0.
        prefixes: vec![None; wl.max_streams().max(u32::from(wl.arrivals.is_some())) as usize],
        retry: spec
            .retry
            .as_ref()
            .map(|p| *p.get_ref())
            .unwrap_or_default(),
        max_message_bytes: r.catalog.sqs.max_message_bytes.value,
        rng_work: rng_stream(r.scenario.seed, &spec.name, 1),
        rng_sqs: rng_stream(r.scenario.seed, &spec.name, 2),
        rng_s3: rng_stream(r.scenario.seed, &spec.name, 3),
        ledger: CpuLedger::default(),
        real: ctx
            .real
            .map(|s| RealDetectors::new(s, wl.max_streams(), &r.detectors, wl.frames_per_chunk)),
        latency: Histogram::new(),
        notify_latency: Histogram::new(),
        frames_by_stage: pipeline.stages[middle]
            .iter()
            .map(|st| (st.name.clone(), 0))
            .collect(),
        frames_captured: 0,
        frames_late: 0,
        frames_dropped: 0,
        overload: ctx.overload(spec),
        jobs_captured: 0,
        streams_running: wl.max_streams(),
        requests: r
            .arrivals
            .as_ref()
            .map(|a| a.stream(r.scenario.seed, wl.duration)),
        s3_throttles: 0,
        s3_retries: 0,
        last_end: 0,
        autoscale_every: spec
            .autoscale_every
            .as_ref()
            .map_or(60 * NS_PER_SEC, |d| d.get_ref().0.max(NS_PER_SEC)),
        services,
        wl,
    };
    sim.run()
}

impl<'a> Sim<'a> {
    fn run(mut self) -> crate::Result<LayoutRun> {
        let duration = self.wl.duration;
        if let Some(t) = self.requests.as_mut().and_then(|a| a.next()) {
            self.streams_running += 1;
            self.q.push(t, Ev::Request { index: 0 });
        }
        for s in 0..self.wl.max_streams() {
            self.q.push(
                self.wl.chunk_ready(s, 0),
                Ev::ChunkReady {
                    stream: s,
                    chunk: 0,
                },
            );
        }
        let wanted: Vec<u32> = (0..self.services.len())
            .map(|svc| match self.services[svc].plan.initial {
                0 => self.sized_for_time_zero(svc),
                n => n,
            })
            .collect();
        let allowed = allot(&wanted, &self.vcpus(), self.quota);
        // A pipeline missing a stage serves nothing: launch nothing then.
        self.blocked = allowed.contains(&0);
        for svc in 0..self.services.len() {
            self.services[svc].capped = allowed[svc] < wanted[svc];
            let initial = if self.blocked { 0 } else { allowed[svc] };
            for _ in 0..initial {
                let task = self.services[svc].launch(0);
                self.q.push(
                    0,
                    Ev::Ready {
                        svc: svc as u32,
                        task,
                    },
                );
            }
        }
        self.note_peak();
        let mut timeline = Timeline::new(duration);
        self.q.push(timeline.every, Ev::Tick);
        if self.autoscale_every <= duration {
            self.q.push(self.autoscale_every, Ev::Autoscale);
        }
        let mut progress = Progress::new(self.ctx.progress, duration);
        while let Some((now, ev)) = self.q.pop() {
            progress.at(now);
            match ev {
                Ev::ChunkReady { stream, chunk } => self.chunk_ready(now, stream, chunk),
                Ev::Request { index } => self.request(now, index),
                Ev::Ready { svc, task } => self.ready(now, svc as usize, task),
                Ev::Receive { svc, worker } => self.receive(now, svc as usize, worker),
                Ev::PollTimer { svc } => self.poll_timer(now, svc as usize),
                Ev::Got { svc, worker } => self.got(now, svc as usize, worker),
                Ev::Done { svc, worker } => self.done(now, svc as usize, worker),
                Ev::Autoscale => {
                    self.autoscale(now);
                    self.note_peak();
                    if now + self.autoscale_every <= duration {
                        self.q.push(now + self.autoscale_every, Ev::Autoscale);
                    }
                }
                Ev::Tick => {
                    let active = if now <= duration {
                        self.wl.active(self.ctx.resolved, now)
                    } else {
                        0
                    };
                    let running = self.services.iter().map(Service::running).sum();
                    timeline.sample(now, active, 0, self.s3_throttles, running);
                    if now < duration || self.work_left() {
                        self.q.push(now + timeline.every, Ev::Tick);
                    }
                }
            }
        }
        Ok(self.finish(timeline))
    }

    fn note_peak(&mut self) {
        let running: u32 = self.services.iter().map(Service::running).sum();
        self.peak_tasks = self.peak_tasks.max(running);
    }

    /// vCPUs of one task of each service.
    fn vcpus(&self) -> Vec<u32> {
        self.services.iter().map(|s| s.plan.vcpu).collect()
    }

    /// vCPUs of the tasks running now (launching and draining ones included): what
    /// counts against the quota.
    fn vcpus_running(&self) -> u64 {
        self.services
            .iter()
            .map(|s| s.running() as u64 * s.plan.vcpu as u64)
            .sum()
    }

    /// Counts a wait of `held` ns of service `svc`'s work against the vCPU quota when
    /// the quota held the service back (at most the overload deadline).
    fn note_quota_wait(&mut self, svc: usize, held: Time) {
        if self.services[svc].capped && held > 0 {
            let wait = self.overload.deadline().map_or(held, |d| held.min(d));
            self.gate_waits.add(self.quota_gate, wait);
        }
    }

    /// Whether any captured job (or a chunk still to come) is unfinished.
    fn work_left(&self) -> bool {
        !self.jobs.is_empty() || self.streams_running > 0
    }

    fn stage_items(&self) -> f64 {
        self.wl.frames_per_chunk as f64
    }

    /// Tasks for the jobs arriving at time 0 at [`SIZING_CPU`], within min..max: a
    /// job keeps a consumer for its CPU work and for the calls it waits on (a receive
    /// and a delete per message, S3 transfers of bodies over the SQS limit).
    fn sized_for_time_zero(&self, svc: usize) -> u32 {
        let r = self.ctx.resolved;
        let w = &r.scenario.workload;
        let cost = self.ctx.cost;
        let jobs_per_s = match &r.arrivals {
            Some(a) => a.rate_at(0, self.ctx.duration()),
            None => {
                let streams = self
                    .ctx
                    .streams_override
                    .unwrap_or_else(|| w.active_streams(0, self.ctx.duration()));
                streams as f64 / w.chunk_seconds.get_ref().0
            }
        };
        let st = &r.pipeline.stages[svc];
        let items = self.stage_items();
        let call = self.settings.sqs.latency.mean();
        // CPU work takes longer on the share of a vCPU the reserve leaves.
        let share = self.services[svc].plan.share;
        let s3_mean = |stage: usize, input: Input| {
            let bytes = self.mean_payload(stage, input);
            if bytes > self.max_message_bytes as f64 {
                self.s3.config().first_byte.mean() + self.s3.transfer_ns(bytes as u64) as f64
            } else {
                0.0
            }
        };
        let inputs: f64 = st
            .after
            .iter()
            .map(|&i| {
                let decode = if st.input.video() {
                    items * mean_work_ns(cost, &r.pipeline.stages[i].deserialize) / share
                } else {
                    0.0
                };
                decode + 2.0 * call + s3_mean(i, st.input)
            })
            .sum();
        let work = match st.per {
            Per::Item => items * mean_work_ns(cost, &st.work),
            Per::Batch => mean_work_ns(cost, &st.work),
        } / share;
        let output = if self.readers[svc].is_empty() {
            0.0
        } else {
            items * mean_work_ns(cost, &st.serialize) / share
                + self
                    .reader_inputs(svc)
                    .into_iter()
                    .map(|k| s3_mean(svc, k))
                    .sum::<f64>()
        };
        let busy = jobs_per_s * (inputs + work + output) / NS_PER_SEC as f64;
        let plan = &self.services[svc].plan;
        ((busy / (plan.vcpu as f64 * SIZING_CPU)).ceil() as u32).clamp(plan.min, plan.max)
    }

    /// Mean bytes stage `stage` hands on per job to a reader taking `input`.
    fn mean_payload(&self, stage: usize, input: Input) -> f64 {
        let st = &self.ctx.resolved.pipeline.stages[stage];
        let per_item = match st.output {
            OutputBytes::Fixed(b) => b as f64,
            OutputBytes::JpegFrame => self.ctx.cost.mean_jpeg_bytes(),
        };
        let items = if input.video() {
            per_item * self.stage_items()
        } else {
            0.0
        };
        items
            + if input.audio() {
                st.audio_bytes as f64
            } else {
                0.0
            }
    }

    /// The different inputs stage `stage`'s readers take (each a different message
    /// body), in a fixed order.
    fn reader_inputs(&self, stage: usize) -> Vec<Input> {
        let stages = &self.ctx.resolved.pipeline.stages;
        [Input::Video, Input::Audio, Input::Av]
            .into_iter()
            .filter(|k| self.readers[stage].iter().any(|&j| stages[j].input == *k))
            .collect()
    }

    fn chunk_ready(&mut self, now: Time, stream: u32, chunk: u64) {
        let r = self.ctx.resolved;
        let capture_start = self.wl.capture(stream, chunk, 0);
        if capture_start >= self.wl.duration {
            self.streams_running -= 1;
            return;
        }
        self.q.push(
            self.wl.chunk_ready(stream, chunk + 1),
            Ev::ChunkReady {
                stream,
                chunk: chunk + 1,
            },
        );
        if stream >= self.wl.active(r, capture_start) {
            return; // off the air
        }
        self.enter(now, stream, chunk);
    }

    /// Request `index` arrives (the next arrival queued): a job of one item.
    fn request(&mut self, now: Time, index: u64) {
        match self.requests.as_mut().and_then(|a| a.next()) {
            Some(t) => self.q.push(t, Ev::Request { index: index + 1 }),
            None => self.streams_running -= 1,
        }
        self.enter(now, 0, index);
    }

    /// Job `chunk` of `stream` enters at `now`: the stages that read the source
    /// take it.
    fn enter(&mut self, now: Time, stream: u32, chunk: u64) {
        let r = self.ctx.resolved;
        self.frames_captured += self.wl.frames_per_chunk as u64;
        self.jobs_captured += 1;
        let n = r.pipeline.stages.len();
        let key = job_key(stream, chunk);
        self.jobs.insert(
            key,
            Job {
                stream,
                chunk,
                entered: now,
                frame_bytes: self.ctx.cost.jpeg_bytes(self.rng_work.random::<f64>()),
                arrived: vec![0; n],
                waited: vec![0; n],
                middle_left: self.middle.len() as u32,
                sinks_left: self.is_sink.iter().filter(|s| **s).count() as u32,
            },
        );
        if self.blocked {
            // No task of some stage can run: the job can never start.
            let held = self.overload.deadline().unwrap_or(self.wl.duration);
            self.gate_waits.add(self.quota_gate, held.max(1));
            self.drop_job(key);
            return;
        }
        for svc in 0..n {
            if r.pipeline.stages[svc].after.is_empty() {
                self.services[svc].ingest.push_back(key);
                self.dispatch(now, svc);
            }
        }
    }

    /// A source stage's idle consumers take waiting jobs.
    fn dispatch(&mut self, now: Time, svc: usize) {
        while !self.services[svc].ingest.is_empty() {
            let Some(w) = self.services[svc].idle.pop() else {
                break;
            };
            let key = self.services[svc].ingest.pop_front().expect("not empty");
            let ready = self.jobs.get(&key).map(|j| j.entered); // a chunk's end of capture, or a request's arrival
            if let Some(at) = ready {
                self.note_quota_wait(svc, now - at);
            }
            if ready.is_none_or(|at| !self.overload.may_start(at, now)) {
                self.services[svc].idle.push(w);
                self.drop_job(key);
                continue;
            }
            if let (Some(job), Some(at)) = (self.jobs.get_mut(&key), ready) {
                job.waited[svc] = now - at;
            }
            let s = &mut self.services[svc];
            s.workers[w as usize].state = WorkerState::Busy;
            s.busy += 1;
            let (end, finished) = self.process(svc, key, None, now);
            debug_assert!(finished, "a source stage's job needs no other input");
            self.finished(svc, key, end);
            let s = &mut self.services[svc];
            s.workers[w as usize].outputs.push(key);
            s.note_backlog(now);
            self.q.push(
                end,
                Ev::Done {
                    svc: svc as u32,
                    worker: w,
                },
            );
        }
        self.services[svc].note_backlog(now);
    }

    /// A task's consumers start serving.
    fn ready(&mut self, now: Time, svc: usize, task: u32) {
        let t = &self.services[svc].tasks[task as usize];
        let (first, draining) = (t.first_worker, t.draining);
        for w in first..first + self.services[svc].plan.vcpu {
            if draining {
                self.stop_worker(now, svc, w);
            } else if self.services[svc].queue.is_some() {
                self.receive(now, svc, w);
            } else {
                self.services[svc].workers[w as usize].state = WorkerState::Idle;
                self.services[svc].idle.push(w);
            }
        }
        if self.services[svc].queue.is_none() {
            self.dispatch(now, svc);
        }
    }

    /// Whether consumer `w` goes on after its batch or poll: not if its task is
    /// scaled in, nor once the period is over and no work is left for it.
    fn goes_on(&self, now: Time, svc: usize, w: u32) -> bool {
        let s = &self.services[svc];
        let task = &s.tasks[s.workers[w as usize].task as usize];
        if task.draining {
            return false;
        }
        if now < self.wl.duration {
            return true;
        }
        match s.queue {
            Some(_) => self.work_left(),
            None => !s.ingest.is_empty() || self.streams_running > 0,
        }
    }

    fn stop_worker(&mut self, now: Time, svc: usize, w: u32) {
        let s = &mut self.services[svc];
        let worker = &mut s.workers[w as usize];
        if worker.state == WorkerState::Stopped {
            return;
        }
        worker.state = WorkerState::Stopped;
        let task = &mut s.tasks[worker.task as usize];
        task.workers_live -= 1;
        if task.workers_live == 0 {
            task.stopped = Some(now);
            if !task.draining {
                s.live -= 1;
            }
        }
    }

    fn receive(&mut self, now: Time, svc: usize, w: u32) {
        let s = &mut self.services[svc];
        let queue = s.queue.as_mut().expect("a queue consumer");
        match queue.receive(now, &mut self.rng_sqs) {
            Receive::Messages(d) => {
                deliver(s, &mut self.q, svc, w, d);
            }
            Receive::Waiting { poller, deadline } => self.wait(svc, w, poller, deadline),
        }
    }

    /// Consumer `w` waits in a long poll until `deadline`.
    fn wait(&mut self, svc: usize, w: u32, poller: PollerId, deadline: Time) {
        let s = &mut self.services[svc];
        s.workers[w as usize].state = WorkerState::Polling(poller, deadline);
        s.pollers.insert(poller, w);
        s.deadlines.insert((deadline, w, poller));
        if s.timer_at.is_none_or(|t| deadline < t) {
            s.timer_at = Some(deadline);
            self.q.push(deadline, Ev::PollTimer { svc: svc as u32 });
        }
    }

    /// The long polls whose deadline has come end (or wait on).
    fn poll_timer(&mut self, now: Time, svc: usize) {
        if self.services[svc].timer_at != Some(now) {
            return; // superseded by an earlier timer
        }
        self.services[svc].timer_at = None;
        while let Some(&(t, w, poller)) = self.services[svc].deadlines.first() {
            if t > now {
                break;
            }
            self.services[svc].deadlines.pop_first();
            self.poll_end(now, svc, w, poller);
        }
        let s = &mut self.services[svc];
        if let Some(&(t, ..)) = s.deadlines.first() {
            if s.timer_at.is_none_or(|at| t < at) {
                s.timer_at = Some(t);
                self.q.push(t, Ev::PollTimer { svc: svc as u32 });
            }
        }
    }

    fn poll_end(&mut self, now: Time, svc: usize, w: u32, poller: PollerId) {
        let s = &mut self.services[svc];
        if !matches!(s.workers[w as usize].state, WorkerState::Polling(p, _) if p == poller) {
            return; // a send woke it first
        }
        let queue = s.queue.as_mut().expect("a queue consumer");
        match queue.poll_deadline(now, poller, &mut self.rng_sqs) {
            PollEnd::Empty { at, .. } => {
                s.pollers.remove(&poller);
                s.workers[w as usize].state = WorkerState::Idle;
                if self.goes_on(at, svc, w) {
                    self.q.push(
                        at,
                        Ev::Receive {
                            svc: svc as u32,
                            worker: w,
                        },
                    );
                } else {
                    self.stop_worker(at, svc, w);
                }
            }
            PollEnd::Messages(d) => {
                s.pollers.remove(&poller);
                deliver(s, &mut self.q, svc, w, d);
            }
            PollEnd::Waiting { deadline } => self.wait(svc, w, poller, deadline),
            PollEnd::Served => {
                s.pollers.remove(&poller);
            }
        }
    }

    /// The consumer works through the messages it received, one after another.
    fn got(&mut self, now: Time, svc: usize, w: u32) {
        let batch = std::mem::take(&mut self.services[svc].workers[w as usize].batch);
        let mut t = now;
        let mut outputs = Vec::new();
        for d in &batch {
            // A message seen before (delivered again after its visibility timeout)
            // is only deleted.
            let Some((key, from, sent)) = self.services[svc].messages.remove(&d.message) else {
                continue;
            };
            self.note_quota_wait(svc, t.saturating_sub(sent));
            // A message older than the deadline (per item: with the job's waits on
            // the path to it) is discarded unread (its receive and delete are
            // billed); the job it belongs to is dropped.
            let before = self.jobs.get(&key).map_or(0, |j| j.waited[from]);
            if !self.overload.may_start_after(before, sent, t) {
                self.drop_job(key);
                continue;
            }
            if let Some(job) = self.jobs.get_mut(&key) {
                let path = before + t.saturating_sub(sent);
                job.waited[svc] = job.waited[svc].max(path);
            }
            let (end, finished) = self.process(svc, key, Some((from, d.s3_get_bytes)), t);
            t = end;
            if finished {
                self.finished(svc, key, t);
                outputs.push(key);
            }
        }
        let worker = &mut self.services[svc].workers[w as usize];
        worker.batch = batch;
        worker.outputs = outputs;
        self.q.push(
            t,
            Ev::Done {
                svc: svc as u32,
                worker: w,
            },
        );
    }

    /// The consumer hands on what it finished, deletes its batch and goes on.
    fn done(&mut self, now: Time, svc: usize, w: u32) {
        self.last_end = self.last_end.max(now);
        let outputs = std::mem::take(&mut self.services[svc].workers[w as usize].outputs);
        for key in outputs {
            self.hand_on(now, svc, key);
        }
        let s = &mut self.services[svc];
        let task = s.workers[w as usize].task as usize;
        s.tasks[task].busy_until = s.tasks[task].busy_until.max(now);
        let next = match s.queue.as_mut() {
            Some(queue) => {
                let batch = std::mem::take(&mut s.workers[w as usize].batch);
                let (at, _) = queue.delete(now, &batch, &mut self.rng_sqs);
                at
            }
            None => {
                s.busy -= 1;
                now
            }
        };
        s.note_backlog(now);
        if !self.goes_on(next, svc, w) {
            self.stop_worker(next, svc, w);
            return;
        }
        let s = &mut self.services[svc];
        if s.queue.is_some() {
            s.workers[w as usize].state = WorkerState::Busy;
            self.q.push(
                next,
                Ev::Receive {
                    svc: svc as u32,
                    worker: w,
                },
            );
        } else {
            s.workers[w as usize].state = WorkerState::Idle;
            s.idle.push(w);
            self.dispatch(now, svc);
        }
    }

    /// Bytes stage `stage` hands on for `job` to a reader taking `input`: its items ×
    /// its output per item, its audio buffer, or both.
    fn payload(&self, stage: usize, input: Input, job: &Job) -> u64 {
        let st = &self.ctx.resolved.pipeline.stages[stage];
        let per_item = match st.output {
            OutputBytes::Fixed(b) => b,
            OutputBytes::JpegFrame => job.frame_bytes,
        };
        let items = if input.video() {
            per_item.saturating_mul(self.wl.frames_per_chunk as u64)
        } else {
            0
        };
        items.saturating_add(if input.audio() { st.audio_bytes } else { 0 })
    }

    /// One message of `job` to each reader's queue; a waiting long poll takes it.
    fn hand_on(&mut self, now: Time, stage: usize, key: JobKey) {
        let Some(job) = self.jobs.get(&key) else {
            return;
        };
        for i in 0..self.readers[stage].len() {
            let reader = self.readers[stage][i];
            let input = self.ctx.resolved.pipeline.stages[reader].input;
            let bytes = self.payload(stage, input, job);
            let s = &mut self.services[reader];
            let queue = s.queue.as_mut().expect("a reader has a queue");
            let sent = queue.send(now, bytes, &mut self.rng_sqs);
            debug_assert_eq!(sent.s3_put_bytes.is_some(), bytes > self.max_message_bytes);
            s.messages.insert(sent.message, (key, stage, now));
            if let Some((poller, delivered)) = sent.woke {
                if let Some(w) = s.pollers.remove(&poller) {
                    if let WorkerState::Polling(p, deadline) = s.workers[w as usize].state {
                        s.deadlines.remove(&(deadline, w, p));
                    }
                    deliver(s, &mut self.q, reader, w, delivered);
                }
            }
            s.note_backlog(now);
        }
    }

    /// Stage `svc`'s work on `job` from `t`, for a message from `from` (with the bytes
    /// to GET if it came through S3) or a job from the source: returns when it is done
    /// and whether the job is now finished at this stage (its last input arrived).
    fn process(
        &mut self,
        svc: usize,
        key: JobKey,
        from: Option<(usize, Option<u64>)>,
        mut t: Time,
    ) -> (Time, bool) {
        let pipeline = &self.ctx.resolved.pipeline;
        let cost = self.ctx.cost;
        let st = &pipeline.stages[svc];
        let items = self.stage_items();
        let Some(job) = self.jobs.get_mut(&key) else {
            return (t, false);
        };
        let stream = job.stream;
        // CPU work on the share of a vCPU the agent and OS reserve leaves.
        let share = self.services[svc].plan.share;
        let cpu = |ns: Time| crate::cloud::lambda::cpu_time(ns, share);
        if let Some((input, s3_bytes)) = from {
            if let Some(bytes) = s3_bytes {
                t = self.s3_call(S3Op::Get, t, stream, bytes);
            }
            let job = self.jobs.get_mut(&key).expect("looked up above");
            if st.input.video() {
                t = t.saturating_add(cpu(work_ns(
                    cost,
                    &pipeline.stages[input].deserialize,
                    items,
                    &mut self.rng_work,
                    &mut self.ledger,
                )));
            }
            job.arrived[svc] += 1;
            if (job.arrived[svc] as usize) < st.after.len() {
                return (t, false);
            }
        }
        let n = match st.per {
            Per::Item => items,
            Per::Batch => 1.0,
        };
        t = t.saturating_add(cpu(work_ns(
            cost,
            &st.work,
            n,
            &mut self.rng_work,
            &mut self.ledger,
        )));
        let inputs = self.reader_inputs(svc);
        if !inputs.is_empty() {
            if inputs.iter().any(|k| k.video()) {
                t = t.saturating_add(cpu(work_ns(
                    cost,
                    &st.serialize,
                    items,
                    &mut self.rng_work,
                    &mut self.ledger,
                )));
            }
            // The extended client PUTs each different body over the limit once.
            for input in inputs {
                let bytes = self.payload(svc, input, &self.jobs[&key]);
                if bytes > self.max_message_bytes {
                    t = self.s3_call(S3Op::Put, t, stream, bytes);
                }
            }
        }
        (t, true)
    }

    /// The overload policy drops `key`: its frames are counted dropped unless their
    /// analysis already ended; its other messages find no job and are only deleted.
    fn drop_job(&mut self, key: JobKey) {
        let Some(job) = self.jobs.remove(&key) else {
            return;
        };
        if job.middle_left > 0 {
            self.frames_dropped += self.wl.frames_per_chunk as u64;
            if let Some(rd) = self.real.as_mut() {
                rd.chunk_skipped(job.stream, job.chunk);
            }
        }
    }

    /// Stage `svc` finished `job` at `t`: the analysis and the job's end are counted.
    fn finished(&mut self, svc: usize, key: JobKey, t: Time) {
        self.last_end = self.last_end.max(t);
        let items = self.wl.frames_per_chunk;
        let Some(job) = self.jobs.get_mut(&key) else {
            return;
        };
        let (stream, chunk, entered) = (job.stream, job.chunk, job.entered);
        if self.middle.contains(&svc) {
            let name = &self.ctx.resolved.pipeline.stages[svc].name;
            *self.frames_by_stage.get_mut(name).expect("a middle stage") += items as u64;
            job.middle_left -= 1;
            if job.middle_left == 0 {
                for i in 0..items {
                    self.latency
                        .record(t - self.wl.item_capture(stream, chunk, i, entered));
                }
                if t > self.wl.duration {
                    self.frames_late += items as u64;
                }
                if let Some(rd) = self.real.as_mut() {
                    rd.chunk_done(stream, chunk);
                }
            }
        }
        let job = self.jobs.get_mut(&key).expect("present");
        if self.is_sink[svc] {
            job.sinks_left -= 1;
            if job.sinks_left == 0 {
                self.jobs.remove(&key);
                for i in 0..items {
                    let g = chunk * items as u64 + i as u64;
                    if self.wl.has_defect(g) {
                        self.notify_latency
                            .record(t - self.wl.item_capture(stream, chunk, i, entered));
                    }
                }
            }
        }
    }

    /// One S3 request of `bytes` for `stream`'s prefix at `t`, retried with the
    /// client's backoff while S3 answers Slow Down: returns when it is done.
    fn s3_call(&mut self, op: S3Op, mut t: Time, stream: u32, bytes: u64) -> Time {
        let prefix = match self.prefixes[stream as usize] {
            Some(p) => p,
            None => {
                let p = self.s3.prefix(&format!("payloads/{stream}/"), t);
                self.prefixes[stream as usize] = Some(p);
                p
            }
        };
        let mut refusals = 0;
        loop {
            match self.s3.request_at(op, t, prefix, bytes, &mut self.rng_s3) {
                Ok(done) => return done,
                Err(th) => {
                    refusals += 1;
                    self.s3_throttles += 1;
                    self.s3_retries += 1;
                    let backoff = self.retry.backoff(refusals, &mut self.rng_s3).max(1);
                    t = th.retry_after.unwrap_or(t).max(t.saturating_add(backoff));
                }
            }
        }
    }

    /// Target tracking on backlog per task for every service; the scale-outs share
    /// what the vCPU quota leaves (see [`allot`]).
    fn autoscale(&mut self, now: Time) {
        if self.blocked {
            return;
        }
        let (out_cd, in_cd, delay) = (
            self.settings.out_cooldown,
            self.settings.in_cooldown,
            self.settings.launch_delay,
        );
        let mut more = vec![0u32; self.services.len()];
        for svc in 0..self.services.len() {
            let s = &mut self.services[svc];
            let mean = s.backlog.mean(now);
            s.backlog = TimeWeighted::new(now);
            s.note_backlog(now);
            let desired = desired_tasks(mean, &s.plan);
            let cooled = |last: Option<Time>, cd: Time| last.is_none_or(|t| now >= t + cd);
            if desired <= s.live {
                s.capped = false;
            }
            if desired > s.live && cooled(s.last_out, out_cd) {
                more[svc] = desired - s.live;
            } else if desired < s.live && cooled(s.last_in, in_cd) {
                let mut to_stop = s.live - desired;
                let mut idle_now = Vec::new();
                for t in (0..s.tasks.len()).rev() {
                    if to_stop == 0 {
                        break;
                    }
                    let task = &mut s.tasks[t];
                    if task.draining || task.stopped.is_some() {
                        continue;
                    }
                    task.draining = true;
                    s.live -= 1;
                    to_stop -= 1;
                    let first = task.first_worker;
                    for w in first..first + s.plan.vcpu {
                        if s.workers[w as usize].state == WorkerState::Idle {
                            idle_now.push(w);
                        }
                    }
                }
                s.idle.retain(|w| !idle_now.contains(w));
                s.last_in = Some(now);
                for w in idle_now {
                    self.stop_worker(now, svc, w);
                }
            }
        }
        let free = self.quota.map(|q| q.saturating_sub(self.vcpus_running()));
        let granted = allot(&more, &self.vcpus(), free);
        for svc in 0..self.services.len() {
            let s = &mut self.services[svc];
            if more[svc] == 0 {
                continue;
            }
            s.capped = granted[svc] < more[svc];
            if granted[svc] == 0 {
                continue; // nothing launched: no cooldown starts
            }
            for _ in 0..granted[svc] {
                let task = s.launch(now);
                self.q.push(
                    now + delay,
                    Ev::Ready {
                        svc: svc as u32,
                        task,
                    },
                );
            }
            s.last_out = Some(now);
        }
    }

    fn finish(self, timeline: Timeline) -> LayoutRun {
        let r = self.ctx.resolved;
        let spec_name = self.name.clone();
        let duration = self.wl.duration;
        let mut usage = Usage {
            catalog: Some(r.catalog.id.clone()),
            ..Usage::default()
        };
        for s in &self.services {
            let name = format!("{}-{}", spec_name, r.pipeline.stages[s.stage].name);
            match self.settings.launch {
                Launch::Fargate => {
                    let secs = s
                        .billed_seconds(duration, |ns| fargate_billed_seconds(&r.catalog, ns))
                        as f64;
                    usage.fargate.push(FargateUsage {
                        name,
                        architecture: self.settings.architecture,
                        vcpu_hours: NonNegative(secs * s.plan.vcpu as f64 / 3600.0),
                        gb_hours: NonNegative(secs * s.plan.memory_gb / 3600.0),
                    });
                }
                Launch::Ec2 => {
                    let secs =
                        s.billed_seconds(duration, |ns| ec2_billed_seconds(&r.catalog, ns)) as f64;
                    usage.ec2.push(Ec2Usage {
                        name,
                        instance_type: Spanned::new(
                            0..0,
                            s.plan.instance_type.clone().unwrap_or_default(),
                        ),
                        instance_hours: NonNegative(secs / 3600.0),
                        savings_plan_discount: Fraction(0.0),
                        root_volume_gb: None,
                    });
                }
            }
        }
        for s in &self.services {
            if let Some(q) = &s.queue {
                q.meter(&mut usage);
            }
        }
        let st = self.s3.stats();
        if st.puts + st.gets > 0 {
            self.s3.meter(&mut usage);
        }
        let bill = price(&usage, &r.catalog);
        let mut throttles: BTreeMap<String, u64> = ["lambda", "step_functions", "s3"]
            .iter()
            .map(|s| (s.to_string(), 0))
            .collect();
        let mut retries = throttles.clone();
        throttles.insert("s3".into(), self.s3_throttles);
        retries.insert("s3".into(), self.s3_retries);
        LayoutRun {
            name: spec_name,
            kind: "containers",
            family: Family::Containers,
            step_functions: false,
            usage,
            bill,
            period_hours: duration as f64 / 3.6e12,
            stream_hours: self.wl.stream_hours(r),
            latency: self.latency,
            notify_latency: self.notify_latency,
            throttles,
            retries,
            frames_captured: self.frames_captured,
            frames_by_detector: self.frames_by_stage,
            peak_lambda_concurrency: 0,
            lambda_environments: Vec::new(),
            peak_instances: self.peak_tasks,
            timeline: timeline.points,
            defects: self.real.map(|rd| rd.finish()).unwrap_or_default(),
            cpu_seconds_by_kernel: self.ledger.seconds(),
            executions: self.jobs_captured,
            events: self.q.events_processed(),
            sim_end: self.last_end,
            items: crate::layouts::ItemCounts {
                offered: self.frames_captured,
                analysed: self.frames_captured - self.frames_late - self.frames_dropped,
                late: self.frames_late,
                dropped: self.frames_dropped,
            },
            gate_waits: self.gate_waits,
            overload: self.overload,
        }
    }
}

/// Consumer `w` of service `svc` gets a receive's messages when the call returns.
fn deliver(s: &mut Service, q: &mut EventQueue<Ev>, svc: usize, w: u32, d: Delivered) {
    let worker = &mut s.workers[w as usize];
    worker.state = WorkerState::Busy;
    worker.batch = d.messages;
    q.push(
        d.at,
        Ev::Got {
            svc: svc as u32,
            worker: w,
        },
    );
}

/// Tasks each service may launch when it wants `wanted[i]` more of `vcpus[i]` vCPUs
/// each and `free` vCPUs of the quota are left (`None`: no limit): one task at a
/// time round the services in order while a task fits, so every service gets its
/// first task before any gets a second and none takes the whole quota.
fn allot(wanted: &[u32], vcpus: &[u32], free: Option<u64>) -> Vec<u32> {
    let Some(mut free) = free else {
        return wanted.to_vec();
    };
    let mut got = vec![0u32; wanted.len()];
    loop {
        let mut launched = false;
        for i in 0..wanted.len() {
            if got[i] < wanted[i] && vcpus[i] as u64 <= free {
                got[i] += 1;
                free -= vcpus[i] as u64;
                launched = true;
            }
        }
        if !launched {
            return got;
        }
    }
}

/// ⌈mean backlog ÷ target per task⌉ within the plan's bounds.
fn desired_tasks(mean_backlog: f64, plan: &Plan) -> u32 {
    // Less a hair, so a ratio that is whole but for rounding (2.1 / 0.7) stays whole.
    let want = (mean_backlog / plan.target - 1e-9).ceil();
    (want.min(plan.max as f64) as u32).clamp(plan.min, plan.max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::FixedCost;
    use crate::scenario::{Resolved, Scenario};

    /// Two stages a → b, 1 stream, one 100,000-byte item a second (1-second chunks),
    /// each stage 10 ms of CPU, SQS calls 10 ms each, with `layout` as the
    /// `[[layouts]]` text.
    fn two_stages(duration: &str, streams: u32, work: &str, layout: &str) -> Resolved {
        let text = format!(
            r#"name = "t"
seed = 2
duration = "{duration}"
kernels = "sampled"

[workload]
streams = {streams}
frames_per_second = 1
frame_size = "640x360"
detectors = ["black"]
chunk_seconds = 1

[[stages]]
name = "a"
work = "{work}"
output_bytes = 100000

[[stages]]
name = "b"
work = "10ms"

{layout}"#
        );
        Scenario::parse("t.toml", &text, None).unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    fn run(r: &Resolved) -> LayoutRun {
        let cost = FixedCost::uniform(1_000_000, 10_000);
        let ctx = RunContext::new(r, &cost);
        Containers
            .simulate(&ctx, &r.scenario.layouts[0])
            .expect("it runs")
    }

    const ONE_TASK: &str = r#"[[layouts]]
name = "x"
kind = "containers"
[layouts.containers]
sqs = { latency = { kind = "fixed", value = "10ms" } }
service = { min_tasks = 1, max_tasks = 1 }
"#;

    /// 10 items of 100 KB (two 64 KB chunks each) from a to b: 10 sends × 2 = 20
    /// requests; each wakes b's waiting long poll, a receive of one message × 2 = 20;
    /// 10 deletes; after the last item b's poll ends empty once: 1. In all 51. Each
    /// service's one task is billed Fargate's 60 s minimum for the 10 s period.
    #[test]
    fn ten_items_of_100_kb_bill_51_requests() {
        let l = run(&two_stages("10s", 1, "10ms", ONE_TASK));
        assert_eq!(l.frames_captured, 10);
        assert_eq!(l.frames_by_detector["b"], 10);
        assert_eq!(l.usage.sqs.len(), 1, "one queue, in front of b");
        assert_eq!(l.usage.sqs[0].name, "x-b");
        assert_eq!(l.usage.sqs[0].requests.0, 20 + 20 + 1 + 10);
        assert!(l.usage.s3.is_empty(), "100 KB fits a message");
        for f in &l.usage.fargate {
            assert_eq!(f.vcpu_hours.0, 60.0 / 3600.0, "{}", f.name);
            assert_eq!(f.gb_hours.0, 2.0 * 60.0 / 3600.0, "{}", f.name);
        }
        // Latency: a's 10 ms, the send, b's receive, b's 10 ms (1 ms of FixedCost
        // plays no part: the work is a CPU time), after the item's 1 s chunk.
        assert_eq!(l.latency.count(), 10);
    }

    /// Requests from a trace, a second apart, through a → b: each one job of one
    /// item from its arrival. a's 10 ms, the send (10 ms) that wakes b's long poll,
    /// the receive's return (10 ms), b's 10 ms: 40 ms each. SQS: 4 sends and 4 receives of 100 KB (2 chunks each),
    /// 4 deletes, and b's last poll ending empty after the period: 21 requests.
    #[test]
    fn requests_are_jobs_of_one_item_from_their_arrival() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t.csv"), "0.5\n1.5\n2.5\n3.5\n").unwrap();
        let text = format!(
            r#"name = "t"
duration = "10s"
[workload.requests]
trace = "t.csv"
[[stages]]
name = "a"
work = "10ms"
output_bytes = 100000
[[stages]]
name = "b"
after = ["a"]
work = "10ms"
{ONE_TASK}"#
        );
        let r = Scenario::parse("t.toml", &text, Some(dir.path())).unwrap();
        let l = run(&r);
        assert_eq!(l.frames_captured, 4);
        assert_eq!(l.executions, 4);
        assert_eq!(l.frames_by_detector["b"], 4);
        assert_eq!(l.stream_hours, 0.0);
        assert_eq!(
            l.items,
            crate::layouts::ItemCounts {
                offered: 4,
                analysed: 4,
                late: 0,
                dropped: 0
            }
        );
        assert_eq!(l.latency.count(), 4);
        assert_eq!(l.latency.min(), crate::sim::millis(40));
        assert_eq!(l.latency.max(), crate::sim::millis(40));
        assert_eq!(l.usage.sqs[0].requests.0, 8 + 8 + 4 + 1);
    }

    /// Over 256 KiB the body goes through S3: one PUT by a, one GET by b, and the
    /// message is a 300-byte pointer (1 request a send and a receive).
    #[test]
    fn a_payload_over_256_kib_goes_through_s3() {
        let layout = ONE_TASK.replace("output_bytes = 100000", "");
        let r = two_stages("10s", 1, "10ms", &layout);
        let text = r
            .text
            .replace("output_bytes = 100000", "output_bytes = 300000");
        let r = Scenario::parse("t.toml", &text, None).unwrap();
        let l = run(&r);
        assert_eq!(l.usage.s3.len(), 1);
        assert_eq!(
            (
                l.usage.s3[0].tier1_requests.0,
                l.usage.s3[0].tier2_requests.0
            ),
            (10, 10)
        );
        assert_eq!(l.usage.sqs[0].requests.0, 10 + 10 + 1 + 10);
    }

    #[test]
    fn desired_tasks_follow_backlog_per_task_within_bounds() {
        let plan = Plan {
            vcpu: 1,
            share: 1.0,
            memory_gb: 2.0,
            instance_type: None,
            min: 2,
            max: 10,
            initial: 0,
            target: 0.7,
        };
        assert_eq!(desired_tasks(0.0, &plan), 2, "never below min");
        assert_eq!(desired_tasks(2.1, &plan), 3, "⌈2.1 / 0.7⌉");
        assert_eq!(desired_tasks(3.6, &plan), 6, "⌈5.14⌉");
        assert_eq!(desired_tasks(1e9, &plan), 10, "never above max");
    }

    /// A containers layout from one task per service, evaluated every 10 s with 10 s
    /// cooldowns and launch delay, under a Fargate quota of `quota` vCPUs.
    fn autoscaled(quota: u32) -> String {
        format!(
            r#"[quotas]
fargate_vcpus = {{ raised = {quota} }}

[[layouts]]
name = "x"
kind = "containers"
autoscale_every = "10s"
[layouts.containers]
launch_delay = "10s"
scale_out_cooldown = "10s"
scale_in_cooldown = "10s"
service = {{ initial_tasks = 1, max_tasks = 50 }}
"#
        )
    }

    /// 20 streams of one 500 ms item a second need 10 consumers; from one task the
    /// autoscaler scales a out, every item is still analysed, and b, with nothing to
    /// do at first but poll, stays small.
    #[test]
    fn the_autoscaler_scales_out_on_backlog_and_in_when_idle() {
        // The default Fargate quota (6 vCPUs) would hold it back: raised here.
        let layout = autoscaled(1000);
        let l = run(&two_stages("3min", 20, "500ms", &layout));
        assert_eq!(l.frames_by_detector["b"], l.frames_captured);
        let first = l.timeline.first().unwrap().instances;
        assert_eq!(first, 2, "one task per service at the start");
        assert!(l.peak_instances >= 12, "peak {}", l.peak_instances);

        // Scale-in: 20 tasks each for 1 stream of 10 ms items.
        let idle = layout.replace("initial_tasks = 1", "initial_tasks = 20");
        let l = run(&two_stages("3min", 1, "10ms", &idle));
        let first = l.timeline.first().unwrap().instances;
        let last = l.timeline.last().unwrap().instances;
        assert_eq!(first, 40);
        assert!(last < 10, "scaled in to {last}");
    }

    #[test]
    fn the_quota_is_shared_round_the_services_one_task_at_a_time() {
        assert_eq!(allot(&[5, 5, 5], &[1, 1, 1], None), [5, 5, 5]);
        assert_eq!(allot(&[5, 1, 5], &[1, 1, 1], Some(6)), [3, 1, 2]);
        // A 4-vCPU task does not fit in the 3 left; the 1-vCPU ones go on.
        assert_eq!(allot(&[2, 4], &[4, 1], Some(7)), [1, 3]);
        assert_eq!(allot(&[1, 1], &[2, 2], Some(3)), [1, 0]);
        assert_eq!(allot(&[0, 0], &[1, 1], Some(0)), [0, 0]);
    }

    /// 20 streams of 500 ms items want about 12 one-vCPU tasks of a: under a Fargate
    /// quota of 6 vCPUs the two services never run more than 6 tasks together, the
    /// layout falls behind and the quota binds; with quotas raised it keeps up.
    #[test]
    fn the_fargate_vcpu_quota_caps_the_tasks_of_every_service() {
        let r = two_stages("3min", 20, "500ms", &autoscaled(6));
        let l = run(&r);
        assert!(l.peak_instances <= 6, "peak {}", l.peak_instances);
        assert!(l.timeline.iter().all(|p| p.instances <= 6));
        let c = l.capacity();
        assert_eq!(c.verdict, crate::layouts::Verdict::Overloaded, "{c:?}");
        assert_eq!(c.binding, Some(Gate::FargateVcpuQuota));
        assert!(l.items.balanced() && l.items.dropped > 0, "{:?}", l.items);

        let cost = FixedCost::uniform(1_000_000, 10_000);
        let raised = RunContext {
            quotas_raised: true,
            ..RunContext::new(&r, &cost)
        };
        let l = Containers
            .simulate(&raised, &r.scenario.layouts[0])
            .unwrap();
        assert!(l.peak_instances >= 12, "peak {}", l.peak_instances);
        assert_eq!(l.capacity().verdict, crate::layouts::Verdict::KeepsUp);
        assert!(Containers.lifts_quotas());
    }

    /// On EC2 each task is an instance: c5.large tasks (2 vCPUs) under an EC2 quota of
    /// 5 vCPUs run two at once; a quota of 3 cannot hold one task of each of the two
    /// services, so nothing runs and every item is dropped, counted against it.
    #[test]
    fn the_ec2_vcpu_quota_caps_tasks_on_ec2_capacity() {
        let layout = |quota: u32| {
            format!(
                r#"[quotas]
ec2_vcpus = {{ raised = {quota} }}

[[layouts]]
name = "x"
kind = "containers"
autoscale_every = "10s"
[layouts.containers]
launch = "ec2"
launch_delay = "10s"
scale_out_cooldown = "10s"
service = {{ instance_type = "c5.large", initial_tasks = 1, max_tasks = 50 }}
"#
            )
        };
        let l = run(&two_stages("3min", 20, "500ms", &layout(5)));
        assert_eq!(l.peak_instances, 2);
        assert_eq!(l.capacity().binding, Some(Gate::Ec2VcpuQuota));
        let l = run(&two_stages("1min", 20, "500ms", &layout(3)));
        assert_eq!(l.peak_instances, 0);
        assert_eq!(l.items.dropped, l.items.offered);
        assert!(l.items.offered > 0);
        let c = l.capacity();
        assert_eq!(
            (c.served_fraction, c.binding),
            (0.0, Some(Gate::Ec2VcpuQuota))
        );
        assert!(l.usage.ec2.iter().all(|u| u.instance_hours.0 == 0.0));
    }

    /// One 1-vCPU task of b, whose items take 1.5 s, for 1 item a second: the queue
    /// grows by a third of an item a second. Under `drop_after 20s` a consumer
    /// discards messages older than 20 s (the receive and delete still billed), so
    /// latency stays under the deadline plus the service time and every item is
    /// counted once; under `queue` nothing is dropped and latency grows.
    #[test]
    fn stale_messages_are_dropped_under_the_deadline() {
        let slow_b = |policy: &str| {
            let layout = ONE_TASK.replace(
                "kind = \"containers\"",
                &format!("kind = \"containers\"\noverload = {policy}"),
            );
            // b's items take 1.5 s instead of the helper's 10 ms.
            let text = two_stages("5min", 1, "10ms", &layout).text.replace(
                "name = \"b\"\nwork = \"10ms\"",
                "name = \"b\"\nwork = \"1500ms\"",
            );
            run(&Scenario::parse("t.toml", &text, None).unwrap_or_else(|e| panic!("{e}")))
        };
        let drop = slow_b("{ drop_after = \"20s\" }");
        let i = drop.items;
        assert!(i.balanced(), "{i:?}");
        assert_eq!(i.offered, 300);
        assert!(
            i.dropped > 50,
            "a third of the items cannot be served: {i:?}"
        );
        assert_eq!(drop.latency.count(), i.served());
        // The deadline, plus the 1 s chunk captured before it is sent, b's 1.5 s of
        // work, and 100 ms for a's 10 ms and the SQS calls (10 ms each).
        let bound = (20 + 1) * NS_PER_SEC + 1_600_000_000;
        assert!(drop.latency.max() <= bound, "{}", drop.latency.max());
        assert_eq!(drop.overload.label(), "drop_after 20s");
        // Per queue the same here: the source stage's in-process queue holds nothing
        // back, so b's queue has the whole deadline either way.
        let per_queue = slow_b("{ drop_after = \"20s\", per = \"queue\" }");
        assert!(per_queue.items.balanced(), "{:?}", per_queue.items);
        assert!(
            per_queue.latency.max() <= bound,
            "{}",
            per_queue.latency.max()
        );
        assert_eq!(per_queue.items.dropped, i.dropped);
        assert_eq!(per_queue.overload.label(), "drop_after 20s per queue");
        let queue = slow_b("\"queue\"");
        assert_eq!(queue.items.dropped, 0);
        assert!(queue.latency.max() > 60 * NS_PER_SEC);
        // Every message is received and deleted, the discarded ones too: at least 300
        // sends of two 64 KB chunks, and for the 300 messages a receive and a delete
        // per 10 (the largest batch).
        let requests = |l: &LayoutRun| l.usage.sqs.iter().map(|q| q.requests.0).sum::<u64>();
        assert!(requests(&drop) >= 600 + 30 + 30, "{}", requests(&drop));
    }

    /// Billing ends with the period: a consumer's last long poll running on after it
    /// is not billed, so a 20 s wait and a 1 s wait bill the same task time.
    #[test]
    fn tasks_are_not_billed_past_the_period() {
        let hours = |wait: &str| {
            let layout = ONE_TASK.replace(
                "value = \"10ms\" }",
                &format!("value = \"10ms\" }}, wait_time = \"{wait}\""),
            );
            let l = run(&two_stages("2min", 1, "10ms", &layout));
            l.usage
                .fargate
                .iter()
                .map(|f| f.vcpu_hours.0)
                .collect::<Vec<_>>()
        };
        let long = hours("20s");
        assert_eq!(long, hours("1s"));
        // a works until its last item, just past the period; b idles after it.
        for h in long {
            assert!(h * 3600.0 <= 122.0, "{h}");
        }
    }

    fn error(layout: &str) -> crate::InputError {
        let r = two_stages(
            "10s",
            1,
            "10ms",
            "[[layouts]]\nname = \"ok\"\nkind = \"monolith\"\n",
        );
        let text = r
            .text
            .replace("[[layouts]]\nname = \"ok\"\nkind = \"monolith\"\n", layout);
        match Scenario::parse("t.toml", &text, None) {
            Err(crate::Error::Input(e)) => e,
            other => panic!("expected an input error, got {:?}", other.map(|_| ())),
        }
    }

    #[test]
    fn sections_a_kind_does_not_take_are_rejected() {
        let e = error(
            "[[layouts]]\nname = \"c\"\nkind = \"containers\"\n[layouts.ec2]\ninstance_type = \"c5.large\"\n",
        );
        assert!(
            e.message
                .contains("a containers layout has no `ec2` section"),
            "{e}"
        );
        assert!(e.message.contains("it takes: containers"), "{e}");
        let e = error("[[layouts]]\nname = \"m\"\nkind = \"monolith\"\n[layouts.containers]\nlaunch = \"ec2\"\n");
        assert!(
            e.message
                .contains("a monolith layout has no `containers` section"),
            "{e}"
        );
    }

    #[test]
    fn bad_options_are_errors_at_their_position() {
        let head = "[[layouts]]\nname = \"c\"\nkind = \"containers\"\n[layouts.containers]\n";
        // The line of the body's first line in the scenario.
        let base = two_stages(
            "10s",
            1,
            "10ms",
            "[[layouts]]\nname = \"ok\"\nkind = \"monolith\"\n",
        );
        let body_line = base.text.lines().position(|l| l == "[[layouts]]").unwrap() + 5;
        let at = |body: &str| {
            let e = error(&format!("{head}{body}"));
            (e.line.map(|l| l as i64 - body_line as i64), e.message)
        };
        let (line, m) = at("service = { task_vcpu = 3 }\n");
        assert_eq!(line, Some(0));
        assert!(m.contains("task_vcpu must be 1, 2, 4, 8 or 16"), "{m}");
        let (line, m) = at("launch = \"ec2\"\nstages.a = { task_vcpu = 2 }\n");
        assert_eq!(line, Some(1));
        assert!(
            m.contains("with launch = \"ec2\" a task is one whole instance"),
            "{m}"
        );
        let (line, m) = at("stages.aa = { min_tasks = 2 }\n");
        assert_eq!(line, Some(0));
        assert!(
            m.contains("no stage `aa` in the pipeline (did you mean `a`?)"),
            "{m}"
        );
        let (_, m) = at("service = { min_tasks = 5, max_tasks = 2 }\n");
        assert!(m.contains("1 <= min_tasks <= max_tasks"), "{m}");
        let (_, m) = at("service = { instance_type = \"c5.large\" }\n");
        assert!(m.contains("needs launch = \"ec2\""), "{m}");
        let (_, m) = at("launch = \"ec2\"\nservice = { instance_type = \"c5.huge\" }\n");
        assert!(m.contains("unknown instance type `c5.huge`"), "{m}");
        let (line, m) = at("servce = {}\n");
        assert_eq!(line, Some(0));
        assert!(m.contains("unknown field `servce`"), "{m}");
        let (_, m) = at("reserve_vcpu = 0.1\n");
        assert!(m.contains("`reserve_vcpu` needs launch = \"ec2\""), "{m}");
        let (line, m) = at("launch = \"ec2\"\nreserve_vcpu = 2.0\nservice = {}\n");
        assert_eq!(line, Some(2), "at the service it leaves nothing");
        assert!(m.contains("below the instance's 2 vCPUs, got 2"), "{m}");
    }

    /// On EC2 the consumers run on what the agent and OS reserve leaves: keeping 1
    /// of a c5.large's 2 vCPUs halves each consumer's speed, so every item's CPU
    /// work takes twice as long (the SQS calls do not).
    #[test]
    fn consumers_on_ec2_run_on_what_the_reserve_leaves() {
        let layout = |reserve: &str| {
            format!(
                "[[layouts]]\nname = \"x\"\nkind = \"containers\"\n[layouts.containers]\nlaunch = \"ec2\"\nreserve_vcpu = {reserve}\nsqs = {{ latency = {{ kind = \"fixed\", value = \"10ms\" }} }}\nservice = {{ instance_type = \"c5.large\", min_tasks = 1, max_tasks = 1 }}\n"
            )
        };
        let whole = run(&two_stages("10s", 1, "10ms", &layout("0.0")));
        let half = run(&two_stages("10s", 1, "10ms", &layout("1.0")));
        let cpu_ms: f64 = whole.cpu_seconds_by_kernel.values().sum::<f64>() * 1e3
            + 20.0 * whole.frames_captured as f64; // stages a and b: 10 ms each
        let per_item = cpu_ms / whole.frames_captured as f64;
        let extra = (half.latency.max() - whole.latency.max()) as f64 / 1e6;
        assert!(
            (extra - per_item).abs() < 1e-3,
            "{extra} ms vs {per_item} ms"
        );
        assert_eq!(half.frames_by_detector["b"], half.frames_captured);
        let rows: Vec<String> = assumptions(&layout_spec(&layout("1.0")))
            .into_iter()
            .filter(|a| a.name.ends_with("reserve_vcpu"))
            .map(|a| format!("{} = {}", a.name, a.value))
            .collect();
        assert_eq!(
            rows,
            ["layouts.x.containers.reserve_vcpu = 1 vCPU per instance"]
        );
    }

    fn layout_spec(layout: &str) -> LayoutSpec {
        two_stages("10s", 1, "10ms", layout).scenario.layouts[0].clone()
    }
}
