//! Layouts: the monitoring pipeline composed from the service models, one file per
//! way of laying it out. Every layout sees the same workload (same streams, same
//! phases, same frames) and reports cost inputs (`Usage`), latencies, throttles and
//! the defects its detectors found.

pub mod accounting;
mod common;
mod instances;

pub mod cloned_monolith;
pub mod cohort;
pub mod containers;
pub mod distributed;
pub mod express;
pub mod fargate;
pub mod lambda_direct;
pub mod monolith;
pub mod onset;
pub mod segments;
pub mod serverless;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::frames::Defect;
use crate::kernels::{CostModel, DetectorParams};
use crate::pricing::{Bill, Usage};
use crate::scenario::overload::{OverloadPolicy, QuotaSetting};
use crate::scenario::{LayoutSpec, Resolved};
use crate::sim::{Histogram, Time};

pub use accounting::{Capacity, Gate, GateWait, GateWaits, ItemCounts, Verdict};
pub use common::{RealSample, TimelinePoint, Workload};

/// Everything a layout needs to run.
pub struct RunContext<'a> {
    pub resolved: &'a Resolved,
    /// Where service times come from (the calibration, or a mock in tests).
    pub cost: &'a dyn CostModel,
    /// The sample stream the real detectors run on; `None` for sampled kernels.
    pub real: Option<&'a RealSample>,
    /// Called now and then with the fraction of simulated time done, for progress bars.
    pub progress: Option<&'a (dyn Fn(f64) + Sync)>,
    /// Overrides the scenario's stream count (the throttle-onset search).
    pub streams_override: Option<u32>,
    /// Overrides the simulated period (the throttle-onset search).
    pub duration_override: Option<Time>,
    /// Every soft quota lifted so that it does not bind (the bill "with quotas raised
    /// to carry the load"); every layout honours it through [`RunContext::quota`].
    pub quotas_raised: bool,
    /// Ends the run at the first throttle in a timeline bucket that starts at or
    /// after this time: an onset probe only asks whether its steady state throttles,
    /// and the rest of the run cannot change that answer. Honoured by every layout
    /// the onset search probes (the serverless family) through
    /// [`RunContext::probe_answered`]; the run is then partial.
    pub stop_at_first_throttle_after: Option<Time>,
    /// Execution environments each Lambda function (in stage order) has already
    /// scaled to when the run starts: the level before a steady stretch left them
    /// (`segments`), so the scaling rule meets only what this level adds, as in the
    /// full run. Empty: a fresh account.
    pub lambda_scaled_to: &'a [u32],
}

