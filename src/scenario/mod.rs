//! The scenario file: a workload, the calibration to use, and the layouts to compare.
//! Serde structs with `deny_unknown_fields`; values checked where they are read so
//! every mistake names the file, line and column.

pub mod bounds;
mod check;
pub mod overload;
pub mod pipeline;
pub mod source;
mod values;

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::cloud::ScalingRule;
use crate::cloud::{
    Ec2Config, FargateConfig, LambdaConfig, QuotaEra, Retrier, RetryPolicy, S3Config, SfnConfig,
};
use crate::error::{read_text, Error, InputError, Result};
use crate::kernels::{FrameSize, Kernel};
use crate::pricing::Catalog;
use crate::sim::{Dur, Time};

pub use values::{FrameSizeText, Positive};

/// The small classroom scenario embedded in the binary (`archsim run` with no file).
pub const CLASSROOM: &str = include_str!("../../scenarios/prime-video-small.toml");

/// A whole scenario file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Seed of every random stream of the run.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Simulated period, e.g. "1h".
    pub duration: Spanned<Dur>,
    /// Catalog id (`aws-us-east-1`) or a catalog file path relative to the scenario.
    #[serde(default = "default_catalog")]
    pub catalog: String,
    /// Which published Step Functions and Lambda quotas apply: "2023" or "current".
    #[serde(default)]
    pub quota_era: QuotaEra,
    /// What a layout does with load it cannot carry (`overload::OverloadPolicy`).
    #[serde(default)]
    pub overload: overload::OverloadPolicy,
    /// Each soft quota at its default or raised (`[quotas]`).
    #[serde(default)]
    pub quotas: overload::QuotasSpec,
    /// Date the bill applies to (ISO), deciding whether Lambda INIT is billed. Default:
    /// 2023-03-22 (the post) under the 2023 quotas, 2025-11-01 under the current ones.
    #[serde(default)]
    pub billing_date: Option<String>,
    /// "auto", "real" or "sampled" (see `KernelsChoice`).
    #[serde(default)]
    pub kernels: KernelsChoice,
    /// "fast" (a cohort of the streams, scaled: the default) or "full" (every stream).
    #[serde(default)]
    pub fidelity: Option<crate::layouts::cohort::Fidelity>,
    /// "builtin" (the shipped calibration), "measure" (run the kernels now) or a path.
    #[serde(default = "default_calibration")]
    pub calibration: String,
    pub workload: Workload,
    /// The pipeline's stages (`[[stages]]`); a video workload without them gets the
    /// Prime Video monitor's (see `pipeline::Pipeline::video`).
    #[serde(default)]
    pub stages: Vec<pipeline::StageSpec>,
    pub layouts: Vec<LayoutSpec>,
    /// Assumptions by dotted path (`workload.frames_per_second`), each with its note
    /// and the low/high values `archsim sensitivity` tries.
    #[serde(default)]
    pub assumptions: BTreeMap<String, AssumptionNote>,
}

fn default_seed() -> u64 {
    1
}
fn default_catalog() -> String {
    "aws-us-east-1".into()
}
fn default_calibration() -> String {
    "builtin".into()
}

/// Whether the detectors really run during the simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KernelsChoice {
    /// Real for small runs, sampled for large ones.
    #[default]
    Auto,
    /// The detectors run on the sample stream's frames as the simulation consumes them.
    Real,
    /// Service times from the calibration only.
    Sampled,
}

/// A labelled assumption: why the value is what it is, and the range to test it over.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AssumptionNote {
    pub note: String,
    #[serde(default)]
    pub low: Option<toml::Value>,
    #[serde(default)]
    pub high: Option<toml::Value>,
}

/// How the number of concurrent streams changes over the simulated period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Always `streams`.
    #[default]
    Constant,
    /// Linear from `ramp_from` at the start to `streams` at the end.
    Ramp,
    /// `streams` × the weight of the hour of day (24 `hourly_weights` in 0..=1).
    Daily,
}

