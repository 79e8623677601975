//! AWS Lambda: functions in one account sharing its concurrency limit.
//!
//! Rules (see docs/engine.md for sources):
//! - memory buys CPU: `memory_mb / 1769` vCPU, at most 6 (catalog `mb_per_vcpu`,
//!   `max_vcpu`); a kernel using `threads` threads runs at min(share, threads) of a
//!   core, so a single-threaded kernel never runs faster than one core;
//! - duration = kernel CPU time ÷ speed + I/O waits; billed duration rounded up to
//!   the catalog's increment (1 ms), INIT added when the catalog's date rule bills it;
//! - an instance is kept warm for `keep_alive` after its last invocation ends; an
//!   invocation that finds no warm instance cold-starts (latency drawn from
//!   `cold_start`);
//! - the account concurrency limit is shared by functions without reserved
//!   concurrency; a function with `reserved_concurrency` gets exactly that many;
//! - new execution environments are limited by the scaling rule: `2023` (account-wide
//!   initial burst, then +500 per minute) or `current` (+1,000 per 10 s per function),
//!   each modelled as a token bucket of new environments;
//! - a refused invocation returns [`Throttled`] (TooManyRequests) and is not billed;
//!   the caller retries with a [`RetryPolicy`](super::RetryPolicy).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::{Assumption, QuotaEra, ThrottleReason, Throttled};
use crate::pricing::bill::{init_is_billed, lambda_billed_ms};
use crate::pricing::catalog::Architecture;
use crate::pricing::usage::{Count, LambdaMemoryMb, LambdaUsage, NonNegative};
use crate::pricing::{Catalog, Usage};
use crate::sim::{millis, Dist, Dur, Histogram, Time, TokenBucket};

/// How fast Lambda adds execution environments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ScalingRule {
    /// Before 26 Nov 2023: account-wide initial burst, then +500 per minute.
    #[serde(rename = "2023")]
    Y2023,
    /// Since 26 Nov 2023: each function +1,000 every 10 s.
    #[default]
    #[serde(rename = "current")]
    Current,
    /// No rate limit (only concurrency limits apply).
    #[serde(rename = "unlimited")]
    Unlimited,
}

impl From<QuotaEra> for ScalingRule {
    fn from(e: QuotaEra) -> Self {
        match e {
            QuotaEra::Y2023 => ScalingRule::Y2023,
            QuotaEra::Current => ScalingRule::Current,
        }
    }
}

/// One function's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LambdaConfig {
    pub name: String,
    /// 128 to 10,240 MB.
    pub memory_mb: u32,
    pub architecture: Architecture,
    /// Threads the kernel can use (1 for a single-threaded kernel).
    pub threads: u32,
    /// Reserved concurrency; none = share the account's unreserved pool.
    pub reserved_concurrency: Option<u32>,
    /// How long an idle instance stays warm. Assumption (undocumented).
    pub keep_alive: Dur,
    /// Cold-start (INIT) latency. Assumption.
    pub cold_start: Dist,
}

impl Default for LambdaConfig {
    fn default() -> Self {
        LambdaConfig {
            name: "function".into(),
            memory_mb: 1769,
            architecture: Architecture::X86_64,
            threads: 1,
            reserved_concurrency: None,
            keep_alive: Dur(millis(10 * 60 * 1000)),
            cold_start: Dist::lognormal(millis(250), millis(1000)),
        }
    }
}

impl LambdaConfig {
    /// Rejects values Lambda does not allow.
    pub fn check(&self) -> Result<(), String> {
        if !(128..=10240).contains(&self.memory_mb) {
            return Err(format!(
                "lambda `{}`: memory_mb must be between 128 and 10240, got {}",
                self.name, self.memory_mb
            ));
        }
        if self.threads == 0 {
            return Err(format!("lambda `{}`: threads must be >= 1", self.name));
        }
        self.cold_start
            .check()
            .map_err(|e| format!("lambda `{}`: cold_start: {e}", self.name))
    }

