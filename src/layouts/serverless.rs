//! The serverless pipeline shared by the distributed, express and lambda-direct
//! layouts: per stream, one run per chunk — a converter Lambda decodes the chunk and
//! PUTs each analysed frame as a JPEG to S3, one detector Lambda per detector GETs the
//! frames and analyses them, a last step aggregates and notifies. What differs is the
//! orchestration: Step Functions Standard, Express, or none (Lambdas invoke each other).
//!
//! Events are processed in time order and every service model is called at the
//! event's time, so quotas, throttles and cold starts play out as they would.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use rand::Rng;

use super::common::{work_ns, CpuLedger, Progress, RealDetectors, Timeline, Workload};
use super::{CheckContext, Gate, GateWaits, ItemCounts, LayoutRun, RunContext};
use crate::cloud::asl;
use crate::cloud::lambda::AccountConfig;
use crate::cloud::s3::PrefixId;
use crate::cloud::{
    Assumption, LambdaAccount, LambdaConfig, LambdaFn, Retrier, RetryPolicy, S3Bucket, S3Op, Sfn,
    Throttled,
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

/// An execution record: its index and the generation it was allocated in, so an
/// event for an execution that has ended (stopped, timed out, dropped) and whose
/// record was reused is recognised and ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct X {
    i: u32,
    gen: u32,
}

#[derive(Debug, Clone, Copy)]
enum Ev {
    /// Chunk `chunk` of `stream` has been captured.
    ChunkReady { stream: u32, chunk: u64 },
    /// Request `index` arrives: a job of one item, one execution.
    Request { index: u64 },
    /// The client retries the StartExecution requests waiting in its queue.
    StartRetry,
    /// A Lambda function queue (one per stage) retries its waiting invocations.
    AsyncRetry { function: u8 },
    /// A stage's Lambda invocation is due (`cursor`: the interpreter's cursor that
    /// asked for it, or [`NO_CURSOR`] without Step Functions).
    TaskStart { x: X, stage: u8, cursor: u32 },
    /// An `aws-sdk:s3` Task is due.
    S3Task { x: X, cursor: u32, put: bool },
    /// A Task finished: its result goes back to the interpreter.
    TaskDone { x: X, cursor: u32 },
    /// Without Step Functions: a stage's function returned; its readers may start.
    StageDone { x: X, stage: u8 },
    /// A state transition was granted (and its latency has passed).
    Granted { x: X, cursor: u32 },
    /// A Wait state or an ASL retry interval has elapsed.
    Waited { x: X, cursor: u32 },
    /// StateTransition tokens are there for the transitions waiting at the gate.
    Grant,
    /// Timeline sample.
    Tick,
}

/// Laid out for the cache: the fields nearly every event reads (the generation
/// check, the Express deadline, the interpreter) side by side at the start, so an
/// event for an execution last touched seconds ago loads fewer lines of it (the
/// overloaded layouts keep tens of thousands of executions in flight, and their
/// events are bound by memory). Not aligned to a line: an over-aligned `Vec` grows
/// by copying, which doubled lambda-direct's peak RSS.
#[repr(C)]
struct Exec {
    gen: u32,
    stream: u32,
    /// When StartExecution succeeded (Step Functions), else `ready`.
    started: Time,
    /// The execution in the ASL interpreter (Step Functions layouts).
    asl: Option<asl::Execution>,
    /// Bytes of each of the chunk's JPEG frames: what the converter PUTs and every
    /// detector GETs.
    frame_bytes: u64,
    chunk: u64,
    /// When the chunk's items were all there (the client's request time).
    ready: Time,
    /// StartExecution succeeded: the execution exists, and ends failed if it is
    /// dropped (even before its first state was entered).
    start_ok: bool,
    /// Without Step Functions: inputs each stage still waits for, and the sinks
    /// (stages nobody reads) still to finish.
    inputs_left: Vec<u8>,
    /// Per stage, the longest the chunk waited in line for a quota (to start, and in
    /// Lambda's queues) on any path to the stage: what an overload deadline `per =
    /// "item"` bounds.
    waited: Vec<Time>,
    sinks_left: u8,
    /// When the last counted stage (the analysis) finished on this chunk.
    item_end: Time,
}

/// The execution records: ended ones are reused, under a new generation.
#[derive(Default)]
struct Execs {
    recs: Vec<Exec>,
    free: Vec<u32>,
}

impl Execs {
    fn alloc(&mut self, mut e: Exec) -> X {
        match self.free.pop() {
            Some(i) => {
                let slot = &mut self.recs[i as usize];
                e.gen = slot.gen;
                // Keep the vectors' room for the next execution.
                let mut inputs = std::mem::take(&mut slot.inputs_left);
                inputs.clear();
                inputs.extend_from_slice(&e.inputs_left);
                e.inputs_left = inputs;
                let mut waited = std::mem::take(&mut slot.waited);
                waited.clear();
                waited.resize(e.inputs_left.len(), 0);
                e.waited = waited;
                *slot = e;
                X { i, gen: slot.gen }
            }
            None => {
                e.gen = 0;
                e.waited = vec![0; e.inputs_left.len()];
                self.recs.push(e);
                X {
                    i: self.recs.len() as u32 - 1,
                    gen: 0,
                }
            }
        }
    }

    /// The record of `x`, if its execution is still going.
    fn get(&mut self, x: X) -> Option<&mut Exec> {
        self.recs.get_mut(x.i as usize).filter(|e| e.gen == x.gen)
    }

    fn peek(&self, x: X) -> Option<&Exec> {
        self.recs.get(x.i as usize).filter(|e| e.gen == x.gen)
    }

    fn live(&self, x: X) -> bool {
        self.peek(x).is_some()
    }

    /// Ends `x`: later events for it are ignored, its record is reused.
    fn free(&mut self, x: X) {
        if let Some(e) = self.get(x) {
            e.gen = e.gen.wrapping_add(1);
            e.asl = None;
            self.free.push(x.i);
        }
    }
}

/// What became of each item (frame) offered: analysed within the period, finished
/// after it (late), or never started within the overload deadline / failed
/// (dropped); latency percentiles over the served ones.
struct Outcomes {
    latency: Histogram,
    notify_latency: Histogram,
    items: ItemCounts,
}

impl Outcomes {
    /// Chunk `e` was served: analysed by `e.item_end` (or `end`), notified at `end`.
    fn served(&mut self, e: &Exec, end: Time, wl: &Workload, duration: Time) {
        let analysed = if e.item_end > 0 { e.item_end } else { end };
        let frames = wl.frames_per_chunk;
        for i in 0..frames {
            let captured = wl.item_capture(e.stream, e.chunk, i, e.ready);
            self.latency.record(analysed - captured);
            if wl.has_defect(e.chunk * frames as u64 + i as u64) {
                self.notify_latency.record(end - captured);
            }
        }
        self.items
            .record(frames as u64, Some((e.started, analysed)), duration);
    }
}

