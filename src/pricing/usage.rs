//! `Usage`: the metered quantities of one period, as the usage file states them.
//! The simulator meters into this; `archsim price` reads it from TOML. The field
//! names are a public contract.

use std::fmt;
use std::path::Path;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use toml::Spanned;

use super::catalog::{Architecture, Catalog};
use crate::error::{parse_toml, read_text, Error, InputError, Result};

/// Largest quantity a usage file may state (requests, hours, milliseconds, GB-months):
/// far beyond any account's month, and small enough that every product the bill
/// forms stays finite (no `$inf` or `null` in a bill).
pub const USAGE_MAX: f64 = 1e15;

/// A quantity that must be finite, not negative and at most [`USAGE_MAX`] (hours,
/// GB-months, milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct NonNegative(pub f64);

impl<'de> Deserialize<'de> for NonNegative {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        if !v.is_finite() {
            return Err(de::Error::custom(format!(
                "expected a finite number >= 0, got {v}"
            )));
        }
        if v < 0.0 {
            return Err(de::Error::custom(format!(
                "expected a number >= 0, got {v}"
            )));
        }
        if v > USAGE_MAX {
            return Err(de::Error::custom(format!(
                "expected a number at most {USAGE_MAX:e}, got {v}"
            )));
        }
        Ok(NonNegative(v))
    }
}

impl Serialize for NonNegative {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_f64(self.0)
    }
}

/// A whole count that must not be negative nor above [`USAGE_MAX`] (requests,
/// transitions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Count(pub u64);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Count;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a whole number >= 0")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Count, E> {
                u64::try_from(v)
                    .map_err(|_| E::custom(format!("expected a whole number >= 0, got {v}")))
                    .and_then(|v| self.visit_u64(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Count, E> {
                if v as f64 > USAGE_MAX {
                    return Err(E::custom(format!(
                        "expected a whole number at most {USAGE_MAX:e}, got {v}"
                    )));
                }
                Ok(Count(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Count, E> {
                Err(E::custom(format!("expected a whole number >= 0, got {v}")))
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for Count {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

/// Lambda memory size: 128 to 10,240 MB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct LambdaMemoryMb(pub u32);

impl<'de> Deserialize<'de> for LambdaMemoryMb {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let v = i64::deserialize(d)?;
        if !(128..=10240).contains(&v) {
            return Err(de::Error::custom(format!(
                "memory_mb must be between 128 and 10240 MB, got {v}"
            )));
        }
        Ok(LambdaMemoryMb(v as u32))
    }
}

/// A fraction in 0..=1 (a savings-plan discount).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
#[serde(transparent)]
pub struct Fraction(pub f64);

impl<'de> Deserialize<'de> for Fraction {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        if !(v.is_finite() && (0.0..=1.0).contains(&v)) {
            return Err(de::Error::custom(format!(
                "expected a fraction between 0 and 1 (0.3 = 30%), got {v}"
            )));
        }
        Ok(Fraction(v))
    }
}

/// Step Functions workflow type.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Workflow {
    Standard,
    Express,
}

/// Lambda ephemeral storage: 512 to 10,240 MB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct EphemeralMb(pub u32);

impl Default for EphemeralMb {
    fn default() -> Self {
        EphemeralMb(512)
    }
}

impl<'de> Deserialize<'de> for EphemeralMb {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let v = i64::deserialize(d)?;
        if !(512..=10240).contains(&v) {
            return Err(de::Error::custom(format!(
                "ephemeral_storage_mb must be between 512 and 10240 MB, got {v}"
            )));
        }
        Ok(EphemeralMb(v as u32))
    }
}

fn is_default_ephemeral(v: &EphemeralMb) -> bool {
    v.0 == 512
}

/// One Lambda function's month (or period).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LambdaUsage {
    pub name: String,
    pub architecture: Architecture,
    pub memory_mb: LambdaMemoryMb,
    pub invocations: Count,
    /// Mean billed duration per invocation (already rounded up per invocation).
    pub avg_billed_duration_ms: NonNegative,
    #[serde(default, skip_serializing_if = "is_default_ephemeral")]
    pub ephemeral_storage_mb: EphemeralMb,
    /// Bytes each invocation writes to CloudWatch Logs (START/END/REPORT lines and
    /// the function's own output); absent: the catalog's assumed figure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_bytes_per_invocation: Option<Count>,
}

/// One state machine's usage; which fields apply depends on `workflow`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StepFunctionsUsage {
    pub name: String,
    pub workflow: Spanned<Workflow>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_transitions: Option<Count>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<Count>,
    /// Express: mean duration of an execution; pricing rounds it up to the billing
    /// increment once (a figure read off a console or a log).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avg_duration_ms: Option<NonNegative>,
    /// Express: mean *billed* duration, each execution already rounded up to the
    /// increment (what the simulation meters). Rounding this mean again would bill
    /// up to one increment too much per execution: a workflow takes one of the two.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avg_billed_duration_ms: Option<NonNegative>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mb: Option<Count>,
}

impl StepFunctionsUsage {
    /// A Standard workflow's usage.
    pub fn standard(name: impl Into<String>, state_transitions: u64) -> Self {
        StepFunctionsUsage {
            name: name.into(),
            workflow: Spanned::new(0..0, Workflow::Standard),
            state_transitions: Some(Count(state_transitions)),
            requests: None,
            avg_duration_ms: None,
            avg_billed_duration_ms: None,
            memory_mb: None,
        }
    }

    /// An Express workflow's usage: `avg_billed_duration_ms` is the mean of the
    /// executions' billed durations (each already rounded up).
    pub fn express(
        name: impl Into<String>,
        requests: u64,
        avg_billed_duration_ms: f64,
        memory_mb: u64,
    ) -> Self {
        StepFunctionsUsage {
            name: name.into(),
            workflow: Spanned::new(0..0, Workflow::Express),
            state_transitions: None,
            requests: Some(Count(requests)),
            avg_duration_ms: None,
            avg_billed_duration_ms: Some(NonNegative(avg_billed_duration_ms)),
            memory_mb: Some(Count(memory_mb)),
        }
    }
}

/// One bucket's (or prefix's) S3 Standard usage.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct S3Usage {
    pub name: String,
    #[serde(default)]
    pub tier1_requests: Count,
    #[serde(default)]
    pub tier2_requests: Count,
    #[serde(default)]
    pub storage_gb_months: NonNegative,
}