    /// The parameters that are assumptions, with their values.
    pub fn assumptions(&self) -> Vec<Assumption> {
        vec![
            Assumption::new(
                "lambda.keep_alive",
                self.keep_alive,
                "not documented; observed 5-15 min idle (reference/aws.md §4, U)",
            ),
            Assumption::new(
                "lambda.cold_start",
                self.cold_start.describe(),
                "AWS: 'under 100 ms to over 1 s'; typical 100-300 ms p50 (reference/aws.md §4, P/S)",
            ),
        ]
    }
}

/// Account-wide settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccountConfig {
    /// Concurrent executions; none = the catalog's default quota.
    pub concurrency_limit: Option<u32>,
    pub scaling: ScalingRule,
    /// Billing date (ISO) deciding whether INIT is billed (catalog date rule).
    pub date: String,
}

impl Default for AccountConfig {
    fn default() -> Self {
        AccountConfig {
            concurrency_limit: None,
            scaling: ScalingRule::Current,
            date: "2025-11-01".into(),
        }
    }
}

/// Wall time of `cpu_ns` of one core's CPU work at `speed` cores (rounded up).
pub fn cpu_time(cpu_ns: Time, speed: f64) -> Time {
    if speed <= 0.0 {
        return Time::MAX;
    }
    crate::sim::ceil_u64(cpu_ns as f64 / speed)
}

/// A function's handle in its account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LambdaFn(pub usize);

/// A successful invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Invocation {
    /// When the handler starts (after INIT on a cold start).
    pub start: Time,
    /// When the handler returns.
    pub end: Time,
    pub cold: bool,
    /// INIT duration (0 when warm).
    pub init_ns: Time,
    /// Handler duration: CPU ÷ speed + I/O.
    pub duration_ns: Time,
    /// Billed milliseconds, INIT included when billed.
    pub billed_ms: u64,
}

/// One function's counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LambdaStats {
    pub invocations: u64,
    pub cold_starts: u64,
    pub throttles: u64,
    /// Throttles by the scaling rule (a subset of `throttles`).
    pub scaling_throttles: u64,
    pub peak_concurrency: u32,
    /// Instances ever created.
    pub instances_created: u64,
    pub billed_ms: u64,
    /// INIT milliseconds included in `billed_ms` (0 when INIT is not billed).
    pub billed_init_ms: u64,
    /// Time from the call to the handler's return, ns.
    #[serde(skip)]
    pub latency: Histogram,
}

struct FnState {
    cfg: LambdaConfig,
    speed: f64,
    busy: u32,
    /// Idle-since times of warm instances, oldest first.
    idle: VecDeque<Time>,
    /// When each busy instance's invocation ends, earliest first: the next of them
    /// leaves a warm instance that needs no new execution environment (and the
    /// earliest over the functions is when the account next has room).
    ends: BinaryHeap<Reverse<Time>>,
    scale: Option<TokenBucket>,
    /// New execution environments the function may still create outside the scaling
    /// rule: the ones it had already scaled to before the run ([`LambdaAccount::scaled_to`]).
    scaled: u32,
    stats: LambdaStats,
}

/// The Lambda functions of one account.
pub struct LambdaAccount {
    catalog: Catalog,
    limit: u32,
    reserved_sum: u32,
    unreserved_busy: u32,
    busy: u32,
    peak: u32,
    init_billed: bool,
    scaling: ScalingRule,
    /// Account-wide burst bucket (2023 rule).
    burst: Option<TokenBucket>,
    fns: Vec<FnState>,
}