/// Where the work comes from: continuous streams (the video fields below) or, with
/// `[workload.requests]`, request arrivals (and then none of the stream fields).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// Concurrent streams (the peak, for ramp and daily profiles).
    #[serde(default = "absent")]
    pub streams: Spanned<u32>,
    #[serde(default)]
    pub profile: Profile,
    #[serde(default)]
    pub ramp_from: Option<u32>,
    #[serde(default)]
    pub hourly_weights: Option<Spanned<Vec<f64>>>,
    /// Frames analysed per second of each stream.
    #[serde(default = "absent_one")]
    pub frames_per_second: Spanned<Positive>,
    /// Frames per second of the compressed source stream, all decoded by the converter.
    #[serde(default = "default_source_fps")]
    pub source_fps: Positive,
    /// Analysis frame size, "WIDTHxHEIGHT".
    #[serde(default = "default_frame_size")]
    pub frame_size: FrameSizeText,
    /// Detector names: black, freeze, block_corruption, silence, av_sync.
    #[serde(default = "absent")]
    pub detectors: Spanned<Vec<String>>,
    /// Seconds of stream per orchestration step (one execution per chunk).
    #[serde(default = "absent_one")]
    pub chunk_seconds: Spanned<Positive>,
    /// The sample stream the real kernels run on.
    #[serde(default)]
    pub sample: SampleSpec,
    /// Request arrivals instead of streams (`source::RequestSpec`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<Spanned<source::RequestSpec>>,
}

/// The fields of a stream source: required without `[workload.requests]`, refused
/// with it.
pub const STREAM_FIELDS: &[(&str, bool)] = &[
    ("streams", true),
    ("frames_per_second", true),
    ("frame_size", true),
    ("detectors", true),
    ("chunk_seconds", true),
    ("profile", false),
    ("ramp_from", false),
    ("hourly_weights", false),
    ("source_fps", false),
    ("sample", false),
];

/// A stream field a request workload leaves out (checked against the file).
fn absent<T: Default>() -> Spanned<T> {
    Spanned::new(0..0, T::default())
}
/// One frame per one-second chunk: a request workload's single item per job.
fn absent_one() -> Spanned<Positive> {
    Spanned::new(0..0, Positive(1.0))
}
fn default_frame_size() -> FrameSizeText {
    FrameSizeText(FrameSize::new(640, 360))
}

fn default_source_fps() -> Positive {
    Positive(25.0)
}

/// The sample stream: a photograph panned into video, with defects injected.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SampleSpec {
    /// astronaut, coffee, chelsea or rocket.
    pub photo: String,
    /// Length of the sample clip, cycled through by every stream.
    pub seconds: f64,
    /// Defects injected into the clip (`archsim frames generate --defects` syntax).
    pub defects: String,
}

impl Default for SampleSpec {
    fn default() -> Self {
        SampleSpec {
            photo: "astronaut".into(),
            seconds: 10.0,
            defects: String::new(),
        }
    }
}

/// Where the converter writes frames in S3: one prefix per stream (the request-rate
/// quota applies per prefix) or one shared prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum S3Prefixes {
    #[default]
    PerStream,
    Shared,
}

/// The Lambda account of a serverless layout; what is left out follows the
/// scenario's quota era and billing date.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountSpec {
    /// Concurrent executions (default: the catalog's quota, 1,000).
    #[serde(default)]
    pub concurrency_limit: Option<u32>,
    /// "2023", "current" or "unlimited" (default: the scenario's quota era).
    #[serde(default)]
    pub scaling: Option<ScalingRule>,
}