/// The cursor of a Task started without Step Functions.
const NO_CURSOR: u32 = u32::MAX;

/// How long a handler takes to see that a chunk is past its deadline and return
/// (`overload.per = "item"`): it reads the event's capture time, nothing else; billed
/// as Lambda's minimum of 1 ms. Assumption (U).
const STALE_CHECK: Time = crate::sim::NS_PER_SEC / 1_000;

/// Express executions end after 5 minutes (`States.Timeout`): AWS's maximum.
const EXPRESS_MAX: Time = 300 * crate::sim::NS_PER_SEC;

/// What a transition starts: the state the interpreter's cursor asked to enter.
#[derive(Debug, Clone, Copy)]
struct Next(u32);

/// Transitions of one execution waiting for StateTransition tokens, requested
/// together at `requested`. `deadline`: for an execution's first state, when the
/// client stops waiting for it (its items would not start in time: dropped).
struct Waiter {
    x: X,
    next: Next,
    requested: Time,
    deadline: Time,
}

/// The cursor of a first state's transition, asked for before the interpreter
/// holds any state for the execution (its JSON is made once the state is entered).
const FIRST_STATE: u32 = u32::MAX - 1;

/// How far ahead one `Grant` hands out the tokens the bucket will have (each waiter
/// still gets its token at the exact time it is there): an engine setting that
/// trades a few more pending events for fewer grant events, not a model assumption.
const GRANT_HORIZON: Time = 10_000_000; // 10 ms

/// Transitions waiting for StateTransition tokens: those of executions already
/// running first, then the first states of new ones, each first come first served.
/// (How Step Functions orders throttled transitions is not documented; serving
/// running executions first keeps a backlog at the door, where the overload policy
/// can drop it, instead of slowing every execution in flight.) The event queue holds
/// one `Grant` at the bucket's next token instead of one event per waiting
/// transition, so it stays small however long the backlog grows. The transition
/// latency is drawn when a transition gets its token.
struct TransitionGate {
    running: VecDeque<Waiter>,
    starting: VecDeque<Waiter>,
    grant_pending: bool,
    /// Transitions that waited, and how long in all (ns).
    waits: u64,
    wait_ns: u128,
}

impl TransitionGate {
    fn new() -> TransitionGate {
        TransitionGate {
            running: VecDeque::new(),
            starting: VecDeque::new(),
            grant_pending: false,
            waits: 0,
            wait_ns: 0,
        }
    }

    /// A transition of `x` requested at `now` (`first`: an execution's first state):
    /// it starts now if a token is there and nobody it yields to waits, else it
    /// waits its turn (counted as a throttle).
    #[allow(clippy::too_many_arguments)]
    fn request(
        &mut self,
        sm: &mut Sfn,
        now: Time,
        x: X,
        next: Next,
        first: Option<Time>,
        rng: &mut Rng64,
        q: &mut EventQueue<Ev>,
    ) {
        let clear = self.running.is_empty() && (first.is_none() || self.starting.is_empty());
        if clear && sm.take_transition(now, now) {
            let lat = sm.transition_latency(rng);
            fire(now, x, next, lat, q);
            return;
        }
        sm.note_transition_throttle();
        let w = Waiter {
            x,
            next,
            requested: now,
            deadline: first.unwrap_or(Time::MAX),
        };
        match first {
            Some(_) => self.starting.push_back(w),
            None => self.running.push_back(w),
        }
        self.schedule(sm, now, q);
    }

    /// Starts the waiting transitions a token is there for at `now`, in order;
    /// first states past their deadline leave the line without a token (their
    /// executions are appended to `expired`), as do those of ended executions.
    fn grant(
        &mut self,
        sm: &mut Sfn,
        now: Time,
        execs: &Execs,
        expired: &mut Vec<X>,
        rng: &mut Rng64,
        q: &mut EventQueue<Ev>,
    ) {
        self.grant_pending = false;
        let horizon = now.saturating_add(GRANT_HORIZON);
        loop {
            let line = if self.running.is_empty() {
                &mut self.starting
            } else {
                &mut self.running
            };
            let Some(w) = line.front() else { break };
            if !execs.live(w.x) {
                line.pop_front();
                continue;
            }
            if w.deadline < now {
                self.waits += 1;
                self.wait_ns += now.saturating_sub(w.requested) as u128;
                expired.push(w.x);
                line.pop_front();
                continue;
            }
            let Some(t) = sm.take_transition_by(w.requested, now, horizon) else {
                break;
            };
            let (x, next) = (w.x, w.next);
            self.waits += 1;
            self.wait_ns += t.saturating_sub(w.requested) as u128;
            let lat = sm.transition_latency(rng);
            fire(t, x, next, lat, q);
            line.pop_front();
        }
        self.schedule(sm, now, q);
    }

    fn schedule(&mut self, sm: &Sfn, now: Time, q: &mut EventQueue<Ev>) {
        if self.grant_pending || (self.running.is_empty() && self.starting.is_empty()) {
            return;
        }
        let t = sm.next_transition_at(now);
        if t != Time::MAX {
            q.push(t, Ev::Grant);
            self.grant_pending = true;
        }
    }
}

