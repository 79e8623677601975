//! The monolith, as Prime Video rebuilt it: ECS tasks on EC2 instances, each stream's
//! frames decoded and analysed in one process and passed in memory.

use super::instances::{self, Group};
use super::{CheckContext, Family, Layout, LayoutRun, RunContext};
use crate::cloud::{Assumption, Ec2Config, Ec2Fleet};
use crate::scenario::LayoutSpec;

pub struct Monolith;

impl Layout for Monolith {
    fn kind(&self) -> &'static str {
        "monolith"
    }
    fn summary(&self) -> &'static str {
        "all components in one process on ECS on EC2, frames in memory"
    }
    fn family(&self) -> Family {
        Family::Instances
    }
    fn lifts_quotas(&self) -> bool {
        true
    }
    fn sections(&self) -> &'static [&'static str] {
        &["ec2", "autoscale_every"]
    }
    fn check(&self, spec: &LayoutSpec, cx: &CheckContext) -> crate::Result<()> {
        check_ec2(spec, cx)
    }
    fn assumptions(&self, spec: &LayoutSpec) -> Vec<Assumption> {
        ec2_assumptions(spec)
    }
    fn settling(&self, spec: &LayoutSpec) -> crate::sim::Time {
        settling(spec)
    }
    fn simulate(&self, ctx: &RunContext, spec: &LayoutSpec) -> crate::Result<LayoutRun> {
        let stages = instances::all_stages(ctx);
        let fleet = fleet(ctx, spec, spec.name.clone(), &stages)?;
        instances::simulate(
            ctx,
            spec,
            vec![Group {
                fleet: Box::new(fleet),
                stages,
            }],
        )
    }
}

/// The settling time of the layout's `[layouts.ec2]` scaling (or the default's).
pub fn settling(spec: &LayoutSpec) -> crate::sim::Time {
    match &spec.ec2 {
        Some(e) => instances::settling_of(&e.get_ref().scaling),
        None => instances::settling_of(&instances::default_scaling()),
    }
}

/// The `[layouts.ec2]` section's own rules: a known instance type, a discount in
/// 0..=1, a sane target-tracking rule.
pub fn check_ec2(l: &LayoutSpec, cx: &CheckContext) -> crate::Result<()> {
    let Some(e) = &l.ec2 else {
        return Ok(());
    };
    let cfg = e.get_ref();
    cx.model(
        l,
        e.span(),
        cx.catalog.instance(&cfg.instance_type).map(|_| ()),
    )?;
    let vcpu = cx
        .catalog
        .instance(&cfg.instance_type)
        .map_or(1, |i| i.vcpu);
    cx.model(
        l,
        e.span(),
        crate::cloud::ec2::reserve_of(cfg.reserve_vcpu, vcpu).map(|_| ()),
    )?;
    if !(0.0..=1.0).contains(&cfg.savings_plan_discount) {
        return Err(cx.error(
            l,
            e.span(),
            &format!(
                "savings_plan_discount must be between 0 and 1, got {}",
                cfg.savings_plan_discount
            ),
        ));
    }
    if let crate::cloud::Ec2Scaling::TargetTracking {
        target_cpu,
        min,
        max,
        ..
    } = &cfg.scaling
    {
        if !(*target_cpu > 0.0 && *target_cpu <= 1.0) || min > max || *max == 0 {
            return Err(cx.error(
                l,
                e.span(),
                "target tracking needs target_cpu in (0, 1] and 1 <= max, min <= max",
            ));
        }
    }
    Ok(())
}

/// The fleet's effective settings, each with why it has its value.
pub fn ec2_assumptions(spec: &LayoutSpec) -> Vec<Assumption> {
    let p = |n: &str| format!("layouts.{}.{n}", spec.name);
    let cfg = spec
        .ec2
        .as_ref()
        .map(|e| e.get_ref().clone())
        .unwrap_or_else(default_ec2);
    let from = if spec.ec2.is_some() {
        "set in the scenario"
    } else {
        "default: the post names no instance type (U)"
    };
    let mut out = vec![
        Assumption::new(&p("ec2.instance_type"), &cfg.instance_type, from),
        reserve_assumption(&p("ec2.reserve_vcpu"), cfg.reserve_vcpu, &cfg.instance_type),
    ];
    for a in cfg.assumptions() {
        out.push(Assumption::new(&p(&a.name), a.value, &a.note));
    }
    out
}

