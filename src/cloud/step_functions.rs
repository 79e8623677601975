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

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::{Assumption, QuotaEra, ThrottleReason, Throttled};
use crate::pricing::bill::express_billed_ms;
use crate::pricing::usage::{StepFunctionsUsage, Workflow};
use crate::pricing::{Catalog, Usage};
use crate::sim::{as_millis, millis, Dist, Dur, Histogram, Sampler, Time, TokenBucket};

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
    stats: SfnStats,
    /// `cfg.transition_latency`, prepared for drawing.
    latency: Sampler,
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
            latency: cfg.transition_latency.sampler(),
            cfg,
            start_bucket,
            transition_bucket,
            stats: SfnStats::default(),
        })
    }

    /// Sets the Standard quotas' refill rates per second, as the scenario's
    /// `[quotas]` give them (`raised = N`); `None` lifts a quota so it never binds
    /// (the run "with quotas raised to carry the load"). A raised bucket holds at
    /// least a second of its refill.
    pub fn set_quotas(&mut self, start_per_s: Option<u64>, transitions_per_s: Option<u64>) {
        let cap = |rate: u64, default: u32| default.max(rate.min(u32::MAX as u64) as u32);
        self.start_bucket = match start_per_s {
            Some(r) => TokenBucket::new(cap(r, self.start_bucket.capacity()), r as f64, 0),
            None => TokenBucket::new(u32::MAX, 1e12, 0),
        };
        if self.cfg.workflow == Workflow::Standard {
            self.transition_bucket = match (transitions_per_s, &self.transition_bucket) {
                (Some(r), Some(b)) => Some(TokenBucket::new(cap(r, b.capacity()), r as f64, 0)),
                (Some(r), None) => Some(TokenBucket::new(cap(r, 0), r as f64, 0)),
                (None, _) => None,
            };
        }
    }

    /// Executions a second each quota carries at steady state: StartExecution's
    /// refill, and the StateTransition refill over `transitions_per_execution`
    /// (`None`: no transition quota).
    pub fn executions_per_s(&self, transitions_per_execution: f64) -> (f64, Option<f64>) {
        (
            self.start_bucket.refill_per_s(),
            self.transition_bucket
                .as_ref()
                .map(|b| b.refill_per_s() / transitions_per_execution.max(1.0)),
        )
    }

    pub fn config(&self) -> &SfnConfig {
        &self.cfg
    }
    pub fn stats(&self) -> &SfnStats {
        &self.stats
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

    /// One state transition requested at `now`, reserved at once: counts it, waits
    /// for a StateTransition token (Standard), adds the transition latency; returns
    /// when the state starts. The simulation gates transitions with
    /// [`Sfn::take_transition`]; this reservation model is the tests' reference.
    #[cfg(test)]
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
    /// (what a transition adds after its token).
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
    use crate::sim::rng_stream;

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
        for _ in 0..4 {
            let start = sfn.start_execution(0).unwrap();
            sfn.finish(start, start + millis(150), true);
        }
        let mut usage = Usage::default();
        sfn.meter(&mut usage);
        let u = &usage.step_functions[0];
        assert_eq!(u.requests.map(|c| c.0), Some(4));
        assert_eq!(
            u.avg_billed_duration_ms.map(|d| d.0),
            Some(200.0),
            "150 ms bills as 200"
        );
        assert_eq!(u.memory_mb.map(|c| c.0), Some(64));
    }
}
