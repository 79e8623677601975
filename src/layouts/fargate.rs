//! The monolith on Fargate tasks instead of EC2 instances: the same process, billed
//! per task-second for its vCPUs and memory.

use super::instances::{self, Fleet, Group};
use super::Gate;
use super::{CheckContext, Family, Layout, LayoutRun, RunContext};
use crate::cloud::{Assumption, FargateConfig, FargateService, Machines};
use crate::pricing::Usage;
use crate::scenario::LayoutSpec;
use crate::sim::Time;

/// The tasks when the scenario gives none: 4 vCPU / 8 GB, target tracking at 70% CPU
/// (assumptions, listed in the report).
pub fn default_fargate() -> FargateConfig {
    FargateConfig {
        scaling: instances::default_scaling(),
        ..FargateConfig::default()
    }
}

impl Fleet for FargateService {
    fn machines(&mut self) -> &mut dyn Machines {
        FargateService::machines(self)
    }
    fn quota_gate(&self) -> Gate {
        Gate::FargateVcpuQuota
    }
    fn target_cpu(&self) -> f64 {
        instances::target_of(&self.config().scaling)
    }
    fn peak(&self) -> u32 {
        self.stats().peak_tasks
    }
    fn meter(&self, usage: &mut Usage, until: Time) {
        FargateService::meter(self, usage, until)
    }
}

pub struct Fargate;

impl Layout for Fargate {
    fn kind(&self) -> &'static str {
        "fargate"
    }
    fn summary(&self) -> &'static str {
        "the monolith on Fargate tasks"
    }
    fn family(&self) -> Family {
        Family::Instances
    }
    fn lifts_quotas(&self) -> bool {
        true
    }
    fn sections(&self) -> &'static [&'static str] {
        &["fargate", "autoscale_every"]
    }
    fn check(&self, spec: &LayoutSpec, cx: &CheckContext) -> crate::Result<()> {
        match &spec.fargate {
            Some(f) => cx.model(spec, f.span(), f.get_ref().check()),
            None => Ok(()),
        }
    }
    fn assumptions(&self, spec: &LayoutSpec) -> Vec<Assumption> {
        let p = |n: &str| format!("layouts.{}.{n}", spec.name);
        let f = spec
            .fargate
            .as_ref()
            .map(|f| f.get_ref().clone())
            .unwrap_or_default();
        vec![
            Assumption::new(
                &p("fargate.task_vcpu"),
                f.task_vcpu,
                "task size: a design choice (U)",
            ),
            Assumption::new(
                &p("fargate.launch_delay"),
                f.launch_delay,
                "Fargate task start to serving, about a minute (U)",
            ),
        ]
    }
    fn settling(&self, spec: &LayoutSpec) -> Time {
        match &spec.fargate {
            Some(f) => instances::settling_of(&f.get_ref().scaling),
            None => instances::settling_of(&default_fargate().scaling),
        }
    }
    fn simulate(&self, ctx: &RunContext, spec: &LayoutSpec) -> crate::Result<LayoutRun> {
        simulate(ctx, spec)
    }
}

fn simulate(ctx: &RunContext, spec: &LayoutSpec) -> crate::Result<LayoutRun> {
    let stages = instances::all_stages(ctx);
    let mut cfg = spec
        .fargate
        .as_ref()
        .map(|f| f.get_ref().clone())
        .unwrap_or_else(default_fargate);
    cfg.name = spec.name.clone();
    instances::size_scaling(ctx, &stages, cfg.task_vcpu as f64, &mut cfg.scaling);
    let service = FargateService::new(&ctx.resolved.catalog, cfg).map_err(|m| {
        crate::Error::Input(crate::InputError::new(
            &ctx.resolved.file,
            format!("layout `{}`: {m}", spec.name),
        ))
    })?;
    instances::simulate(
        ctx,
        spec,
        vec![Group {
            fleet: Box::new(service),
            stages,
        }],
    )
}
