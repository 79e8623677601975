//! The AWS service models, built on `sim`: Lambda, Step Functions, S3, EC2/ECS and
//! Fargate.
//!
//! Each model is a state machine the layout calls in nondecreasing time order; it
//! returns outcomes and completion times and frees finished work lazily on the next
//! call, so a layout needs no release events. Each keeps counters and writes its
//! exact metered quantities into a [`pricing::Usage`](crate::pricing::Usage) with
//! `meter`. Every parameter that is not a published figure is data with a default
//! labelled as an assumption (see [`Assumption`] and each model's `assumptions()`).

pub mod asl;
pub mod ec2;
pub mod fargate;
mod fleet;
pub mod lambda;
pub mod s3;
pub mod sqs;
pub mod step_functions;
pub mod validate;

pub use ec2::{Ec2Config, Ec2Fleet, Ec2Scaling};
pub use fargate::{FargateConfig, FargateService, FargateStats};
pub use lambda::{
    cpu_time, AccountConfig, Invocation, LambdaAccount, LambdaConfig, LambdaFn, ScalingRule,
};
pub use s3::{S3Bucket, S3Config, S3Op};
pub use sqs::{SqsConfig, SqsQueue};
pub use step_functions::{Retrier, Sfn, SfnConfig};

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::kernels::cost::{CostModel, Kernel};
use crate::sim::{Dur, Time};

/// CPU time of running `kernels` once each, drawn from the calibration through the
/// [`CostModel`] trait (one uniform quantile per kernel from `rng`), in ns of one
/// core. Pass it to [`LambdaAccount::invoke`] or [`Ec2Fleet::run`]; tests use the
/// `FixedCost` mock.
pub fn draw_cpu_ns<R: Rng + ?Sized>(cost: &dyn CostModel, kernels: &[Kernel], rng: &mut R) -> Time {
    kernels
        .iter()
        .map(|k| cost.cpu_ns(*k, rng.random::<f64>()))
        .fold(0, Time::saturating_add)
}

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

/// Every default that is an assumption, for the scenario file and the report.
pub fn default_assumptions() -> Vec<Assumption> {
    let mut v = lambda::LambdaConfig::default().assumptions();
    v.extend(step_functions::SfnConfig::default().assumptions());
    v.extend(s3::S3Config::default().assumptions());
    v.extend(ec2::Ec2Config::default().assumptions());
    v.extend(fargate::FargateConfig::default().assumptions());
    v.push(Assumption::new(
        "retry",
        format!(
            "base {}, cap {}, {} attempts",
            RetryPolicy::default().base,
            RetryPolicy::default().cap,
            RetryPolicy::default().max_attempts
        ),
        "exponential backoff with full jitter as in the AWS SDKs' standard mode; more attempts than the SDK's 3 (U)",
    ));
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng_stream;

    #[test]
    fn cpu_is_drawn_through_the_cost_model() {
        use crate::kernels::cost::FixedCost;
        let cost = FixedCost::uniform(1_000, 50_000).with(Kernel::H264Decode, 4_000_000);
        let mut rng = rng_stream(1, "cpu", 0);
        let ns = draw_cpu_ns(
            &cost,
            &[Kernel::H264Decode, Kernel::Scale, Kernel::Freeze],
            &mut rng,
        );
        assert_eq!(ns, 4_002_000);
        // Lambda at half a core: twice the CPU time.
        let catalog = crate::pricing::Catalog::builtin();
        let mut a = LambdaAccount::new(&catalog, &AccountConfig::default());
        let f = a
            .add_function(LambdaConfig {
                memory_mb: 1769 / 2 + 1,
                cold_start: crate::sim::Dist::fixed(0),
                ..LambdaConfig::default()
            })
            .unwrap();
        let inv = a.invoke(f, 0, ns, 0, &mut rng).unwrap();
        assert_eq!(inv.duration_ns, cpu_time(ns, a.speed(f)));
        assert!((inv.duration_ns as f64 / ns as f64 - 1769.0 / 885.0).abs() < 1e-6);
    }

    #[test]
    fn settings_parse_from_toml_with_units_and_reject_unknown_fields() {
        use crate::sim::{millis, seconds, Dist};
        let l: LambdaConfig = toml::from_str(
            r#"
            name = "detector"
            memory_mb = 1024
            architecture = "arm64"
            reserved_concurrency = 50
            keep_alive = "5min"
            cold_start = { kind = "lognormal", median = "300ms", p99 = "2s" }
            "#,
        )
        .unwrap();
        assert_eq!(l.keep_alive, Dur(seconds(300)));
        assert_eq!(l.cold_start, Dist::lognormal(millis(300), seconds(2)));
        assert_eq!(l.threads, 1, "defaults fill the rest");
        assert!(toml::from_str::<LambdaConfig>("memry_mb = 1").is_err());
        let a: AccountConfig =
            toml::from_str("scaling = \"2023\"\nconcurrency_limit = 3000").unwrap();
        assert_eq!(a.scaling, ScalingRule::Y2023);
        let s: SfnConfig = toml::from_str(
            "workflow = \"express\"\nquotas = \"2023\"\ntransition_latency = { kind = \"fixed\", value = \"25ms\" }",
        )
        .unwrap();
        assert_eq!(s.quotas, QuotaEra::Y2023);
        let b: S3Config =
            toml::from_str("lifecycle = \"2days\"\nbandwidth_mb_per_s = 50.0").unwrap();
        assert_eq!(b.lifecycle, Dur(seconds(2 * 86_400)));
        let e: Ec2Config = toml::from_str(
            "instance_type = \"c6g.4xlarge\"\nlaunch_delay = \"90s\"\nscaling = { kind = \"target_tracking\", target_cpu = 0.6, cooldown = \"5min\", min = 2, max = 8, initial = 2 }",
        )
        .unwrap();
        assert!(matches!(
            e.scaling,
            Ec2Scaling::TargetTracking { max: 8, .. }
        ));
        let r: RetryPolicy = toml::from_str("base = \"50ms\"\nmax_attempts = 4").unwrap();
        assert_eq!(r.cap, RetryPolicy::default().cap);
        let t: Retrier = toml::from_str("max_attempts = 6\ninterval = \"2s\"").unwrap();
        assert_eq!(t.backoff_rate, 2.0);
    }

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
    fn quota_eras_parse() {
        assert_eq!(QuotaEra::parse("2023"), Some(QuotaEra::Y2023));
        assert_eq!(QuotaEra::parse("now"), None);
    }
}
