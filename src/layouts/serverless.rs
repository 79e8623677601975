//! The serverless pipeline shared by the distributed, express and lambda-direct
//! layouts: per stream, one run per chunk — a converter Lambda decodes the chunk and
//! PUTs each analysed frame as a JPEG to S3, one detector Lambda per detector GETs the
//! frames and analyses them, a last step aggregates and notifies. What differs is the
//! orchestration: Step Functions Standard, Express, or none (Lambdas invoke each other).
//!
//! Events are processed in time order and every service model is called at the
//! event's time, so quotas, throttles and cold starts play out as they would.

use std::collections::{BTreeMap, VecDeque};

use rand::Rng;

use super::common::{work_ns, CpuLedger, Progress, RealDetectors, Timeline, Workload};
use super::{CheckContext, LayoutRun, RunContext};
use crate::cloud::lambda::AccountConfig;
use crate::cloud::s3::PrefixId;
use crate::cloud::{
    Assumption, LambdaAccount, LambdaConfig, LambdaFn, Retrier, RetryPolicy, S3Bucket, S3Op, Sfn,
    State, StateMachine, Throttled,
};
use crate::pricing::usage::Workflow;
use crate::pricing::{price, Usage};
use crate::scenario::pipeline::{OutputBytes, Per, Pipeline, Stage};
use crate::scenario::{LayoutSpec, S3Prefixes};
use crate::sim::{rng_stream, EventQueue, Histogram, Rng64, Time};

/// Who moves a chunk from step to step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Orchestration {
    /// A Step Functions workflow of the given type.
    StepFunctions(Workflow),
    /// No orchestrator: the converter invokes the detectors asynchronously, the last
    /// detector invokes the aggregator.
    Direct,
}

/// The state machine of one chunk: Convert, a Map over the detectors, Aggregate.
pub fn state_machine(detectors: usize, retry: &Retrier) -> StateMachine {
    StateMachine::new(
        "monitor-chunk",
        vec![
            State::task_with_retry("Convert", retry.clone()),
            State::map(
                "Detect",
                detectors as u32,
                vec![State::task_with_retry("Detector", retry.clone())],
            ),
            State::task_with_retry("Aggregate", retry.clone()),
        ],
    )
}

/// Default Lambda settings of each function (assumptions, listed in the report).
pub fn default_function(role: Role) -> LambdaConfig {
    let memory_mb = match role {
        Role::Converter => 1769,
        Role::Detector => 1024,
        Role::Aggregator => 256,
    };
    LambdaConfig {
        memory_mb,
        ..LambdaConfig::default()
    }
}

/// The three kinds of function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Converter,
    Detector,
    Aggregator,
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Convert,
    Detect(u8),
    Aggregate,
}

#[derive(Debug, Clone, Copy)]
enum Ev {
    /// Chunk `chunk` of `stream` has been captured.
    ChunkReady { stream: u32, chunk: u64 },
    /// Request `index` arrives: a job of one item, one execution.
    Request { index: u64 },
    /// The client retries the StartExecution requests waiting in its queue.
    StartRetry,
    /// A Lambda function queue retries its waiting asynchronous invocations.
    AsyncRetry { function: u8 },
    /// A Task's Lambda invocation is due.
    TaskStart { exec: u32, step: Step, attempt: u32 },
    /// The converter finished.
    ConvertDone { exec: u32 },
    /// The last detector finished.
    MapDone { exec: u32 },
    /// The aggregator finished: notify, end the execution.
    AggregateDone { exec: u32 },
    /// StateTransition tokens are there for the transitions waiting at the gate.
    Grant,
    /// A Task retried after its ASL Retry wait asks for its transition.
    RetryTransition { exec: u32, step: Step, attempt: u32 },
    /// Timeline sample and autoscale-free bookkeeping.
    Tick,
}

struct Exec {
    stream: u32,
    chunk: u64,
    /// Capture of the job's first item (a request: its arrival).
    captured: Time,
    started: Time,
    pending: u8,
    map_end: Time,
    /// When the Map state started (its transition granted): no iteration before.
    map_start: Time,
    /// Bytes of each of the chunk's JPEG frames: what the converter PUTs and every
    /// detector GETs.
    frame_bytes: u64,
}

/// What a transition starts.
#[derive(Debug, Clone, Copy)]
enum Next {
    /// A Task's attempt (Convert, Aggregate, or a retried Task).
    Task(Step, u32),
    /// The Map state and then each detector iteration's Task: `item` 0 is the Map
    /// state, `item` i > 0 the Task of detector i - 1.
    Map { item: u8 },
}

/// Transitions of one execution waiting for StateTransition tokens, requested
/// together at `requested` (a Map state and its iterations' Tasks wait as one entry).
struct Waiter {
    exec: u32,
    next: Next,
    requested: Time,
}

/// How far ahead one `Grant` hands out the tokens the bucket will have (each waiter
/// still gets its token at the exact time it is there): an engine setting that
/// trades a few more pending events for fewer grant events, not a model assumption.
const GRANT_HORIZON: Time = 10_000_000; // 10 ms

