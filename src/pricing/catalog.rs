//! The price catalog: every rate archsim knows, as data with its source and date.
//! The default catalog is embedded in the binary; a user's own file has the same shape.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{parse_toml, read_text, Error, InputError, Result};

/// The embedded default catalog's text.
pub const AWS_US_EAST_1: &str = include_str!("../../catalogs/aws-us-east-1.toml");

/// Where a figure comes from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Sourced<T> {
    pub value: T,
    pub source: String,
    pub as_of: String,
    #[serde(default)]
    pub confidence: Option<String>,
}

/// A flat rate: `usd` per `per` units.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    pub usd: f64,
    pub per: f64,
    pub unit: String,
    pub source: String,
    pub as_of: String,
    #[serde(default)]
    pub confidence: Option<String>,
}

impl Rate {
    /// Price of one unit.
    pub fn unit_usd(&self) -> f64 {
        self.usd / self.per
    }
}

/// One step of a tiered rate; the last tier has no upper bound.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// Upper bound of the tier, in cumulative units for the month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up_to: Option<f64>,
    /// Price per unit inside the tier.
    pub usd: f64,
}

/// A rate that falls as monthly volume grows (Lambda and Express duration).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TieredRate {
    pub unit: String,
    pub tiers: Vec<Tier>,
    pub source: String,
    pub as_of: String,
    #[serde(default)]
    pub confidence: Option<String>,
}

