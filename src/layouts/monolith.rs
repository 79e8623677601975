//! The monolith, as Prime Video rebuilt it: ECS tasks on EC2 instances, each stream's
//! frames decoded and analysed in one process and passed in memory.

use super::instances::{self, Group};
use super::{LayoutRun, RunContext};
use crate::cloud::{Ec2Config, Ec2Fleet};
use crate::scenario::LayoutSpec;

/// The fleet when the scenario gives none: c5.2xlarge, target tracking at 70% CPU
/// (assumptions, listed in the report).
pub fn default_ec2() -> Ec2Config {
    Ec2Config {
        instance_type: "c5.2xlarge".into(),
        scaling: instances::default_scaling(),
        ..Ec2Config::default()
    }
}

/// The scenario's fleet settings for `spec`, named `name`, sized for `detectors`.
pub fn fleet(
    ctx: &RunContext,
    spec: &LayoutSpec,
    name: String,
    detectors: &[crate::kernels::Kernel],
) -> crate::Result<Ec2Fleet> {
    let mut cfg = spec
        .ec2
        .as_ref()
        .map(|e| e.get_ref().clone())
        .unwrap_or_else(default_ec2);
    cfg.name = name;
    let vcpu = ctx
        .resolved
        .catalog
        .instance(&cfg.instance_type)
        .map(|i| i.vcpu)
        .unwrap_or(1);
    instances::size_scaling(ctx, detectors, vcpu, &mut cfg.scaling);
    Ec2Fleet::new(&ctx.resolved.catalog, cfg).map_err(|m| {
        crate::Error::Input(crate::InputError::new(
            &ctx.resolved.file,
            format!("layout `{}`: {m}", spec.name),
        ))
    })
}

pub fn simulate(ctx: &RunContext, spec: &LayoutSpec) -> crate::Result<LayoutRun> {
    let detectors = ctx.resolved.detectors.clone();
    let fleet = fleet(ctx, spec, spec.name.clone(), &detectors)?;
    instances::simulate(
        ctx,
        spec,
        vec![Group {
            fleet: Box::new(fleet),
            detectors,
        }],
    )
}