/// Instance-hours of one EC2 instance type.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Ec2Usage {
    pub name: String,
    pub instance_type: Spanned<String>,
    pub instance_hours: NonNegative,
    #[serde(default)]
    pub savings_plan_discount: Fraction,
    /// Size of each instance's EBS root volume, GB; absent: the catalog's assumed size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_volume_gb: Option<NonNegative>,
}

/// SQS queue type.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum QueueType {
    Standard,
    Fifo,
}

impl QueueType {
    pub fn as_str(self) -> &'static str {
        match self {
            QueueType::Standard => "standard",
            QueueType::Fifo => "fifo",
        }
    }
}

/// Billed requests of one SQS queue: every send, receive (empty ones included) and
/// delete call, each 64 KB chunk of a payload counted as one request.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SqsUsage {
    pub name: String,
    pub queue: QueueType,
    pub requests: Count,
}

/// Bytes a NAT gateway processed: only where Lambdas run in a VPC without an S3
/// gateway endpoint, so their S3 traffic goes through the NAT.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NatGatewayUsage {
    pub name: String,
    pub processed_gb: NonNegative,
}

/// vCPU-hours and GB-hours of Fargate tasks.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FargateUsage {
    pub name: String,
    pub architecture: Architecture,
    pub vcpu_hours: NonNegative,
    pub gb_hours: NonNegative,
}

/// Everything metered in one period. Tiers apply across all resources of one usage,
/// as AWS applies them per account and month.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Usage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog: Option<String>,
    #[serde(default)]
    pub free_tier: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lambda: Vec<LambdaUsage>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub step_functions: Vec<StepFunctionsUsage>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub s3: Vec<S3Usage>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sqs: Vec<SqsUsage>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nat_gateway: Vec<NatGatewayUsage>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ec2: Vec<Ec2Usage>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fargate: Vec<FargateUsage>,
}

impl Usage {
    /// Parses a usage file's text and checks it against `catalog` (instance names,
    /// fields required by the workflow type). `file` names it in errors.
    pub fn parse(file: &str, text: &str, catalog: &Catalog) -> Result<Usage> {
        let usage: Usage = parse_toml(file, text)?;
        usage.check(catalog).map_err(|(span, msg)| {
            Error::Input(match span {
                Some(span) => InputError::at_span(file, text, span, msg),
                None => InputError::new(file, msg),
            })
        })?;
        Ok(usage)
    }

