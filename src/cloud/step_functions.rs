//! AWS Step Functions: state-machine definitions, the transition count AWS bills,
//! and an execution model with the Standard quotas as token buckets.
//!
//! Counting (docs.aws.amazon.com/step-functions/latest/dg/concepts-transitions.html):
//! every state that runs counts once — Task, Pass, Choice, Wait, Map, Parallel,
//! Succeed, Fail — including each state run inside every iteration of an Inline Map
//! and inside every Parallel branch; the iterations themselves are not charged; every
//! retry of a state counts once more.
//!
//! Quotas: StartExecution is a token bucket (us-east-1: 1,300, refill 300/s); an empty
//! bucket refuses the call ([`Throttled`]) and the caller retries. StateTransition is
//! a token bucket (5,000; refill 1,500/s in the 2023 quotas, 5,000/s now): an empty
//! bucket delays the transition until a token is there and counts a throttle.
//! Express workflows have their own StartExecution bucket and no transition limit,
//! and are billed per request and per billed duration × memory.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::{Assumption, QuotaEra, ThrottleReason, Throttled};
use crate::pricing::bill::express_billed_ms;
use crate::pricing::usage::{StepFunctionsUsage, Workflow};
use crate::pricing::{Catalog, Usage};
use crate::sim::{as_millis, millis, secs, Dist, Dur, Histogram, Sampler, Time, TokenBucket};

/// Retry on a Task (the Amazon States Language `Retry` field).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Retrier {
    /// Retries after the first attempt (ASL `MaxAttempts`, default 3).
    pub max_attempts: u32,
    /// Wait before the first retry (ASL `IntervalSeconds`, default 1 s).
    pub interval: Dur,
    /// Multiplier of the wait at each retry (ASL `BackoffRate`, default 2).
    pub backoff_rate: f64,
}

impl Default for Retrier {
    fn default() -> Self {
        Retrier {
            max_attempts: 3,
            interval: Dur(millis(1000)),
            backoff_rate: 2.0,
        }
    }
}

/// One state of a state machine. A sequence of states runs in order; `Choice`
/// lists the branch this execution takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
pub enum State {
    Task {
        name: String,
        /// What the task calls; the layout maps it to a model.
        #[serde(default)]
        resource: String,
        #[serde(default)]
        retry: Option<Retrier>,
    },
    /// An Inline Map over `items` items, at most `max_concurrency` at once (0 = the
    /// catalog's inline limit, 40).
    Map {
        name: String,
        items: u32,
        #[serde(default)]
        max_concurrency: u32,
        iterator: Vec<State>,
    },
    Parallel {
        name: String,
        branches: Vec<Vec<State>>,
    },
    Choice {
        name: String,
        /// The states of the branch taken.
        next: Vec<State>,
    },
    Pass {
        name: String,
    },
    Wait {
        name: String,
        duration: Dur,
    },
    Succeed {
        name: String,
    },
    Fail {
        name: String,
    },
}

impl State {
    pub fn task(name: &str) -> State {
        State::Task {
            name: name.into(),
            resource: name.into(),
            retry: None,
        }
    }
    pub fn task_with_retry(name: &str, retry: Retrier) -> State {
        State::Task {
            name: name.into(),
            resource: name.into(),
            retry: Some(retry),
        }
    }
    pub fn map(name: &str, items: u32, iterator: Vec<State>) -> State {
        State::Map {
            name: name.into(),
            items,
            max_concurrency: 0,
            iterator,
        }
    }
    pub fn parallel(name: &str, branches: Vec<Vec<State>>) -> State {
        State::Parallel {
            name: name.into(),
            branches,
        }
    }
    pub fn name(&self) -> &str {
        match self {
            State::Task { name, .. }
            | State::Map { name, .. }
            | State::Parallel { name, .. }
            | State::Choice { name, .. }
            | State::Pass { name }
            | State::Wait { name, .. }
            | State::Succeed { name }
            | State::Fail { name } => name,
        }
    }
}

/// A state machine: its states, run in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateMachine {
    pub name: String,
    pub states: Vec<State>,
}