/// Transitions waiting for StateTransition tokens, first come first served. The
/// event queue holds one `Grant` at the bucket's next token instead of one event per
/// waiting transition, so it stays small however long the backlog grows. The
/// transition latency is drawn when a transition gets its token.
struct Gate {
    waiting: VecDeque<Waiter>,
    grant_pending: bool,
    /// Detector iterations of the Map state.
    detectors: u8,
}

impl Gate {
    fn new(detectors: usize) -> Gate {
        Gate {
            waiting: VecDeque::new(),
            grant_pending: false,
            detectors: detectors as u8,
        }
    }

    /// Transitions left in `next` (itself included).
    fn left(&self, next: Next) -> u64 {
        match next {
            Next::Task(..) => 1,
            Next::Map { item } => (self.detectors as u64 + 1).saturating_sub(item as u64),
        }
    }

    /// The transition after `next` in its group, if any.
    fn advance(&self, next: Next) -> Option<Next> {
        match next {
            Next::Map { item } if item < self.detectors => Some(Next::Map { item: item + 1 }),
            _ => None,
        }
    }

    /// Transitions of `exec` requested at `now`, from `next` to the end of its group:
    /// each starts now if a token is there and nobody waits, the rest wait their turn
    /// (each counted as a throttle).
    #[allow(clippy::too_many_arguments)]
    fn request(
        &mut self,
        sm: &mut Sfn,
        now: Time,
        exec: u32,
        mut next: Next,
        rng: &mut Rng64,
        q: &mut EventQueue<Ev>,
        execs: &mut [Exec],
    ) {
        while self.waiting.is_empty() && sm.take_transition(now, now) {
            let lat = sm.transition_latency(rng);
            fire(now, exec, next, lat, q, execs);
            match self.advance(next) {
                Some(n) => next = n,
                None => return,
            }
        }
        for _ in 0..self.left(next) {
            sm.note_transition_throttle();
        }
        self.waiting.push_back(Waiter {
            exec,
            next,
            requested: now,
        });
        self.schedule(sm, now, q);
    }

    /// Starts the waiting transitions a token is there for at `now`, in order.
    fn grant(
        &mut self,
        sm: &mut Sfn,
        now: Time,
        rng: &mut Rng64,
        q: &mut EventQueue<Ev>,
        execs: &mut [Exec],
    ) {
        self.grant_pending = false;
        let horizon = now.saturating_add(GRANT_HORIZON);
        while let Some(w) = self.waiting.front() {
            let Some(t) = sm.take_transition_by(w.requested, now, horizon) else {
                break;
            };
            let (exec, next) = (w.exec, w.next);
            let lat = sm.transition_latency(rng);
            fire(t, exec, next, lat, q, execs);
            match self.advance(next) {
                Some(n) => self.waiting.front_mut().expect("front").next = n,
                None => {
                    self.waiting.pop_front();
                }
            }
        }
        self.schedule(sm, now, q);
    }

    fn schedule(&mut self, sm: &Sfn, now: Time, q: &mut EventQueue<Ev>) {
        if self.grant_pending || self.waiting.is_empty() {
            return;
        }
        let t = sm.next_transition_at(now);
        if t != Time::MAX {
            q.push(t, Ev::Grant);
            self.grant_pending = true;
        }
    }
}

/// A transition granted at `t`: its state starts after the transition latency `lat`;
/// a detector's Task not before its Map state.
fn fire(t: Time, exec: u32, next: Next, lat: Time, q: &mut EventQueue<Ev>, execs: &mut [Exec]) {
    let start = t.saturating_add(lat);
    let (step, attempt) = match next {
        Next::Map { item: 0 } => {
            execs[exec as usize].map_start = start;
            return;
        }
        Next::Map { item } => (Step::Detect(item - 1), 1),
        Next::Task(step, attempt) => (step, attempt),
    };
    let start = match step {
        Step::Detect(_) => start.max(execs[exec as usize].map_start),
        _ => start,
    };
    q.push(
        start,
        Ev::TaskStart {
            exec,
            step,
            attempt,
        },
    );
}

/// The sections of the layouts orchestrated by Step Functions; those without take
/// all but the last two.
pub const SECTIONS: &[&str] = &[
    "converter",
    "detector",
    "aggregator",
    "account",
    "aggregate_cpu",
    "s3",
    "s3_prefixes",
    "retry",
    "step_functions",
    "task_retry",
];

/// One serverless layout: the shared pipeline under its orchestration. The
/// distributed, express and lambda-direct files each declare one.
pub struct Serverless {
    pub kind: &'static str,
    pub summary: &'static str,
    pub orchestration: Orchestration,
}

impl super::Layout for Serverless {
    fn kind(&self) -> &'static str {
        self.kind
    }
    fn summary(&self) -> &'static str {
        self.summary
    }
    fn family(&self) -> super::Family {
        super::Family::Serverless
    }
    fn uses_step_functions(&self) -> bool {
        matches!(self.orchestration, Orchestration::StepFunctions(_))
    }
    fn sections(&self) -> &'static [&'static str] {
        if self.uses_step_functions() {
            SECTIONS
        } else {
            &SECTIONS[..SECTIONS.len() - 2]
        }
    }
    fn check(&self, spec: &LayoutSpec, cx: &CheckContext) -> crate::Result<()> {
        check(spec, cx)
    }
    fn assumptions(&self, spec: &LayoutSpec) -> Vec<Assumption> {
        assumptions(spec, self.uses_step_functions())
    }
    fn simulate(&self, ctx: &RunContext, spec: &LayoutSpec) -> crate::Result<LayoutRun> {
        simulate(ctx, spec, self.orchestration)
    }
}