    /// Reads and parses a usage file.
    pub fn load(path: &Path, catalog: &Catalog) -> Result<Usage> {
        let text = read_text(path)?;
        Self::parse(&path.display().to_string(), &text, catalog)
    }

    /// The checks serde cannot do alone. Errors carry the byte span to point at.
    pub fn check(
        &self,
        catalog: &Catalog,
    ) -> std::result::Result<(), (Option<std::ops::Range<usize>>, String)> {
        for sf in &self.step_functions {
            let span = Some(sf.workflow.span()).filter(|s| !s.is_empty());
            let need = |what: &str| {
                (
                    span.clone(),
                    format!(
                        "step_functions `{}`: a {} workflow needs `{what}`",
                        sf.name,
                        match sf.workflow.get_ref() {
                            Workflow::Standard => "standard",
                            Workflow::Express => "express",
                        }
                    ),
                )
            };
            let stray = |what: &str, wanted: &str| {
                (
                    span.clone(),
                    format!("step_functions `{}`: `{what}` does not apply to this workflow; expected {wanted}", sf.name),
                )
            };
            match sf.workflow.get_ref() {
                Workflow::Standard => {
                    if sf.state_transitions.is_none() {
                        return Err(need("state_transitions"));
                    }
                    for (f, present) in [
                        ("requests", sf.requests.is_some()),
                        ("avg_duration_ms", sf.avg_duration_ms.is_some()),
                        (
                            "avg_billed_duration_ms",
                            sf.avg_billed_duration_ms.is_some(),
                        ),
                        ("memory_mb", sf.memory_mb.is_some()),
                    ] {
                        if present {
                            return Err(stray(
                                f,
                                "only `state_transitions` for a standard workflow",
                            ));
                        }
                    }
                }
                Workflow::Express => {
                    let durations = [
                        sf.avg_duration_ms.is_some(),
                        sf.avg_billed_duration_ms.is_some(),
                    ];
                    for (f, present) in [
                        ("requests", sf.requests.is_some()),
                        (
                            "avg_duration_ms` (or `avg_billed_duration_ms",
                            durations.contains(&true),
                        ),
                        ("memory_mb", sf.memory_mb.is_some()),
                    ] {
                        if !present {
                            return Err(need(f));
                        }
                    }
                    if durations == [true, true] {
                        return Err((
                            span,
                            format!(
                                "step_functions `{}`: give `avg_duration_ms` (a mean duration, rounded up once) or `avg_billed_duration_ms` (a mean of durations already rounded up), not both",
                                sf.name
                            ),
                        ));
                    }
                    if sf.state_transitions.is_some() {
                        return Err(stray(
                            "state_transitions",
                            "`requests`, `avg_duration_ms` (or `avg_billed_duration_ms`) and `memory_mb` for an express workflow",
                        ));
                    }
                    if sf.memory_mb.is_some_and(|m| m.0 == 0) {
                        return Err((
                            span,
                            format!("step_functions `{}`: memory_mb must be > 0", sf.name),
                        ));
                    }
                }
            }
        }
        for ec2 in &self.ec2 {
            if let Err(msg) = catalog.instance(ec2.instance_type.get_ref()) {
                let span = Some(ec2.instance_type.span()).filter(|s| !s.is_empty());
                return Err((span, msg));
            }
        }
        Ok(())
    }