impl StateMachine {
    pub fn new(name: &str, states: Vec<State>) -> Self {
        StateMachine {
            name: name.into(),
            states,
        }
    }
}

/// State transitions one execution of `sm` is billed for when every Task fails
/// `failed_attempts` times before succeeding (capped by its Retrier; a Task without
/// one is not retried). Stops at the first Succeed or Fail of a sequence.
pub fn count_transitions(sm: &StateMachine, failed_attempts: u32) -> u64 {
    count_seq(&sm.states, failed_attempts).0
}

/// Transitions of a sequence, and whether it ended on a Succeed or Fail (which
/// ends the enclosing execution, Map iteration or Parallel branch, also from
/// inside a Choice branch).
fn count_seq(states: &[State], fails: u32) -> (u64, bool) {
    let mut n = 0;
    for s in states {
        let (c, terminal) = count_state(s, fails);
        n += c;
        if terminal {
            return (n, true);
        }
    }
    (n, false)
}

fn count_state(s: &State, fails: u32) -> (u64, bool) {
    match s {
        State::Task { retry, .. } => (
            1 + retry.as_ref().map_or(0, |r| fails.min(r.max_attempts)) as u64,
            false,
        ),
        State::Map {
            items, iterator, ..
        } => (1 + *items as u64 * count_seq(iterator, fails).0, false),
        State::Parallel { branches, .. } => (
            1 + branches.iter().map(|b| count_seq(b, fails).0).sum::<u64>(),
            false,
        ),
        State::Choice { next, .. } => {
            let (c, terminal) = count_seq(next, fails);
            (1 + c, terminal)
        }
        State::Pass { .. } | State::Wait { .. } => (1, false),
        State::Succeed { .. } | State::Fail { .. } => (1, true),
    }
}

/// Settings of one state machine's service model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SfnConfig {
    pub name: String,
    pub workflow: Workflow,
    /// Which published Standard quotas apply.
    pub quotas: QuotaEra,
    /// Service overhead of each transition. Assumption.
    pub transition_latency: Dist,
    /// Memory an Express execution is billed for. Assumption.
    pub express_memory_mb: u32,
}

impl Default for SfnConfig {
    fn default() -> Self {
        SfnConfig {
            name: "state-machine".into(),
            workflow: Workflow::Standard,
            quotas: QuotaEra::Current,
            transition_latency: Dist::lognormal(millis(20), millis(100)),
            express_memory_mb: 64,
        }
    }
}

impl SfnConfig {
    pub fn assumptions(&self) -> Vec<Assumption> {
        vec![
            Assumption::new(
                "step_functions.transition_latency",
                self.transition_latency.describe(),
                "not documented: 'tens of ms per transition' (reference/aws.md §4, U)",
            ),
            Assumption::new(
                "step_functions.express_memory_mb",
                self.express_memory_mb,
                "memory an Express execution uses, billed in 64 MB chunks (U)",
            ),
        ]
    }
}

/// What a Task call returns: the time it finished, successfully or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskOutcome {
    Done(Time),
    Failed(Time),
}

/// A Task the execution asks the layout to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskCall<'a> {
    pub name: &'a str,
    pub resource: &'a str,
    /// When the task may start.
    pub start: Time,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// Index of the Map iteration (innermost), if inside a Map.
    pub item: Option<u32>,
}

/// One finished execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Execution {
    pub start: Time,
    pub end: Time,
    pub succeeded: bool,
    /// Transitions this execution was billed for.
    pub transitions: u64,
}

/// Counters of a state machine.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SfnStats {
    pub executions: u64,
    pub failed_executions: u64,
    /// StartExecution calls refused.
    pub start_throttles: u64,
    pub transitions: u64,
    /// Transitions delayed by an empty StateTransition bucket.
    pub transition_throttles: u64,
    /// Total delay those transitions waited, ns.
    pub transition_throttle_wait_ns: u64,
    pub task_retries: u64,
    /// Sum of Express billed durations, ms.
    pub express_billed_ms: f64,
    /// Execution durations, ns.
    #[serde(skip)]
    pub duration: Histogram,
}