/// The assumption row of an instance's agent and OS reserve, named `name`: `set` in
/// the scenario, else the default for `instance_type` (its vCPUs from the built-in
/// catalog).
pub fn reserve_assumption(name: &str, set: Option<f64>, instance_type: &str) -> Assumption {
    match set {
        Some(r) => Assumption::new(
            name,
            format!("{r} vCPU per instance"),
            "set in the scenario: vCPUs the ECS agent, container runtime and OS keep; no work is scheduled on them",
        ),
        None => {
            let value = match crate::pricing::Catalog::builtin().instance(instance_type) {
                Ok(it) => format!(
                    "{:.3} vCPU per {instance_type}",
                    crate::cloud::ec2::default_reserve_vcpu(it.vcpu)
                ),
                Err(_) => "6% of the first vCPU, 1% of the second, 0.5% of the next two, 0.25% above".into(),
            };
            Assumption::new(
                name,
                value,
                "vCPUs the ECS agent, container runtime and OS keep, on which no work is scheduled: ECS publishes no CPU reserve (it registers 1,024 units per vCPU; ECS_RESERVED_MEMORY is memory only), so the EKS-optimised AMI's kubelet reserve (6% of the first vCPU, 1% of the second, 0.5% of the next two, 0.25% above) stands in (U); memory is not a limit in this model, so no memory reserve applies",
            )
        }
    }
}

/// The fleet when the scenario gives none: c5.2xlarge, target tracking at 70% CPU
/// (assumptions, listed in the report).
pub fn default_ec2() -> Ec2Config {
    Ec2Config {
        instance_type: "c5.2xlarge".into(),
        scaling: instances::default_scaling(),
        ..Ec2Config::default()
    }
}

/// The scenario's fleet settings for `spec`, named `name`, sized for a group running
/// the first stage and `stages`.
pub fn fleet(
    ctx: &RunContext,
    spec: &LayoutSpec,
    name: String,
    stages: &[usize],
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
    // Sized on what the agent and OS reserve leaves (a bad reserve is refused below).
    let reserve = crate::cloud::ec2::reserve_of(cfg.reserve_vcpu, vcpu).unwrap_or(0.0);
    instances::size_scaling(ctx, stages, vcpu as f64 - reserve, &mut cfg.scaling);
    Ec2Fleet::new(&ctx.resolved.catalog, cfg).map_err(|m| {
        crate::Error::Input(crate::InputError::new(
            &ctx.resolved.file,
            format!("layout `{}`: {m}", spec.name),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    fn scenario(ec2: &str) -> crate::Result<crate::scenario::Resolved> {
        let text = format!(
            "name = \"m\"\nduration = \"1min\"\n[workload]\nstreams = 1\nframes_per_second = 1\nframe_size = \"640x360\"\ndetectors = [\"black\"]\nchunk_seconds = 2\n[[layouts]]\nname = \"m\"\nkind = \"monolith\"\n[layouts.ec2]\n{ec2}"
        );
        Scenario::parse("m.toml", &text, None)
    }

    /// The reserve is a labelled assumption: the default for the instance type, or
    /// the scenario's figure; one that leaves no vCPU to the work is an error at the
    /// section.
    #[test]
    fn the_reserve_is_listed_and_checked() {
        let row = |ec2: &str| {
            let r = scenario(ec2).unwrap();
            let a = ec2_assumptions(&r.scenario.layouts[0]);
            let row = a.iter().find(|a| a.name == "layouts.m.ec2.reserve_vcpu");
            row.map(|a| a.value.clone()).expect("a reserve row")
        };
        assert_eq!(
            row("instance_type = \"c5.2xlarge\"\n"),
            "0.090 vCPU per c5.2xlarge"
        );
        assert_eq!(
            row("instance_type = \"c5.large\"\nreserve_vcpu = 0.25\n"),
            "0.25 vCPU per instance"
        );
        let e = scenario("instance_type = \"c5.large\"\nreserve_vcpu = 2\n")
            .err()
            .expect("no vCPU left")
            .to_string();
        assert!(
            e.contains("m.toml:12:1") && e.contains("below the instance's 2 vCPUs"),
            "{e}"
        );
    }
}
