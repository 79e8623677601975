//! The distributed pipeline under Step Functions Express workflows: billed by request
//! and duration × memory instead of per transition, with no StateTransition quota.

use super::serverless::{self, Orchestration};
use super::{LayoutRun, RunContext};
use crate::pricing::usage::Workflow;
use crate::scenario::LayoutSpec;

pub fn simulate(ctx: &RunContext, spec: &LayoutSpec) -> crate::Result<LayoutRun> {
    serverless::simulate(ctx, spec, Orchestration::StepFunctions(Workflow::Express))
}
