//! Layouts: the monitoring pipeline composed from the service models, one file per
//! way of laying it out. Every layout sees the same workload (same streams, same
//! phases, same frames) and reports cost inputs (`Usage`), latencies, throttles and
//! the defects its detectors found.

mod common;
mod instances;

pub mod cloned_monolith;
pub mod distributed;
pub mod express;
pub mod fargate;
pub mod lambda_direct;
pub mod monolith;
pub mod onset;
pub mod serverless;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::frames::Defect;
use crate::kernels::{CostModel, DetectorParams};
use crate::pricing::{Bill, Usage};
use crate::scenario::{LayoutKind, LayoutSpec, Resolved};
use crate::sim::{Histogram, Time};

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
}

impl RunContext<'_> {
    /// The simulated period.
    pub fn duration(&self) -> Time {
        self.duration_override.unwrap_or(self.resolved.duration)
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
    pub kind: LayoutKind,
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
}

/// Simulates one layout of the scenario.
pub fn simulate(ctx: &RunContext, spec: &LayoutSpec) -> crate::Result<LayoutRun> {
    match spec.kind.get_ref() {
        LayoutKind::Distributed => distributed::simulate(ctx, spec),
        LayoutKind::Express => express::simulate(ctx, spec),
        LayoutKind::LambdaDirect => lambda_direct::simulate(ctx, spec),
        LayoutKind::Monolith => monolith::simulate(ctx, spec),
        LayoutKind::ClonedMonolith => cloned_monolith::simulate(ctx, spec),
        LayoutKind::Fargate => fargate::simulate(ctx, spec),
    }
}

/// Detector thresholds used by the real kernels (the documented defaults).
pub fn detector_params() -> DetectorParams {
    DetectorParams::default()
}

/// The assumptions behind one layout as it runs: its effective service settings
/// (scenario values or the defaults), each with why it has its value.
pub fn layout_assumptions(spec: &LayoutSpec) -> Vec<crate::cloud::Assumption> {
    use crate::cloud::Assumption;
    let mut out = Vec::new();
    let p = |n: &str| format!("layouts.{}.{n}", spec.name);
    let kind = *spec.kind.get_ref();
    if kind.is_serverless() {
        for (role, section, label) in [
            (serverless::Role::Converter, &spec.converter, "converter"),
            (serverless::Role::Detector, &spec.detector, "detector"),
            (serverless::Role::Aggregator, &spec.aggregator, "aggregator"),
        ] {
            let (cfg, from) = match section {
                Some(s) => (s.get_ref().clone(), "set in the scenario"),
                None => (
                    serverless::default_function(role),
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
        let s3 = spec
            .s3
            .as_ref()
            .map(|s| s.get_ref().clone())
            .unwrap_or_default();
        for a in s3.assumptions() {
            out.push(Assumption::new(&p(&a.name), a.value, &a.note));
        }
        if kind != LayoutKind::LambdaDirect {
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
            .map_or("2ms".to_string(), |d| d.to_string());
        out.push(Assumption::new(
            &p("aggregate_cpu"),
            agg,
            "CPU of merging detector results and notifying: small, not measured (U)",
        ));
    } else if kind == LayoutKind::Fargate {
        let f = spec
            .fargate
            .as_ref()
            .map(|f| f.get_ref().clone())
            .unwrap_or_default();
        out.push(Assumption::new(
            &p("fargate.task_vcpu"),
            f.task_vcpu,
            "task size: a design choice (U)",
        ));
        out.push(Assumption::new(
            &p("fargate.launch_delay"),
            f.launch_delay,
            "Fargate task start to serving, about a minute (U)",
        ));
    } else {
        let cfg = spec
            .ec2
            .as_ref()
            .map(|e| e.get_ref().clone())
            .unwrap_or_else(monolith::default_ec2);
        let from = if spec.ec2.is_some() {
            "set in the scenario"
        } else {
            "default: the post names no instance type (U)"
        };
        out.push(Assumption::new(
            &p("ec2.instance_type"),
            &cfg.instance_type,
            from,
        ));
        for a in cfg.assumptions() {
            out.push(Assumption::new(&p(&a.name), a.value, &a.note));
        }
    }
    out
}
