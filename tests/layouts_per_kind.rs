//! Every layout kind through the `Layout` trait with the `FixedCost` mock, on one tiny
//! scenario whose bill can be worked out by hand.
//!
//! The scenario: 1 stream, 1 analysed frame a second (25 decoded), 2-second chunks, a
//! 10-second period, detectors black and freeze. The stream's phase is below one chunk
//! (2 s), so the chunks that start within the period are k = 0..4: **5 chunks, 10
//! frames**. Every kernel costs 1 ms (the converter: 25 decodes + scale + JPEG encode per
//! frame = 27 ms), a JPEG frame is 10,000 bytes.

use archsim::kernels::FixedCost;
use archsim::layouts::{self, LayoutRun, RunContext};
use archsim::scenario::Scenario;

const LAYOUTS: &str = r#"
[[layouts]]
name = "distributed"
kind = "distributed"

[[layouts]]
name = "express"
kind = "express"

[[layouts]]
name = "lambda-direct"
kind = "lambda-direct"

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
[layouts.fargate]
task_vcpu = 4
task_memory_gb = 8.0
scaling = { kind = "fixed", instances = 1 }

[[layouts]]
name = "containers"
kind = "containers"
[layouts.containers]
service = { task_vcpu = 1, task_memory_gb = 2.0, min_tasks = 1, max_tasks = 1 }
"#;

fn runs() -> Vec<LayoutRun> {
    runs_with(r#"["black", "freeze"]"#)
}

fn runs_with(detectors: &str) -> Vec<LayoutRun> {
    let text = format!(
        r#"
name = "per-kind"
seed = 5
duration = "10s"
quota_era = "current"
kernels = "sampled"

[workload]
streams = 1
frames_per_second = 1
source_fps = 25
frame_size = "640x360"
detectors = {detectors}
chunk_seconds = 2
{LAYOUTS}"#
    );
    let r = Scenario::parse("<per-kind>", &text, None).unwrap_or_else(|e| panic!("{e}"));
    let cost = FixedCost::uniform(1_000_000, 10_000);
    let ctx = RunContext::new(&r, &cost);
    let kinds: Vec<&str> = r
        .scenario
        .layouts
        .iter()
        .map(|l| l.kind.get_ref().as_str())
        .collect();
    assert_eq!(kinds, layouts::kinds(), "the scenario names every kind");
    r.scenario
        .layouts
        .iter()
        .map(|spec| {
            layouts::by_kind(spec.kind.get_ref())
                .expect("a known kind")
                .simulate(&ctx, spec)
                .unwrap_or_else(|e| panic!("{}: {e}", spec.name))
        })
        .collect()
}

fn lambda_invocations(l: &LayoutRun) -> Vec<(String, u64)> {
    l.usage
        .lambda
        .iter()
        .map(|f| (f.name.clone(), f.invocations.0))
        .collect()
}

fn s3(l: &LayoutRun) -> (u64, u64) {
    l.usage.s3.iter().fold((0, 0), |(a, b), u| {
        (a + u.tier1_requests.0, b + u.tier2_requests.0)
    })
}

fn by_name<'a>(runs: &'a [LayoutRun], name: &str) -> &'a LayoutRun {
    runs.iter()
        .find(|l| l.name == name)
        .expect("the layout ran")
}

/// Five chunks, each one Lambda invocation per function.
fn five_of_each(prefix: &str) -> Vec<(String, u64)> {
    [
        "converter",
        "detector-black",
        "detector-freeze",
        "aggregator",
    ]
    .iter()
    .map(|f| (format!("{prefix}-{f}"), 5))
    .collect()
}

