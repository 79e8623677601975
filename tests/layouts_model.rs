//! The layouts through the library: every frame analysed exactly once per detector
//! (also under heavy throttling), the Step Functions transitions the distributed
//! layout is billed for, and the Prime Video case coming out of the model — throttles
//! and latency rising with streams under the 2023 quotas, and the onset search
//! finding where.

use archsim::cloud::Retrier;
use archsim::kernels::{Calibration, CostModel};
use archsim::layouts::serverless::default_machine;
use archsim::scenario::pipeline::{default_aggregate_cpu, Pipeline};
use archsim::layouts::Family;
use archsim::layouts::{onset, LayoutRun, RunContext};
use archsim::run::{run, RunOptions};
use archsim::scenario::{KernelsChoice, Resolved, Scenario};

const DETECTORS: &str =
    r#"detectors = ["black", "freeze", "block_corruption", "silence", "av_sync"]"#;

/// Transitions one unthrottled execution of the built-in machine of the Prime Video
/// pipeline with `detectors` detectors is billed, counted by the ASL interpreter.
fn transitions_per_execution(detectors: usize) -> u64 {
    let kernels = &archsim::kernels::Kernel::DETECTORS[..detectors];
    let p = Pipeline::video(kernels, 25.0, default_aggregate_cpu());
    let m = std::sync::Arc::new(default_machine(&p, &Retrier::default()).unwrap());
    archsim::cloud::asl::count(&m, None, &Default::default())
        .unwrap()
        .transitions
}