/// One state machine (Standard or Express) under its account's quotas.
pub struct Sfn {
    catalog: Catalog,
    cfg: SfnConfig,
    start_bucket: TokenBucket,
    transition_bucket: Option<TokenBucket>,
    map_limit: u32,
    stats: SfnStats,
    /// `cfg.transition_latency`, prepared for drawing.
    latency: Sampler,
}

enum Flow {
    Next(Time),
    Succeed(Time),
    Fail(Time),
}

impl Sfn {
    pub fn new(catalog: &Catalog, cfg: SfnConfig) -> Result<Sfn, String> {
        cfg.transition_latency
            .check()
            .map_err(|e| format!("step_functions `{}`: transition_latency: {e}", cfg.name))?;
        if cfg.workflow == Workflow::Express && cfg.express_memory_mb == 0 {
            return Err(format!(
                "step_functions `{}`: express_memory_mb must be > 0",
                cfg.name
            ));
        }
        let q = &catalog.quotas;
        let buckets = match (cfg.workflow, cfg.quotas) {
            (Workflow::Express, _) => &q.sfn_express,
            (Workflow::Standard, QuotaEra::Y2023) => &q.sfn_standard_2023,
            (Workflow::Standard, QuotaEra::Current) => &q.sfn_standard_current,
        };
        let start_bucket = TokenBucket::new(
            buckets.start_execution_bucket,
            buckets.start_execution_refill_per_s,
            0,
        );
        let transition_bucket = match (
            cfg.workflow,
            buckets.state_transition_bucket,
            buckets.state_transition_refill_per_s,
        ) {
            (Workflow::Standard, Some(cap), Some(rate)) => Some(TokenBucket::new(cap, rate, 0)),
            _ => None,
        };
        Ok(Sfn {
            catalog: catalog.clone(),
            map_limit: q.sfn_inline_map_max_concurrency.value.max(1),
            latency: cfg.transition_latency.sampler(),
            cfg,
            start_bucket,
            transition_bucket,
            stats: SfnStats::default(),
        })
    }

    pub fn config(&self) -> &SfnConfig {
        &self.cfg
    }
    pub fn stats(&self) -> &SfnStats {
        &self.stats
    }
    /// Most Inline Map iterations at once (catalog).
    pub fn map_limit(&self) -> u32 {
        self.map_limit
    }
    pub(super) fn note_task_retry(&mut self) {
        self.stats.task_retries += 1;
    }

    /// StartExecution at `now`: `Ok(now)` or refused when the bucket is empty
    /// (`retry_after` = when a token will be there).
    pub fn start_execution(&mut self, now: Time) -> Result<Time, Throttled> {
        if self.start_bucket.try_take(now) {
            self.stats.executions += 1;
            Ok(now)
        } else {
            self.stats.start_throttles += 1;
            Err(Throttled {
                retry_after: Some(self.start_bucket.next_available(now)),
                reason: ThrottleReason::StartExecution,
            })
        }
    }

    /// One state transition requested at `now`: counts it, waits for a
    /// StateTransition token (Standard), adds the transition latency. Returns when
    /// the state starts.
    pub fn transition<R: Rng + ?Sized>(&mut self, now: Time, rng: &mut R) -> Time {
        self.stats.transitions += 1;
        let t = match self.transition_bucket.as_mut() {
            Some(b) => {
                let t = b.take(now);
                if t > now {
                    self.stats.transition_throttles += 1;
                    self.stats.transition_throttle_wait_ns += t.saturating_sub(now);
                }
                t
            }
            None => now,
        };
        t.saturating_add(self.latency.sample(rng))
    }

    /// Service overhead of one transition, drawn from the configured distribution
    /// (what [`Sfn::transition`] adds after the token).
    pub fn transition_latency<R: Rng + ?Sized>(&self, rng: &mut R) -> Time {
        self.latency.sample(rng)
    }

