//! The layouts through the library: every frame analysed exactly once per detector
//! (also under heavy throttling), the Step Functions transitions the distributed
//! layout is billed for, and the Prime Video case coming out of the model — throttles
//! and latency rising with streams under the 2023 quotas, and the onset search
//! finding where.

use archsim::cloud::Retrier;
use archsim::kernels::{Calibration, CostModel};
use archsim::layouts::serverless::default_machine;
use archsim::layouts::Family;
use archsim::layouts::{onset, LayoutRun, RunContext};
use archsim::run::{run, RunOptions};
use archsim::scenario::pipeline::{default_aggregate_cpu, Pipeline};
use archsim::scenario::{KernelsChoice, Resolved, Scenario};
use archsim::sim::NS_PER_SEC;

const DETECTORS: &str =
    r#"detectors = ["black", "freeze", "block_corruption", "silence", "av_sync"]"#;

/// Transitions one unthrottled execution of the built-in machine of the Prime Video
/// pipeline with `detectors` detectors is billed, counted by the ASL interpreter.
fn transitions_per_execution(detectors: usize) -> u64 {
    let kernels = &archsim::kernels::Kernel::DETECTORS[..detectors];
    let audio = archsim::scenario::pipeline::pcm_bytes(2.0);
    let p = Pipeline::video(kernels, 25.0, default_aggregate_cpu(), audio);
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

[quotas]
ec2_vcpus = {{ raised = 100000 }}
fargate_vcpus = {{ raised = 100000 }}

{layouts}
"#
    );
    Scenario::parse("<test>", &text, None).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Every stream simulated (`--fidelity full`): these tests check the per-frame
/// accounting of the simulation itself, which a fast run's cohort scales.
fn run_layouts(r: Resolved) -> Vec<LayoutRun> {
    let opts = RunOptions {
        fidelity: Some(archsim::layouts::cohort::Fidelity::Full),
        kernels: Some(KernelsChoice::Sampled),
        skip_onset: true,
        ..RunOptions::default()
    };
    run(r, &opts, None, None)
        .expect("the scenario runs")
        .layouts
}

/// Every frame captured is accounted for once (analysed, late or dropped), every
/// served one analysed by every detector (and no frame more than once), and its
/// latency recorded once.
fn assert_conserved(l: &LayoutRun, detectors: usize) {
    assert!(l.frames_captured > 0, "{}: no frames captured", l.name);
    assert_eq!(
        l.items.offered, l.frames_captured,
        "{}: {:?}",
        l.name, l.items
    );
    assert!(l.items.balanced(), "{}: {:?}", l.name, l.items);
    assert_eq!(
        l.frames_by_detector.len(),
        detectors,
        "{}: {:?}",
        l.name,
        l.frames_by_detector
    );
    for (det, n) in &l.frames_by_detector {
        // A chunk the deadline drops on one path may have been analysed on another
        // before (its work billed, its frames counted dropped).
        assert!(
            (l.items.served()..=l.items.served() + l.items.dropped).contains(n),
            "{}: detector {det} analysed {n} frames of {:?}",
            l.name,
            l.items
        );
    }
    assert_eq!(
        l.latency.count(),
        l.items.served(),
        "{}: one latency per served frame",
        l.name
    );
}

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

[quotas]
ec2_vcpus = {{ raised = 100 }}

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
    let ctx = RunContext::new(&r, &cost as &dyn CostModel);
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