impl<'a> RunContext<'a> {
    /// A plain run of the scenario's period, stream count and quotas, sampled kernels.
    pub fn new(resolved: &'a Resolved, cost: &'a dyn CostModel) -> RunContext<'a> {
        RunContext {
            resolved,
            cost,
            real: None,
            progress: None,
            streams_override: None,
            duration_override: None,
            quotas_raised: false,
            stop_at_first_throttle_after: None,
            lambda_scaled_to: &[],
        }
    }

    /// Whether the run may end now: it was asked to stop at the first throttle after
    /// a time and the timeline's latest bucket is at or after it and has one (the
    /// onset search's criterion, [`onset::throttles_after`]).
    pub fn probe_answered(&self, timeline: &common::Timeline) -> bool {
        match (self.stop_at_first_throttle_after, timeline.points.last()) {
            (Some(from), Some(last)) => {
                let every_s = timeline.every as f64 / crate::sim::NS_PER_SEC as f64;
                onset::bucket_throttles(last, every_s, from) > 0
            }
            _ => false,
        }
    }

    /// The simulated period.
    pub fn duration(&self) -> Time {
        self.duration_override.unwrap_or(self.resolved.duration)
    }

    /// What layout `spec` does with load it cannot carry: its own `overload`, else
    /// the scenario's.
    pub fn overload(&self, spec: &LayoutSpec) -> OverloadPolicy {
        spec.overload.unwrap_or(self.resolved.scenario.overload)
    }

    /// The limit a soft quota puts on this run, in its own unit (concurrent Lambda
    /// executions, tokens refilled per second, vCPUs): the scenario's `raised` value,
    /// else the catalog default (Step Functions: of the scenario's quota era); `None`
    /// when `quotas_raised` lifts it, or for a gate that is not a soft quota.
    pub fn quota(&self, gate: Gate) -> Option<u64> {
        if self.quotas_raised || !gate.is_soft() {
            return None;
        }
        let q = &self.resolved.catalog.quotas;
        let set = &self.resolved.scenario.quotas;
        let sfn = match self.resolved.scenario.quota_era {
            crate::cloud::QuotaEra::Y2023 => &q.sfn_standard_2023,
            crate::cloud::QuotaEra::Current => &q.sfn_standard_current,
        };
        let (setting, default) = match gate {
            Gate::LambdaConcurrency => (
                set.lambda_concurrency,
                q.lambda_concurrent_executions.value as u64,
            ),
            Gate::StateTransitions => (
                set.step_functions_state_transitions,
                sfn.state_transition_refill_per_s
                    .unwrap_or(f64::MAX)
                    .min(u64::MAX as f64) as u64,
            ),
            Gate::StartExecution => (
                set.step_functions_start_execution,
                sfn.start_execution_refill_per_s as u64,
            ),
            Gate::Ec2VcpuQuota => (set.ec2_vcpus, q.ec2_on_demand_standard_vcpus.value as u64),
            Gate::FargateVcpuQuota => (set.fargate_vcpus, q.fargate_on_demand_vcpus.value as u64),
            Gate::S3PrefixRate | Gate::LambdaScaling => return None,
        };
        Some(match setting {
            QuotaSetting::Default => default,
            QuotaSetting::Raised(n) => n as u64,
        })
    }
}

/// A defect one stream's detectors found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamDefect {
    pub stream: u32,
    #[serde(flatten)]
    pub defect: Defect,
}

/// What one layout did over the simulated period.
#[derive(Debug, Clone)]
pub struct LayoutRun {
    pub name: String,
    /// The layout's kind (`distributed`, `monolith`, ...).
    pub kind: &'static str,
    pub family: Family,
    /// Whether its executions went through Step Functions.
    pub step_functions: bool,
    /// Metered quantities; priced into `bill`.
    pub usage: Usage,
    pub bill: Bill,
    pub period_hours: f64,
    pub stream_hours: f64,
    /// Capture of a frame to the end of its analysis by every detector, ns.
    pub latency: Histogram,
    /// Capture of a frame with a defect to the notification, ns.
    pub notify_latency: Histogram,
    /// Throttled requests by service: lambda, step_functions, s3.
    pub throttles: BTreeMap<String, u64>,
    /// Retried requests by service.
    pub retries: BTreeMap<String, u64>,
    /// Frames captured while streams were active.
    pub frames_captured: u64,
    /// Frames analysed, by detector (each should equal `frames_captured`).
    pub frames_by_detector: BTreeMap<String, u64>,
    pub peak_lambda_concurrency: u32,
    /// Each Lambda function's peak concurrency, in the order of the pipeline's stages
    /// (the execution environments it scaled to; empty without Lambda): what a steady
    /// stretch hands the next (`RunContext::lambda_scaled_to`).
    pub lambda_environments: Vec<u32>,
    pub peak_instances: u32,
    pub timeline: Vec<TimelinePoint>,
    /// Defects found by the real detectors (empty with sampled kernels).
    pub defects: Vec<StreamDefect>,
    /// CPU seconds spent per kernel (one core), from the cost model.
    pub cpu_seconds_by_kernel: BTreeMap<String, f64>,
    /// Step Functions executions (or direct pipeline runs), one per chunk.
    pub executions: u64,
    /// Events the engine processed.
    pub events: u64,
    /// When the last work finished.
    pub sim_end: Time,
    /// Every item offered, by what became of it (latency is over the served ones).
    pub items: ItemCounts,
    /// How much each gate (quota) held work back.
    pub gate_waits: GateWaits,
    /// The overload policy the layout ran under.
    pub overload: OverloadPolicy,
}

impl LayoutRun {
    /// Frames every detector analysed (the minimum over detectors).
    pub fn frames_analyzed(&self) -> u64 {
        self.frames_by_detector.values().copied().min().unwrap_or(0)
    }