/// One layout to simulate. Which sections apply depends on `kind`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayoutSpec {
    pub name: String,
    /// Which layout (see `layouts::REGISTRY`): distributed, express, lambda-direct,
    /// monolith, cloned-monolith, fargate, ...
    pub kind: Spanned<String>,
    #[serde(default)]
    pub description: String,
    // Serverless layouts.
    /// The media converter function (memory, architecture, keep-alive, cold start).
    #[serde(default)]
    pub converter: Option<Spanned<LambdaConfig>>,
    /// Each detector function (one per detector, same settings).
    #[serde(default)]
    pub detector: Option<Spanned<LambdaConfig>>,
    /// The aggregate-and-notify function.
    #[serde(default)]
    pub aggregator: Option<Spanned<LambdaConfig>>,
    #[serde(default)]
    pub account: Option<Spanned<AccountSpec>>,
    /// CPU time of the aggregate-and-notify step. Assumption.
    #[serde(default)]
    pub aggregate_cpu: Option<Spanned<Dur>>,
    #[serde(default)]
    pub s3: Option<Spanned<S3Config>>,
    #[serde(default)]
    pub s3_prefixes: Option<Spanned<S3Prefixes>>,
    #[serde(default)]
    pub step_functions: Option<Spanned<SfnConfig>>,
    /// An Amazon States Language file (relative to the scenario) the Step Functions
    /// layouts run instead of the machine the pipeline's shape implies.
    #[serde(default)]
    pub state_machine: Option<Spanned<String>>,
    /// Weights of each Choice state's branches (rules, then Default) where the
    /// variable it reads is not in the execution input.
    #[serde(default)]
    pub choice_weights: Option<Spanned<BTreeMap<String, Vec<f64>>>>,
    /// Retry on each Task (ASL Retry), for Lambda throttles.
    #[serde(default)]
    pub task_retry: Option<Spanned<Retrier>>,
    /// Client retry (SDK: exponential backoff with jitter) for StartExecution,
    /// direct Lambda invokes and S3 Slow Down.
    #[serde(default)]
    pub retry: Option<Spanned<RetryPolicy>>,
    // Instance layouts.
    #[serde(default)]
    pub ec2: Option<Spanned<Ec2Config>>,
    #[serde(default)]
    pub fargate: Option<Spanned<FargateConfig>>,
    /// Cloned monolith: number of clones, the detectors split between them.
    #[serde(default)]
    pub clones: Option<Spanned<u32>>,
    /// How often the autoscaler evaluates.
    #[serde(default)]
    pub autoscale_every: Option<Spanned<Dur>>,
    /// Overrides the scenario's `overload` for this layout.
    #[serde(default)]
    pub overload: Option<overload::OverloadPolicy>,
    /// Containers layout: each stage's ECS service and the SQS queues between them.
    #[serde(default)]
    pub containers: Option<Spanned<crate::layouts::containers::ContainersSpec>>,
}

impl LayoutSpec {
    /// The optional sections this layout sets, with their positions (each kind takes
    /// only some: `layouts::Layout::sections`).
    pub fn sections_present(&self) -> Vec<(&'static str, Range<usize>)> {
        fn at<T>(
            out: &mut Vec<(&'static str, Range<usize>)>,
            name: &'static str,
            s: &Option<Spanned<T>>,
        ) {
            if let Some(s) = s {
                out.push((name, s.span()));
            }
        }
        let mut out = Vec::new();
        at(&mut out, "converter", &self.converter);
        at(&mut out, "detector", &self.detector);
        at(&mut out, "aggregator", &self.aggregator);
        at(&mut out, "account", &self.account);
        at(&mut out, "aggregate_cpu", &self.aggregate_cpu);
        at(&mut out, "s3", &self.s3);
        at(&mut out, "s3_prefixes", &self.s3_prefixes);
        at(&mut out, "step_functions", &self.step_functions);
        at(&mut out, "state_machine", &self.state_machine);
        at(&mut out, "choice_weights", &self.choice_weights);
        at(&mut out, "task_retry", &self.task_retry);
        at(&mut out, "retry", &self.retry);
        at(&mut out, "ec2", &self.ec2);
        at(&mut out, "fargate", &self.fargate);
        at(&mut out, "clones", &self.clones);
        at(&mut out, "autoscale_every", &self.autoscale_every);
        at(&mut out, "containers", &self.containers);
        out
    }
}

/// A scenario with its resolved parts, ready to run.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub scenario: Scenario,
    /// The file it came from (or `<builtin classroom>`).
    pub file: String,
    /// The scenario's text (for looking up labelled values and for sweeps).
    pub text: String,
    pub catalog: Catalog,
    pub frame_size: FrameSize,
    pub detectors: Vec<Kernel>,
    /// The stages every layout derives from.
    pub pipeline: pipeline::Pipeline,
    /// The ASL state machines the layouts name (`state_machine`), parsed, by layout.
    pub machines: BTreeMap<String, std::sync::Arc<crate::cloud::asl::Machine>>,
    /// Request arrivals, when the workload's source is requests (`None`: streams).
    pub arrivals: Option<source::Arrivals>,
    pub duration: Time,
    pub billing_date: String,
}

