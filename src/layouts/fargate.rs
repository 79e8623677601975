//! The monolith on Fargate tasks instead of EC2 instances.

use super::{LayoutRun, RunContext};
use crate::scenario::LayoutSpec;

pub fn simulate(ctx: &RunContext, spec: &LayoutSpec) -> crate::Result<LayoutRun> {
    let _ = ctx;
    Err(crate::Error::Other(format!(
        "layout `{}`: fargate is being integrated",
        spec.name
    )))
}