    /// Throttles of every service.
    pub fn total_throttles(&self) -> u64 {
        self.throttles.values().sum()
    }

    /// Whether it carries its load, and what binds if not (see
    /// [`accounting::capacity`]); a backlog is more late items than arrive in the
    /// drop deadline (60 s under `queue`).
    pub fn capacity(&self) -> Capacity {
        let backlog_s = self
            .overload
            .deadline()
            .unwrap_or(60 * crate::sim::NS_PER_SEC) as f64
            / crate::sim::NS_PER_SEC as f64;
        accounting::capacity(
            &self.items,
            &self.gate_waits,
            self.period_hours * 3600.0,
            backlog_s,
        )
    }
}

/// Which family of services a layout runs on: it decides which shared checks,
/// assumptions and analyses (the throttle-onset search) apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// Lambda and S3, with or without Step Functions.
    Serverless,
    /// One process per stream group on a fleet of instances or tasks.
    Instances,
    /// Each stage its own service on containers, queues between them.
    Containers,
}

/// What a layout's checks see besides its own section.
pub struct CheckContext<'a> {
    pub catalog: &'a crate::pricing::Catalog,
    /// Detectors of the workload.
    pub detectors: usize,
    pub pipeline: &'a crate::scenario::pipeline::Pipeline,
    pub file: &'a str,
    pub text: &'a str,
}

impl CheckContext<'_> {
    /// An input error at `span` of the scenario, naming layout `spec`.
    pub fn error(
        &self,
        spec: &LayoutSpec,
        span: std::ops::Range<usize>,
        msg: &str,
    ) -> crate::Error {
        crate::Error::Input(crate::InputError::at_span(
            self.file,
            self.text,
            span,
            format!("layout `{}`: {msg}", spec.name),
        ))
    }

    /// `r` as an input error at `span`.
    pub fn model(
        &self,
        spec: &LayoutSpec,
        span: std::ops::Range<usize>,
        r: std::result::Result<(), String>,
    ) -> crate::Result<()> {
        r.map_err(|m| self.error(spec, span, &m))
    }
}

/// One way of laying the pipeline out. A new layout is one implementation in one file
/// plus its line in [`REGISTRY`].
pub trait Layout: Sync {
    /// The `kind` that selects it in a scenario.
    fn kind(&self) -> &'static str;
    /// One line for `--help` and error messages.
    fn summary(&self) -> &'static str;
    fn family(&self) -> Family;
    /// Whether its executions go through Step Functions (and so are counted).
    fn uses_step_functions(&self) -> bool {
        false
    }
    /// Whether it honours `RunContext::quotas_raised` (every soft quota it meets read
    /// through `RunContext::quota`), so a rerun with quotas raised means something.
    fn lifts_quotas(&self) -> bool {
        false
    }
    /// The optional sections of `[[layouts]]` this kind takes; any other is rejected
    /// at its position.
    fn sections(&self) -> &'static [&'static str];
    /// Checks the layout's own sections against the catalog and the workload.
    fn check(&self, spec: &LayoutSpec, cx: &CheckContext) -> crate::Result<()>;
    /// The assumptions behind the layout as it runs: its effective settings (scenario
    /// values or defaults), each with why it has its value.
    fn assumptions(&self, spec: &LayoutSpec) -> Vec<crate::cloud::Assumption>;
    /// Simulates the layout over the scenario's period.
    fn simulate(&self, ctx: &RunContext, spec: &LayoutSpec) -> crate::Result<LayoutRun>;
    /// How long its own controls take to settle after the load changes (an
    /// autoscaler's cooldown): the least warm-up a steady segment of it needs.
    fn settling(&self, _spec: &LayoutSpec) -> Time {
        0
    }
    /// How many times one item can wait up to the drop deadline on its way through
    /// when each queue counts on its own (`per = "queue"`: a queue in front of each
    /// stage, or one at the start): the deadlines a backlog takes to age out of every
    /// queue. Per item it is one, whatever the layout.
    fn drop_points(&self, _pipeline: &crate::scenario::pipeline::Pipeline) -> u32 {
        1
    }
}