impl TieredRate {
    /// Splits `quantity` units, starting at cumulative volume `already`, into
    /// `(tier index, units, usd)` pieces.
    pub fn split(&self, already: f64, quantity: f64) -> Vec<(usize, f64, f64)> {
        let mut out = Vec::new();
        let mut start = already;
        let mut left = quantity;
        let mut lower = 0.0;
        for (i, tier) in self.tiers.iter().enumerate() {
            if left <= 0.0 {
                break;
            }
            let upper = tier.up_to.unwrap_or(f64::INFINITY);
            if start < upper {
                let here = left.min(upper - start.max(lower));
                if here > 0.0 {
                    out.push((i, here, here * tier.usd));
                    left -= here;
                    start += here;
                }
            }
            lower = upper;
        }
        out
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LambdaFreeTier {
    pub requests: f64,
    pub gb_seconds: f64,
    pub source: String,
    pub as_of: String,
    #[serde(default)]
    pub confidence: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LambdaDuration {
    pub x86_64: TieredRate,
    pub arm64: TieredRate,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LambdaPrices {
    pub requests: Rate,
    pub ephemeral_storage: Rate,
    pub ephemeral_included_mb: u32,
    pub duration_rounding_ms: u64,
    pub duration_rounding_source: String,
    pub memory_min_mb: u32,
    pub memory_max_mb: u32,
    pub mb_per_vcpu: u32,
    pub max_vcpu: f64,
    pub cpu_source: String,
    /// ISO date from which the INIT phase of every on-demand invocation is billed.
    pub init_billed_since: String,
    pub init_billed_source: String,
    pub free_tier: LambdaFreeTier,
    pub duration: LambdaDuration,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StepFunctionsPrices {
    pub standard_transitions: Rate,
    pub standard_free_transitions: Sourced<u64>,
    pub express_requests: Rate,
    pub express_memory_chunk_mb: u32,
    pub express_duration_increment_ms: u64,
    pub express_rounding_source: String,
    pub express_duration: TieredRate,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct S3Prices {
    pub tier1_requests: Rate,
    pub tier2_requests: Rate,
    pub storage: Rate,
}

/// SQS: requests billed per 64 KB chunk of payload, by queue type.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SqsPrices {
    pub standard_requests: Rate,
    pub fifo_requests: Rate,
    /// Requests free each month, Standard and FIFO together.
    pub free_requests: Sourced<u64>,
    /// Each chunk of this many payload bytes is billed as one request.
    pub chunk_bytes: Sourced<u64>,
    /// Largest message; bigger payloads travel through S3.
    pub max_message_bytes: Sourced<u64>,
    /// Most messages one batch call (send, receive, delete) carries.
    pub max_batch: Sourced<u32>,
    /// Longest long-poll wait, seconds.
    pub max_wait_seconds: Sourced<u32>,
}

/// CloudWatch Logs ingestion and what a Lambda invocation logs by default.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CloudWatchLogsPrices {
    pub ingestion: Rate,
    /// Bytes logged per invocation when the usage does not say (an assumption).
    pub lambda_bytes_per_invocation: Sourced<u64>,
}

/// EBS root volumes of EC2 instances.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EbsPrices {
    pub gp3_storage: Rate,
    /// Root volume per instance when the usage does not say (an assumption).
    pub root_volume_gb: Sourced<f64>,
    /// Hours in the month that turns instance-hours into GB-months.
    pub hours_per_month: Sourced<f64>,
}

/// NAT gateway data processing.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NatGatewayPrices {
    pub data_processing: Rate,
}

/// One EC2 instance type.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InstanceType {
    pub vcpu: u32,
    pub memory_gib: f64,
    pub architecture: Architecture,
    pub usd_per_hour: f64,
    pub source: String,
    pub as_of: String,
    #[serde(default)]
    pub confidence: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Ec2Prices {
    pub minimum_billed_seconds: u64,
    pub billing_source: String,
    pub savings_plan_note: String,
    /// Instance types by name, in name order.
    pub instances: BTreeMap<String, InstanceType>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FargateRate {
    pub usd_per_vcpu_hour: f64,
    pub usd_per_gb_hour: f64,
    pub source: String,
    pub as_of: String,
    #[serde(default)]
    pub confidence: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FargatePrices {
    pub minimum_billed_seconds: u64,
    pub x86_64: FargateRate,
    pub arm64: FargateRate,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LambdaScaling2023 {
    pub initial_burst: u32,
    pub per_minute: u32,
    pub source: String,
    pub as_of: String,
    #[serde(default)]
    pub confidence: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LambdaScalingCurrent {
    pub increment: u32,
    pub every_s: f64,
    pub source: String,
    pub as_of: String,
    #[serde(default)]
    pub confidence: Option<String>,
}

/// Step Functions request-rate quotas, each a token bucket.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SfnBuckets {
    pub start_execution_bucket: u32,
    pub start_execution_refill_per_s: f64,
    /// Absent for Express, whose state transitions are not limited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_transition_bucket: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_transition_refill_per_s: Option<f64>,
    pub source: String,
    pub as_of: String,
    #[serde(default)]
    pub confidence: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct S3PrefixRates {
    pub put_per_s: u32,
    pub get_per_s: u32,
    pub source: String,
    pub as_of: String,
    #[serde(default)]
    pub confidence: Option<String>,
}

/// Published service quotas of the region.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Quotas {
    pub lambda_concurrent_executions: Sourced<u32>,
    pub lambda_scaling_2023: LambdaScaling2023,
    pub lambda_scaling_current: LambdaScalingCurrent,
    pub sfn_standard_2023: SfnBuckets,
    pub sfn_standard_current: SfnBuckets,
    pub sfn_express: SfnBuckets,
    pub sfn_inline_map_max_concurrency: Sourced<u32>,
    pub s3_per_prefix: S3PrefixRates,
    /// EC2 "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances"
    /// (L-1216C47A), counted in vCPUs; soft.
    pub ec2_on_demand_standard_vcpus: Sourced<u32>,
    /// Fargate On-Demand vCPU resource count; soft.
    pub fargate_on_demand_vcpus: Sourced<u32>,
}

/// A whole catalog: prices and quotas of one region.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    pub id: String,
    pub region: String,
    pub currency: String,
    pub description: String,
    pub lambda: LambdaPrices,
    pub step_functions: StepFunctionsPrices,
    pub s3: S3Prices,
    pub sqs: SqsPrices,
    pub cloudwatch_logs: CloudWatchLogsPrices,
    pub ebs: EbsPrices,
    pub nat_gateway: NatGatewayPrices,
    pub ec2: Ec2Prices,
    pub fargate: FargatePrices,
    pub quotas: Quotas,
}

/// CPU architecture of a Lambda function, instance or Fargate task.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Architecture {
    #[serde(rename = "x86_64")]
    X86_64,
    #[serde(rename = "arm64")]
    Arm64,
}

impl Architecture {
    pub fn as_str(self) -> &'static str {
        match self {
            Architecture::X86_64 => "x86_64",
            Architecture::Arm64 => "arm64",
        }
    }
}

impl Catalog {
    /// The catalog embedded in the binary.
    pub fn builtin() -> Catalog {
        Self::parse("<builtin aws-us-east-1>", AWS_US_EAST_1)
            .expect("the embedded catalog is valid (tested)")
    }

    /// Parses catalog text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Catalog> {
        let catalog: Catalog = parse_toml(file, text)?;
        catalog.check(file, text)?;
        Ok(catalog)
    }

    /// Loads a user's catalog file.
    pub fn load(path: &Path) -> Result<Catalog> {
        let text = read_text(path)?;
        Self::parse(&path.display().to_string(), &text)
    }

    /// The catalog named `id`: only the embedded one is known by name.
    pub fn by_id(id: &str) -> Option<Catalog> {
        (id == "aws-us-east-1").then(Self::builtin)
    }

    /// An instance type by name, or an error listing the known ones.
    pub fn instance(&self, name: &str) -> std::result::Result<&InstanceType, String> {
        self.ec2.instances.get(name).ok_or_else(|| {
            let names: Vec<&str> = self.ec2.instances.keys().map(String::as_str).collect();
            let hint = crate::error::nearest(name, &names)
                .map(|n| format!(" (did you mean `{n}`?)"))
                .unwrap_or_default();
            format!(
                "unknown instance type `{name}`{hint}; catalog `{}` knows: {}",
                self.id,
                names.join(", ")
            )
        })
    }

    /// Lambda duration rate of an architecture.
    pub fn lambda_duration(&self, arch: Architecture) -> &TieredRate {
        match arch {
            Architecture::X86_64 => &self.lambda.duration.x86_64,
            Architecture::Arm64 => &self.lambda.duration.arm64,
        }
    }

    /// Fargate rate of an architecture.
    pub fn fargate_rate(&self, arch: Architecture) -> &FargateRate {
        match arch {
            Architecture::X86_64 => &self.fargate.x86_64,
            Architecture::Arm64 => &self.fargate.arm64,
        }
    }

    /// Rejects values no real catalog can have (negative prices, unordered tiers) and
    /// quotas that would stop a run from progressing: every quota and rate must be
    /// at least 1 (there is no "unlimited" in a catalog; leave a limit high instead).
    /// Errors point at the value in `text`.
    fn check(&self, file: &str, text: &str) -> Result<()> {
        self.problem().map_or(Ok(()), |(path, msg)| {
            Err(Error::Input(InputError::at_path(
                file,
                text,
                &path,
                format!("{path}: {msg}"),
            )))
        })?;
        // Every `confidence` anywhere in the file is P or S.
        if let Ok(doc) = text.parse::<toml::Table>() {
            if let Some(path) = bad_confidence(&toml::Value::Table(doc), String::new()) {
                return Err(Error::Input(InputError::at_path(
                    file,
                    text,
                    &path,
                    format!("{path}: confidence must be \"P\" (primary), \"S\" (secondary) or \"U\" (an assumption)"),
                )));
            }
        }
        Ok(())
    }

    /// The first impossible value: its dotted path and what was expected.
    fn problem(&self) -> Option<(String, String)> {
        let fail = |path: &str, msg: &str| Some((path.to_string(), msg.to_string()));
        let tiered = [
            ("lambda.duration.x86_64", &self.lambda.duration.x86_64),
            ("lambda.duration.arm64", &self.lambda.duration.arm64),
            (
                "step_functions.express_duration",
                &self.step_functions.express_duration,
            ),
        ];
        for (name, rate) in tiered {
            if rate.tiers.is_empty() {
                return fail(&format!("{name}.tiers"), "needs at least one tier");
            }
            let mut last = 0.0;
            for (i, t) in rate.tiers.iter().enumerate() {
                let at = format!("{name}.tiers[{i}]");
                if !(t.usd.is_finite() && t.usd >= 0.0) {
                    return fail(&format!("{at}.usd"), "expected a finite price >= 0");
                }
                match t.up_to {
                    Some(u) if !(u.is_finite() && u > last) => {
                        return fail(
                            &format!("{at}.up_to"),
                            "a tier's bound must be finite and exceed the one before",
                        )
                    }
                    Some(u) => last = u,
                    None if i + 1 != rate.tiers.len() => {
                        return fail(&at, "only the last tier may omit `up_to`")
                    }
                    None => {}
                }
            }
            if rate.tiers.last().and_then(|t| t.up_to).is_some() {
                return fail(
                    &format!("{name}.tiers[{}].up_to", rate.tiers.len() - 1),
                    "the last tier must omit `up_to`",
                );
            }
        }
        let rates = [
            ("lambda.requests", &self.lambda.requests),
            ("lambda.ephemeral_storage", &self.lambda.ephemeral_storage),
            (
                "step_functions.standard_transitions",
                &self.step_functions.standard_transitions,
            ),
            (
                "step_functions.express_requests",
                &self.step_functions.express_requests,
            ),
            ("s3.tier1_requests", &self.s3.tier1_requests),
            ("s3.tier2_requests", &self.s3.tier2_requests),
            ("s3.storage", &self.s3.storage),
            ("sqs.standard_requests", &self.sqs.standard_requests),
            ("sqs.fifo_requests", &self.sqs.fifo_requests),
            ("cloudwatch_logs.ingestion", &self.cloudwatch_logs.ingestion),
            ("ebs.gp3_storage", &self.ebs.gp3_storage),
            (
                "nat_gateway.data_processing",
                &self.nat_gateway.data_processing,
            ),
        ];
        for (name, r) in rates {
            if !(r.usd.is_finite() && r.usd >= 0.0) {
                return fail(&format!("{name}.usd"), "expected a finite price >= 0");
            }
            if !(r.per.is_finite() && r.per > 0.0) {
                return fail(&format!("{name}.per"), "expected a finite number > 0");
            }
        }
        for (name, i) in &self.ec2.instances {
            let at = format!("ec2.instances.{name}");
            if !(i.usd_per_hour.is_finite() && i.usd_per_hour >= 0.0) {
                return fail(
                    &format!("{at}.usd_per_hour"),
                    "expected a finite price >= 0",
                );
            }
            if i.vcpu == 0 {
                return fail(&format!("{at}.vcpu"), "expected at least 1 vCPU");
            }
            if !(i.memory_gib.is_finite() && i.memory_gib > 0.0) {
                return fail(&format!("{at}.memory_gib"), "expected a finite number > 0");
            }
        }
        if self.sqs.chunk_bytes.value == 0 {
            return fail("sqs.chunk_bytes", "expected at least 1 byte");
        }
        if self.sqs.max_message_bytes.value < self.sqs.chunk_bytes.value {
            return fail("sqs.max_message_bytes", "expected at least one chunk_bytes");
        }
        if self.sqs.max_batch.value == 0 {
            return fail("sqs.max_batch", "expected at least 1 message");
        }
        let ebs = &self.ebs;
        if !(ebs.root_volume_gb.value.is_finite() && ebs.root_volume_gb.value >= 0.0) {
            return fail("ebs.root_volume_gb", "expected a finite number >= 0");
        }
        if !(ebs.hours_per_month.value.is_finite() && ebs.hours_per_month.value > 0.0) {
            return fail("ebs.hours_per_month", "expected a finite number > 0");
        }
        for (name, r) in [
            ("fargate.x86_64", &self.fargate.x86_64),
            ("fargate.arm64", &self.fargate.arm64),
        ] {
            for (field, v) in [
                ("usd_per_vcpu_hour", r.usd_per_vcpu_hour),
                ("usd_per_gb_hour", r.usd_per_gb_hour),
            ] {
                if !(v.is_finite() && v >= 0.0) {
                    return fail(&format!("{name}.{field}"), "expected a finite price >= 0");
                }
            }
        }
        let free = &self.lambda.free_tier;
        for (field, v) in [("requests", free.requests), ("gb_seconds", free.gb_seconds)] {
            if !(v.is_finite() && v >= 0.0) {
                return fail(
                    &format!("lambda.free_tier.{field}"),
                    "expected a finite number >= 0",
                );
            }
        }
        for (path, v) in [
            (
                "step_functions.express_memory_chunk_mb",
                self.step_functions.express_memory_chunk_mb as u64,
            ),
            (
                "step_functions.express_duration_increment_ms",
                self.step_functions.express_duration_increment_ms,
            ),
            (
                "lambda.duration_rounding_ms",
                self.lambda.duration_rounding_ms,
            ),
            ("lambda.mb_per_vcpu", self.lambda.mb_per_vcpu as u64),
            ("lambda.memory_min_mb", self.lambda.memory_min_mb as u64),
        ] {
            if v == 0 {
                return fail(path, "must be at least 1");
            }
        }
        if self.lambda.memory_max_mb < self.lambda.memory_min_mb {
            return fail("lambda.memory_max_mb", "must be at least memory_min_mb");
        }
        if !(self.lambda.max_vcpu.is_finite() && self.lambda.max_vcpu > 0.0) {
            return fail("lambda.max_vcpu", "expected a finite number > 0");
        }
        // Quotas: a zero would stop a run from ever finishing.
        let q = &self.quotas;
        let mut counts = vec![
            (
                "quotas.lambda_concurrent_executions.value",
                q.lambda_concurrent_executions.value,
            ),
            (
                "quotas.lambda_scaling_2023.initial_burst",
                q.lambda_scaling_2023.initial_burst,
            ),
            (
                "quotas.lambda_scaling_2023.per_minute",
                q.lambda_scaling_2023.per_minute,
            ),
            (
                "quotas.lambda_scaling_current.increment",
                q.lambda_scaling_current.increment,
            ),
            (
                "quotas.sfn_inline_map_max_concurrency.value",
                q.sfn_inline_map_max_concurrency.value,
            ),
            ("quotas.s3_per_prefix.put_per_s", q.s3_per_prefix.put_per_s),
            ("quotas.s3_per_prefix.get_per_s", q.s3_per_prefix.get_per_s),
            (
                "quotas.ec2_on_demand_standard_vcpus.value",
                q.ec2_on_demand_standard_vcpus.value,
            ),
            (
                "quotas.fargate_on_demand_vcpus.value",
                q.fargate_on_demand_vcpus.value,
            ),
        ];
        let mut rates = vec![(
            "quotas.lambda_scaling_current.every_s",
            q.lambda_scaling_current.every_s,
        )];
        for (name, b) in [
            ("quotas.sfn_standard_2023", &q.sfn_standard_2023),
            ("quotas.sfn_standard_current", &q.sfn_standard_current),
            ("quotas.sfn_express", &q.sfn_express),
        ] {
            counts.push((
                leak(format!("{name}.start_execution_bucket")),
                b.start_execution_bucket,
            ));
            rates.push((
                leak(format!("{name}.start_execution_refill_per_s")),
                b.start_execution_refill_per_s,
            ));
            if let Some(v) = b.state_transition_bucket {
                counts.push((leak(format!("{name}.state_transition_bucket")), v));
            }
            if let Some(v) = b.state_transition_refill_per_s {
                rates.push((leak(format!("{name}.state_transition_refill_per_s")), v));
            }
        }
        for (path, v) in counts {
            if v == 0 {
                return fail(
                    path,
                    "a quota of 0 would stop every run from progressing; expected at least 1",
                );
            }
        }
        for (path, v) in rates {
            if !(v.is_finite() && v > 0.0) {
                return fail(path, "a rate of 0 would stop every run from progressing; expected a finite number > 0");
            }
        }
        None
    }
}

/// A path string kept for the error path list (a handful per catalog check).
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// The dotted path of the first `confidence` that is not "P" or "S".
fn bad_confidence(v: &toml::Value, path: String) -> Option<String> {
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match v {
        toml::Value::Table(t) => t.iter().find_map(|(k, v)| {
            if k == "confidence" && !matches!(v.as_str(), Some("P") | Some("S") | Some("U")) {
                Some(join(k))
            } else {
                bad_confidence(v, join(k))
            }
        }),
        toml::Value::Array(a) => a
            .iter()
            .enumerate()
            .find_map(|(i, v)| bad_confidence(v, format!("{path}[{i}]"))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_parses_and_has_every_instance() {
        let c = Catalog::builtin();
        for family in ["c5", "c6i", "c6g", "c7g", "m5"] {
            for size in ["large", "xlarge", "2xlarge", "4xlarge"] {
                assert!(c.instance(&format!("{family}.{size}")).is_ok());
            }
        }
        assert_eq!(c.instance("c5.2xlarge").unwrap().usd_per_hour, 0.34);
        assert_eq!(
            c.instance("c6g.large").unwrap().architecture,
            Architecture::Arm64
        );
    }

    #[test]
    fn unknown_instance_lists_known_ones() {
        let err = Catalog::builtin().instance("c5.3xlarge").unwrap_err();
        assert!(
            err.contains("c5.2xlarge") && err.contains("m5.4xlarge"),
            "{err}"
        );
    }

    /// A catalog's value checks point at the value, and zero quotas are rejected.
    #[test]
    fn bad_values_are_positioned_and_zero_quotas_rejected() {
        for (from, to, want) in [
            ("initial_burst = 3000", "initial_burst = 0", "initial_burst"),
            ("put_per_s = 3500", "put_per_s = 0", "put_per_s"),
            (
                "state_transition_refill_per_s = 1500",
                "state_transition_refill_per_s = 0",
                "state_transition_refill_per_s",
            ),
            ("mb_per_vcpu = 1769", "mb_per_vcpu = 0", "mb_per_vcpu"),
            ("confidence = \"P\"", "confidence = \"Z\"", "confidence"),
        ] {
            assert!(AWS_US_EAST_1.contains(from), "{from}");
            let text = AWS_US_EAST_1.replacen(from, to, 1);
            let err = Catalog::parse("c.toml", &text).unwrap_err().to_string();
            assert!(err.contains(want) && err.starts_with("c.toml:"), "{err}");
            let line: usize = err.split(':').nth(1).unwrap().parse().unwrap();
            let at = text.lines().nth(line - 1).unwrap();
            assert!(
                at.contains(want) || at.contains(&to[..to.find(' ').unwrap()]),
                "{err}\n{at}"
            );
        }
    }

    #[test]
    fn tier_split_crosses_boundaries() {
        let rate = TieredRate {
            unit: "x".into(),
            tiers: vec![
                Tier {
                    up_to: Some(10.0),
                    usd: 3.0,
                },
                Tier {
                    up_to: Some(20.0),
                    usd: 2.0,
                },
                Tier {
                    up_to: None,
                    usd: 1.0,
                },
            ],
            source: String::new(),
            as_of: String::new(),
            confidence: None,
        };
        // 8 already used: 2 more in tier 1, 10 in tier 2, 13 in tier 3.
        let parts = rate.split(8.0, 25.0);
        assert_eq!(parts, vec![(0, 2.0, 6.0), (1, 10.0, 20.0), (2, 13.0, 13.0)]);
        assert_eq!(rate.split(25.0, 1.0), vec![(2, 1.0, 1.0)]);
    }
}