#[test]
fn every_kind_bills_what_a_hand_count_gives() {
    let runs = runs();
    for l in &runs {
        // The same 10 frames in every layout, each analysed by both detectors once.
        assert_eq!(l.frames_captured, 10, "{}", l.name);
        assert_eq!(l.frames_analyzed(), 10, "{}", l.name);
        assert_eq!(l.latency.count(), 10, "{}", l.name);
    }

    // Serverless, per chunk: converter, one Lambda per detector, aggregator; the
    // converter PUTs each of the chunk's 2 frames and each detector GETs both: 5 × 2
    // = 10 PUTs, 5 × 2 × 2 = 20 GETs.
    for name in ["distributed", "express", "lambda-direct"] {
        let l = by_name(&runs, name);
        assert_eq!(lambda_invocations(l), five_of_each(name), "{name}");
        assert_eq!(s3(l), (10, 20), "{name}");
        assert_eq!(l.executions, 5, "{name}: one per chunk");
    }
    // Standard: Convert, Map, Detector × 2, Aggregate = 5 transitions per execution.
    let d = by_name(&runs, "distributed");
    assert_eq!(d.usage.step_functions.len(), 1);
    assert_eq!(
        d.usage.step_functions[0].state_transitions.map(|c| c.0),
        Some(25)
    );
    // Express: one request per execution, no transitions.
    let e = by_name(&runs, "express");
    assert_eq!(e.usage.step_functions[0].requests.map(|c| c.0), Some(5));
    assert_eq!(e.usage.step_functions[0].state_transitions, None);
    assert!(by_name(&runs, "lambda-direct")
        .usage
        .step_functions
        .is_empty());

    // Instances: a fixed fleet of one for a 10-second period is billed the 60 s minimum.
    let hours =
        |l: &LayoutRun| -> Vec<f64> { l.usage.ec2.iter().map(|u| u.instance_hours.0).collect() };
    assert_eq!(hours(by_name(&runs, "monolith")), [60.0 / 3600.0]);
    assert_eq!(
        hours(by_name(&runs, "cloned-monolith")),
        [60.0 / 3600.0, 60.0 / 3600.0],
        "one instance per clone"
    );
    let f = &by_name(&runs, "fargate").usage.fargate;
    assert_eq!(f.len(), 1);
    assert_eq!(
        f[0].vcpu_hours.0,
        4.0 * 60.0 / 3600.0,
        "4 vCPU × 60 s minimum"
    );
    assert_eq!(f[0].gb_hours.0, 8.0 * 60.0 / 3600.0);

    // Containers: a queue per stage after the converter. Per chunk the converter sends
    // one 20,000-byte message (1 chunk of 64 KB) to black and to freeze; each wakes its
    // waiting consumer (1 receive) and is deleted (1 call); each detector sends one
    // result to the aggregator, whose consumer takes them in two receives and two
    // deletes (the second arrives while it holds the first). After the last chunk
    // every consumer's long poll ends empty once: 1 billed receive each.
    // black: 5 + 5 + 5 + 1 = 16, freeze 16, aggregator 10 + 10 + 10 + 1 = 31.
    let c = by_name(&runs, "containers");
    let sqs: Vec<(String, u64)> = c
        .usage
        .sqs
        .iter()
        .map(|q| (q.name.clone(), q.requests.0))
        .collect();
    assert_eq!(
        sqs,
        [
            ("containers-black".to_string(), 16),
            ("containers-freeze".to_string(), 16),
            ("containers-aggregator".to_string(), 31)
        ]
    );
    assert!(c.usage.s3.is_empty(), "nothing over 256 KiB");
    // One 1-vCPU / 2 GB task per service, each billed the 60 s minimum.
    let tasks: Vec<(&str, f64, f64)> = c
        .usage
        .fargate
        .iter()
        .map(|u| (u.name.as_str(), u.vcpu_hours.0, u.gb_hours.0))
        .collect();
    let minute = 60.0 / 3600.0;
    assert_eq!(
        tasks,
        [
            ("containers-converter", minute, 2.0 * minute),
            ("containers-black", minute, 2.0 * minute),
            ("containers-freeze", minute, 2.0 * minute),
            ("containers-aggregator", minute, 2.0 * minute)
        ]
    );
    assert_eq!(c.executions, 5);
    assert!(c.usage.lambda.is_empty() && c.usage.step_functions.is_empty());
}

/// The audio detectors read the chunk's audio buffer (48 kHz × 2 channels × 16 bits ×
/// 2 s = 384,000 bytes), not the frames: silence the buffer alone, A/V sync frames
/// and buffer.
#[test]
fn audio_detectors_read_the_audio_buffer_not_the_frames() {
    let runs = runs_with(r#"["black", "silence", "av_sync"]"#);
    let ms = 1e-3;
    for name in ["distributed", "express", "lambda-direct"] {
        let l = by_name(&runs, name);
        // Per chunk: the converter PUTs 2 frames and 1 audio buffer; black GETs the 2
        // frames, silence the buffer, A/V sync both: 3 PUTs and 2 + 1 + 3 = 6 GETs.
        assert_eq!(s3(l), (5 * 3, 5 * 6), "{name}");
        // JPEG decode for the two frame readers only: 5 chunks × 2 frames × 2 × 1 ms.
        let decode = l.cpu_seconds_by_kernel["jpeg_decode"];
        assert!((decode - 20.0 * ms).abs() < 1e-9, "{name}: {decode}");
        // The audio kernels still run once per frame's worth of audio: 10 × 1 ms.
        assert!((l.cpu_seconds_by_kernel["silence"] - 10.0 * ms).abs() < 1e-9);
        assert_eq!(l.frames_analyzed(), 10, "{name}");
    }
    // In one process nothing is fetched or decoded.
    let m = by_name(&runs, "monolith");
    assert!(m.usage.s3.is_empty() && !m.cpu_seconds_by_kernel.contains_key("jpeg_decode"));
    // Containers: black's message holds the 20,000 bytes of frames; silence's the
    // 384,000-byte buffer and A/V sync's both (404,000), each over 256 KiB, so the
    // converter PUTs those two bodies once a chunk and each reader GETs its own.
    let c = by_name(&runs, "containers");
    assert_eq!(s3(c), (5 * 2, 5 * 2));
    assert_eq!(c.frames_analyzed(), 10);
    let decode = c.cpu_seconds_by_kernel["jpeg_decode"];
    assert!((decode - 20.0 * ms).abs() < 1e-9, "containers: {decode}");
}
