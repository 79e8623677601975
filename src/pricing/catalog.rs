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
        catalog.check(file)?;
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

    /// Rejects values no real catalog can have (negative prices, unordered tiers).
    fn check(&self, file: &str) -> Result<()> {
        let bad = |msg: String| Err(Error::Input(InputError::new(file, msg)));
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
                return bad(format!("{name}: needs at least one tier"));
            }
            let mut last = 0.0;
            for (i, t) in rate.tiers.iter().enumerate() {
                if !(t.usd.is_finite() && t.usd >= 0.0) {
                    return bad(format!(
                        "{name}: tier {} has a negative or non-finite price",
                        i + 1
                    ));
                }
                match t.up_to {
                    Some(u) if !(u.is_finite() && u > last) => {
                        return bad(format!(
                            "{name}: tier {} bound must exceed the one before",
                            i + 1
                        ))
                    }
                    Some(u) => last = u,
                    None if i + 1 != rate.tiers.len() => {
                        return bad(format!("{name}: only the last tier may omit `up_to`"))
                    }
                    None => {}
                }
            }
            if rate.tiers.last().and_then(|t| t.up_to).is_some() {
                return bad(format!("{name}: the last tier must omit `up_to`"));
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
            if !(r.usd.is_finite() && r.usd >= 0.0 && r.per.is_finite() && r.per > 0.0) {
                return bad(format!("{name}: usd must be >= 0 and per > 0"));
            }
        }
        for (name, i) in &self.ec2.instances {
            if !(i.usd_per_hour.is_finite() && i.usd_per_hour >= 0.0) || i.vcpu == 0 {
                return bad(format!(
                    "ec2.instances.{name}: needs vcpu > 0 and usd_per_hour >= 0"
                ));
            }
        }
        if self.sqs.chunk_bytes.value == 0
            || self.sqs.max_message_bytes.value < self.sqs.chunk_bytes.value
            || self.sqs.max_batch.value == 0
        {
            return bad("sqs: chunk_bytes and max_batch must be > 0 and max_message_bytes at least one chunk".into());
        }
        let ebs = &self.ebs;
        if !(ebs.root_volume_gb.value.is_finite() && ebs.root_volume_gb.value >= 0.0)
            || !(ebs.hours_per_month.value.is_finite() && ebs.hours_per_month.value > 0.0)
        {
            return bad("ebs: root_volume_gb must be >= 0 and hours_per_month > 0".into());
        }
        if self.step_functions.express_memory_chunk_mb == 0
            || self.step_functions.express_duration_increment_ms == 0
            || self.lambda.duration_rounding_ms == 0
        {
            return bad("rounding increments must be positive".into());
        }
        Ok(())
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