/// A scenario under the 2023 quotas: `streams` streams at 1 analysed frame a second
/// in 2-second chunks, for `duration`, with the given `[[layouts]]` text.
fn scenario(streams: u32, duration: &str, layouts: &str) -> Resolved {
    let text = format!(
        r#"
name = "test"
seed = 3
duration = "{duration}"
quota_era = "2023"
kernels = "sampled"

[workload]
streams = {streams}
frames_per_second = 1
frame_size = "640x360"
{DETECTORS}
chunk_seconds = 2

{layouts}
"#
    );
    Scenario::parse("<test>", &text, None).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn run_layouts(r: Resolved) -> Vec<LayoutRun> {
    let opts = RunOptions {
        kernels: Some(KernelsChoice::Sampled),
        skip_onset: true,
        ..RunOptions::default()
    };
    run(r, &opts, None, None)
        .expect("the scenario runs")
        .layouts
}

/// Every frame captured is analysed exactly once by every detector, and its latency
/// is recorded once.
fn assert_conserved(l: &LayoutRun, detectors: usize) {
    assert!(l.frames_captured > 0, "{}: no frames captured", l.name);
    assert_eq!(
        l.frames_by_detector.len(),
        detectors,
        "{}: {:?}",
        l.name,
        l.frames_by_detector
    );
    for (det, n) in &l.frames_by_detector {
        assert_eq!(
            *n, l.frames_captured,
            "{}: detector {det} analysed {n} frames of {} captured",
            l.name, l.frames_captured
        );
    }
    assert_eq!(
        l.latency.count(),
        l.frames_captured,
        "{}: one latency per frame",
        l.name
    );
}

/// Every layout kind, with the serverless ones squeezed into 5 concurrent Lambda
/// executions so Lambda throttles, and the distributed layout's Tasks retrying every
/// 100 ms so the retries' transitions drain the 2023 StateTransition bucket too:
/// nothing is lost, and the throttles and retries are counted.
#[test]
fn every_frame_is_analysed_once_per_detector_even_when_throttled() {
    let layouts = r#"
[[layouts]]
name = "distributed"
kind = "distributed"
account = { concurrency_limit = 5 }
task_retry = { interval = "100ms", backoff_rate = 1.0, max_attempts = 50 }

[[layouts]]
name = "express"
kind = "express"
account = { concurrency_limit = 5 }

[[layouts]]
name = "lambda-direct"
kind = "lambda-direct"
account = { concurrency_limit = 5 }

[[layouts]]
name = "monolith"
kind = "monolith"
[layouts.ec2]
instance_type = "c5.large"
scaling = { kind = "fixed", instances = 1 }

[[layouts]]
name = "cloned-monolith"
kind = "cloned-monolith"
clones = 2
[layouts.ec2]
instance_type = "c5.large"
scaling = { kind = "fixed", instances = 1 }

[[layouts]]
name = "fargate"
kind = "fargate"
"#;
    let runs = run_layouts(scenario(100, "30s", layouts));
    let kinds: Vec<&str> = runs.iter().map(|l| l.kind).collect();
    assert_eq!(
        kinds,
        [
            "distributed",
            "express",
            "lambda-direct",
            "monolith",
            "cloned-monolith",
            "fargate"
        ],
        "every layout kind, in scenario order"
    );
    // 100 streams × 30 s × 1 frame/s, chunk-aligned: the same frames in every layout.
    let captured = runs[0].frames_captured;
    assert!((2_900..=3_100).contains(&captured), "{captured}");
    for l in &runs {
        assert_conserved(l, 5);
        assert_eq!(l.frames_captured, captured, "{}: same workload", l.name);
        if l.family == Family::Serverless {
            assert!(
                l.throttles["lambda"] > 0,
                "{}: 5 concurrent executions for 100 streams must throttle Lambda: {:?}",
                l.name,
                l.throttles
            );
            assert!(
                l.retries["lambda"] > 0,
                "{}: throttled invocations are retried: {:?}",
                l.name,
                l.retries
            );
            // One execution (or direct pipeline run) per captured chunk.
            assert_eq!(l.executions, captured / 2, "{}", l.name);
        }
    }
    let distributed = &runs[0];
    assert!(
        distributed.throttles["step_functions"] > 0,
        "10 retries a second per waiting Task drain the StateTransition bucket: {:?}",
        distributed.throttles
    );
}

/// The same under a daily profile (streams switching on and off), where capture
/// depends on which streams are on the air at each chunk's start.
#[test]
fn conservation_holds_when_streams_come_and_go() {
    let text = format!(
        r#"
name = "daily"
seed = 9
duration = "3h"
quota_era = "current"
kernels = "sampled"

[workload]
streams = 4
profile = "daily"
hourly_weights = [0, 0.5, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
frames_per_second = 1
frame_size = "640x360"
{DETECTORS}
chunk_seconds = 4

[[layouts]]
name = "distributed"
kind = "distributed"

[[layouts]]
name = "lambda-direct"
kind = "lambda-direct"

[[layouts]]
name = "monolith"
kind = "monolith"
"#
    );
    let r = Scenario::parse("<daily>", &text, None).unwrap();
    let runs = run_layouts(r);
    // Hour 1: 2 streams, hour 2: 4 streams, 3,600 frames each per hour.
    let expected = 6 * 3_600;
    for l in &runs {
        assert_conserved(l, 5);
        let c = l.frames_captured as i64;
        // A stream's chunks straddling an hour boundary go with the hour they start
        // in, so each stream on the air for an hour captures within one chunk (4
        // frames) of 3,600 at each end.
        assert!(
            (c - expected).abs() <= 6 * 4,
            "{}: {c} frames, about {expected} expected",
            l.name
        );
        assert_eq!(l.frames_captured, runs[0].frames_captured, "{}", l.name);
    }
}

fn standard_transitions(l: &LayoutRun) -> u64 {
    let sf = &l.usage.step_functions;
    assert_eq!(sf.len(), 1, "{}: one state machine", l.name);
    sf[0]
        .state_transitions
        .as_ref()
        .expect("a Standard workflow is metered in transitions")
        .0
}

/// Unthrottled, every execution of the distributed layout runs Convert, the Map with
/// one Detector per detector, and Aggregate: the metered transitions are exactly
/// executions × the state machine's count.
#[test]
fn distributed_transitions_match_the_state_machine_when_nothing_throttles() {
    let r = Scenario::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/low-traffic.toml"
    )))
    .unwrap();
    let detectors = r.detectors.len();
    let runs = run_layouts(r);
    let d = runs.iter().find(|l| l.kind == "distributed").unwrap();
    assert_eq!(d.total_throttles(), 0, "{:?}", d.throttles);
    assert!(d.executions > 0);
    let per = transitions_per_execution(detectors);
    assert_eq!(
        per,
        3 + detectors as u64,
        "Convert, Map, 5 × Detector, Aggregate"
    );
    assert_eq!(standard_transitions(d), d.executions * per);
}