/// The checks every serverless layout shares: each function's settings, the
/// account's concurrency, the bucket.
pub fn check(l: &LayoutSpec, cx: &CheckContext) -> crate::Result<()> {
    if !cx.pipeline.is_fan_out_fan_in() {
        return Err(cx.error(
            l,
            l.kind.span(),
            "the serverless layouts run pipelines shaped first stage → stages side by side → last stage (the Prime Video shape); this pipeline has another shape",
        ));
    }
    for (f, role) in [
        (&l.converter, "converter"),
        (&l.detector, "detector"),
        (&l.aggregator, "aggregator"),
    ] {
        if let Some(f) = f {
            // Named by its section: the model's default name is `function`.
            let mut cfg = f.get_ref().clone();
            cfg.name = role.into();
            cx.model(l, f.span(), cfg.check())?;
        }
    }
    check_concurrency(l, cx)?;
    if let Some(s3) = &l.s3 {
        cx.model(l, s3.span(), s3.get_ref().check())?;
    }
    Ok(())
}

/// Lambda concurrency a serverless layout can run with: a function that can never
/// get a concurrent execution would be retried for ever (the run would not end).
fn check_concurrency(l: &LayoutSpec, cx: &CheckContext) -> crate::Result<()> {
    let (catalog, detectors) = (cx.catalog, cx.detectors);
    let limit = match l
        .account
        .as_ref()
        .and_then(|a| a.get_ref().concurrency_limit.map(|n| (n, a.span())))
    {
        Some((0, span)) => {
            return Err(cx.error(
                l,
                span,
                "concurrency_limit must be at least 1: with 0 no Lambda function can ever run",
            ))
        }
        Some((n, _)) => n,
        None => catalog.quotas.lambda_concurrent_executions.value,
    };
    // Each role's section, and how many functions it configures.
    let roles = [
        (&l.converter, "converter", 1u64),
        (&l.detector, "detector", detectors as u64),
        (&l.aggregator, "aggregator", 1),
    ];
    let mut reserved = 0u64;
    let mut unreserved_functions = false;
    let mut last_span = None;
    for (section, role, count) in roles {
        match section
            .as_ref()
            .and_then(|s| s.get_ref().reserved_concurrency.map(|r| (r, s.span())))
        {
            Some((0, span)) => {
                return Err(cx.error(
                    l,
                    span,
                    &format!(
                        "the {role}'s reserved_concurrency is 0, which throttles every invocation, so the pipeline would never finish; leave it out or reserve at least 1"
                    ),
                ))
            }
            Some((r, span)) => {
                reserved += r as u64 * count;
                last_span = Some(span);
            }
            None => unreserved_functions = true,
        }
    }
    if let Some(span) = last_span {
        let limit = limit as u64;
        if reserved > limit || (unreserved_functions && reserved >= limit) {
            return Err(cx.error(
                l,
                span,
                &format!(
                    "reserved concurrency adds up to {reserved} (a detector's applies to each of its {detectors} functions), {} the account's concurrency limit of {limit}{}",
                    if reserved > limit { "more than" } else { "all of" },
                    if reserved > limit {
                        ""
                    } else {
                        ", leaving none for the functions without a reservation"
                    }
                ),
            ));
        }
    }
    Ok(())
}

/// The assumptions of a serverless layout: each function's settings, the bucket's,
/// the state machine's (when it has one) and the aggregation's CPU.
pub fn assumptions(spec: &LayoutSpec, step_functions: bool) -> Vec<Assumption> {
    let mut out = Vec::new();
    let p = |n: &str| format!("layouts.{}.{n}", spec.name);
    for (role, section, label) in [
        (Role::Converter, &spec.converter, "converter"),
        (Role::Detector, &spec.detector, "detector"),
        (Role::Aggregator, &spec.aggregator, "aggregator"),
    ] {
        let (cfg, from) = match section {
            Some(s) => (s.get_ref().clone(), "set in the scenario"),
            None => (
                default_function(role),
                "default: not published; the post gives no Lambda sizes (U)",
            ),
        };
        out.push(Assumption::new(
            &p(&format!("{label}.memory_mb")),
            cfg.memory_mb,
            from,
        ));
        for a in cfg.assumptions() {
            out.push(Assumption::new(
                &p(&format!("{label}.{}", a.name.trim_start_matches("lambda."))),
                a.value,
                &a.note,
            ));
        }
    }
    let s3 = spec
        .s3
        .as_ref()
        .map(|s| s.get_ref().clone())
        .unwrap_or_default();
    for a in s3.assumptions() {
        out.push(Assumption::new(&p(&a.name), a.value, &a.note));
    }
    if step_functions {
        let sfn = spec
            .step_functions
            .as_ref()
            .map(|s| s.get_ref().clone())
            .unwrap_or_default();
        for a in sfn.assumptions() {
            out.push(Assumption::new(&p(&a.name), a.value, &a.note));
        }
    }
    let agg = spec
        .aggregate_cpu
        .as_ref()
        .map_or("2ms".to_string(), |d| d.get_ref().to_string());
    out.push(Assumption::new(
        &p("aggregate_cpu"),
        agg,
        "CPU of merging detector results and notifying: small, not measured (U)",
    ));
    out
}