impl LambdaAccount {
    /// An account with no functions, its quotas from `catalog`.
    pub fn new(catalog: &Catalog, cfg: &AccountConfig) -> Self {
        let q = &catalog.quotas;
        let burst = match cfg.scaling {
            ScalingRule::Y2023 => Some(TokenBucket::new(
                q.lambda_scaling_2023.initial_burst,
                q.lambda_scaling_2023.per_minute as f64 / 60.0,
                0,
            )),
            _ => None,
        };
        LambdaAccount {
            catalog: catalog.clone(),
            limit: cfg
                .concurrency_limit
                .unwrap_or(q.lambda_concurrent_executions.value),
            reserved_sum: 0,
            unreserved_busy: 0,
            busy: 0,
            peak: 0,
            init_billed: init_is_billed(catalog, &cfg.date),
            scaling: cfg.scaling,
            burst,
            fns: Vec::new(),
        }
    }

    /// Adds a function; fails on settings Lambda refuses (memory out of range,
    /// reserved concurrency beyond the account limit).
    pub fn add_function(&mut self, cfg: LambdaConfig) -> Result<LambdaFn, String> {
        cfg.check()?;
        if let Some(r) = cfg.reserved_concurrency {
            if self.reserved_sum + r > self.limit {
                return Err(format!(
                    "lambda `{}`: reserved concurrency {r} exceeds what is left of the account limit ({})",
                    cfg.name,
                    self.limit - self.reserved_sum
                ));
            }
            self.reserved_sum += r;
        }
        let l = &self.catalog.lambda;
        let share = (cfg.memory_mb as f64 / l.mb_per_vcpu as f64).min(l.max_vcpu);
        let speed = share.min(cfg.threads as f64);
        let scale = match self.scaling {
            ScalingRule::Current => {
                let s = &self.catalog.quotas.lambda_scaling_current;
                Some(TokenBucket::new(
                    s.increment,
                    s.increment as f64 / s.every_s,
                    0,
                ))
            }
            _ => None,
        };
        self.fns.push(FnState {
            cfg,
            speed,
            busy: 0,
            idle: VecDeque::new(),
            ends: BinaryHeap::new(),
            scale,
            scaled: 0,
            stats: LambdaStats::default(),
        });
        Ok(LambdaFn(self.fns.len() - 1))
    }

    /// Starts `f` as a function that has already scaled to `environments` execution
    /// environments (a steady stretch that follows another, `layouts::segments`): it
    /// creates up to that many again without waiting for the scaling rule, as a
    /// function that kept them warm would not have to. They start cold all the same
    /// (the stretch's fresh start, which its two runs cancel).
    pub fn scaled_to(&mut self, f: LambdaFn, environments: u32) {
        self.fns[f.0].scaled = environments;
    }

    /// Frees instances whose invocations ended by `now`.
    fn release(&mut self, now: Time) {
        for st in &mut self.fns {
            while let Some(&Reverse(end)) = st.ends.peek() {
                if end > now {
                    break;
                }
                st.ends.pop();
                st.busy -= 1;
                st.idle.push_back(end);
                if st.cfg.reserved_concurrency.is_none() {
                    self.unreserved_busy -= 1;
                }
                self.busy -= 1;
            }
        }
    }

    /// When the next running invocation of any function ends.
    fn next_end(&self) -> Option<Time> {
        self.fns
            .iter()
            .filter_map(|st| st.ends.peek().map(|Reverse(t)| *t))
            .min()
    }

    /// Invokes `f` at `now` for a handler needing `cpu_ns` of one core's CPU time
    /// and `io_ns` of waiting (S3, network). Calls must come in nondecreasing `now`.
    pub fn invoke<R: Rng + ?Sized>(
        &mut self,
        f: LambdaFn,
        now: Time,
        cpu_ns: Time,
        io_ns: Time,
        rng: &mut R,
    ) -> Result<Invocation, Throttled> {
        self.invoke_with(f, now, rng, |start, speed, _| {
            start
                .saturating_add(cpu_time(cpu_ns, speed))
                .saturating_add(io_ns)
        })
    }

