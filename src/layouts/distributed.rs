//! The distributed layout, as Prime Video first built it: per stream, one Step
//! Functions Standard execution per chunk — a converter Lambda PUTs each analysed
//! frame to S3, a Map runs one detector Lambda per detector (each GETs the frames), a
//! last Task aggregates and notifies. Every state transition is billed and drawn from
//! the StateTransition token bucket.

use super::serverless::{self, Orchestration};
use super::{LayoutRun, RunContext};
use crate::pricing::usage::Workflow;
use crate::scenario::LayoutSpec;

pub fn simulate(ctx: &RunContext, spec: &LayoutSpec) -> crate::Result<LayoutRun> {
    serverless::simulate(ctx, spec, Orchestration::StepFunctions(Workflow::Standard))
}
