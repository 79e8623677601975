//! The distributed pipeline without Step Functions: the converter invokes the
//! detector Lambdas itself (asynchronously), the last detector the aggregator. No
//! transitions to pay; Lambda's event queue holds throttled invocations back.

use super::serverless::{Orchestration, Serverless};

pub static LAMBDA_DIRECT: Serverless = Serverless {
    kind: "lambda-direct",
    summary: "no Step Functions: the converter invokes the detectors itself",
    orchestration: Orchestration::Direct,
};