/// A probe asked to stop at its answer (`stop_at_first_throttle_after`) ends at the
/// first bucket after the warm-up with a throttle, its timeline that far the whole
/// run's, so the search's answer is the same; a load that never throttles there runs
/// its whole period alike.
#[test]
fn a_probe_stops_at_its_first_steady_throttle_with_the_same_answer() {
    let warmup = 30 * archsim::sim::NS_PER_SEC;
    let cal = Calibration::builtin();
    for (streams, throttled) in [(50, false), (400, true)] {
        let r = scenario(streams, "2min", DISTRIBUTED);
        let cost = cal.cost_model(r.frame_size);
        let spec = &r.scenario.layouts[0];
        let whole = archsim::layouts::simulate(&RunContext::new(&r, &cost), spec).unwrap();
        let probe = RunContext {
            stop_at_first_throttle_after: Some(warmup),
            ..RunContext::new(&r, &cost)
        };
        let stopped = archsim::layouts::simulate(&probe, spec).unwrap();
        let answer = |l: &LayoutRun| onset::throttles_after(&l.timeline, warmup) > 0;
        assert_eq!(answer(&whole), throttled, "{streams} streams");
        assert_eq!(answer(&stopped), throttled, "{streams} streams");
        let n = stopped.timeline.len();
        assert_eq!(
            stopped.timeline[..],
            whole.timeline[..n],
            "{streams} streams"
        );
        if throttled {
            assert!(stopped.timeline[n - 1].throttles_per_s > 0.0);
            assert_eq!(
                onset::throttles_after(&stopped.timeline[..n - 1], warmup),
                0
            );
            assert!(
                stopped.events < whole.events,
                "{} vs {}",
                stopped.events,
                whole.events
            );
        } else {
            assert_eq!(n, whole.timeline.len());
            assert_eq!(stopped.events, whole.events);
        }
    }
}

/// The monolith on one c5.large with no agent/OS reserve, so a frame's 1.5 s of CPU
/// takes 1.5 s (the default reserve, 0.07 vCPU, would make it 1.55 s and the hand
/// count below wrong).
const ONE_INSTANCE: &str = r#"
[[layouts]]
name = "mono"
kind = "monolith"
[layouts.ec2]
instance_type = "c5.large"
reserve_vcpu = 0.0
scaling = { kind = "fixed", instances = 1 }
"#;

/// The same on one Fargate task of 1 vCPU (Fargate keeps no reserve).
const ONE_TASK: &str = r#"
[[layouts]]
name = "task"
kind = "fargate"
[layouts.fargate]
task_vcpu = 1
task_memory_gb = 2.0
scaling = { kind = "fixed", instances = 1 }
"#;