/// Runs the serverless pipeline under `orch` and meters what it used.
pub fn simulate(
    ctx: &RunContext,
    spec: &LayoutSpec,
    orch: Orchestration,
) -> crate::Result<LayoutRun> {
    let r = ctx.resolved;
    let catalog = &r.catalog;
    let cost = ctx.cost;
    let wl = Workload::new(ctx)?;
    let detectors = &r.detectors;
    let pipeline = &r.pipeline;
    // The stages between the first and the last run side by side (the Map).
    let middle = &pipeline.stages[1..pipeline.stages.len() - 1];
    let n_det = middle.len();
    let frames = wl.frames_per_chunk;
    let seed = r.scenario.seed;
    let input_err = |m: String| {
        crate::Error::Input(crate::InputError::new(
            &r.file,
            format!("layout `{}`: {m}", spec.name),
        ))
    };

    // Services.
    let account_spec = spec
        .account
        .as_ref()
        .map(|a| a.get_ref().clone())
        .unwrap_or_default();
    let account_cfg = AccountConfig {
        concurrency_limit: account_spec.concurrency_limit,
        scaling: account_spec
            .scaling
            .unwrap_or_else(|| r.scenario.quota_era.into()),
        date: r.billing_date.clone(),
    };
    let mut lambda = LambdaAccount::new(catalog, &account_cfg);
    let function = |role: Role, section: &Option<toml::Spanned<LambdaConfig>>, name: String| {
        let mut cfg = section
            .as_ref()
            .map(|s| s.get_ref().clone())
            .unwrap_or_else(|| default_function(role));
        cfg.name = name;
        cfg
    };
    let converter = lambda
        .add_function(function(
            Role::Converter,
            &spec.converter,
            format!("{}-converter", spec.name),
        ))
        .map_err(input_err)?;
    let mut detector_fns: Vec<LambdaFn> = Vec::new();
    for st in middle {
        let f = lambda
            .add_function(function(
                Role::Detector,
                &spec.detector,
                format!("{}-detector-{}", spec.name, st.name),
            ))
            .map_err(input_err)?;
        detector_fns.push(f);
    }
    let aggregator = lambda
        .add_function(function(
            Role::Aggregator,
            &spec.aggregator,
            format!("{}-aggregator", spec.name),
        ))
        .map_err(input_err)?;
    let mut s3_cfg = spec
        .s3
        .as_ref()
        .map(|s| s.get_ref().clone())
        .unwrap_or_default();
    s3_cfg.name = format!("{}-frames", spec.name);
    let mut s3 = S3Bucket::new(catalog, s3_cfg).map_err(input_err)?;
    let shared_prefix = matches!(
        spec.s3_prefixes.as_ref().map(|p| *p.get_ref()),
        Some(S3Prefixes::Shared)
    );
    // A request source writes under one prefix, as stream 0.
    let sources = wl.max_streams().max(u32::from(wl.arrivals.is_some()));
    let prefixes: Vec<PrefixId> = (0..sources)
        .map(|s| {
            if shared_prefix {
                s3.prefix("frames/", 0)
            } else {
                s3.prefix(&format!("frames/stream-{s}/"), 0)
            }
        })
        .collect();
    let mut sfn = match orch {
        Orchestration::StepFunctions(workflow) => {
            let mut cfg = spec
                .step_functions
                .as_ref()
                .map(|s| s.get_ref().clone())
                .unwrap_or_default();
            cfg.name = format!("{}-orchestration", spec.name);
            cfg.workflow = workflow;
            cfg.quotas = r.scenario.quota_era;
            Some(Sfn::new(catalog, cfg).map_err(input_err)?)
        }
        Orchestration::Direct => None,
    };
    let retrier = spec
        .task_retry
        .as_ref()
        .map(|t| t.get_ref().clone())
        .unwrap_or_default();
    let client = spec
        .retry
        .as_ref()
        .map(|t| *t.get_ref())
        .unwrap_or_default();
    let aggregate_cpu = spec.aggregate_cpu.as_ref().map(|d| d.get_ref().0);

    // Random streams: one for service draws, one for kernel costs.
    let mut rng = rng_stream(seed, &spec.name, 0);

    // State.
    let duration = wl.duration;
    let mut q: EventQueue<Ev> = EventQueue::new();
    let mut requests = wl.requests();
    if let Some(t) = requests.as_mut().and_then(|r| r.next()) {
        q.push(t, Ev::Request { index: 0 });
    }
    for s in 0..wl.max_streams() {
        q.push(
            wl.chunk_ready(s, 0),
            Ev::ChunkReady {
                stream: s,
                chunk: 0,
            },
        );
    }
    let mut timeline = Timeline::new(duration);
    q.push(timeline.every, Ev::Tick);
    let mut execs: Vec<Exec> = Vec::new();
    let mut free_execs: Vec<u32> = Vec::new();
    let mut start_queue: VecDeque<u32> = VecDeque::new();
    let mut gate = Gate::new(n_det);
    let mut async_queues: Vec<VecDeque<(u32, Step)>> = vec![VecDeque::new(); n_det + 2];
    let mut real = ctx
        .real
        .map(|s| RealDetectors::new(s, wl.max_streams(), detectors, frames));
    let mut latency = Histogram::new();
    let mut notify_latency = Histogram::new();
    let mut throttles: BTreeMap<String, u64> = BTreeMap::new();
    let mut retries: BTreeMap<String, u64> = ["lambda", "step_functions", "s3"]
        .iter()
        .map(|s| (s.to_string(), 0))
        .collect();
    let mut frames_captured = 0u64;
    let mut frames_by_detector = vec![0u64; n_det];
    let mut executions = 0u64;
    let mut last_end: Time = 0;
    let mut work = Work {
        rng: rng_stream(seed, &spec.name, 1),
        ledger: CpuLedger::default(),
        s3_retries: 0,
        s3_throttles: 0,
    };
    let handlers = Handlers {
        wl: &wl,
        cost,
        pipeline,
        aggregate_cpu,
        prefixes: &prefixes,
        client: &client,
    };
    let mut progress = Progress::new(ctx.progress, duration);
    let mut held_back = 0u64;
    // StartExecution requests that waited behind others (each counts as refused),
    // and retries, summed into the maps at the end.
    let mut start_waiting = 0u64;
    let mut lambda_retries = 0u64;
    let mut sfn_retries = 0u64;

    // The functions by index for async queues: converter, detectors..., aggregator.
    let fn_of = |step: Step| -> (LambdaFn, usize) {
        match step {
            Step::Convert => (converter, 0),
            Step::Detect(i) => (detector_fns[i as usize], 1 + i as usize),
            Step::Aggregate => (aggregator, n_det + 1),
        }
    };

    while let Some((now, ev)) = q.pop() {
        progress.at(now);
        match ev {
            Ev::Tick => {
                let active = if now <= duration {
                    wl.active(r, now)
                } else {
                    0
                };
                let th = lambda.throttles()
                    + held_back
                    + sfn.as_ref().map_or(0, |s| {
                        s.stats().start_throttles + s.stats().transition_throttles
                    })
                    + work.s3_throttles;
                timeline.sample(now, active, lambda.concurrency(), th, 0);
                if !q.is_empty() {
                    q.push(now + timeline.every, Ev::Tick);
                }
            }
            Ev::ChunkReady { .. } | Ev::Request { .. } => {
                let (stream, chunk, capture_start) = match ev {
                    Ev::Request { index } => {
                        if let Some(t) = requests.as_mut().and_then(|r| r.next()) {
                            q.push(t, Ev::Request { index: index + 1 });
                        }
                        (0, index, now)
                    }
                    Ev::ChunkReady { stream, chunk } => {
                        let capture_start = wl.capture(stream, chunk, 0);
                        if capture_start >= duration {
                            continue;
                        }
                        q.push(
                            wl.chunk_ready(stream, chunk + 1),
                            Ev::ChunkReady {
                                stream,
                                chunk: chunk + 1,
                            },
                        );
                        if stream >= wl.active(r, capture_start) {
                            continue; // the stream is off the air
                        }
                        (stream, chunk, capture_start)
                    }
                    _ => unreachable!("matched above"),
                };
                frames_captured += frames as u64;
                executions += 1;
                let frame_bytes = cost.jpeg_bytes(work.rng.random::<f64>());
                let record = Exec {
                    stream,
                    chunk,
                    captured: capture_start,
                    started: now,
                    pending: n_det as u8,
                    map_end: 0,
                    map_start: 0,
                    frame_bytes,
                };
                let exec = match free_execs.pop() {
                    Some(i) => {
                        execs[i as usize] = record;
                        i
                    }
                    None => {
                        execs.push(record);
                        execs.len() as u32 - 1
                    }
                };
                match sfn.as_mut() {
                    Some(sm) => {
                        start_queue.push_back(exec);
                        if start_queue.len() == 1 {
                            let mut starter = Starter {
                                queue: &mut start_queue,
                                client: &client,
                                retries: &mut sfn_retries,
                            };
                            starter.try_starts(
                                sm, now, false, &mut gate, &mut rng, &mut q, &mut execs,
                            );
                        } else {
                            // Behind others the client already holds back: it would be
                            // refused too (counted as a refused StartExecution at the end).
                            start_waiting += 1;
                        }
                    }
                    None => q.push(
                        now,
                        Ev::TaskStart {
                            exec,
                            step: Step::Convert,
                            attempt: 1,
                        },
                    ),
                }
            }
            Ev::StartRetry => {
                let sm = sfn.as_mut().expect("StartRetry only with Step Functions");
                let mut starter = Starter {
                    queue: &mut start_queue,
                    client: &client,
                    retries: &mut sfn_retries,
                };
                starter.try_starts(sm, now, true, &mut gate, &mut rng, &mut q, &mut execs);
            }
            Ev::Grant => {
                let sm = sfn.as_mut().expect("Grant only with Step Functions");
                gate.grant(sm, now, &mut rng, &mut q, &mut execs);
            }
            Ev::RetryTransition {
                exec,
                step,
                attempt,
            } => {
                let sm = sfn
                    .as_mut()
                    .expect("RetryTransition only with Step Functions");
                gate.request(
                    sm,
                    now,
                    exec,
                    Next::Task(step, attempt),
                    &mut rng,
                    &mut q,
                    &mut execs,
                );
            }
            Ev::AsyncRetry { function } => {
                let queue = &mut async_queues[function as usize];
                while let Some(&(exec, step)) = queue.front() {
                    if let Some(sm) = sfn.as_mut() {
                        // A redrive re-runs the state: one billed transition, which
                        // needs a StateTransition token.
                        if !sm.take_transition(now, now) {
                            sm.note_transition_throttle();
                            let t = sm.next_transition_at(now).max(now + 1);
                            q.push(t, Ev::AsyncRetry { function });
                            break;
                        }
                    }
                    lambda_retries += 1;
                    let (f, _) = fn_of(step);
                    match handlers.invoke(
                        &mut lambda,
                        f,
                        now,
                        step,
                        &execs[exec as usize],
                        &mut s3,
                        &mut rng,
                        &mut work,
                    ) {
                        Ok(inv) => {
                            queue.pop_front();
                            last_end = last_end.max(inv.end);
                            after_invoke(step, exec, inv.end, &mut q, &mut execs);
                        }
                        Err(th) => {
                            q.push(
                                retry_time(now, &th, &client, 1, &mut rng),
                                Ev::AsyncRetry { function },
                            );
                            break;
                        }
                    }
                }
            }
            Ev::TaskStart {
                exec,
                step,
                attempt,
            } => {
                let (f, fi) = fn_of(step);
                if orch == Orchestration::Direct && !async_queues[fi].is_empty() {
                    // Held back behind invocations the service already refused: it
                    // would be refused too.
                    held_back += 1;
                    async_queues[fi].push_back((exec, step));
                    continue;
                }
                let outcome = handlers.invoke(
                    &mut lambda,
                    f,
                    now,
                    step,
                    &execs[exec as usize],
                    &mut s3,
                    &mut rng,
                    &mut work,
                );
                match outcome {
                    Ok(inv) => {
                        last_end = last_end.max(inv.end);
                        after_invoke(step, exec, inv.end, &mut q, &mut execs);
                    }
                    Err(th) => {
                        let asl_retry = matches!(orch, Orchestration::StepFunctions(_))
                            && attempt <= retrier.max_attempts;
                        if asl_retry {
                            // ASL Retry on Lambda.TooManyRequestsException; the retry's
                            // transition (billed) is asked for once the wait is over.
                            lambda_retries += 1;
                            q.push(
                                now + asl_interval(&retrier, attempt),
                                Ev::RetryTransition {
                                    exec,
                                    step,
                                    attempt: attempt + 1,
                                },
                            );
                        } else {
                            // Lambda's event queue (direct invokes), or a redrive once the
                            // ASL retries ran out: the task waits in line for room.
                            if async_queues[fi].is_empty() {
                                q.push(
                                    retry_time(now, &th, &client, 1, &mut rng),
                                    Ev::AsyncRetry { function: fi as u8 },
                                );
                            }
                            async_queues[fi].push_back((exec, step));
                        }
                    }
                }
            }
            Ev::ConvertDone { exec } => match sfn.as_mut() {
                Some(sm) => {
                    // The Map state, then one transition per iteration's Task.
                    gate.request(
                        sm,
                        now,
                        exec,
                        Next::Map { item: 0 },
                        &mut rng,
                        &mut q,
                        &mut execs,
                    );
                }
                None => {
                    for i in 0..n_det {
                        q.push(
                            now,
                            Ev::TaskStart {
                                exec,
                                step: Step::Detect(i as u8),
                                attempt: 1,
                            },
                        );
                    }
                }
            },
            Ev::AggregateDone { exec } => {
                let e = &execs[exec as usize];
                // Notification: frames with a defect, from capture to now.
                for i in 0..frames {
                    let g = e.chunk * frames as u64 + i as u64;
                    if wl.has_defect(g) {
                        notify_latency.record(now - item_capture(&wl, e, i));
                    }
                }
                if let Some(sm) = sfn.as_mut() {
                    sm.finish(e.started, now, true);
                }
                free_execs.push(exec);
            }
            Ev::MapDone { exec } => {
                let e = &execs[exec as usize];
                for i in 0..frames {
                    latency.record(now - item_capture(&wl, e, i));
                }
                for c in frames_by_detector.iter_mut() {
                    *c += frames as u64;
                }
                if let Some(rd) = real.as_mut() {
                    rd.chunk_done(e.stream, e.chunk);
                }
                match sfn.as_mut() {
                    Some(sm) => {
                        gate.request(
                            sm,
                            now,
                            exec,
                            Next::Task(Step::Aggregate, 1),
                            &mut rng,
                            &mut q,
                            &mut execs,
                        );
                    }
                    None => q.push(
                        now,
                        Ev::TaskStart {
                            exec,
                            step: Step::Aggregate,
                            attempt: 1,
                        },
                    ),
                }
            }
        }
    }

    // Meter, price, report.
    let mut usage = Usage {
        catalog: Some(catalog.id.clone()),
        ..Usage::default()
    };
    lambda.meter(&mut usage);
    if let Some(sm) = &sfn {
        sm.meter(&mut usage);
    }
    s3.meter(&mut usage);
    let bill = price(&usage, catalog);
    throttles.insert("lambda".into(), lambda.throttles() + held_back);
    let sfn_throttles = sfn.as_ref().map_or(0, |s| {
        s.stats().start_throttles + s.stats().transition_throttles
    });
    *throttles.entry("step_functions".into()).or_default() += sfn_throttles + start_waiting;
    *retries.get_mut("lambda").unwrap() += lambda_retries;
    *retries.get_mut("step_functions").unwrap() += sfn_retries;
    throttles.insert("s3".into(), work.s3_throttles);
    *retries.get_mut("s3").unwrap() += work.s3_retries;
    Ok(LayoutRun {
        name: spec.name.clone(),
        kind: super::of(spec).kind(),
        family: super::Family::Serverless,
        step_functions: matches!(orch, Orchestration::StepFunctions(_)),
        usage,
        bill,
        period_hours: duration as f64 / 3.6e12,
        stream_hours: wl.stream_hours(r),
        latency,
        notify_latency,
        throttles,
        retries,
        frames_captured,
        frames_by_detector: middle
            .iter()
            .zip(frames_by_detector)
            .map(|(st, n)| (st.name.clone(), n))
            .collect(),
        peak_lambda_concurrency: lambda.peak_concurrency(),
        peak_instances: 0,
        timeline: timeline.points,
        defects: real.map(|rd| rd.finish()).unwrap_or_default(),
        cpu_seconds_by_kernel: work.ledger.seconds(),
        executions,
        events: q.events_processed(),
        sim_end: last_end,
    })
}

