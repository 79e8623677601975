//! The distributed pipeline without Step Functions: the converter invokes the
//! detector Lambdas itself (asynchronously), the last detector the aggregator. No
//! transitions to pay; Lambda's event queue holds throttled invocations back.

use super::serverless::{self, Orchestration};
use super::{LayoutRun, RunContext};
use crate::scenario::LayoutSpec;

pub fn simulate(ctx: &RunContext, spec: &LayoutSpec) -> crate::Result<LayoutRun> {
    serverless::simulate(ctx, spec, Orchestration::Direct)
}
