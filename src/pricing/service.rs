//! Every service a bill can name, with its label, chart colour and chart order in one
//! place, so a new service is one variant here rather than lists kept in step.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A billed AWS service. The declaration order is the display and chart order
/// (`Ord` follows it); the serialized form is the label (`"step_functions"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Service {
    #[serde(rename = "lambda")]
    Lambda,
    #[serde(rename = "step_functions")]
    StepFunctions,
    #[serde(rename = "s3")]
    S3,
    #[serde(rename = "sqs")]
    Sqs,
    #[serde(rename = "cloudwatch_logs")]
    CloudWatchLogs,
    #[serde(rename = "nat_gateway")]
    NatGateway,
    #[serde(rename = "ec2")]
    Ec2,
    #[serde(rename = "ebs")]
    Ebs,
    #[serde(rename = "fargate")]
    Fargate,
}

impl Service {
    /// Every service, in display order.
    pub const ALL: [Service; 9] = [
        Service::Lambda,
        Service::StepFunctions,
        Service::S3,
        Service::Sqs,
        Service::CloudWatchLogs,
        Service::NatGateway,
        Service::Ec2,
        Service::Ebs,
        Service::Fargate,
    ];

    /// The label bills, tables, CSV and JSON use.
    pub fn label(self) -> &'static str {
        match self {
            Service::Lambda => "lambda",
            Service::StepFunctions => "step_functions",
            Service::S3 => "s3",
            Service::Sqs => "sqs",
            Service::CloudWatchLogs => "cloudwatch_logs",
            Service::NatGateway => "nat_gateway",
            Service::Ec2 => "ec2",
            Service::Ebs => "ebs",
            Service::Fargate => "fargate",
        }
    }

    /// The service a label names, if any.
    pub fn from_label(label: &str) -> Option<Service> {
        Self::ALL.into_iter().find(|s| s.label() == label)
    }

    /// Chart colour (RGB): services that replace each other keep distinct hues, and
    /// the small forgotten costs sit in muted tones beside the service they belong to.
    pub fn color(self) -> (u8, u8, u8) {
        match self {
            Service::Lambda => (237, 125, 49),
            Service::StepFunctions => (190, 80, 150),
            Service::S3 => (84, 160, 70),
            Service::Sqs => (230, 190, 40),
            Service::CloudWatchLogs => (150, 90, 40),
            Service::NatGateway => (60, 170, 170),
            Service::Ec2 => (52, 110, 180),
            Service::Ebs => (140, 170, 220),
            Service::Fargate => (120, 120, 120),
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip_and_serialize_as_labels() {
        for s in Service::ALL {
            assert_eq!(Service::from_label(s.label()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.label())
            );
        }
        assert_eq!(Service::from_label("dynamodb"), None);
    }

    #[test]
    fn order_is_declaration_order_and_colours_differ() {
        let mut sorted = Service::ALL;
        sorted.sort();
        assert_eq!(sorted, Service::ALL);
        for (i, a) in Service::ALL.iter().enumerate() {
            for b in &Service::ALL[i + 1..] {
                assert_ne!(a.color(), b.color(), "{a} and {b} share a colour");
            }
        }
    }
}