/// Capture of item `i` of execution `e`: a stream's frame clock, or a request's
/// arrival.
fn item_capture(wl: &Workload, e: &Exec, i: u32) -> Time {
    match wl.arrivals {
        Some(_) => e.captured,
        None => wl.capture(e.stream, e.chunk, i),
    }
}

/// The client's StartExecution queue: requests wait in line; the head is tried and,
/// when refused, tried again after the client's backoff (not before the quota frees).
struct Starter<'a> {
    queue: &'a mut VecDeque<u32>,
    client: &'a RetryPolicy,
    retries: &'a mut u64,
}

impl Starter<'_> {
    /// Starts executions from the head of the line until one is refused; `retry`
    /// says whether the head has been tried before.
    #[allow(clippy::too_many_arguments)]
    fn try_starts(
        &mut self,
        sm: &mut Sfn,
        now: Time,
        mut retry: bool,
        gate: &mut Gate,
        rng: &mut Rng64,
        q: &mut EventQueue<Ev>,
        execs: &mut [Exec],
    ) {
        while let Some(&exec) = self.queue.front() {
            if retry {
                *self.retries += 1;
            }
            retry = true;
            match sm.start_execution(now) {
                Ok(_) => {
                    self.queue.pop_front();
                    execs[exec as usize].started = now;
                    gate.request(sm, now, exec, Next::Task(Step::Convert, 1), rng, q, execs);
                }
                Err(th) => {
                    q.push(retry_time(now, &th, self.client, 1, rng), Ev::StartRetry);
                    break;
                }
            }
        }
    }
}

