//! The cloned monolith: the monolith cloned into groups, each running a subset of the
//! detectors behind a light dispatcher, the media conversion repeated in each clone
//! (as the Prime Video post describes, since detectors scale only vertically).

use super::instances::{self, Group};
use super::monolith;
use super::{LayoutRun, RunContext};
use crate::scenario::LayoutSpec;

pub fn simulate(ctx: &RunContext, spec: &LayoutSpec) -> crate::Result<LayoutRun> {
    let all = &ctx.resolved.detectors;
    let clones = spec
        .clones
        .as_ref()
        .map_or(2, |c| *c.get_ref())
        .clamp(1, all.len() as u32) as usize;
    let mut groups = Vec::new();
    for g in 0..clones {
        let detectors = all[g * all.len() / clones..(g + 1) * all.len() / clones].to_vec();
        let fleet = monolith::fleet(
            ctx,
            spec,
            format!("{}-clone-{}", spec.name, g + 1),
            &detectors,
        )?;
        groups.push(Group {
            fleet: Box::new(fleet),
            detectors,
        });
    }
    instances::simulate(ctx, spec, groups)
}