    /// This usage scaled by `factor` (a period's usage × 730 / period hours is its
    /// month). What accumulates is scaled: requests, invocations, transitions and
    /// other counts (rounded to the nearest whole unit, halves away from zero: at most
    /// half a request per line off, and exact when `factor` is a whole number, as it
    /// is for periods that divide 730 h × 3,600 s, such as 15 minutes), hours,
    /// GB-months and GB. What describes each unit is kept: memory, mean billed
    /// duration, log bytes per invocation, root volume size, discount.
    pub fn projected(&self, factor: f64) -> Usage {
        let factor = if factor.is_finite() && factor > 0.0 {
            factor
        } else {
            0.0
        };
        let count = |c: Count| Count((c.0 as f64 * factor).round() as u64);
        let amount = |v: NonNegative| NonNegative(v.0 * factor);
        let mut u = self.clone();
        for f in &mut u.lambda {
            f.invocations = count(f.invocations);
        }
        for m in &mut u.step_functions {
            m.state_transitions = m.state_transitions.map(count);
            m.requests = m.requests.map(count);
        }
        for b in &mut u.s3 {
            b.tier1_requests = count(b.tier1_requests);
            b.tier2_requests = count(b.tier2_requests);
            b.storage_gb_months = amount(b.storage_gb_months);
        }
        for q in &mut u.sqs {
            q.requests = count(q.requests);
        }
        for n in &mut u.nat_gateway {
            n.processed_gb = amount(n.processed_gb);
        }
        for e in &mut u.ec2 {
            e.instance_hours = amount(e.instance_hours);
        }
        for f in &mut u.fargate {
            f.vcpu_hours = amount(f.vcpu_hours);
            f.gb_hours = amount(f.gb_hours);
        }
        u
    }

    /// The weighted sum of usages, Σ wᵢ·uᵢ, line by line (a line is matched by its
    /// list and name; weights may be negative: a steady window is a long run less
    /// its warm-up). What accumulates is summed as [`Usage::projected`] scales it,
    /// each total kept at zero or above; a mean per unit (billed duration, an Express
    /// execution's duration) is the mean over the weighted units. What describes a
    /// line is the first part's.
    pub fn combined(parts: &[(&Usage, f64)]) -> Usage {
        let Some((first, _)) = parts.first() else {
            return Usage::default();
        };
        let mut u = (*first).clone();
        let total = |get: &dyn Fn(&Usage) -> Option<f64>| -> f64 {
            parts
                .iter()
                .map(|(p, w)| get(p).unwrap_or(0.0) * w)
                .sum::<f64>()
                .max(0.0)
        };
        let count = |x: f64| Count(x.round() as u64);
        let ratio = |num: f64, den: f64| if den > 0.0 { num / den } else { 0.0 };
        for f in &mut u.lambda {
            let line = |p: &Usage| p.lambda.iter().find(|l| l.name == f.name).cloned();
            let inv = total(&|p| line(p).map(|l| l.invocations.0 as f64));
            let ms =
                total(&|p| line(p).map(|l| l.invocations.0 as f64 * l.avg_billed_duration_ms.0));
            f.invocations = count(inv);
            f.avg_billed_duration_ms = NonNegative(ratio(ms, inv));
        }
        for m in &mut u.step_functions {
            let line = |p: &Usage| p.step_functions.iter().find(|l| l.name == m.name).cloned();
            if m.state_transitions.is_some() {
                m.state_transitions = Some(count(total(&|p| {
                    line(p)
                        .and_then(|l| l.state_transitions)
                        .map(|c| c.0 as f64)
                })));
            }
            if m.requests.is_some() {
                let req = total(&|p| line(p).and_then(|l| l.requests).map(|c| c.0 as f64));
                // A mean duration, rounded up or not, is the mean over the weighted
                // executions.
                let weighted_ms = |mean: &dyn Fn(&StepFunctionsUsage) -> Option<NonNegative>| {
                    total(&|p| {
                        line(p).and_then(|l| {
                            Some(l.requests?.0 as f64 * mean(&l).map_or(0.0, |d| d.0))
                        })
                    })
                };
                m.requests = Some(count(req));
                if m.avg_duration_ms.is_some() {
                    let ms = weighted_ms(&|l| l.avg_duration_ms);
                    m.avg_duration_ms = Some(NonNegative(ratio(ms, req)));
                }
                if m.avg_billed_duration_ms.is_some() {
                    let ms = weighted_ms(&|l| l.avg_billed_duration_ms);
                    m.avg_billed_duration_ms = Some(NonNegative(ratio(ms, req)));
                }
            }
        }
        for b in &mut u.s3 {
            let line = |p: &Usage| p.s3.iter().find(|l| l.name == b.name).cloned();
            b.tier1_requests = count(total(&|p| line(p).map(|l| l.tier1_requests.0 as f64)));
            b.tier2_requests = count(total(&|p| line(p).map(|l| l.tier2_requests.0 as f64)));
            b.storage_gb_months = NonNegative(total(&|p| line(p).map(|l| l.storage_gb_months.0)));
        }
        for q in &mut u.sqs {
            let line = |p: &Usage| p.sqs.iter().find(|l| l.name == q.name).cloned();
            q.requests = count(total(&|p| line(p).map(|l| l.requests.0 as f64)));
        }
        for n in &mut u.nat_gateway {
            let line = |p: &Usage| p.nat_gateway.iter().find(|l| l.name == n.name).cloned();
            n.processed_gb = NonNegative(total(&|p| line(p).map(|l| l.processed_gb.0)));
        }
        for e in &mut u.ec2 {
            let line = |p: &Usage| p.ec2.iter().find(|l| l.name == e.name).cloned();
            e.instance_hours = NonNegative(total(&|p| line(p).map(|l| l.instance_hours.0)));
        }
        for f in &mut u.fargate {
            let line = |p: &Usage| p.fargate.iter().find(|l| l.name == f.name).cloned();
            f.vcpu_hours = NonNegative(total(&|p| line(p).map(|l| l.vcpu_hours.0)));
            f.gb_hours = NonNegative(total(&|p| line(p).map(|l| l.gb_hours.0)));
        }
        u
    }