/// ASL Retry wait before retry `n` (1 = the first).
fn asl_interval(r: &Retrier, n: u32) -> Time {
    let factor = r
        .backoff_rate
        .max(1.0)
        .powi(n.saturating_sub(1).min(30) as i32);
    (r.interval.0 as f64 * factor).min(3.6e12) as Time
}

/// When a refused request is tried again: the client's backoff, but not before the
/// service said the limit frees up.
fn retry_time(now: Time, th: &Throttled, client: &RetryPolicy, n: u32, rng: &mut Rng64) -> Time {
    let backoff = now + client.backoff(n, rng).max(1);
    match th.retry_after {
        Some(t) if t > backoff && t != Time::MAX => t,
        _ => backoff,
    }
}

/// What happens when an invocation has been admitted: the converter's end schedules
/// the Map; a detector's end counts down the Map.
fn after_invoke(step: Step, exec: u32, end: Time, q: &mut EventQueue<Ev>, execs: &mut [Exec]) {
    match step {
        Step::Convert => q.push(end, Ev::ConvertDone { exec }),
        Step::Detect(_) => {
            let e = &mut execs[exec as usize];
            e.pending -= 1;
            e.map_end = e.map_end.max(end);
            if e.pending == 0 {
                q.push(e.map_end, Ev::MapDone { exec });
            }
        }
        Step::Aggregate => q.push(end, Ev::AggregateDone { exec }),
    }
}