/// Every layout archsim knows, by kind.
pub static REGISTRY: &[&dyn Layout] = &[
    &distributed::DISTRIBUTED,
    &express::EXPRESS,
    &lambda_direct::LAMBDA_DIRECT,
    &monolith::Monolith,
    &cloned_monolith::ClonedMonolith,
    &fargate::Fargate,
    &containers::Containers,
];

/// The layout of `kind`, if archsim knows it.
pub fn by_kind(kind: &str) -> Option<&'static dyn Layout> {
    REGISTRY.iter().copied().find(|l| l.kind() == kind)
}

/// The kinds archsim knows, for error messages.
pub fn kinds() -> Vec<&'static str> {
    REGISTRY.iter().map(|l| l.kind()).collect()
}

/// The layout that `spec` names (checked when the scenario was read).
pub fn of(spec: &LayoutSpec) -> &'static dyn Layout {
    by_kind(spec.kind.get_ref()).expect("layout kinds are checked when the scenario is read")
}

/// Checks a layout of the scenario: a known kind, only the sections it takes, then
/// the kind's own checks.
pub fn check(spec: &LayoutSpec, cx: &CheckContext) -> crate::Result<()> {
    let Some(layout) = by_kind(spec.kind.get_ref()) else {
        let known = kinds();
        let hint = crate::error::nearest(spec.kind.get_ref(), &known)
            .map(|n| format!(" (did you mean `{n}`?)"))
            .unwrap_or_default();
        return Err(cx.error(
            spec,
            spec.kind.span(),
            &format!(
                "unknown kind `{}`{hint}; expected one of: {}",
                spec.kind.get_ref(),
                known.join(", ")
            ),
        ));
    };
    for (name, span) in spec.sections_present() {
        if !layout.sections().contains(&name) {
            let takes = layout.sections();
            return Err(cx.error(
                spec,
                span,
                &format!(
                    "a {} layout has no `{name}` section{}",
                    layout.kind(),
                    if takes.is_empty() {
                        String::new()
                    } else {
                        format!(" (it takes: {})", takes.join(", "))
                    }
                ),
            ));
        }
    }
    layout.check(spec, cx)
}

/// Simulates one layout of the scenario.
pub fn simulate(ctx: &RunContext, spec: &LayoutSpec) -> crate::Result<LayoutRun> {
    of(spec).simulate(ctx, spec)
}

/// Detector thresholds used by the real kernels (the documented defaults).
pub fn detector_params() -> DetectorParams {
    DetectorParams::default()
}

/// The assumptions behind one layout as it runs.
pub fn layout_assumptions(spec: &LayoutSpec) -> Vec<crate::cloud::Assumption> {
    of(spec).assumptions(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_kinds_are_unique_and_sections_exist() {
        let kinds = kinds();
        let unique: std::collections::BTreeSet<_> = kinds.iter().collect();
        assert_eq!(unique.len(), kinds.len(), "{kinds:?}");
        // Every section a kind claims is one a layout can set: a layout with every
        // section lists them all.
        let text = "name = \"x\"\nkind = \"monolith\"\n";
        let spec: LayoutSpec = toml::from_str(text).unwrap();
        assert!(spec.sections_present().is_empty());
        let every = r#"
name = "x"
kind = "monolith"
aggregate_cpu = "2ms"
s3_prefixes = "shared"
clones = 2
autoscale_every = "1min"
converter = {}
detector = {}
aggregator = {}
account = {}
s3 = {}
step_functions = {}
state_machine = "m.asl.json"
choice_weights = { Route = [1.0, 0.0] }
task_retry = {}
retry = {}
ec2 = { instance_type = "c5.large" }
fargate = {}
containers = {}
"#;
        let all: LayoutSpec = toml::from_str(every).unwrap();
        let known: Vec<&str> = all.sections_present().iter().map(|(n, _)| *n).collect();
        assert_eq!(known.len(), 17, "{known:?}");
        for l in REGISTRY {
            for s in l.sections() {
                assert!(known.contains(s), "{}: unknown section {s}", l.kind());
            }
        }
    }
}
