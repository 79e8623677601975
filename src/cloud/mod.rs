//! The AWS service models, built on `sim`: Lambda, Step Functions, S3, EC2/ECS and
//! Fargate.
//!
//! Each model is a state machine the layout calls in nondecreasing time order; it
//! returns outcomes and completion times and frees finished work lazily on the next
//! call, so a layout needs no release events. Each keeps counters and writes its
//! exact metered quantities into a [`pricing::Usage`](crate::pricing::Usage) with
//! `meter`. Every parameter that is not a published figure is data with a default
//! labelled as an assumption (see [`Assumption`] and each model's `assumptions()`).

pub mod ec2;
pub mod fargate;
mod fleet;
pub mod lambda;
pub mod s3;
pub mod step_functions;

pub use ec2::{Ec2Config, Ec2Fleet, Ec2Scaling};
pub use fargate::{FargateConfig, FargateService, FargateStats};
pub use lambda::{Invocation, LambdaAccount, LambdaConfig, LambdaFn, ScalingRule};
pub use s3::{S3Bucket, S3Config, S3Op};
pub use step_functions::{
    count_transitions, Execution, Retrier, Sfn, SfnConfig, State, StateMachine, TaskCall,
    TaskOutcome,
};

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::sim::{Dur, Time};

/// A request the service refused for rate or concurrency (Lambda TooManyRequests,
/// Step Functions ThrottlingException, S3 503 Slow Down). The caller retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Throttled {
    /// When the refused limit frees up, if the model knows it (a hint: real clients
    /// are not told and use their backoff).
    pub retry_after: Option<Time>,
    pub reason: ThrottleReason,
}

/// Which limit refused the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ThrottleReason {
    /// Lambda account concurrency limit.
    AccountConcurrency,
    /// Lambda per-function reserved concurrency.
    ReservedConcurrency,
    /// Lambda scaling rate (new execution environments).
    ScalingRate,
    /// Step Functions StartExecution bucket.
    StartExecution,
    /// S3 per-prefix request rate (503 Slow Down).
    SlowDown,
}

impl std::fmt::Display for Throttled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.reason {
            ThrottleReason::AccountConcurrency => "TooManyRequests (account concurrency)",
            ThrottleReason::ReservedConcurrency => "TooManyRequests (reserved concurrency)",
            ThrottleReason::ScalingRate => "TooManyRequests (scaling rate)",
            ThrottleReason::StartExecution => "ThrottlingException (StartExecution)",
            ThrottleReason::SlowDown => "503 Slow Down",
        };
        f.write_str(what)
    }
}

/// Which published Step Functions and Lambda quotas apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum QuotaEra {
    /// As documented in early 2023, when Prime Video hit the wall.
    #[serde(rename = "2023")]
    Y2023,
    /// As documented now.
    #[default]
    #[serde(rename = "current")]
    Current,
}

impl QuotaEra {
    pub fn parse(s: &str) -> Option<QuotaEra> {
        match s {
            "2023" => Some(QuotaEra::Y2023),
            "current" => Some(QuotaEra::Current),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            QuotaEra::Y2023 => "2023",
            QuotaEra::Current => "current",
        }
    }
}

/// Client retry: exponential backoff with full jitter (the AWS SDK's rule), up to
/// `max_attempts` attempts in all.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryPolicy {
    /// Backoff before the first retry (before jitter).
    pub base: Dur,
    /// Largest backoff.
    pub cap: Dur,
    /// Attempts in all, the first included.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    /// Assumption: base 100 ms and cap 20 s as in the AWS SDKs' standard retry mode;
    /// 10 attempts rather than the SDK's 3, because a monitoring pipeline retries
    /// rather than drop a frame.
    fn default() -> Self {
        RetryPolicy {
            base: Dur(100_000_000),
            cap: Dur(20_000_000_000),
            max_attempts: 10,
        }
    }
}

impl RetryPolicy {
    /// Delay before retry number `retry` (1 for the first retry): uniform in
    /// [0, min(cap, base · 2^(retry−1))].
    pub fn backoff<R: Rng + ?Sized>(&self, retry: u32, rng: &mut R) -> Time {
        let exp = retry.saturating_sub(1).min(62);
        let ceiling = self.base.0.saturating_mul(1u64 << exp).min(self.cap.0);
        if ceiling == 0 {
            0
        } else {
            rng.random_range(0..=ceiling)
        }
    }

    /// Calls `attempt(t)` at `now` and, while it is throttled, again after each
    /// backoff, up to `max_attempts` in all. Returns the result with the number of
    /// attempts made, or the last refusal and the attempts when they run out.
    ///
    /// The retries happen at later times than `now`; a layout that keeps strict time
    /// order schedules them as events with [`RetryPolicy::backoff`] instead.
    pub fn run<T, R: Rng + ?Sized>(
        &self,
        now: Time,
        rng: &mut R,
        mut attempt: impl FnMut(Time, &mut R) -> Result<T, Throttled>,
    ) -> Result<(T, u32), (Throttled, u32)> {
        let mut t = now;
        let mut n = 0;
        loop {
            n += 1;
            match attempt(t, rng) {
                Ok(v) => return Ok((v, n)),
                Err(e) if n >= self.max_attempts.max(1) => return Err((e, n)),
                Err(_) => t = t.saturating_add(self.backoff(n, rng)),
            }
        }
    }
}

/// A parameter that is not a published figure: its name, default and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assumption {
    pub name: String,
    pub value: String,
    pub note: String,
}

impl Assumption {
    pub fn new(name: &str, value: impl ToString, note: &str) -> Self {
        Assumption {
            name: name.to_string(),
            value: value.to_string(),
            note: note.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng_stream;

    #[test]
    fn backoff_is_bounded_and_grows() {
        let p = RetryPolicy {
            base: Dur(100),
            cap: Dur(1000),
            max_attempts: 5,
        };
        let mut rng = rng_stream(1, "retry", 0);
        for retry in 1..10 {
            let ceiling = (100u64 << (retry - 1)).min(1000);
            for _ in 0..200 {
                assert!(p.backoff(retry, &mut rng) <= ceiling);
            }
        }
        let big: u64 = (0..1000).map(|_| p.backoff(4, &mut rng)).max().unwrap();
        assert!(big > 500, "jitter reaches the ceiling region: {big}");
    }

    #[test]
    fn run_retries_until_success_or_exhaustion() {
        let p = RetryPolicy::default();
        let mut rng = rng_stream(1, "retry", 1);
        let refuse = Throttled {
            retry_after: None,
            reason: ThrottleReason::SlowDown,
        };
        let mut calls = Vec::new();
        let ok = p.run(0, &mut rng, |t, _| {
            calls.push(t);
            if calls.len() < 3 {
                Err(refuse)
            } else {
                Ok(t)
            }
        });
        let (t, attempts) = ok.unwrap();
        assert_eq!(attempts, 3);
        assert!(calls.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(t, calls[2]);
        let fail = p.run(0, &mut rng, |_, _| Err::<(), _>(refuse));
        assert_eq!(fail.unwrap_err().1, p.max_attempts);
        assert_eq!(QuotaEra::parse("2023"), Some(QuotaEra::Y2023));
        assert_eq!(QuotaEra::parse("now"), None);
    }
}
