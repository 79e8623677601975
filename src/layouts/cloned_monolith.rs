//! The cloned monolith: the monolith cloned into groups, each running a subset of the
//! detectors behind a light dispatcher, the media conversion repeated in each clone
//! (as the Prime Video post describes, since detectors scale only vertically).

use super::instances::{self, Group};
use super::monolith;
use super::{CheckContext, Family, Layout, LayoutRun, RunContext};
use crate::cloud::Assumption;
use crate::scenario::LayoutSpec;

pub struct ClonedMonolith;

impl Layout for ClonedMonolith {
    fn kind(&self) -> &'static str {
        "cloned-monolith"
    }
    fn summary(&self) -> &'static str {
        "the monolith cloned, each clone running a subset of the detectors"
    }
    fn family(&self) -> Family {
        Family::Instances
    }
    fn lifts_quotas(&self) -> bool {
        true
    }
    fn sections(&self) -> &'static [&'static str] {
        &["ec2", "clones", "autoscale_every"]
    }
    fn check(&self, spec: &LayoutSpec, cx: &CheckContext) -> crate::Result<()> {
        monolith::check_ec2(spec, cx)?;
        // The clones split the stages side by side between them.
        if !cx.pipeline.is_fan_out_fan_in() {
            return Err(cx.error(
                spec,
                spec.kind.span(),
                "a cloned monolith splits the stages side by side between its clones: it needs a pipeline shaped first stage → stages side by side → last stage",
            ));
        }
        let side_by_side = cx.pipeline.stages.len() - 2;
        if let Some(c) = &spec.clones {
            if *c.get_ref() < 1 || *c.get_ref() as usize > side_by_side {
                return Err(cx.error(
                    spec,
                    c.span(),
                    &format!(
                        "clones must be between 1 and the number of detectors ({side_by_side})"
                    ),
                ));
            }
        }
        Ok(())
    }
    fn assumptions(&self, spec: &LayoutSpec) -> Vec<Assumption> {
        monolith::ec2_assumptions(spec)
    }
    fn settling(&self, spec: &LayoutSpec) -> crate::sim::Time {
        monolith::settling(spec)
    }
    fn simulate(&self, ctx: &RunContext, spec: &LayoutSpec) -> crate::Result<LayoutRun> {
        simulate(ctx, spec)
    }
}

fn simulate(ctx: &RunContext, spec: &LayoutSpec) -> crate::Result<LayoutRun> {
    // The stages side by side are split between the clones; the first clone also
    // runs the last stage.
    let n = ctx.resolved.pipeline.stages.len();
    let all: Vec<usize> = (1..n - 1).collect();
    let clones = spec
        .clones
        .as_ref()
        .map_or(2, |c| *c.get_ref())
        .clamp(1, all.len() as u32) as usize;
    let mut groups = Vec::new();
    for g in 0..clones {
        let mut stages = all[g * all.len() / clones..(g + 1) * all.len() / clones].to_vec();
        if g == 0 {
            stages.push(n - 1);
        }
        let fleet = monolith::fleet(ctx, spec, format!("{}-clone-{}", spec.name, g + 1), &stages)?;
        groups.push(Group {
            fleet: Box::new(fleet),
            stages,
        });
    }
    instances::simulate(ctx, spec, groups)
}