/// One stream on `layout` (one machine), a single stage of `decode` CPU per frame,
/// under `overload` and `[quotas]` text.
fn tiny(layout: &str, decode: &str, overload: &str, quotas: &str) -> Resolved {
    let text = format!(
        r#"
name = "tiny"
seed = 3
duration = "10s"
kernels = "sampled"
{overload}

[workload]
streams = 1
frames_per_second = 1
frame_size = "640x360"
detectors = ["black"]
chunk_seconds = 1

{quotas}

[[stages]]
name = "decode"
work = "{decode}"
{layout}"#
    );
    Scenario::parse("<tiny>", &text, None).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn run_one(r: &Resolved, quotas_raised: bool) -> LayoutRun {
    let cal = Calibration::builtin();
    let cost = cal.cost_model(r.frame_size);
    let ctx = RunContext {
        quotas_raised,
        ..RunContext::new(r, &cost)
    };
    archsim::layouts::simulate(&ctx, &r.scenario.layouts[0]).expect("runs")
}

/// A stream's decode is sequential: at 1.5 s of work per frame arriving every second,
/// frame k waits 0.5·k s until one waits past the 2 s deadline and is skipped. Worked
/// by hand: frames 0-4 wait 0..2 s (served; 4 waits exactly the deadline), 5 would
/// wait 2.5 s (dropped), 6 and 7 wait 1.5 and 2 s, 8 would start after the period, 9
/// after its chunk ended (dropped); 7 ends 0.5 s after the period (late). The
/// longest latency is the deadline plus the frame's own service time, exactly. The
/// same on an instance and on a Fargate task.
#[test]
fn drop_policy_skips_exactly_the_frames_past_the_deadline() {
    for layout in [ONE_INSTANCE, ONE_TASK] {
        let r = tiny(layout, "1500ms", r#"overload = { drop_after = "2s" }"#, "");
        let run = run_one(&r, false);
        let items = run.items;
        assert_eq!(
            (items.offered, items.analysed, items.late, items.dropped),
            (10, 6, 1, 3),
            "{}: {items:?}",
            run.kind
        );
        assert!(items.balanced());
        assert_eq!(run.latency.count(), items.served());
        // Latency is over served frames and bounded by deadline + own service time,
        // which frames 4 and 7 reach.
        assert_eq!(
            run.latency.max(),
            2_000_000_000 + 1_500_000_000,
            "{}",
            run.kind
        );
        let c = run.capacity();
        assert_eq!(c.verdict, archsim::layouts::Verdict::Overloaded);
        assert_eq!(c.binding, None, "a fixed fleet too small is no quota");
        assert!((c.served_fraction - 0.7).abs() < 1e-12, "{c:?}");

        // Under `queue` nothing waits out a deadline: frames 0-6 start 1.5 s apart, and
        // 7-9 would start after the period; the waits, so latency, grow.
        let q = run_one(&tiny(layout, "1500ms", r#"overload = "queue""#, ""), false);
        assert!(q.items.balanced());
        assert_eq!((q.items.served(), q.items.dropped), (7, 3), "{:?}", q.items);
        assert!(q.latency.max() > run.latency.max());

        // Work that fits: every frame analysed, nothing dropped.
        let ok = run_one(&tiny(layout, "300ms", "", ""), false);
        assert_eq!(ok.items.dropped, 0, "{:?}", ok.items);
        assert!(ok.capacity().keeps_up());
    }
}

/// The EC2 vCPU quota at its default (5 vCPUs) runs two c5.large (2 vCPUs each), not
/// the four a tracking fleet wants: frames are dropped and the quota binds; raised,
/// or with `quotas_raised`, it does not.
#[test]
fn ec2_vcpu_quota_binds_at_its_default_and_lifts_when_raised() {
    let text = |quotas: &str| {
        format!(
            r#"
name = "q"
seed = 1
duration = "10min"
kernels = "sampled"
[workload]
streams = 100
frames_per_second = 1
frame_size = "640x360"
detectors = ["black", "freeze"]
chunk_seconds = 2
{quotas}
[[layouts]]
name = "mono"
kind = "monolith"
[layouts.ec2]
instance_type = "c5.large"
scaling = {{ kind = "target_tracking", target_cpu = 0.7, cooldown = "1min", min = 1, max = 100, initial = 0 }}
"#
        )
    };
    let default = Scenario::parse("<q>", &text(""), None).unwrap();
    let bound = run_one(&default, false);
    let c = bound.capacity();
    assert_eq!(c.verdict, archsim::layouts::Verdict::Overloaded, "{c:?}");
    assert_eq!(c.binding, Some(archsim::layouts::Gate::Ec2VcpuQuota));
    assert_eq!(bound.peak_instances, 2, "5 vCPUs hold two 2-vCPU instances");
    assert!(bound.items.balanced() && bound.items.dropped > 0);

    let lifted = run_one(&default, true);
    assert!(lifted.capacity().keeps_up(), "{:?}", lifted.capacity());
    assert!(lifted.peak_instances > 2);
    let raised = Scenario::parse(
        "<q>",
        &text("[quotas]\nec2_vcpus = { raised = 1000 }"),
        None,
    )
    .unwrap();
    let r = run_one(&raised, false);
    assert!(r.capacity().keeps_up());
    assert_eq!(r.items, lifted.items, "raised above the need = lifted");
}

/// Billing ends with the period: an autoscaler evaluation after the end (here due at
/// 350 s of a 300 s period) neither runs nor stamps a termination that is billed, so
/// no instance is billed past the period by more than the work it still drains.
#[test]
fn monolith_is_not_billed_past_the_period() {
    let r = scenario(
        3000,
        "5min",
        r#"
[[layouts]]
name = "mono"
kind = "monolith"
autoscale_every = "70s"
[layouts.ec2]
instance_type = "c5.2xlarge"
scaling = { kind = "target_tracking", target_cpu = 0.7, cooldown = "1min", min = 1, max = 1000, initial = 0 }
"#,
    );
    let run = run_one(&r, false);
    let billed_s = run.usage.ec2[0].instance_hours.0 * 3600.0;
    let drain_s = (run.sim_end as f64 / 1e9 - 300.0).max(0.0);
    assert!(run.peak_instances >= 2, "{}", run.peak_instances);
    assert!(
        billed_s <= run.peak_instances as f64 * (300.0 + drain_s.ceil()),
        "billed {billed_s} s for {} instances over 300 s (+{drain_s} s drain)",
        run.peak_instances
    );
    assert!(run.items.balanced());
}

/// Past the transition quota the Step Functions layouts drop what cannot start within
/// the deadline: every frame is counted once, latency is over the served ones, the
/// narrower quota (transitions, not StartExecution) binds, and Express executions that
/// wait on Lambda past 5 minutes end with `States.Timeout` (their frames dropped).
#[test]
fn serverless_overload_drops_past_the_deadline_and_counts_every_frame() {
    let layouts = r#"
[[layouts]]
name = "distributed"
kind = "distributed"
overload = { drop_after = "10s" }

[[layouts]]
name = "express"
kind = "express"
account = { concurrency_limit = 20 }
overload = "queue"
"#;
    let runs = run_layouts(scenario(600, "8min", layouts));
    let d = &runs[0];
    assert!(d.items.balanced(), "{:?}", d.items);
    assert_eq!(d.items.offered, d.frames_captured);
    assert!(d.items.dropped > 0, "{:?}", d.items);
    assert_eq!(d.latency.count(), d.items.served());
    let c = d.capacity();
    assert!(!c.keeps_up(), "{c:?}");
    assert_eq!(
        c.binding,
        Some(archsim::layouts::Gate::StateTransitions),
        "{c:?}"
    );
    let e = &runs[1];
    assert!(e.items.balanced(), "{:?}", e.items);
    assert!(
        e.items.dropped > 0,
        "timed out executions drop: {:?}",
        e.items
    );
    assert_eq!(e.latency.count(), e.items.served());
    assert_eq!(
        e.capacity().binding,
        Some(archsim::layouts::Gate::LambdaConcurrency)
    );
}

/// The overload deadline bounds a chunk's waits in line for a quota: per queue (the
/// default, as Lambda's MaximumEventAgeInSeconds does) in each of lambda-direct's
/// three stage queues, so latency stays within three deadlines plus what a chunk
/// takes unloaded; per item, along each path through the pipeline together, so
/// within one deadline plus that.
#[test]
fn lambda_direct_waits_stay_within_the_deadline_per_queue_or_per_item() {
    let layout = |limit: u32, per: &str| {
        format!(
            r#"
[[layouts]]
name = "lambda-direct"
kind = "lambda-direct"
account = {{ concurrency_limit = {limit} }}
overload = {{ drop_after = "10s", per = "{per}" }}
"#
        )
    };
    let unloaded = run_layouts(scenario(60, "4min", &layout(100_000, "item"))).remove(0);
    assert_eq!(unloaded.items.dropped, 0, "{:?}", unloaded.items);
    // A third of the mean concurrency the load needs (function-seconds a second).
    let function_s: f64 = unloaded
        .usage
        .lambda
        .iter()
        .map(|l| l.invocations.0 as f64 * l.avg_billed_duration_ms.0 / 1e3)
        .sum();
    let limit = ((function_s / 240.0 / 3.0) as u32).max(1);
    let deadline = 10 * NS_PER_SEC;
    let max_ms = |l: &LayoutRun| l.latency.max() / 1_000_000;
    for (per, deadlines) in [("queue", 3), ("item", 1)] {
        let loaded = run_layouts(scenario(60, "4min", &layout(limit, per))).remove(0);
        let i = loaded.items;
        assert!(i.balanced(), "{per}: {i:?}");
        assert!(i.dropped > i.offered / 10, "{per}: overloaded: {i:?}");
        assert_eq!(loaded.latency.count(), i.served());
        let bound = deadlines * deadline + unloaded.latency.max();
        assert!(
            loaded.latency.max() <= bound,
            "{per}: max latency {} ms, bound {} ms",
            max_ms(&loaded),
            bound / 1_000_000
        );
        if per == "queue" {
            // Later queues add their own waits: one deadline is not the bound.
            assert!(
                loaded.latency.max() > deadline + unloaded.latency.max(),
                "{} ms",
                max_ms(&loaded)
            );
        }
    }
}