/// What every handler needs to know and never changes during a run.
struct Handlers<'a> {
    wl: &'a Workload,
    cost: &'a dyn crate::kernels::CostModel,
    pipeline: &'a Pipeline,
    /// The layout's `aggregate_cpu`, replacing the last stage's work.
    aggregate_cpu: Option<Time>,
    prefixes: &'a [PrefixId],
    client: &'a RetryPolicy,
}

/// What handlers change: the kernel-cost random stream, CPU by kernel, S3 counters.
struct Work {
    rng: Rng64,
    ledger: CpuLedger,
    s3_retries: u64,
    s3_throttles: u64,
}

impl Handlers<'_> {
    /// Invokes the function of `step` for execution `e` at `now`: its CPU drawn from
    /// the cost model, its S3 requests made from the handler's start.
    #[allow(clippy::too_many_arguments)]
    fn invoke(
        &self,
        lambda: &mut LambdaAccount,
        f: LambdaFn,
        now: Time,
        step: Step,
        e: &Exec,
        s3: &mut S3Bucket,
        rng: &mut Rng64,
        work: &mut Work,
    ) -> Result<crate::cloud::Invocation, Throttled> {
        let stage = match step {
            Step::Convert => 0,
            Step::Detect(i) => 1 + i as usize,
            Step::Aggregate => self.pipeline.stages.len() - 1,
        };
        let body = Body::new(
            self.pipeline,
            stage,
            self.wl.frames_per_chunk,
            e.frame_bytes,
            self.cost,
            self.aggregate_cpu,
            &mut work.rng,
            &mut work.ledger,
        );
        let prefix = self.prefixes[e.stream as usize];
        lambda.invoke_with(f, now, rng, |start, speed, _| {
            body.run(
                start,
                speed,
                s3,
                prefix,
                self.client,
                &mut work.rng,
                &mut work.s3_retries,
                &mut work.s3_throttles,
            )
        })
    }
}

