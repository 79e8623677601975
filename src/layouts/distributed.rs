//! The distributed layout, as Prime Video first built it: per stream, one Step
//! Functions Standard execution per chunk — a converter Lambda PUTs each analysed
//! frame to S3, a Map runs one detector Lambda per detector (each GETs the frames), a
//! last Task aggregates and notifies. Every state transition is billed and drawn from
//! the StateTransition token bucket.

use super::serverless::{Orchestration, Serverless};
use crate::pricing::usage::Workflow;

pub static DISTRIBUTED: Serverless = Serverless {
    kind: "distributed",
    summary: "Step Functions Standard + Lambda + S3, as Prime Video first built it",
    orchestration: Orchestration::StepFunctions(Workflow::Standard),
};