    /// Invokes `f` at `now` with a handler body: `body(start, speed, rng)` gets the
    /// time the handler starts (after INIT on a cold start), the CPU speed in cores
    /// and the random stream,
    /// does its work (e.g. an S3 GET from `start`, then [`cpu_time`] of the kernel,
    /// then a PUT) and returns when the handler returns. The body runs only if the
    /// invocation is admitted.
    pub fn invoke_with<R: Rng + ?Sized>(
        &mut self,
        f: LambdaFn,
        now: Time,
        rng: &mut R,
        body: impl FnOnce(Time, f64, &mut R) -> Time,
    ) -> Result<Invocation, Throttled> {
        self.release(now);
        let next_end = self.next_end();
        let unreserved_room = self.limit - self.reserved_sum;
        let st = &mut self.fns[f.0];
        // Warm instances past their keep-alive are gone.
        let keep = st.cfg.keep_alive.0;
        while st
            .idle
            .front()
            .is_some_and(|&since| since.saturating_add(keep) <= now)
        {
            st.idle.pop_front();
        }
        let refuse = |st: &mut FnState, reason, retry_after| {
            st.stats.throttles += 1;
            if reason == ThrottleReason::ScalingRate {
                st.stats.scaling_throttles += 1;
            }
            Err(Throttled {
                retry_after,
                reason,
            })
        };
        match st.cfg.reserved_concurrency {
            Some(r) if st.busy >= r => {
                return refuse(st, ThrottleReason::ReservedConcurrency, next_end)
            }
            None if self.unreserved_busy >= unreserved_room => {
                return refuse(st, ThrottleReason::AccountConcurrency, next_end)
            }
            _ => {}
        }
        let cold = st.idle.is_empty();
        if cold {
            let bucket = match self.scaling {
                ScalingRule::Current => st.scale.as_mut(),
                ScalingRule::Y2023 => self.burst.as_mut(),
                ScalingRule::Unlimited => None,
            };
            if st.scaled > 0 {
                st.scaled -= 1;
            } else if let Some(b) = bucket {
                if !b.try_take(now) {
                    // Room comes with the next new environment or the next of this
                    // function's instances to finish, whichever is first.
                    let token = b.next_available(now);
                    let warm = st.ends.peek().map_or(Time::MAX, |Reverse(t)| *t);
                    return refuse(st, ThrottleReason::ScalingRate, Some(token.min(warm)));
                }
            }
            st.stats.cold_starts += 1;
            st.stats.instances_created += 1;
        } else {
            st.idle.pop_back();
        }
        let init_ns = if cold {
            st.cfg.cold_start.sample(rng)
        } else {
            0
        };
        let start = now.saturating_add(init_ns);
        let end = body(start, st.speed, rng).max(start);
        let duration_ns = end - start;
        let billed_ns = if self.init_billed {
            duration_ns.saturating_add(init_ns)
        } else {
            duration_ns
        };
        let billed_ms = lambda_billed_ms(&self.catalog, billed_ns);
        if self.init_billed && cold {
            st.stats.billed_init_ms +=
                billed_ms.saturating_sub(lambda_billed_ms(&self.catalog, duration_ns));
        }
        st.busy += 1;
        st.stats.peak_concurrency = st.stats.peak_concurrency.max(st.busy);
        st.stats.invocations += 1;
        st.stats.billed_ms += billed_ms;
        st.stats.latency.record(end - now);
        if st.cfg.reserved_concurrency.is_none() {
            self.unreserved_busy += 1;
        }
        self.busy += 1;
        self.peak = self.peak.max(self.busy);
        st.ends.push(Reverse(end));
        Ok(Invocation {
            start,
            end,
            cold,
            init_ns,
            duration_ns,
            billed_ms,
        })
    }