/// The work of one handler: CPU drawn from the cost model, and S3 requests.
struct Body {
    cpu_ns: u64,
    puts: u32,
    put_bytes: u64,
    gets: u32,
    get_bytes: u64,
}

impl Body {
    /// The handler of `stage` for a batch of `items`: it GETs and deserializes each
    /// item of every input handed on through S3, does its work, then serializes and
    /// PUTs each item of its output if that goes through S3. `frame_bytes` is the
    /// size of this batch's JPEG frames; `cpu_override` replaces a per-batch stage's
    /// work (the layout's `aggregate_cpu`).
    #[allow(clippy::too_many_arguments)]
    fn new(
        pipeline: &Pipeline,
        stage: usize,
        items: u32,
        frame_bytes: u64,
        cost: &dyn crate::kernels::CostModel,
        cpu_override: Option<Time>,
        rng: &mut Rng64,
        ledger: &mut CpuLedger,
    ) -> Body {
        let n = items as f64;
        let st = &pipeline.stages[stage];
        let bytes_of = |s: &Stage| match s.output {
            OutputBytes::Fixed(b) => b,
            OutputBytes::JpegFrame => frame_bytes,
        };
        let mut body = Body {
            cpu_ns: 0,
            puts: 0,
            put_bytes: bytes_of(st),
            gets: 0,
            get_bytes: 0,
        };
        for &i in &st.after {
            let input = &pipeline.stages[i];
            if input.writes_objects() {
                body.gets += items;
                body.get_bytes = bytes_of(input);
                body.cpu_ns += work_ns(cost, &input.deserialize, n, rng, ledger);
            }
        }
        body.cpu_ns += match (st.per, cpu_override) {
            (Per::Batch, Some(cpu)) => cpu,
            (Per::Batch, None) => work_ns(cost, &st.work, 1.0, rng, ledger),
            (Per::Item, _) => work_ns(cost, &st.work, n, rng, ledger),
        };
        if st.writes_objects() {
            body.puts = items;
            body.cpu_ns += work_ns(cost, &st.serialize, n, rng, ledger);
        }
        body
    }

    /// Runs from `start` at `speed` cores: GETs, CPU, PUTs; returns the end.
    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        start: Time,
        speed: f64,
        s3: &mut S3Bucket,
        prefix: PrefixId,
        client: &RetryPolicy,
        rng: &mut Rng64,
        retries: &mut u64,
        throttles: &mut u64,
    ) -> Time {
        let mut t = start;
        t = s3_until_ok(
            S3Op::Get,
            t,
            self.gets,
            self.get_bytes,
            s3,
            prefix,
            rng,
            client,
            retries,
            throttles,
        );
        t = t.saturating_add(crate::cloud::lambda::cpu_time(self.cpu_ns, speed));
        s3_until_ok(
            S3Op::Put,
            t,
            self.puts,
            self.put_bytes,
            s3,
            prefix,
            rng,
            client,
            retries,
            throttles,
        )
    }
}

/// `n` S3 requests one after another, each refused one retried with the client's
/// backoff until it succeeds (a frame is never dropped); counts retries and Slow
/// Downs. Returns when the last is done.
#[allow(clippy::too_many_arguments)]
fn s3_until_ok(
    op: S3Op,
    mut t: Time,
    mut n: u32,
    bytes: u64,
    s3: &mut S3Bucket,
    prefix: PrefixId,
    rng: &mut Rng64,
    client: &RetryPolicy,
    retries: &mut u64,
    throttles: &mut u64,
) -> Time {
    let mut refusals = 0;
    while n > 0 {
        match s3.sequential_at(op, t, prefix, bytes, n, rng) {
            Ok(done) => return done,
            Err((went, done, _)) => {
                n -= went;
                refusals += 1;
                *throttles += 1;
                *retries += 1;
                t = done.saturating_add(client.backoff(refusals, rng).max(1));
            }
        }
    }
    t
}