    /// The gated form of [`Sfn::transition`], for a layout that keeps its own FIFO
    /// of transitions waiting for a StateTransition token (so its event queue holds
    /// one grant event rather than one event per waiter): takes a token at `now` if
    /// there is one and counts the transition, with the time it waited since
    /// `requested`; `false` (nothing counted) when the bucket is empty. Always
    /// `true` without a transition limit (Express).
    pub fn take_transition(&mut self, requested: Time, now: Time) -> bool {
        let ok = match self.transition_bucket.as_mut() {
            Some(b) => b.tokens(now) >= 1 && b.try_take(now),
            None => true,
        };
        if ok {
            self.stats.transitions += 1;
            self.stats.transition_throttle_wait_ns += now.saturating_sub(requested);
        }
        ok
    }

    /// Like [`Sfn::take_transition`], but also takes a token that will only be there
    /// by `horizon`, reserving it as [`Sfn::transition`] does: returns when the
    /// transition has its token, or `None` (nothing counted) if that is after
    /// `horizon`. Lets a layout grant a short run of waiters with one event.
    pub fn take_transition_by(
        &mut self,
        requested: Time,
        now: Time,
        horizon: Time,
    ) -> Option<Time> {
        let t = match self.transition_bucket.as_mut() {
            Some(b) => {
                let t = b.next_available(now);
                if t > horizon || t == Time::MAX {
                    return None;
                }
                b.take(now)
            }
            None => now,
        };
        self.stats.transitions += 1;
        self.stats.transition_throttle_wait_ns += t.saturating_sub(requested);
        Some(t)
    }

    /// Counts a throttle for a transition that has to wait for a token (the gated
    /// form counts it when the transition starts waiting, as [`Sfn::transition`]
    /// does).
    pub fn note_transition_throttle(&mut self) {
        self.stats.transition_throttles += 1;
    }

    /// Earliest time at or after `now` a StateTransition token is there (`now`
    /// without a limit; `Time::MAX` if the bucket never refills).
    pub fn next_transition_at(&self, now: Time) -> Time {
        self.transition_bucket
            .as_ref()
            .map_or(now, |b| b.next_available(now))
    }

    /// Records an execution that ran from `start` to `end` (Express billing and the
    /// duration histogram). `execute` calls it; a layout driving transitions itself
    /// calls it at the end of each execution.
    pub fn finish(&mut self, start: Time, end: Time, succeeded: bool) {
        let d = end.saturating_sub(start);
        self.stats.duration.record(d);
        if !succeeded {
            self.stats.failed_executions += 1;
        }
        if self.cfg.workflow == Workflow::Express {
            self.stats.express_billed_ms += express_billed_ms(&self.catalog, as_millis(d));
        }
    }

    /// Runs one execution of `sm` from `now`: StartExecution (refused → `Err`), then
    /// every state in order, calling `task` for each Task attempt. Retries follow
    /// each Task's Retrier; a Map runs its iterations at most `max_concurrency` (or
    /// the inline limit) at a time; Parallel branches start together and the state
    /// ends with the last.
    pub fn execute<R: Rng + ?Sized>(
        &mut self,
        sm: &StateMachine,
        now: Time,
        rng: &mut R,
        task: &mut dyn FnMut(&TaskCall, &mut R) -> TaskOutcome,
    ) -> Result<Execution, Throttled> {
        let start = self.start_execution(now)?;
        let before = self.stats.transitions;
        let (end, ok) = match self.run_seq(&sm.states, start, None, rng, task) {
            Flow::Next(t) | Flow::Succeed(t) => (t, true),
            Flow::Fail(t) => (t, false),
        };
        self.finish(start, end, ok);
        Ok(Execution {
            start,
            end,
            succeeded: ok,
            transitions: self.stats.transitions - before,
        })
    }

    fn run_seq<R: Rng + ?Sized>(
        &mut self,
        states: &[State],
        mut t: Time,
        item: Option<u32>,
        rng: &mut R,
        task: &mut dyn FnMut(&TaskCall, &mut R) -> TaskOutcome,
    ) -> Flow {
        for s in states {
            match self.run_state(s, t, item, rng, task) {
                Flow::Next(e) => t = e,
                done => return done,
            }
        }
        Flow::Next(t)
    }