/// When Lambda throttles, every ASL retry of a Task is one more billed transition.
#[test]
fn lambda_throttles_add_billed_transitions() {
    let layouts = r#"
[[layouts]]
name = "distributed"
kind = "distributed"
account = { concurrency_limit = 5 }
"#;
    let runs = run_layouts(scenario(20, "20s", layouts));
    let d = &runs[0];
    let per = transitions_per_execution(5);
    assert!(d.throttles["lambda"] > 0, "{:?}", d.throttles);
    assert!(d.retries["lambda"] > 0, "{:?}", d.retries);
    let transitions = standard_transitions(d);
    assert!(
        transitions > d.executions * per,
        "{transitions} transitions for {} executions of {per}",
        d.executions
    );
    // Each Lambda retry is one transition more than the unthrottled count.
    assert_eq!(transitions, d.executions * per + d.retries["lambda"]);
}

const DISTRIBUTED: &str = r#"
[[layouts]]
name = "distributed"
kind = "distributed"
"#;

/// The Prime Video case from first principles: under the 2023 quotas (StateTransition
/// refilled at 1,500/s), the distributed layout is not throttled at 50 streams, and
/// its throttles and median latency rise from there to 1,000 streams.
#[test]
fn distributed_throttles_and_latency_rise_with_streams() {
    let counts = [50u32, 400, 1000];
    let runs: Vec<LayoutRun> = counts
        .iter()
        .map(|&n| {
            let mut v = run_layouts(scenario(n, "2min", DISTRIBUTED));
            v.remove(0)
        })
        .collect();
    let throttles: Vec<u64> = runs.iter().map(|l| l.total_throttles()).collect();
    let p50: Vec<u64> = runs.iter().map(|l| l.latency.quantile(0.5)).collect();
    for l in &runs {
        assert_conserved(l, 5);
    }
    assert_eq!(
        throttles[0], 0,
        "50 streams fit the 2023 quotas: {throttles:?}"
    );
    assert!(
        throttles[0] < throttles[1] && throttles[1] < throttles[2],
        "throttles grow with streams: {throttles:?}"
    );
    assert!(
        runs[2].throttles["step_functions"] > 0,
        "Step Functions is what throttles: {:?}",
        runs[2].throttles
    );
    assert!(
        p50[0] < p50[1] && p50[1] < p50[2],
        "median latency grows with streams (ns): {p50:?}"
    );
}

/// The onset search finds the throttling onset between the unthrottled and the
/// throttled stream counts above, and names Step Functions.
#[test]
fn onset_search_finds_step_functions_between_the_bounds() {
    let r = scenario(1000, "2min", DISTRIBUTED);
    let cal = Calibration::builtin();
    let cost = cal.cost_model(r.frame_size);
    let ctx = RunContext {
        resolved: &r,
        cost: &cost as &dyn CostModel,
        real: None,
        progress: None,
        streams_override: None,
        duration_override: None,
    };
    let spec = &r.scenario.layouts[0];
    let found = onset::find(&ctx, spec, 1000).expect("the search runs");
    let at = found.streams.expect("1,000 streams throttle");
    // The 2-minute probes are the runs above: 50 streams were not throttled, 400 were.
    assert!(50 < at && at <= 400, "onset at {at} streams: {found:?}");
    assert_eq!(
        found.service.as_deref(),
        Some("step_functions"),
        "{found:?}"
    );
    assert_eq!(found.searched_up_to, 1000);
    assert!(found.probes >= 2, "{found:?}");
}