impl Scenario {
    /// Parses and checks scenario text; `file` names it in errors and `dir` resolves
    /// a relative catalog path.
    pub fn parse(file: &str, text: &str, dir: Option<&Path>) -> Result<Resolved> {
        let scenario: Scenario = crate::error::parse_toml(file, text)?;
        check::resolve(scenario, file, text, dir)
    }

    /// Reads and parses a scenario file.
    pub fn load(path: &Path) -> Result<Resolved> {
        let text = read_text(path)?;
        Self::parse(&path.display().to_string(), &text, path.parent())
    }

    /// The embedded classroom scenario.
    pub fn classroom() -> Resolved {
        Self::parse("<builtin prime-video-small>", CLASSROOM, None)
            .expect("the embedded classroom scenario is valid (tested)")
    }
}

impl Workload {
    /// Streams active at time `t` of a run of length `duration`.
    pub fn active_streams(&self, t: Time, duration: Time) -> u32 {
        let peak = *self.streams.get_ref();
        match self.profile {
            Profile::Constant => peak,
            Profile::Ramp => {
                let from = self.ramp_from.unwrap_or(0) as f64;
                let frac = if duration == 0 {
                    1.0
                } else {
                    t as f64 / duration as f64
                };
                (from + (peak as f64 - from) * frac.clamp(0.0, 1.0)).round() as u32
            }
            Profile::Daily => {
                let weights = self
                    .hourly_weights
                    .as_ref()
                    .map(|w| w.get_ref().as_slice())
                    .unwrap_or(&[]);
                if weights.is_empty() {
                    return peak;
                }
                let hour = (t / (3600 * crate::sim::NS_PER_SEC)) as usize % weights.len();
                (peak as f64 * weights[hour]).round() as u32
            }
        }
    }

    /// Stream-hours over `[0, duration)`, integrated second by second as the layouts
    /// see it (0 for a request source).
    pub fn stream_hours(&self, duration: Time) -> f64 {
        if self.requests.is_some() {
            return 0.0;
        }
        let step = crate::sim::NS_PER_SEC;
        let mut total = 0.0;
        let mut t = 0;
        while t < duration {
            let dt = step.min(duration - t);
            total += self.active_streams(t, duration) as f64 * dt as f64;
            t += step;
        }
        total / (3600.0 * crate::sim::NS_PER_SEC as f64)
    }
}

impl Resolved {
    /// Items one job brings into the pipeline: a stream chunk's frames, or a
    /// request's one item.
    pub fn items_per_job(&self) -> f64 {
        let w = &self.scenario.workload;
        match self.arrivals {
            Some(_) => 1.0,
            None => (w.frames_per_second.get_ref().0 * w.chunk_seconds.get_ref().0).max(1.0),
        }
    }

    /// Whether the load is the same all period (a constant stream count or request
    /// rate), so a short run says what a long one costs.
    pub fn constant_load(&self) -> bool {
        match &self.arrivals {
            None => self.scenario.workload.profile == Profile::Constant,
            Some(source::Arrivals::Poisson { shape, .. }) => *shape == source::RateShape::Constant,
            Some(source::Arrivals::Trace { .. }) => false,
        }
    }

    /// What a cost is quoted per: stream-hours, or 1,000 requests.
    pub fn cost_unit(&self) -> CostUnit {
        match self.arrivals {
            Some(_) => CostUnit::ThousandRequests,
            None => CostUnit::StreamHour,
        }
    }
}

/// The unit a layout's cost is quoted per, following the workload's source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CostUnit {
    StreamHour,
    ThousandRequests,
}

impl CostUnit {
    /// The table's column label: `per stream-hour`, `per 1,000 requests`.
    pub fn label(self) -> &'static str {
        match self {
            CostUnit::StreamHour => "per stream-hour",
            CostUnit::ThousandRequests => "per 1,000 requests",
        }
    }
}

/// An error at `span` of `text`.
pub(crate) fn at(file: &str, text: &str, span: Range<usize>, msg: impl Into<String>) -> Error {
    Error::Input(InputError::at_span(file, text, span, msg))
}