    /// Writes the usage as TOML in the usage-file format.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a usage always serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lambda(invocations: u64, ms: f64) -> LambdaUsage {
        LambdaUsage {
            name: "f".into(),
            architecture: Architecture::X86_64,
            memory_mb: LambdaMemoryMb(1024),
            invocations: Count(invocations),
            avg_billed_duration_ms: NonNegative(ms),
            ephemeral_storage_mb: EphemeralMb(512),
            log_bytes_per_invocation: None,
        }
    }

    /// A long run less its warm-up, weighted: counts add, a mean per unit is the
    /// mean over the weighted units, nothing goes below zero.
    #[test]
    fn a_combination_adds_counts_and_averages_means_per_unit() {
        let long = Usage {
            lambda: vec![lambda(300, 200.0)],
            step_functions: vec![StepFunctionsUsage::standard("m", 2_400)],
            ec2: vec![Ec2Usage {
                name: "e".into(),
                instance_type: Spanned::new(0..0, "c5.large".into()),
                instance_hours: NonNegative(4.0),
                savings_plan_discount: Fraction(0.0),
                root_volume_gb: None,
            }],
            ..Usage::default()
        };
        let mut short = long.clone();
        short.lambda = vec![lambda(100, 400.0)];
        short.step_functions = vec![StepFunctionsUsage::standard("m", 800)];
        short.ec2[0].instance_hours = NonNegative(1.0);
        // short + 2·(long − short) = 2·long − short
        let u = Usage::combined(&[(&long, 2.0), (&short, -1.0)]);
        assert_eq!(u.lambda[0].invocations, Count(500));
        // (2·300·200 − 100·400) / 500 = 160 ms
        assert!((u.lambda[0].avg_billed_duration_ms.0 - 160.0).abs() < 1e-9);
        assert_eq!(u.step_functions[0].state_transitions, Some(Count(4_000)));
        assert!((u.ec2[0].instance_hours.0 - 7.0).abs() < 1e-12);
        let none = Usage::combined(&[(&short, -1.0)]);
        assert_eq!(none.lambda[0].invocations, Count(0));
        assert_eq!(none.ec2[0].instance_hours.0, 0.0);
    }

    /// An Express line's mean billed duration is weighted like any mean per unit:
    /// a window whose executions wait out throttles bills their long lives, not
    /// the warm-up's short ones (the fast mode once kept the first part's mean).
    #[test]
    fn a_combination_weights_an_express_lines_billed_duration() {
        let long = Usage {
            step_functions: vec![StepFunctionsUsage::express("x", 300, 40_000.0, 64)],
            ..Usage::default()
        };
        let short = Usage {
            step_functions: vec![StepFunctionsUsage::express("x", 100, 2_000.0, 64)],
            ..Usage::default()
        };
        let u = Usage::combined(&[(&short, -1.0), (&long, 2.0)]);
        let x = &u.step_functions[0];
        assert_eq!(x.requests, Some(Count(500)));
        // (2·300·40,000 − 100·2,000) / 500 = 47,600 ms
        let ms = x
            .avg_billed_duration_ms
            .expect("an Express line keeps its mean")
            .0;
        assert!((ms - 47_600.0).abs() < 1e-9, "{ms}");
        assert_eq!(x.avg_duration_ms, None);
    }
}
