//! The distributed pipeline under Step Functions Express workflows: billed by request
//! and duration × memory instead of per transition, with no StateTransition quota.

use super::serverless::{Orchestration, Serverless};
use crate::pricing::usage::Workflow;

pub static EXPRESS: Serverless = Serverless {
    kind: "express",
    summary: "Step Functions Express workflows instead of Standard",
    orchestration: Orchestration::StepFunctions(Workflow::Express),
};