/// A transition granted at `t`: its state starts after the transition latency `lat`.
fn fire(t: Time, x: X, next: Next, lat: Time, q: &mut EventQueue<Ev>) {
    q.push(t.saturating_add(lat), Ev::Granted { x, cursor: next.0 });
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
    "state_machine",
    "choice_weights",
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
    /// Step Functions drops an execution that did not start in time, and nothing
    /// after; without it each stage's Lambda event queue drops an old event.
    fn drop_points(&self, pipeline: &crate::scenario::pipeline::Pipeline) -> u32 {
        match self.orchestration {
            Orchestration::Direct => pipeline.depth().max(1),
            Orchestration::StepFunctions(_) => 1,
        }
    }
    fn lifts_quotas(&self) -> bool {
        true
    }
    fn sections(&self) -> &'static [&'static str] {
        if self.uses_step_functions() {
            SECTIONS
        } else {
            &SECTIONS[..SECTIONS.len() - 4]
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
    out.extend(super::common::s3_assumptions(spec));
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
    let n_stages = pipeline.stages.len();
    // The stages whose work is the analysis: counted per item, and where an item's
    // latency ends.
    let counted = pipeline.counted_stages();
    let frames = wl.frames_per_chunk;
    let seed = r.scenario.seed;
    let overload = ctx.overload(spec);
    let drop_after = overload.deadline();
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
    // The account's concurrency: the layout's own limit, else the scenario's quota;
    // lifted when the run carries the load with quotas raised.
    let account_cfg = AccountConfig {
        concurrency_limit: if ctx.quotas_raised {
            Some(u32::MAX / 2)
        } else {
            account_spec.concurrency_limit.or(ctx
                .quota(Gate::LambdaConcurrency)
                .map(|n| n.min(u32::MAX as u64) as u32))
        },
        scaling: account_spec
            .scaling
            .unwrap_or_else(|| r.scenario.quota_era.into()),
        date: r.billing_date.clone(),
    };
    let mut lambda = LambdaAccount::new(catalog, &account_cfg);
    // One function per stage: the first takes the `converter` settings, the last the
    // `aggregator`'s, those between the `detector`'s.
    let mut functions: Vec<LambdaFn> = Vec::with_capacity(n_stages);
    for (i, st) in pipeline.stages.iter().enumerate() {
        let (role, section, name) = if i == 0 {
            (Role::Converter, &spec.converter, "converter".to_string())
        } else if i == n_stages - 1 {
            (Role::Aggregator, &spec.aggregator, "aggregator".to_string())
        } else {
            (
                Role::Detector,
                &spec.detector,
                format!("detector-{}", st.name),
            )
        };
        let mut cfg = section
            .as_ref()
            .map(|s| s.get_ref().clone())
            .unwrap_or_else(|| default_function(role));
        cfg.name = format!("{}-{name}", spec.name);
        functions.push(lambda.add_function(cfg).map_err(input_err)?);
    }
    for (&f, &n) in functions.iter().zip(ctx.lambda_scaled_to) {
        lambda.scaled_to(f, n);
    }
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
    let sources_of_work = wl.max_streams().max(u32::from(wl.arrivals.is_some()));
    let prefixes: Vec<PrefixId> = (0..sources_of_work)
        .map(|s| {
            if shared_prefix {
                s3.prefix("frames/", 0)
            } else {
                s3.prefix(&format!("frames/stream-{s}/"), 0)
            }
        })
        .collect();
    let express = orch == Orchestration::StepFunctions(Workflow::Express);
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
            let mut sm = Sfn::new(catalog, cfg).map_err(input_err)?;
            if workflow == Workflow::Standard {
                sm.set_quotas(
                    ctx.quota(Gate::StartExecution),
                    ctx.quota(Gate::StateTransitions),
                );
            } else if ctx.quotas_raised {
                sm.set_quotas(None, None);
            }
            Some(sm)
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
    // The state machine the interpreter runs: the scenario's ASL file, or the one the
    // pipeline's shape implies.
    let mut driver = match orch {
        Orchestration::StepFunctions(_) => Some(Driver {
            machine: match r.machines.get(&spec.name) {
                Some(m) => m.clone(),
                None => std::sync::Arc::new(
                    default_machine(pipeline, &retrier)
                        .map_err(|e| input_err(format!("the built-in state machine: {e}")))?,
                ),
            },
            pipeline,
            choices: spec
                .choice_weights
                .as_ref()
                .map(|w| w.get_ref().clone())
                .unwrap_or_default(),
            drop_after,
            actions: Vec::new(),
            first_entered: 0,
            chunk_key: "chunk".into(),
            stream_key: "stream".into(),
        }),
        Orchestration::Direct => None,
    };
    // Without Step Functions a chunk runs the stages' graph: each stage once all it
    // reads from are done.
    let inputs_of: Vec<u8> = pipeline
        .stages
        .iter()
        .map(|s| s.after.len() as u8)
        .collect();
    let sources: Vec<u8> = (0..n_stages)
        .filter(|&i| pipeline.stages[i].after.is_empty())
        .map(|i| i as u8)
        .collect();
    let readers: Vec<Vec<u8>> = (0..n_stages)
        .map(|i| pipeline.readers(i).map(|j| j as u8).collect())
        .collect();
    let n_sinks = readers.iter().filter(|r| r.is_empty()).count() as u8;

    // Random streams: one for service draws, one for kernel costs.
    let mut rng = rng_stream(seed, &spec.name, 0);

    // State.
    let duration = wl.duration;
    let mut q: EventQueue<Ev> = EventQueue::new();
    let mut requests = wl.requests();
    if let Some(t) = requests.as_mut().and_then(|a| a.next()) {
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
    let mut execs = Execs::default();
    let mut start_queue: VecDeque<X> = VecDeque::new();
    let mut gate = TransitionGate::new();
    let mut expired: Vec<X> = Vec::new();
    // Each stage's function queue: (execution, stage, cursor, when it was queued).
    let mut async_queues: Vec<VecDeque<(X, u8, u32, Time)>> = vec![VecDeque::new(); n_stages];
    let mut real = ctx
        .real
        .map(|s| RealDetectors::new(s, wl.max_streams(), detectors, frames));
    let mut out = Outcomes {
        latency: Histogram::new(),
        notify_latency: Histogram::new(),
        items: ItemCounts::default(),
    };
    let mut throttles: BTreeMap<String, u64> = BTreeMap::new();
    let mut retries: BTreeMap<String, u64> = ["lambda", "step_functions", "s3"]
        .iter()
        .map(|s| (s.to_string(), 0))
        .collect();
    let mut frames_captured = 0u64;
    let mut frames_by_stage = vec![0u64; n_stages];
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
    // How long StartExecution requests and queued invocations waited, ns.
    let mut start_wait_ns = 0u128;
    let mut lambda_wait_ns = 0u128;
    let mut lambda_retries = 0u64;
    let mut sfn_retries = 0u64;

    // Ends execution `x` without serving its chunk: its items are dropped; a Step
    // Functions execution that had started is stopped (or timed out, `end`).
    macro_rules! drop_exec {
        ($x:expr, $end:expr) => {{
            let x: X = $x;
            if let Some(e) = execs.get(x) {
                out.items.record(frames as u64, None, duration);
                if let (Some(sm), true) = (sfn.as_mut(), e.start_ok) {
                    sm.finish(e.started, $end, false);
                }
                if let Some(rd) = real.as_mut() {
                    rd.chunk_skipped(e.stream, e.chunk);
                }
                execs.free(x);
            }
        }};
    }
    // Ends execution `x` having served its chunk at `now`.
    macro_rules! serve_exec {
        ($x:expr, $now:expr) => {{
            let (x, now): (X, Time) = ($x, $now);
            if let Some(e) = execs.get(x) {
                out.served(e, now, &wl, duration);
                if let Some(rd) = real.as_mut() {
                    rd.chunk_done(e.stream, e.chunk);
                }
                execs.free(x);
            }
        }};
    }
    // Runs what the interpreter asks of `x` now; ends the execution if it is done.
    macro_rules! drive {
        ($x:expr, $now:expr) => {{
            let (x, now): (X, Time) = ($x, $now);
            let sm = sfn
                .as_mut()
                .expect("the interpreter runs with Step Functions");
            let d = driver.as_mut().expect("Step Functions layouts drive ASL");
            match d
                .drive(x, now, sm, &mut gate, &mut rng, &mut q, &mut execs)
                .map_err(input_err)?
            {
                Some(true) => serve_exec!(x, now),
                Some(false) => drop_exec!(x, now),
                None => {}
            }
        }};
    }
    // Starts the executions the client's queue lets through now.
    macro_rules! try_starts {
        ($retry:expr, $now:expr) => {{
            let now: Time = $now;
            let sm = sfn
                .as_mut()
                .expect("StartExecution only with Step Functions");
            let mut starter = Starter {
                queue: &mut start_queue,
                client: &client,
                retries: &mut sfn_retries,
                drop_after,
            };
            let (started, late) = starter.try_starts(sm, now, $retry, &mut rng, &mut q, &execs);
            for x in late {
                drop_exec!(x, now);
            }
            for x in started {
                if let Some(e) = execs.get(x) {
                    e.started = now;
                    e.start_ok = true;
                    start_wait_ns += now.saturating_sub(e.ready) as u128;
                }
                let sm = sfn.as_mut().expect("Step Functions");
                driver
                    .as_ref()
                    .expect("Step Functions layouts drive ASL")
                    .start(x, now, sm, &mut gate, &mut rng, &mut q, &mut execs);
            }
        }};
    }

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
                if ctx.probe_answered(&timeline) {
                    break;
                }
                if !q.is_empty() {
                    q.push(now + timeline.every, Ev::Tick);
                }
            }
            Ev::ChunkReady { .. } | Ev::Request { .. } => {
                let Some((stream, chunk)) = arrival(ev, &wl, r, &mut requests, &mut q) else {
                    continue;
                };
                frames_captured += frames as u64;
                executions += 1;
                let frame_bytes = cost.jpeg_bytes(work.rng.random::<f64>());
                let x = execs.alloc(Exec {
                    gen: 0,
                    stream,
                    chunk,
                    ready: now,
                    started: now,
                    start_ok: false,
                    inputs_left: inputs_of.clone(),
                    waited: Vec::new(),
                    sinks_left: n_sinks,
                    item_end: 0,
                    frame_bytes,
                    asl: None,
                });
                if sfn.is_some() {
                    start_queue.push_back(x);
                    if start_queue.len() == 1 {
                        try_starts!(false, now);
                    } else {
                        // Behind others the client already holds back: it would be
                        // refused too (counted as a refused StartExecution at the end).
                        start_waiting += 1;
                    }
                } else {
                    for &stage in &sources {
                        q.push(
                            now,
                            Ev::TaskStart {
                                x,
                                stage,
                                cursor: NO_CURSOR,
                            },
                        );
                    }
                }
            }
            Ev::StartRetry => try_starts!(true, now),
            Ev::Grant => {
                let sm = sfn.as_mut().expect("Grant only with Step Functions");
                gate.grant(sm, now, &execs, &mut expired, &mut rng, &mut q);
                for x in std::mem::take(&mut expired) {
                    drop_exec!(x, now);
                }
            }
            Ev::Granted { x, cursor } | Ev::Waited { x, cursor } | Ev::TaskDone { x, cursor } => {
                let Some(e) = execs.get(x) else { continue };
                if express && now > e.started + EXPRESS_MAX {
                    // Express's maximum duration: the execution fails with
                    // States.Timeout at 5 minutes, however long its tasks still run.
                    let end = e.started + EXPRESS_MAX;
                    drop_exec!(x, end);
                    continue;
                }
                if cursor == FIRST_STATE {
                    // What the chunk waited to start (the StartExecution line and
                    // the first state's transition) is on every path through it.
                    let to_start = now.saturating_sub(e.ready);
                    e.waited.fill(to_start);
                    driver
                        .as_mut()
                        .expect("Step Functions layouts drive ASL")
                        .enter_first(x, &mut execs)
                        .map_err(input_err)?;
                    drive!(x, now);
                    continue;
                }
                let e = execs.get(x).expect("checked above");
                let ax = e.asl.as_mut().expect("an execution in flight");
                match ev {
                    Ev::Granted { .. } => ax.granted(cursor),
                    Ev::Waited { .. } => ax.waited(cursor),
                    _ => {
                        // A simulated task returns what it was given.
                        let input = ax.take_task_input(cursor);
                        ax.task_done(cursor, Ok(function_result(input)));
                    }
                }
                drive!(x, now);
            }
            Ev::S3Task { x, cursor, put } => {
                let Some(e) = execs.get(x) else { continue };
                let prefix = prefixes[e.stream as usize];
                let op = if put { S3Op::Put } else { S3Op::Get };
                let done = s3_until_ok(
                    op,
                    now,
                    1,
                    0,
                    &mut s3,
                    prefix,
                    &mut work.rng,
                    &client,
                    &mut work.s3_retries,
                    &mut work.s3_throttles,
                );
                q.push(done, Ev::TaskDone { x, cursor });
            }
            Ev::AsyncRetry { function } => {
                let fi = function as usize;
                while let Some(&(x, stage, cursor, queued)) = async_queues[fi].front() {
                    let Some(e) = execs.get(x) else {
                        async_queues[fi].pop_front();
                        continue;
                    };
                    // Past the deadline in this queue: Lambda discards the event
                    // unrun (MaximumEventAgeInSeconds set to the deadline). Per item,
                    // past it with the chunk's waits before on this path: the
                    // function runs and its handler skips the stale chunk.
                    let too_old = !overload.may_start(queued, now);
                    let stale = !overload.may_start_after(e.waited[fi], queued, now);
                    let timed_out = express && now > e.started + EXPRESS_MAX;
                    if too_old || timed_out {
                        async_queues[fi].pop_front();
                        if timed_out {
                            let end = e.started + EXPRESS_MAX;
                            drop_exec!(x, end);
                        } else {
                            drop_exec!(x, now);
                        }
                        continue;
                    }
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
                    if stale {
                        match lambda.invoke_with(functions[fi], now, &mut rng, |start, _, _| {
                            start + STALE_CHECK
                        }) {
                            Ok(inv) => {
                                async_queues[fi].pop_front();
                                last_end = last_end.max(inv.end);
                                drop_exec!(x, inv.end);
                                continue;
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
                    let e = execs.get(x).expect("checked above");
                    match handlers.invoke(
                        &mut lambda,
                        functions[fi],
                        now,
                        stage as usize,
                        e,
                        &mut s3,
                        &mut rng,
                        &mut work,
                    ) {
                        Ok(inv) => {
                            async_queues[fi].pop_front();
                            lambda_wait_ns += now.saturating_sub(queued) as u128;
                            last_end = last_end.max(inv.end);
                            if let Some(e) = execs.get(x) {
                                e.waited[fi] += now.saturating_sub(queued);
                            }
                            after_invoke(
                                stage,
                                x,
                                inv.end,
                                cursor,
                                &counted,
                                &readers,
                                frames,
                                &mut frames_by_stage,
                                &mut q,
                                &mut execs,
                            );
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
            Ev::TaskStart { x, stage, cursor } => {
                let fi = stage as usize;
                let Some(e) = execs.get(x) else { continue };
                if orch == Orchestration::Direct && !async_queues[fi].is_empty() {
                    // Held back behind invocations the service already refused: it
                    // would be refused too.
                    held_back += 1;
                    async_queues[fi].push_back((x, stage, cursor, now));
                    continue;
                }
                let outcome = handlers.invoke(
                    &mut lambda,
                    functions[fi],
                    now,
                    fi,
                    e,
                    &mut s3,
                    &mut rng,
                    &mut work,
                );
                match outcome {
                    Ok(inv) => {
                        last_end = last_end.max(inv.end);
                        after_invoke(
                            stage,
                            x,
                            inv.end,
                            cursor,
                            &counted,
                            &readers,
                            frames,
                            &mut frames_by_stage,
                            &mut q,
                            &mut execs,
                        );
                    }
                    Err(th) => {
                        let asl_retry = cursor != NO_CURSOR
                            && execs
                                .get(x)
                                .and_then(|e| e.asl.as_ref())
                                .is_some_and(|a| a.can_retry(cursor, TOO_MANY_REQUESTS));
                        if asl_retry {
                            // The state's Retry: the interpreter waits its interval,
                            // then asks for the retry's (billed) transition.
                            lambda_retries += 1;
                            let a = execs
                                .get(x)
                                .and_then(|e| e.asl.as_mut())
                                .expect("in flight");
                            a.task_done(
                                cursor,
                                Err(asl::TaskError::new(TOO_MANY_REQUESTS, "Rate Exceeded.")),
                            );
                            drive!(x, now);
                        } else {
                            // Lambda's event queue (direct invokes), or a redrive once the
                            // ASL retries ran out: the task waits in line for room.
                            if async_queues[fi].is_empty() {
                                q.push(
                                    retry_time(now, &th, &client, 1, &mut rng),
                                    Ev::AsyncRetry { function: stage },
                                );
                            }
                            async_queues[fi].push_back((x, stage, cursor, now));
                        }
                    }
                }
            }
            Ev::StageDone { x, stage } => {
                let Some(e) = execs.get(x) else { continue };
                for &j in &readers[stage as usize] {
                    let left = &mut e.inputs_left[j as usize];
                    *left -= 1;
                    if *left == 0 {
                        q.push(
                            now,
                            Ev::TaskStart {
                                x,
                                stage: j,
                                cursor: NO_CURSOR,
                            },
                        );
                    }
                }
                if readers[stage as usize].is_empty() {
                    e.sinks_left -= 1;
                    if e.sinks_left == 0 {
                        serve_exec!(x, now);
                    }
                }
            }
        }
    }

    // What each gate held back: refusals and waits.
    let mut gate_waits = GateWaits::default();
    let st = sfn.as_ref().map(|s| s.stats());
    // What each quota carries at most, in items a second: the narrowest of those
    // that held work back binds (several can wait at once: a StartExecution backlog
    // builds in front of a narrower transition quota).
    let items_per_exec = frames as f64;
    if let Some(sm) = sfn.as_ref() {
        let entered = driver.as_ref().map_or(0, |d| d.first_entered).max(1) as f64;
        let per_exec = sm.stats().transitions as f64 / entered;
        let (start_rate, transition_rate) = sm.executions_per_s(per_exec);
        gate_waits.set_capacity(Gate::StartExecution, start_rate * items_per_exec);
        if let Some(t) = transition_rate {
            gate_waits.set_capacity(Gate::StateTransitions, t * items_per_exec);
        }
    }
    // Lambda: the concurrency quota over the function-seconds one chunk takes.
    let chains = sources
        .first()
        .map_or(0, |&s| lambda.stats(functions[s as usize]).invocations);
    let function_s: f64 = lambda
        .functions()
        .map(|f| lambda.stats(f).billed_ms as f64 / 1e3)
        .sum();
    if chains > 0 && function_s > 0.0 {
        let per_exec_s = function_s / chains as f64;
        gate_waits.set_capacity(
            Gate::LambdaConcurrency,
            lambda.concurrency_limit() as f64 / per_exec_s * items_per_exec,
        );
    }
    gate_waits.add_many(
        Gate::StartExecution,
        st.map_or(0, |s| s.start_throttles) + start_waiting,
        start_wait_ns,
    );
    gate_waits.add_many(
        Gate::StateTransitions,
        st.map_or(0, |s| s.transition_throttles),
        gate.wait_ns,
    );
    // Lambda's refusals by cause: its concurrency limit or its scaling rule (no new
    // execution environment yet: a cold start's ramp, which raising the quota does
    // not lift). Invocations held back behind a refused one, and their waits, are
    // shared out in proportion, as the queue does not say which refusal held them.
    let (throttled, by_scaling) = (lambda.throttles(), lambda.scaling_throttles());
    let scaling_share = if throttled > 0 {
        by_scaling as f64 / throttled as f64
    } else {
        0.0
    };
    let held_by_scaling = (held_back as f64 * scaling_share).round() as u64;
    let wait_by_scaling = (lambda_wait_ns as f64 * scaling_share) as u128;
    gate_waits.add_many(
        Gate::LambdaConcurrency,
        throttled - by_scaling + held_back - held_by_scaling,
        lambda_wait_ns - wait_by_scaling,
    );
    gate_waits.add_many(
        Gate::LambdaScaling,
        by_scaling + held_by_scaling,
        wait_by_scaling,
    );
    gate_waits.add_many(Gate::S3PrefixRate, work.s3_throttles, 0);

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
        latency: out.latency,
        notify_latency: out.notify_latency,
        throttles,
        retries,
        frames_captured,
        frames_by_detector: counted
            .clone()
            .map(|i| (pipeline.stages[i].name.clone(), frames_by_stage[i]))
            .collect(),
        peak_lambda_concurrency: lambda.peak_concurrency(),
        lambda_environments: functions
            .iter()
            .map(|&f| lambda.stats(f).peak_concurrency)
            .collect(),
        peak_instances: 0,
        timeline: timeline.points,
        defects: real.map(|rd| rd.finish()).unwrap_or_default(),
        cpu_seconds_by_kernel: work.ledger.seconds(),
        executions,
        events: q.events_processed(),
        sim_end: last_end,
        items: out.items,
        gate_waits,
        overload,
    })
}

/// The job an arrival event brings, with the next arrival queued: a stream's chunk
/// once captured, or a request (as stream 0, numbered by arrival). `None` for a chunk
/// past the period or of a stream off the air.
fn arrival(
    ev: Ev,
    wl: &Workload,
    r: &crate::scenario::Resolved,
    requests: &mut Option<crate::scenario::source::ArrivalStream<'_>>,
    q: &mut EventQueue<Ev>,
) -> Option<(u32, u64)> {
    match ev {
        Ev::Request { index } => {
            if let Some(t) = requests.as_mut().and_then(|a| a.next()) {
                q.push(t, Ev::Request { index: index + 1 });
            }
            Some((0, index))
        }
        Ev::ChunkReady { stream, chunk } => {
            let capture_start = wl.capture(stream, chunk, 0);
            if capture_start >= wl.duration {
                return None;
            }
            q.push(
                wl.chunk_ready(stream, chunk + 1),
                Ev::ChunkReady {
                    stream,
                    chunk: chunk + 1,
                },
            );
            // Off the air: no job.
            (stream < wl.active(r, capture_start)).then_some((stream, chunk))
        }
        _ => None,
    }
}

/// The client's StartExecution queue: requests wait in line; the head is tried and,
/// when refused, tried again after the client's backoff (not before the quota frees).
/// Under a drop policy a request older than the deadline is given up (its chunk
/// dropped).
struct Starter<'a> {
    queue: &'a mut VecDeque<X>,
    client: &'a RetryPolicy,
    retries: &'a mut u64,
    drop_after: Option<Time>,
}

impl Starter<'_> {
    /// Starts executions from the head of the line until one is refused; `retry`
    /// says whether the head has been tried before. Returns those started and those
    /// given up.
    fn try_starts(
        &mut self,
        sm: &mut Sfn,
        now: Time,
        mut retry: bool,
        rng: &mut Rng64,
        q: &mut EventQueue<Ev>,
        execs: &Execs,
    ) -> (Vec<X>, Vec<X>) {
        let (mut started, mut late) = (Vec::new(), Vec::new());
        while let Some(&x) = self.queue.front() {
            let Some(e) = execs.peek(x) else {
                self.queue.pop_front();
                continue;
            };
            if self
                .drop_after
                .is_some_and(|d| now.saturating_sub(e.ready) > d)
            {
                self.queue.pop_front();
                late.push(x);
                continue;
            }
            if retry {
                *self.retries += 1;
            }
            retry = true;
            match sm.start_execution(now) {
                Ok(_) => {
                    self.queue.pop_front();
                    started.push(x);
                }
                Err(th) => {
                    q.push(retry_time(now, &th, self.client, 1, rng), Ev::StartRetry);
                    break;
                }
            }
        }
        (started, late)
    }
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

/// What happens when an invocation has been admitted: a counted stage's end is
/// where its items' analysis ends; the function's result goes back to the
/// interpreter at its end (Step Functions) or lets the stages that read it start.
#[allow(clippy::too_many_arguments)]
fn after_invoke(
    stage: u8,
    x: X,
    end: Time,
    cursor: u32,
    counted: &std::ops::Range<usize>,
    readers: &[Vec<u8>],
    frames: u32,
    frames_by_stage: &mut [u64],
    q: &mut EventQueue<Ev>,
    execs: &mut Execs,
) {
    if let Some(e) = execs.get(x) {
        // The stages reading this one's output inherit the wait of the path
        // through it (the longest of their inputs' paths).
        let waited = e.waited[stage as usize];
        for &j in &readers[stage as usize] {
            let w = &mut e.waited[j as usize];
            *w = (*w).max(waited);
        }
        if counted.contains(&(stage as usize)) {
            e.item_end = e.item_end.max(end);
        }
    }
    if counted.contains(&(stage as usize)) {
        frames_by_stage[stage as usize] += frames as u64;
    }
    if cursor == NO_CURSOR {
        q.push(end, Ev::StageDone { x, stage });
    } else {
        q.push(end, Ev::TaskDone { x, cursor });
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
    /// Invokes the function of `stage` for execution `e` at `now`: its CPU drawn from
    /// the cost model, its S3 requests made from the handler's start.
    #[allow(clippy::too_many_arguments)]
    fn invoke(
        &self,
        lambda: &mut LambdaAccount,
        f: LambdaFn,
        now: Time,
        stage: usize,
        e: &Exec,
        s3: &mut S3Bucket,
        rng: &mut Rng64,
        work: &mut Work,
    ) -> Result<crate::cloud::Invocation, Throttled> {
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
    /// Audio buffers: GETs of those it reads, a PUT of its own (one per batch).
    audio_gets: u32,
    audio_get_bytes: u64,
    audio_puts: u32,
    audio_put_bytes: u64,
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
            audio_gets: 0,
            audio_get_bytes: 0,
            audio_puts: pipeline.puts_audio(stage) as u32,
            audio_put_bytes: st.audio_bytes,
        };
        for &i in &st.after {
            let input = &pipeline.stages[i];
            if st.input.video() && input.writes_objects() {
                body.gets += items;
                body.get_bytes = bytes_of(input);
                body.cpu_ns += work_ns(cost, &input.deserialize, n, rng, ledger);
            }
            if st.input.audio() && pipeline.puts_audio(i) {
                body.audio_gets += 1;
                body.audio_get_bytes = input.audio_bytes;
            }
        }
        body.cpu_ns += match (st.per, cpu_override) {
            (Per::Batch, Some(cpu)) => cpu,
            (Per::Batch, None) => work_ns(cost, &st.work, 1.0, rng, ledger),
            (Per::Item, _) => work_ns(cost, &st.work, n, rng, ledger),
        };
        if pipeline.puts_items(stage) {
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
        let mut call = |op, t, n, bytes| {
            s3_until_ok(op, t, n, bytes, s3, prefix, rng, client, retries, throttles)
        };
        let mut t = call(S3Op::Get, start, self.gets, self.get_bytes);
        t = call(S3Op::Get, t, self.audio_gets, self.audio_get_bytes);
        t = t.saturating_add(crate::cloud::lambda::cpu_time(self.cpu_ns, speed));
        t = call(S3Op::Put, t, self.puts, self.put_bytes);
        call(S3Op::Put, t, self.audio_puts, self.audio_put_bytes)
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
/// The ASL error a throttled Lambda invocation fails with.
const TOO_MANY_REQUESTS: &str = "Lambda.TooManyRequestsException";

/// What a simulated function returns: what it was given (its `Payload` under the
/// `lambda:invoke` integration). A modelling assumption: the functions' results are
/// not known, so the data a state machine routes on must come from its input.
fn function_result(input: asl::Val) -> asl::Val {
    match input.as_object() {
        Some(o) if o.contains_key("FunctionName") => o.get("Payload").cloned().unwrap_or_default(),
        _ => input,
    }
}

/// The state machine a fan-out-fan-in pipeline implies when the scenario gives none:
/// the first stage's Task, an Inline Map over the stages side by side (one Task per
/// iteration, its function named by the item), the last stage's Task; each Task with
/// the layout's `task_retry` on Lambda's throttling and service errors. For the Prime
/// Video stages it is `scenarios/prime-video.asl.json` (a test checks they agree).
pub fn default_machine(pipeline: &Pipeline, retry: &Retrier) -> Result<asl::Machine, String> {
    use serde_json::{json, Value};
    let n = pipeline.stages.len();
    let retrier = json!([{
        "ErrorEquals": [TOO_MANY_REQUESTS, "Lambda.ServiceException",
            "Lambda.AWSLambdaException", "Lambda.SdkClientException"],
        "IntervalSeconds": (retry.interval.0 as f64 / 1e9).round().max(1.0) as u64,
        "MaxAttempts": retry.max_attempts,
        "BackoffRate": retry.backoff_rate,
    }]);
    if !pipeline.is_fan_out_fan_in() {
        return level_machine(pipeline, &retrier);
    }
    let middle: Vec<Value> = pipeline.stages[1..n - 1]
        .iter()
        .map(|s| Value::from(s.function.clone()))
        .collect();
    let machine = json!({
        "Comment": "built by archsim from the pipeline's stages",
        "StartAt": "Convert",
        "States": {
            "Convert": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {
                    "FunctionName": pipeline.stages[0].function,
                    "Payload": { "chunk.$": "$", "stages": middle }
                },
                "ResultSelector": { "stages.$": "$.Payload.stages" },
                "ResultPath": "$.converted",
                "Retry": retrier,
                "Next": "Detect"
            },
            "Detect": {
                "Type": "Map",
                "ItemsPath": "$.converted.stages",
                "ItemSelector": { "function.$": "$$.Map.Item.Value" },
                "ItemProcessor": {
                    "ProcessorConfig": { "Mode": "INLINE" },
                    "StartAt": "Detector",
                    "States": {
                        "Detector": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::lambda:invoke",
                            "Parameters": { "FunctionName.$": "$.function", "Payload.$": "$" },
                            "ResultSelector": { "function.$": "$.Payload.function" },
                            "Retry": retrier,
                            "End": true
                        }
                    }
                },
                "ResultPath": null,
                "Next": "Aggregate"
            },
            "Aggregate": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": { "FunctionName": pipeline.stages[n - 1].function, "Payload.$": "$" },
                "Retry": retrier,
                "End": true
            }
        }
    });
    let text = serde_json::to_string_pretty(&machine).map_err(|e| e.to_string())?;
    asl::parse("<built-in state machine>", &text).map_err(|e| e.to_string())
}

/// The machine of a pipeline of any other shape: the stages in levels (a stage's
/// level is one past the deepest it reads from), a level of one stage as its Task, a
/// level of several as a Parallel state with a branch per stage. A stage waits for
/// its whole level before it, not only for what it reads: the closest a plain ASL
/// machine comes to a graph.
fn level_machine(pipeline: &Pipeline, retrier: &serde_json::Value) -> Result<asl::Machine, String> {
    use serde_json::{json, Map, Value};
    let mut level = vec![0usize; pipeline.stages.len()];
    for (i, st) in pipeline.stages.iter().enumerate() {
        level[i] = st.after.iter().map(|&a| level[a] + 1).max().unwrap_or(0);
    }
    let depth = level.iter().copied().max().map_or(0, |d| d + 1);
    let task = |i: usize| {
        json!({
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": { "FunctionName": pipeline.stages[i].function, "Payload.$": "$" },
            "ResultPath": null,
            "Retry": retrier,
        })
    };
    let mut states = Map::new();
    let mut names = Vec::new();
    for d in 0..depth {
        let members: Vec<usize> = (0..level.len()).filter(|&i| level[i] == d).collect();
        let (name, mut state) = if let [only] = members[..] {
            (pipeline.stages[only].name.clone(), task(only))
        } else {
            let branches: Vec<Value> = members
                .iter()
                .map(|&i| {
                    let mut t = task(i);
                    t["End"] = Value::Bool(true);
                    json!({ "StartAt": pipeline.stages[i].name, "States": { pipeline.stages[i].name.clone(): t } })
                })
                .collect();
            (
                format!("Level {}", d + 1),
                json!({ "Type": "Parallel", "Branches": branches, "ResultPath": null }),
            )
        };
        if d + 1 == depth {
            state["End"] = Value::Bool(true);
        }
        names.push(name.clone());
        states.insert(name, state);
    }
    for d in 0..depth.saturating_sub(1) {
        states[&names[d]]["Next"] = Value::String(names[d + 1].clone());
    }
    let machine = json!({
        "Comment": "built by archsim from the pipeline's stages, level by level",
        "StartAt": names.first().cloned().unwrap_or_default(),
        "States": states,
    });
    let text = serde_json::to_string_pretty(&machine).map_err(|e| e.to_string())?;
    asl::parse("<built-in state machine>", &text).map_err(|e| e.to_string())
}

/// Drives the ASL interpreter: turns what each execution asks for into the
/// simulation's events (transitions through the quota gate, Lambda invocations, S3
/// requests, waits) and feeds their outcomes back.
struct Driver<'a> {
    machine: std::sync::Arc<asl::Machine>,
    pipeline: &'a Pipeline,
    /// Branch weights of Choice states whose variable the execution input lacks.
    choices: BTreeMap<String, Vec<f64>>,
    /// The overload deadline: an execution's first state not entered within it of
    /// the chunk's arrival is given up.
    drop_after: Option<Time>,
    actions: Vec<asl::Action>,
    /// Executions whose first state was entered.
    first_entered: u64,
    /// The execution input's field names, shared by every execution.
    chunk_key: Arc<str>,
    stream_key: Arc<str>,
}

impl Driver<'_> {
    /// Execution `x` has started: it asks for its first state's transition, with the
    /// overload deadline (the chunk's items start once it is entered).
    #[allow(clippy::too_many_arguments)]
    fn start(
        &self,
        x: X,
        now: Time,
        sm: &mut Sfn,
        gate: &mut TransitionGate,
        rng: &mut Rng64,
        q: &mut EventQueue<Ev>,
        execs: &mut Execs,
    ) {
        let Some(e) = execs.get(x) else { return };
        let deadline = self
            .drop_after
            .map_or(Time::MAX, |d| e.ready.saturating_add(d));
        gate.request(sm, now, x, Next(FIRST_STATE), Some(deadline), rng, q);
    }

    /// The first state's transition of `x` was granted: the interpreter starts (its
    /// input: the stream and the chunk) and enters it.
    fn enter_first(&mut self, x: X, execs: &mut Execs) -> Result<(), String> {
        let Some(e) = execs.get(x) else { return Ok(()) };
        self.first_entered += 1;
        let input = asl::Val::Obj(Arc::new(asl::Obj::from_sorted(vec![
            (self.chunk_key.clone(), e.chunk.into()),
            (self.stream_key.clone(), e.stream.into()),
        ])));
        let mut ax = asl::Execution::start(&self.machine, input);
        let mut actions = std::mem::take(&mut self.actions);
        actions.clear();
        ax.poll(&mut actions);
        for a in actions.drain(..) {
            match a {
                asl::Action::Enter { cursor, .. } => ax.granted(cursor),
                other => {
                    return Err(format!(
                        "{}: the interpreter asked for {other:?} before its first state",
                        self.machine.file
                    ))
                }
            }
        }
        self.actions = actions;
        e.asl = Some(ax);
        Ok(())
    }

    /// Runs everything execution `x` asks for now: `Some(succeeded)` once it has
    /// ended.
    #[allow(clippy::too_many_arguments)]
    fn drive(
        &mut self,
        x: X,
        now: Time,
        sm: &mut Sfn,
        gate: &mut TransitionGate,
        rng: &mut Rng64,
        q: &mut EventQueue<Ev>,
        execs: &mut Execs,
    ) -> Result<Option<bool>, String> {
        use asl::Action;
        let mut actions = std::mem::take(&mut self.actions);
        let mut finished = None;
        loop {
            actions.clear();
            let Some(e) = execs.get(x) else { break };
            let Some(ax) = e.asl.as_mut() else { break };
            ax.poll(&mut actions);
            if actions.is_empty() {
                break;
            }
            for a in actions.drain(..) {
                match a {
                    Action::Enter { cursor, .. } => {
                        gate.request(sm, now, x, Next(cursor), None, rng, q)
                    }
                    Action::StartChild { cursor, .. } => {
                        gate.request(sm, now, x, Next(cursor), None, rng, q)
                    }
                    Action::Invoke {
                        cursor,
                        state,
                        call,
                        ..
                    } => {
                        let function = match call {
                            asl::TaskCall::Lambda { function } => function,
                            other => {
                                let put = other == asl::TaskCall::S3Put;
                                q.push(now, Ev::S3Task { x, cursor, put });
                                continue;
                            }
                        };
                        let Some(stage) = self.pipeline.by_function(&function) else {
                            let name = &self.machine.state(state).name;
                            return Err(unbound(
                                &self.machine.file,
                                name,
                                &function,
                                self.pipeline,
                            ));
                        };
                        q.push(
                            now,
                            Ev::TaskStart {
                                x,
                                stage: stage as u8,
                                cursor,
                            },
                        );
                    }
                    Action::Wait {
                        cursor,
                        ns,
                        full_jitter,
                    } => {
                        let wait = asl::jittered(ns, full_jitter, rng.random::<f64>());
                        q.push(now.saturating_add(wait), Ev::Waited { x, cursor });
                    }
                    Action::Choose {
                        cursor,
                        state,
                        branches,
                        variable,
                    } => {
                        let name = &self.machine.state(state).name;
                        let weights = self.choices.get(name).filter(|w| w.len() == branches as usize).ok_or_else(|| {
                            format!(
                                "{}: Choice state `{name}` reads `{variable}`, which the execution input ({{\"stream\", \"chunk\"}}) does not have: give the layout `choice_weights = {{ {name} = [{} weights, one per rule{}] }}`",
                                self.machine.file,
                                branches,
                                ", then Default"
                            )
                        })?;
                        let total: f64 = weights.iter().sum();
                        let mut u = rng.random::<f64>() * total;
                        let mut pick = weights.len() as u32 - 1;
                        for (i, w) in weights.iter().enumerate() {
                            if u < *w {
                                pick = i as u32;
                                break;
                            }
                            u -= w;
                        }
                        e.asl.as_mut().expect("in flight").chose(cursor, pick);
                    }
                    Action::Done(outcome) => {
                        let ok = matches!(outcome, asl::Outcome::Succeeded(_));
                        sm.finish(e.started, now, ok);
                        // Finished here: a drop that follows does not finish it again.
                        e.start_ok = false;
                        e.asl = None;
                        finished = Some(ok);
                    }
                }
            }
            if finished.is_some() {
                break;
            }
        }
        self.actions = actions;
        Ok(finished)
    }
}

/// The error of a Task whose Lambda function is no stage's.
fn unbound(file: &str, state: &str, function: &str, pipeline: &Pipeline) -> String {
    format!(
        "{file}: state `{state}` invokes function `{function}`, which is no stage's (the stages' functions: {})",
        pipeline
            .stages
            .iter()
            .map(|s| s.function.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Checks that every Lambda Task of `machine` whose function is written in the file
/// binds to a stage (those named from data are checked when they run).
pub fn check_binding(machine: &asl::Machine, pipeline: &Pipeline) -> Result<(), String> {
    use asl::machine::{CallKind, Kind};
    for st in &machine.states {
        if let Kind::Task { call, function, .. } = &st.kind {
            if matches!(call, CallKind::LambdaArn) && pipeline.by_function(function).is_none() {
                return Err(unbound(&machine.file, &st.name, function, pipeline));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::Kernel;
    use crate::scenario::pipeline::default_aggregate_cpu;
    use std::sync::Arc;

    /// The machine the Prime Video stages imply is billed like the shipped ASL file:
    /// 8 transitions a chunk (Convert, Detect, 5 × Detector, Aggregate), 10 when the
    /// converter is throttled twice.
    #[test]
    fn built_in_machine_counts_as_the_shipped_file() {
        let p = Pipeline::video(&Kernel::DETECTORS, 12.5, default_aggregate_cpu(), 384_000);
        let built = Arc::new(default_machine(&p, &Retrier::default()).unwrap());
        let shipped = Arc::new(
            asl::parse(
                "prime-video.asl.json",
                include_str!("../../scenarios/prime-video.asl.json"),
            )
            .unwrap(),
        );
        for fails in [0u32, 2] {
            let count = |m: &Arc<asl::Machine>| {
                let mut f = BTreeMap::new();
                if fails > 0 {
                    f.insert(m.state_id("Convert").unwrap(), fails);
                }
                asl::count(m, None, &f).unwrap()
            };
            let (a, b) = (count(&built), count(&shipped));
            assert_eq!(a.transitions, 8 + fails as u64);
            assert_eq!(a.transitions, b.transitions);
            assert_eq!(a.states_entered, b.states_entered);
            assert_eq!(a.retries, b.retries);
        }
        // Every Task of the shipped file binds to a stage.
        check_binding(&shipped, &p).unwrap();
    }

    #[test]
    fn a_simulated_function_returns_its_payload() {
        let v: serde_json::Value =
            serde_json::from_str(r#"{"FunctionName":"f","Payload":{"a":1}}"#).unwrap();
        assert_eq!(function_result(v.into()), serde_json::json!({"a": 1}));
        let plain = asl::Val::from(serde_json::json!({"b": 2}));
        assert_eq!(function_result(plain.clone()), plain);
    }
}