    /// Counters of one function.
    pub fn stats(&self, f: LambdaFn) -> &LambdaStats {
        &self.fns[f.0].stats
    }
    /// Settings of one function.
    pub fn config(&self, f: LambdaFn) -> &LambdaConfig {
        &self.fns[f.0].cfg
    }
    /// Every function, in the order added.
    pub fn functions(&self) -> impl Iterator<Item = LambdaFn> {
        (0..self.fns.len()).map(LambdaFn)
    }
    /// CPU speed of a function, in cores (min(memory share, threads)).
    pub fn speed(&self, f: LambdaFn) -> f64 {
        self.fns[f.0].speed
    }
    /// Highest account-wide concurrency seen.
    pub fn peak_concurrency(&self) -> u32 {
        self.peak
    }
    /// Account-wide concurrency at the last call.
    pub fn concurrency(&self) -> u32 {
        self.busy
    }
    /// Account concurrency limit in force.
    pub fn concurrency_limit(&self) -> u32 {
        self.limit
    }
    /// Whether INIT is billed under the account's date.
    pub fn init_billed(&self) -> bool {
        self.init_billed
    }
    /// Throttles of every function.
    pub fn throttles(&self) -> u64 {
        self.fns.iter().map(|f| f.stats.throttles).sum()
    }
    /// Of those, the ones the scaling rule refused (no new execution environment
    /// yet), not a concurrency limit.
    pub fn scaling_throttles(&self) -> u64 {
        self.fns.iter().map(|f| f.stats.scaling_throttles).sum()
    }