    fn run_state<R: Rng + ?Sized>(
        &mut self,
        s: &State,
        now: Time,
        item: Option<u32>,
        rng: &mut R,
        task: &mut dyn FnMut(&TaskCall, &mut R) -> TaskOutcome,
    ) -> Flow {
        let t = self.transition(now, rng);
        match s {
            State::Task {
                name,
                resource,
                retry,
            } => {
                let mut start = t;
                let mut attempt = 1;
                loop {
                    let call = TaskCall {
                        name,
                        resource,
                        start,
                        attempt,
                        item,
                    };
                    match task(&call, rng) {
                        TaskOutcome::Done(e) => return Flow::Next(e.max(start)),
                        TaskOutcome::Failed(e) => {
                            let e = e.max(start);
                            match retry {
                                Some(r) if attempt <= r.max_attempts => {
                                    let wait = r.interval.0 as f64
                                        * r.backoff_rate.max(1.0).powi(attempt as i32 - 1);
                                    self.stats.task_retries += 1;
                                    start =
                                        self.transition(e.saturating_add(secs(wait / 1e9)), rng);
                                    attempt += 1;
                                }
                                _ => return Flow::Fail(e),
                            }
                        }
                    }
                }
            }
            State::Map {
                items,
                max_concurrency,
                iterator,
                ..
            } => {
                let limit = if *max_concurrency == 0 {
                    self.map_limit
                } else {
                    (*max_concurrency).min(self.map_limit)
                };
                let mut slots: BinaryHeap<Reverse<Time>> =
                    (0..limit.min(*items).max(1)).map(|_| Reverse(t)).collect();
                let mut end = t;
                for i in 0..*items {
                    let Reverse(s) = slots.pop().unwrap_or(Reverse(t));
                    match self.run_seq(iterator, s, Some(i), rng, task) {
                        Flow::Next(e) | Flow::Succeed(e) => {
                            end = end.max(e);
                            slots.push(Reverse(e));
                        }
                        Flow::Fail(e) => return Flow::Fail(e.max(end)),
                    }
                }
                Flow::Next(end)
            }
            State::Parallel { branches, .. } => {
                let mut end = t;
                for b in branches {
                    match self.run_seq(b, t, item, rng, task) {
                        Flow::Next(e) | Flow::Succeed(e) => end = end.max(e),
                        Flow::Fail(e) => return Flow::Fail(e.max(end)),
                    }
                }
                Flow::Next(end)
            }
            State::Choice { next, .. } => self.run_seq(next, t, item, rng, task),
            State::Pass { .. } => Flow::Next(t),
            State::Wait { duration, .. } => Flow::Next(t.saturating_add(duration.0)),
            State::Succeed { .. } => Flow::Succeed(t),
            State::Fail { .. } => Flow::Fail(t),
        }
    }

    /// Writes the state machine's billed quantities: transitions (Standard) or
    /// requests, mean billed duration and memory (Express).
    pub fn meter(&self, usage: &mut Usage) {
        match self.cfg.workflow {
            Workflow::Standard => usage.step_functions.push(StepFunctionsUsage::standard(
                self.cfg.name.clone(),
                self.stats.transitions,
            )),
            Workflow::Express => {
                let n = self.stats.executions;
                let avg = if n == 0 {
                    0.0
                } else {
                    self.stats.express_billed_ms / n as f64
                };
                usage.step_functions.push(StepFunctionsUsage::express(
                    self.cfg.name.clone(),
                    n,
                    avg,
                    self.cfg.express_memory_mb as u64,
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{rng_stream, seconds};

    fn zero_latency(workflow: Workflow, quotas: QuotaEra) -> Sfn {
        Sfn::new(
            &Catalog::builtin(),
            SfnConfig {
                workflow,
                quotas,
                transition_latency: Dist::fixed(0),
                ..SfnConfig::default()
            },
        )
        .unwrap()
    }

    #[test]
    fn transition_counts_of_sample_machines() {
        let chain = StateMachine::new(
            "chain",
            vec![State::task("a"), State::task("b"), State::task("c")],
        );
        assert_eq!(count_transitions(&chain, 0), 3);
        let map5 = StateMachine::new(
            "map",
            vec![State::map("frames", 5, vec![State::task("detect")])],
        );
        assert_eq!(count_transitions(&map5, 0), 1 + 5);
        let par3 = StateMachine::new(
            "par",
            vec![State::parallel(
                "detectors",
                vec![
                    vec![State::task("x")],
                    vec![State::task("y")],
                    vec![State::task("z")],
                ],
            )],
        );
        assert_eq!(count_transitions(&par3, 0), 1 + 3);
        let retried = StateMachine::new(
            "retry",
            vec![State::task_with_retry("flaky", Retrier::default())],
        );
        assert_eq!(count_transitions(&retried, 2), 3);
        assert_eq!(
            count_transitions(&retried, 10),
            4,
            "capped by MaxAttempts 3"
        );
        let plain = StateMachine::new("plain", vec![State::task("t")]);
        assert_eq!(count_transitions(&plain, 2), 1, "no Retrier: no retries");
        let mixed = StateMachine::new(
            "mixed",
            vec![
                State::Pass { name: "p".into() },
                State::Choice {
                    name: "c".into(),
                    next: vec![State::Wait {
                        name: "w".into(),
                        duration: Dur(seconds(1)),
                    }],
                },
                State::Succeed { name: "s".into() },
                State::task("never"),
            ],
        );
        assert_eq!(count_transitions(&mixed, 0), 4);
        let choice_ends = StateMachine::new(
            "choice-ends",
            vec![
                State::Choice {
                    name: "c".into(),
                    next: vec![State::Fail { name: "f".into() }],
                },
                State::task("never"),
            ],
        );
        assert_eq!(
            count_transitions(&choice_ends, 0),
            2,
            "Fail inside a Choice ends it"
        );
    }

    #[test]
    fn execute_counts_like_count_transitions() {
        let mut sfn = zero_latency(Workflow::Standard, QuotaEra::Current);
        let sm = StateMachine::new(
            "pipeline",
            vec![
                State::task("convert"),
                State::map(
                    "frames",
                    5,
                    vec![State::parallel(
                        "detectors",
                        vec![vec![State::task("x")], vec![State::task("y")]],
                    )],
                ),
                State::task_with_retry("notify", Retrier::default()),
            ],
        );
        let mut rng = rng_stream(1, "t", 0);
        let mut notify_fails = 2;
        let ex = sfn
            .execute(&sm, 0, &mut rng, &mut |c, _| {
                if c.name == "notify" && notify_fails > 0 {
                    notify_fails -= 1;
                    TaskOutcome::Failed(c.start + millis(10))
                } else {
                    TaskOutcome::Done(c.start + millis(100))
                }
            })
            .unwrap();
        assert!(ex.succeeded);
        assert_eq!(ex.transitions, count_transitions(&sm, 2));
        assert_eq!(ex.transitions, 1 + (1 + 5 * (1 + 2)) + 3);
        // convert 100 ms, map 5 iterations in parallel 100 ms, notify: 10 + 1 s + 10
        // + 2 s + 100 ms.
        assert_eq!(ex.end, millis(100 + 100 + 10 + 1000 + 10 + 2000 + 100));
        assert_eq!(sfn.stats().task_retries, 2);
        let mut usage = Usage::default();
        sfn.meter(&mut usage);
        assert_eq!(
            usage.step_functions[0].state_transitions.map(|c| c.0),
            Some(ex.transitions)
        );
    }

    #[test]
    fn map_respects_max_concurrency_and_failures_end_execution() {
        let mut sfn = zero_latency(Workflow::Standard, QuotaEra::Current);
        let sm = StateMachine::new(
            "m",
            vec![State::Map {
                name: "m".into(),
                items: 5,
                max_concurrency: 2,
                iterator: vec![State::task("t")],
            }],
        );
        let mut rng = rng_stream(1, "t", 0);
        let ex = sfn
            .execute(&sm, 0, &mut rng, &mut |c, _| {
                TaskOutcome::Done(c.start + seconds(1))
            })
            .unwrap();
        assert_eq!(ex.end, seconds(3), "5 items, 2 at a time: 3 rounds");
        let fail = StateMachine::new("f", vec![State::task("t"), State::task("never")]);
        let ex = sfn
            .execute(&fail, 0, &mut rng, &mut |c, _| {
                TaskOutcome::Failed(c.start + 5)
            })
            .unwrap();
        assert!(!ex.succeeded);
        assert_eq!(ex.transitions, 1);
        assert_eq!(sfn.stats().failed_executions, 1);
    }

    #[test]
    fn start_execution_bucket_refuses_past_its_boundary() {
        let mut sfn = zero_latency(Workflow::Standard, QuotaEra::Current);
        for _ in 0..1300 {
            assert!(sfn.start_execution(0).is_ok());
        }
        let e = sfn.start_execution(0).unwrap_err();
        assert_eq!(e.reason, ThrottleReason::StartExecution);
        // 300/s: the next token after 1/300 s.
        assert_eq!(e.retry_after, Some(3_333_334));
        assert!(sfn.start_execution(3_333_334).is_ok());
        assert_eq!(sfn.stats().start_throttles, 1);
    }

    #[test]
    fn transition_bucket_delays_by_era() {
        let mut rng = rng_stream(1, "t", 0);
        for (era, rate) in [(QuotaEra::Y2023, 1500u64), (QuotaEra::Current, 5000)] {
            let mut sfn = zero_latency(Workflow::Standard, era);
            for _ in 0..5000 {
                assert_eq!(sfn.transition(0, &mut rng), 0);
            }
            let late = sfn.transition(0, &mut rng);
            assert_eq!(late, 1_000_000_000u64.div_ceil(rate));
            assert_eq!(sfn.stats().transition_throttles, 1);
        }
        // Express: no transition limit.
        let mut ex = zero_latency(Workflow::Express, QuotaEra::Y2023);
        for _ in 0..10_000 {
            assert_eq!(ex.transition(0, &mut rng), 0);
        }
    }

    #[test]
    fn gated_transitions_match_reserved_ones() {
        // The same FIFO of 5,010 transitions requested at 0: reserved one by one with
        // `transition`, or granted by `take_transition` at `next_transition_at`.
        let mut rng = rng_stream(1, "t", 0);
        let mut reserved = zero_latency(Workflow::Standard, QuotaEra::Y2023);
        let times: Vec<Time> = (0..5010)
            .map(|_| reserved.transition(0, &mut rng))
            .collect();
        let mut gated = zero_latency(Workflow::Standard, QuotaEra::Y2023);
        let mut now = 0;
        let mut got = Vec::new();
        while got.len() < times.len() {
            if gated.take_transition(0, now) {
                if now > 0 {
                    gated.note_transition_throttle();
                }
                got.push(now);
            } else {
                now = gated.next_transition_at(now);
            }
        }
        assert_eq!(got, times);
        assert_eq!(gated.stats().transitions, reserved.stats().transitions);
        assert_eq!(
            gated.stats().transition_throttles,
            reserved.stats().transition_throttles
        );
        assert_eq!(
            gated.stats().transition_throttle_wait_ns,
            reserved.stats().transition_throttle_wait_ns
        );
        let mut ex = zero_latency(Workflow::Express, QuotaEra::Y2023);
        assert!(ex.take_transition(0, 0));
        assert_eq!(ex.next_transition_at(7), 7);
    }

    #[test]
    fn express_meters_requests_and_billed_duration() {
        let mut sfn = zero_latency(Workflow::Express, QuotaEra::Current);
        let sm = StateMachine::new("e", vec![State::task("t")]);
        let mut rng = rng_stream(1, "t", 0);
        for _ in 0..4 {
            sfn.execute(&sm, 0, &mut rng, &mut |c, _| {
                TaskOutcome::Done(c.start + millis(150))
            })
            .unwrap();
        }
        let mut usage = Usage::default();
        sfn.meter(&mut usage);
        let u = &usage.step_functions[0];
        assert_eq!(u.requests.map(|c| c.0), Some(4));
        assert_eq!(
            u.avg_duration_ms.map(|d| d.0),
            Some(200.0),
            "150 ms bills as 200"
        );
        assert_eq!(u.memory_mb.map(|c| c.0), Some(64));
    }
}