    /// Writes each invoked function's invocations and mean billed duration.
    pub fn meter(&self, usage: &mut Usage) {
        for st in &self.fns {
            if st.stats.invocations == 0 {
                continue;
            }
            usage.lambda.push(LambdaUsage {
                name: st.cfg.name.clone(),
                architecture: st.cfg.architecture,
                memory_mb: LambdaMemoryMb(st.cfg.memory_mb),
                invocations: Count(st.stats.invocations),
                avg_billed_duration_ms: NonNegative(
                    st.stats.billed_ms as f64 / st.stats.invocations as f64,
                ),
                ephemeral_storage_mb: Default::default(),
                log_bytes_per_invocation: None,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{rng_stream, seconds};

    fn account(scaling: ScalingRule, limit: Option<u32>, date: &str) -> LambdaAccount {
        LambdaAccount::new(
            &Catalog::builtin(),
            &AccountConfig {
                concurrency_limit: limit,
                scaling,
                date: date.into(),
            },
        )
    }

    fn fixed_cfg(memory_mb: u32) -> LambdaConfig {
        LambdaConfig {
            name: "detector".into(),
            memory_mb,
            cold_start: Dist::fixed(millis(200)),
            keep_alive: Dur(seconds(600)),
            ..LambdaConfig::default()
        }
    }

    #[test]
    fn memory_sets_cpu_speed() {
        let mut a = account(ScalingRule::Current, None, "2025-11-01");
        let half = a.add_function(fixed_cfg(884)).unwrap();
        let one = a.add_function(fixed_cfg(1769)).unwrap();
        let big = a.add_function(fixed_cfg(10240)).unwrap();
        let mut multi = fixed_cfg(10240);
        multi.threads = 16;
        let multi = a.add_function(multi).unwrap();
        assert!((a.speed(half) - 884.0 / 1769.0).abs() < 1e-12);
        assert_eq!(a.speed(one), 1.0);
        assert_eq!(a.speed(big), 1.0, "single-threaded: at most one core");
        // 10,240 MB is 5.79 vCPU by the proportional rule (AWS rounds it to "6").
        assert!((a.speed(multi) - 10240.0 / 1769.0).abs() < 1e-12);
        assert!(a.speed(multi) <= 6.0);
        assert!(a.add_function(fixed_cfg(64)).is_err());
        // 100 ms of CPU at one core + 20 ms I/O on a warm... first call is cold.
        let mut rng = rng_stream(1, "t", 0);
        let inv = a.invoke(one, 0, millis(100), millis(20), &mut rng).unwrap();
        assert!(inv.cold);
        assert_eq!(inv.start, millis(200));
        assert_eq!(inv.duration_ns, millis(120));
        assert_eq!(inv.end, millis(320));
        let slow = a.invoke(half, 0, millis(100), 0, &mut rng).unwrap();
        assert_eq!(slow.duration_ns, 200_113_123); // 100 ms / (884/1769), rounded up
    }

    #[test]
    fn billing_rounds_up_to_1ms_and_init_by_date() {
        let mut rng = rng_stream(1, "t", 0);
        let mut now = account(ScalingRule::Current, None, "2025-11-01");
        let f = now.add_function(fixed_cfg(1769)).unwrap();
        let cold = now.invoke(f, 0, 10_000_001, 0, &mut rng).unwrap();
        assert_eq!(
            cold.billed_ms,
            200 + 11,
            "INIT billed since Aug 2025; 10.000001 ms -> 11"
        );
        let warm = now.invoke(f, seconds(1), 10_000_000, 0, &mut rng).unwrap();
        assert!(!warm.cold);
        assert_eq!(warm.billed_ms, 10);
        let mut old = account(ScalingRule::Current, None, "2023-03-22");
        let g = old.add_function(fixed_cfg(1769)).unwrap();
        let cold = old.invoke(g, 0, 10_000_001, 0, &mut rng).unwrap();
        assert_eq!(cold.billed_ms, 11, "INIT not billed in 2023");
        let mut usage = Usage::default();
        now.meter(&mut usage);
        assert_eq!(usage.lambda.len(), 1);
        assert_eq!(usage.lambda[0].invocations, Count(2));
        assert_eq!(usage.lambda[0].avg_billed_duration_ms, NonNegative(110.5));
        assert_eq!(now.stats(f).billed_init_ms, 200);
    }

    #[test]
    fn cold_start_after_idle_period_and_none_before() {
        let mut rng = rng_stream(1, "t", 0);
        let mut a = account(ScalingRule::Current, None, "2025-11-01");
        let f = a.add_function(fixed_cfg(1769)).unwrap();
        let first = a.invoke(f, 0, millis(100), 0, &mut rng).unwrap();
        assert!(first.cold);
        let idle_since = first.end;
        let before = a
            .invoke(f, idle_since + seconds(600) - 1, millis(100), 0, &mut rng)
            .unwrap();
        assert!(!before.cold, "1 ns before the keep-alive ends: warm");
        let after = a
            .invoke(f, before.end + seconds(600), millis(100), 0, &mut rng)
            .unwrap();
        assert!(after.cold, "at the end of the keep-alive: cold");
        // Two overlapping calls need two instances.
        let t = after.end + 1;
        let x = a.invoke(f, t, millis(100), 0, &mut rng).unwrap();
        let y = a.invoke(f, t, millis(100), 0, &mut rng).unwrap();
        assert!(!x.cold && y.cold);
        assert_eq!(a.stats(f).cold_starts, 3);
        assert_eq!(a.stats(f).peak_concurrency, 2);
    }

    #[test]
    fn concurrency_limit_throttles_then_retries_succeed() {
        let mut rng = rng_stream(1, "t", 0);
        let mut a = account(ScalingRule::Unlimited, Some(3), "2025-11-01");
        let f = a.add_function(fixed_cfg(1769)).unwrap();
        for _ in 0..3 {
            a.invoke(f, 0, seconds(1), 0, &mut rng).unwrap();
        }
        let refused = a.invoke(f, 0, seconds(1), 0, &mut rng).unwrap_err();
        assert_eq!(refused.reason, ThrottleReason::AccountConcurrency);
        assert_eq!(refused.retry_after, Some(millis(1200)));
        // The caller retries with backoff until an instance frees at 1.2 s.
        let policy = super::super::RetryPolicy {
            base: Dur(millis(100)),
            cap: Dur(seconds(2)),
            max_attempts: 50,
        };
        let (mut t, mut attempts) = (0, 0u32);
        let inv = loop {
            attempts += 1;
            match a.invoke(f, t, seconds(1), 0, &mut rng) {
                Ok(inv) => break inv,
                Err(_) if attempts < policy.max_attempts => t += policy.backoff(attempts, &mut rng),
                Err(e) => panic!("still refused after {attempts} attempts: {e:?}"),
            }
        };
        assert!(attempts > 1);
        assert!(inv.start >= millis(1200));
        assert!(!inv.cold, "reuses the freed instance");
        assert_eq!(a.stats(f).throttles, 1 + attempts as u64 - 1);
        assert_eq!(a.stats(f).invocations, 4);
    }

    #[test]
    fn invoke_with_runs_the_body_from_the_handler_start() {
        let mut rng = rng_stream(1, "t", 0);
        let mut a = account(ScalingRule::Current, None, "2023-01-01");
        let f = a.add_function(fixed_cfg(884)).unwrap();
        let mut seen = None;
        let inv = a
            .invoke_with(f, seconds(1), &mut rng, |start, speed, _| {
                seen = Some((start, speed));
                // GET 30 ms, then 50 ms of CPU at half a core.
                start + millis(30) + cpu_time(millis(50), speed)
            })
            .unwrap();
        let (start, speed) = seen.unwrap();
        assert_eq!(start, seconds(1) + millis(200), "after the cold start");
        assert_eq!(inv.start, start);
        assert_eq!(inv.duration_ns, millis(30) + cpu_time(millis(50), speed));
        assert_eq!(
            inv.billed_ms, 131,
            "30 + 100.06 ms, rounded up; INIT not billed in 2023"
        );
    }

    #[test]
    fn reserved_concurrency_is_its_own_pool() {
        let mut rng = rng_stream(1, "t", 0);
        let mut a = account(ScalingRule::Unlimited, Some(4), "2025-11-01");
        let mut cfg = fixed_cfg(1769);
        cfg.reserved_concurrency = Some(1);
        let r = a.add_function(cfg).unwrap();
        let u = a.add_function(fixed_cfg(1769)).unwrap();
        a.invoke(r, 0, seconds(1), 0, &mut rng).unwrap();
        let e = a.invoke(r, 0, seconds(1), 0, &mut rng).unwrap_err();
        assert_eq!(e.reason, ThrottleReason::ReservedConcurrency);
        for _ in 0..3 {
            a.invoke(u, 0, seconds(1), 0, &mut rng).unwrap();
        }
        let e = a.invoke(u, 0, seconds(1), 0, &mut rng).unwrap_err();
        assert_eq!(e.reason, ThrottleReason::AccountConcurrency);
        let mut too_much = fixed_cfg(1769);
        too_much.reserved_concurrency = Some(4);
        assert!(a.add_function(too_much).is_err());
    }

    #[test]
    fn scaling_rules_limit_new_environments() {
        let mut rng = rng_stream(1, "t", 0);
        // Current rule: 1,000 new environments at once, then 100/s.
        let mut a = account(ScalingRule::Current, Some(100_000), "2025-11-01");
        let f = a.add_function(fixed_cfg(1769)).unwrap();
        for _ in 0..1000 {
            a.invoke(f, 0, seconds(60), 0, &mut rng).unwrap();
        }
        let e = a.invoke(f, 0, seconds(60), 0, &mut rng).unwrap_err();
        assert_eq!(e.reason, ThrottleReason::ScalingRate);
        assert_eq!(e.retry_after, Some(millis(10)));
        assert!(a.invoke(f, millis(10), seconds(60), 0, &mut rng).is_ok());
        // 2023 rule: burst of 3,000 account-wide, then 500 a minute.
        let mut b = account(ScalingRule::Y2023, Some(100_000), "2023-03-01");
        let g = b.add_function(fixed_cfg(1769)).unwrap();
        let h = b.add_function(fixed_cfg(1769)).unwrap();
        for i in 0..3000 {
            let which = if i % 2 == 0 { g } else { h };
            b.invoke(which, 0, seconds(60), 0, &mut rng).unwrap();
        }
        let e = b.invoke(h, 0, seconds(60), 0, &mut rng).unwrap_err();
        assert_eq!(e.reason, ThrottleReason::ScalingRate);
        assert_eq!(e.retry_after, Some(120_000_005)); // 500/min, exact to 1e-6 token/s

        // Scaling refusals are counted apart from concurrency refusals.
        assert_eq!((b.throttles(), b.scaling_throttles()), (1, 1));
        let mut c = account(ScalingRule::Unlimited, Some(1), "2025-11-01");
        let k = c.add_function(fixed_cfg(1769)).unwrap();
        c.invoke(k, 0, seconds(60), 0, &mut rng).unwrap();
        let e = c.invoke(k, 0, seconds(60), 0, &mut rng).unwrap_err();
        assert_eq!(e.reason, ThrottleReason::AccountConcurrency);
        assert_eq!((c.throttles(), c.scaling_throttles()), (1, 0));
    }

    /// A refusal by the scaling rule says when room comes: the next new environment,
    /// or sooner the next of the function's own instances to finish (warm, it needs
    /// none). Another function's instances do not count.
    #[test]
    fn a_scaling_refusal_waits_for_the_first_warm_instance_or_token() {
        let mut rng = rng_stream(1, "t", 0);
        // 2023 rule: 3,000 at once, then 500 a minute (one each 120 ms).
        let mut b = account(ScalingRule::Y2023, Some(100_000), "2023-03-01");
        let g = b.add_function(fixed_cfg(1769)).unwrap();
        let h = b.add_function(fixed_cfg(1769)).unwrap();
        // g: 200 ms cold start + 50 ms, idle from 250 ms; h takes the rest of the burst.
        b.invoke(g, 0, millis(50), 0, &mut rng).unwrap();
        for _ in 0..2999 {
            b.invoke(h, 0, seconds(60), 0, &mut rng).unwrap();
        }
        // At 300 ms: 2.5 tokens. g's warm instance (to 350 ms), then two new ones.
        let warm = b.invoke(g, millis(300), millis(50), 0, &mut rng).unwrap();
        assert!(!warm.cold);
        for _ in 0..2 {
            assert!(
                b.invoke(g, millis(300), seconds(60), 0, &mut rng)
                    .unwrap()
                    .cold
            );
        }
        let e = b
            .invoke(g, millis(300), seconds(60), 0, &mut rng)
            .unwrap_err();
        assert_eq!(e.reason, ThrottleReason::ScalingRate);
        assert_eq!(
            e.retry_after,
            Some(millis(350)),
            "g's warm instance ends before the next token (360 ms)"
        );
        assert!(
            !b.invoke(g, millis(350), seconds(60), 0, &mut rng)
                .unwrap()
                .cold
        );
        let e = b
            .invoke(g, millis(350), seconds(60), 0, &mut rng)
            .unwrap_err();
        let t = e.retry_after.unwrap();
        assert!(
            t > millis(359) && t <= millis(361),
            "then the next token: {t}"
        );
    }

    /// A function that has already scaled to its environments creates them again
    /// without the scaling rule, then meets it as a fresh one does; they start cold.
    #[test]
    fn environments_already_scaled_to_bypass_the_scaling_rule_once() {
        let mut rng = rng_stream(1, "t", 0);
        for rule in [ScalingRule::Y2023, ScalingRule::Current] {
            let burst = match rule {
                ScalingRule::Y2023 => 3000,
                _ => 1000,
            };
            let mut a = account(rule, Some(100_000), "2023-03-01");
            let f = a.add_function(fixed_cfg(1769)).unwrap();
            let g = a.add_function(fixed_cfg(1769)).unwrap();
            a.scaled_to(f, 500);
            for _ in 0..(500 + burst) {
                assert!(a.invoke(f, 0, seconds(60), 0, &mut rng).unwrap().cold);
            }
            let e = a.invoke(f, 0, seconds(60), 0, &mut rng).unwrap_err();
            assert_eq!(e.reason, ThrottleReason::ScalingRate, "{rule:?}");
            // g has none of f's: under the 2023 rule the burst is the account's and
            // spent; under the current one g has its own.
            let g_ok = a.invoke(g, 0, seconds(60), 0, &mut rng).is_ok();
            assert_eq!(g_ok, rule == ScalingRule::Current, "{rule:?}");
        }
    }
}
