//! Items of issue 10's review list that no other test pinned (docs/review-tests.md
//! maps every item to its tests): CloudWatch Logs and EBS as priced line items of a
//! run with their catalog assumptions, NAT only where a layout says so; ASL retries of
//! the shipped Prime Video machine billed one transition each, and exactly 8 a chunk
//! once Lambda does not bind; the throttle onset measured in steady state, not in
//! the cold start; Express executions ended and billed at 5 minutes; an overloaded
//! layout billed with quotas raised, the saving against that; the instance layouts'
//! streams pinned and bin-packed, their first fleet sized without foresight.

use std::path::Path;

use archsim::cloud::{Ec2Config, Ec2Fleet, Ec2Scaling};
use archsim::kernels::{FixedCost, Kernel};
use archsim::layouts::{self, onset, LayoutRun, RunContext};
use archsim::pricing::Catalog;
use archsim::scenario::{Resolved, Scenario};
use archsim::sim::NS_PER_SEC;
use serde_json::Value;

#[path = "support/cli.rs"]
mod cli;
use cli::ok;

const GIB: f64 = 1_073_741_824.0;

/// `text` written as `name` in a fresh folder, with the shipped Prime Video state
/// machine beside it: (folder, scenario path).
fn scenario_file(name: &str, text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let asl = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/prime-video.asl.json");
    std::fs::copy(asl, dir.path().join("prime-video.asl.json")).unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    (dir, path.display().to_string())
}

/// `archsim run PATH --format json --no-onset [EXTRA]`.
fn run_json(path: &str, extra: &[&str]) -> Value {
    let mut args = vec!["run", path, "--format", "json", "--no-onset"];
    args.extend_from_slice(extra);
    serde_json::from_slice(&ok(&args)).unwrap()
}

fn layout<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["layouts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == name)
        .unwrap_or_else(|| panic!("no layout {name}"))
}

/// The period bill's line items of `service`.
fn items<'a>(l: &'a Value, service: &str) -> Vec<&'a Value> {
    l["bill"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["service"] == service)
        .collect()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn close(a: f64, b: f64) {
    assert!((a - b).abs() <= 1e-12 * b.abs().max(1e-9), "{a} vs {b}");
}

const FORGOTTEN: &str = r#"
name = "forgotten"
seed = 1
duration = "10min"
quota_era = "current"
kernels = "sampled"

[workload]
streams = 2
frames_per_second = 1
frame_size = "640x360"
detectors = ["black", "silence"]
chunk_seconds = 2

[quotas]
ec2_vcpus = { raised = 100 }

[[layouts]]
name = "distributed"
kind = "distributed"

[[layouts]]
name = "mono"
kind = "monolith"
[layouts.ec2]
instance_type = "c5.large"
scaling = { kind = "fixed", instances = 1 }
"#;

/// Every Lambda invocation's log is ingested by CloudWatch Logs at the catalog's
/// assumed 300 bytes ($0.50 per 2^30 bytes), one line item per function; each EC2
/// instance pays a 30 GB gp3 root volume for its hours; the assumptions table names
/// both defaults and the layouts they price; no layout says its Lambdas sit in a VPC
/// without an S3 gateway endpoint, so none is billed NAT processing. A catalog that
/// assumes 600 bytes doubles the log line.
#[test]
fn cloudwatch_logs_and_root_volumes_are_billed_with_their_assumptions() {
    let (_dir, path) = scenario_file("forgotten.toml", FORGOTTEN);
    let check = |v: &Value, bytes: f64| {
        let d = layout(v, "distributed");
        let functions = d["usage"]["lambda"].as_array().unwrap();
        let logs = items(d, "cloudwatch_logs");
        assert_eq!(
            logs.len(),
            functions.len(),
            "one line per function: {logs:?}"
        );
        assert_eq!(functions.len(), 4, "converter, two detectors, aggregator");
        for func in functions {
            let line = logs
                .iter()
                .find(|i| i["resource"] == func["name"])
                .unwrap_or_else(|| panic!("no log line for {}", func["name"]));
            assert_eq!(line["item"], "log ingestion");
            assert_eq!(line["unit"], "GB");
            let gb = f(&func["invocations"]) * bytes / GIB;
            assert!(gb > 0.0);
            close(f(&line["quantity"]), gb);
            close(f(&line["usd"]), gb * 0.50);
        }
        let mono = layout(v, "mono");
        assert!(
            items(mono, "cloudwatch_logs").is_empty(),
            "no Lambda, no logs"
        );
        let ec2 = &mono["usage"]["ec2"][0];
        let ebs = items(mono, "ebs");
        assert_eq!(ebs.len(), 1, "{ebs:?}");
        let gb_months = f(&ec2["instance_hours"]) * 30.0 / 730.0;
        close(f(&ebs[0]["quantity"]), gb_months);
        close(f(&ebs[0]["usd"]), gb_months * 0.08);
        assert!(items(d, "ebs").is_empty());
        for l in v["layouts"].as_array().unwrap() {
            assert!(items(l, "nat_gateway").is_empty(), "{}", l["name"]);
        }
        let assumption = |name: &str| {
            v["assumptions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["name"] == name)
                .unwrap_or_else(|| panic!("no assumption {name}"))
                .clone()
        };
        let a = assumption("cloudwatch_logs.lambda_bytes_per_invocation");
        assert_eq!(a["value"], format!("{bytes} bytes"));
        assert_eq!(a["layouts"], serde_json::json!(["distributed"]));
        assert!(
            a["source"].as_str().unwrap().contains("confidence U"),
            "{a}"
        );
        let a = assumption("ebs.root_volume_gb");
        assert_eq!(a["value"], "30 GB per instance");
        assert_eq!(a["layouts"], serde_json::json!(["mono"]));
    };
    check(&run_json(&path, &[]), 300.0);

    let catalog = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("catalogs/aws-us-east-1.toml"),
    )
    .unwrap();
    let wordier = catalog.replace(
        "lambda_bytes_per_invocation = { value = 300,",
        "lambda_bytes_per_invocation = { value = 600,",
    );
    assert_ne!(wordier, catalog, "the catalog line moved");
    // A scenario names its catalog file relative to itself.
    let (dir, path) = scenario_file(
        "wordy.toml",
        &FORGOTTEN.replace("kernels = ", "catalog = \"catalog.toml\"\nkernels = "),
    );
    std::fs::write(dir.path().join("catalog.toml"), wordier).unwrap();
    check(&run_json(&path, &[]), 600.0);
}

/// A layout whose functions sit in a VPC without an S3 gateway endpoint
/// (`[layouts.s3] through_nat = true`) pays NAT data processing on every byte it PUTs
/// to and GETs from the bucket, at $0.045 per 2^30 bytes; the same layout without it
/// pays none, and nothing else on its bill changes.
#[test]
fn a_layout_in_a_vpc_without_an_endpoint_bills_nat() {
    let text = FORGOTTEN.replace(
        "kind = \"distributed\"\n",
        "kind = \"distributed\"\n[layouts.s3]\nthrough_nat = true\n",
    );
    assert_ne!(text, FORGOTTEN);
    let (_dir, path) = scenario_file("vpc.toml", &text);
    let vpc = run_json(&path, &[]);
    let (_dir, path) = scenario_file("open.toml", FORGOTTEN);
    let open = run_json(&path, &[]);
    let (open, vpc) = (layout(&open, "distributed"), layout(&vpc, "distributed"));
    assert!(items(open, "nat_gateway").is_empty());
    let nat = items(vpc, "nat_gateway");
    assert_eq!(nat.len(), 1, "{nat:?}");
    assert_eq!(nat[0]["resource"], "distributed-frames (S3 traffic)");
    // Every PUT and GET carries at least a JPEG frame or an audio buffer.
    let s3 = &vpc["usage"]["s3"][0];
    let requests = f(&s3["tier1_requests"]) + f(&s3["tier2_requests"]);
    let gb = f(&nat[0]["quantity"]);
    assert!(
        gb * GIB > requests * 1_000.0,
        "{gb} GB for {requests} requests"
    );
    close(f(&nat[0]["usd"]), gb * 0.045);
    // The same seed: the same requests, the same bill but for the NAT line.
    assert_eq!(open["usage"]["s3"], vpc["usage"]["s3"]);
    let total = |l: &Value| f(&l["bill"]["total_usd"]);
    assert!((total(vpc) - f(&nat[0]["usd"]) - total(open)).abs() < 1e-9);
}

/// `archsim asl count` of the shipped machine: 8 transitions, and each Retry attempt
/// of any Task one more, until its MaxAttempts (3) run out and the execution fails
/// after 1 + 3.
#[test]
fn each_retry_of_the_prime_video_machine_is_one_transition() {
    let count = |fail: &str| -> Value {
        let mut args = vec!["asl", "count", "scenarios/prime-video.asl.json"];
        if !fail.is_empty() {
            args.extend(["--fail", fail]);
        }
        args.extend(["--format", "json"]);
        serde_json::from_slice(&ok(&args)).unwrap()
    };
    assert_eq!(count("")["transitions"], 8);
    for state in ["Convert", "Detector", "Aggregate"] {
        for n in 1..=3u64 {
            let v = count(&format!("{state}={n}"));
            assert_eq!(v["transitions"], 8 + n, "{state}={n}: {v}");
            assert_eq!(v["retries"], n, "{state}={n}");
            assert_eq!(v["states_entered"], 8, "{state}={n}");
        }
    }
    let exhausted = count("Convert=4");
    assert_eq!(
        (&exhausted["transitions"], &exhausted["states_entered"]),
        (&serde_json::json!(4), &serde_json::json!(1)),
        "{exhausted}"
    );
}

/// A minute of `streams` Prime Video streams (five detectors, 25 fps sources) under
/// `quota_era` and `quotas`, before any `[[layouts]]`.
fn minute_of_streams(streams: u32, quota_era: &str, quotas: &str) -> String {
    format!(
        r#"
name = "pv-asl"
seed = 4
duration = "1min"
quota_era = "{quota_era}"
kernels = "sampled"

[workload]
streams = {streams}
frames_per_second = 2
source_fps = 25
frame_size = "640x360"
detectors = ["black", "freeze", "block_corruption", "silence", "av_sync"]
chunk_seconds = 2

[quotas]
{quotas}
"#
    )
}

/// A scenario of a minute: a distributed layout `pv` running `prime-video.asl.json`
/// with `quotas` and `account`, then the `[[layouts]]` of `more`.
fn machine_scenario(
    streams: u32,
    quota_era: &str,
    quotas: &str,
    account: &str,
    more: &str,
) -> (tempfile::TempDir, String) {
    let text = format!(
        r#"{}
[[layouts]]
name = "pv"
kind = "distributed"
state_machine = "prime-video.asl.json"
{account}
{more}"#,
        minute_of_streams(streams, quota_era, quotas)
    );
    scenario_file("pv.toml", &text)
}

/// The JSON of layout `pv` of [`machine_scenario`] without `more`.
fn run_machine(streams: u32, quota_era: &str, quotas: &str, account: &str) -> Value {
    let (_dir, path) = machine_scenario(streams, quota_era, quotas, account, "");
    layout(&run_json(&path, &[]), "pv").clone()
}

/// 100 streams want 400 transitions a second; the bucket (5,000 tokens) refills 20.
const TRANSITIONS_BIND: &str = "step_functions_state_transitions = { raised = 20 }";

fn transitions(usage: &Value) -> u64 {
    usage["step_functions"][0]["state_transitions"]
        .as_u64()
        .unwrap()
}

/// The review found 19.3 transitions billed a chunk at 10 s chunks, 23.3 at 25 fps,
/// where the machine has 8: ASL retries against the Lambda quota. With Lambda not
/// binding the run's usage bills exactly 8 an execution; held to 3 concurrent
/// executions, 8 plus one per Lambda retry; and a layout the transition quota
/// overloads is billed, with its quotas raised, 8 for every chunk it was offered.
#[test]
fn the_shipped_machine_bills_eight_a_chunk_when_lambda_does_not_bind() {
    let l = &run_machine(
        10,
        "current",
        "lambda_concurrency = { raised = 100000 }",
        "",
    );
    assert_eq!(l["retries"]["lambda"], 0, "{}", l["retries"]);
    let executions = l["executions"].as_u64().unwrap();
    assert_eq!(executions, 10 * 60 / 2, "one execution a chunk");
    assert_eq!(transitions(&l["usage"]), 8 * executions);

    let l = &run_machine(10, "current", "", "account = { concurrency_limit = 3 }");
    assert_eq!(l["items"]["dropped"], 0, "{}", l["items"]);
    let retries = l["retries"]["lambda"].as_u64().unwrap();
    assert!(
        retries > 0,
        "5 detectors a chunk against 3 executions retry"
    );
    let executions = l["executions"].as_u64().unwrap();
    assert_eq!(transitions(&l["usage"]), 8 * executions + retries);

    let l = &run_machine(100, "2023", TRANSITIONS_BIND, "");
    assert_eq!(
        l["capacity"]["binding"], "step_functions.state_transitions",
        "{}",
        l["capacity"]
    );
    let raised = &l["with_quotas_raised"];
    assert_eq!(raised["capacity"]["verdict"], "keeps_up", "{raised}");
    let chunks = l["frames_captured"].as_u64().unwrap() / 4;
    assert_eq!(chunks, 100 * 60 / 2);
    let line = raised["bill"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["item"] == "state transitions")
        .expect("a transitions line");
    assert_eq!(f(&line["quantity"]), (8 * chunks) as f64, "{line}");
}

/// A layout a soft quota overloads is billed two ways: what the period bills under
/// the quota, and with quotas raised to carry the load (its verdict then keeps up);
/// the summary says both, and the saving of the others compares the raised bill.
#[test]
fn an_overloaded_layout_is_billed_both_ways_and_the_saving_compares_the_raised_bill() {
    let mono = r#"
[[layouts]]
name = "mono"
kind = "monolith"
[layouts.ec2]
instance_type = "c5.2xlarge"
scaling = { kind = "fixed", instances = 4 }
"#;
    let (_dir, path) = machine_scenario(
        100,
        "2023",
        &format!("{TRANSITIONS_BIND}\nec2_vcpus = {{ raised = 100 }}"),
        "",
        mono,
    );
    let v = run_json(&path, &[]);
    let pv = layout(&v, "pv");
    assert_eq!(pv["capacity"]["verdict"], "overloaded");
    let raised = &pv["with_quotas_raised"];
    assert_eq!(raised["capacity"]["verdict"], "keeps_up");
    let (under, carried) = (f(&pv["monthly_usd"]), f(&raised["monthly_usd"]));
    assert!(
        carried > 1.5 * under,
        "{under} under the quota, {carried} raised"
    );
    let m = layout(&v, "mono");
    assert_eq!(m["capacity"]["verdict"], "keeps_up");
    assert!(
        m.get("with_quotas_raised").is_none(),
        "a layout that keeps up has one bill"
    );

    let text = String::from_utf8(ok(&["run", &path, "--no-onset"])).unwrap();
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("with quotas raised to carry the load"),
        "{text}"
    );
    let saving = |against: f64| {
        let s = (1.0 - f(&m["monthly_usd"]) / against) * 100.0;
        format!("mono costs {s:.1}% less")
    };
    assert_ne!(saving(carried), saving(under));
    assert!(
        flat.contains(&saving(carried)),
        "{}: {text}",
        saving(carried)
    );
}

/// A lambda-direct layout of one detector under a 10-execution limit whose functions
/// start cold in 3 s: more than a chunk (2 s), so the first chunks of any 11 streams
/// overlap in their cold starts and throttle. Warm, a chunk keeps its functions for
/// tens of milliseconds and streams sit at their own phases within the chunk.
fn cold_direct() -> Resolved {
    let cold = r#"cold_start = { kind = "fixed", value = "3s" }"#;
    let text = format!(
        r#"
name = "onset"
seed = 5
duration = "10min"
quota_era = "current"
kernels = "sampled"

[workload]
streams = 400
frames_per_second = 1
source_fps = 1
frame_size = "640x360"
detectors = ["black"]
chunk_seconds = 2

[[layouts]]
name = "direct"
kind = "lambda-direct"
account = {{ concurrency_limit = 10 }}
[layouts.converter]
{cold}
[layouts.detector]
{cold}
[layouts.aggregator]
{cold}
[layouts.s3]
first_byte = {{ kind = "fixed", value = "10ms" }}
"#
    );
    Scenario::parse("<onset>", &text, None).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// The onset is where the steady load throttles, not the cold start: the search
/// finds it well above the 11 streams whose first chunks throttle, and a probe just
/// below it does throttle in its warm-up, which is not counted.
#[test]
fn the_throttle_onset_is_measured_warm_and_staggered() {
    let r = cold_direct();
    let cost = FixedCost::uniform(1_000_000, 10_000);
    let ctx = RunContext::new(&r, &cost);
    let spec = &r.scenario.layouts[0];
    let found = onset::find(&ctx, spec, 400).expect("the search runs");
    let at = found.streams.expect("400 streams throttle");
    assert_eq!(found.service.as_deref(), Some("lambda"), "{found:?}");
    assert!(
        at > 30,
        "onset at {at} streams, not the cold start's 11: {found:?}"
    );
    let below = RunContext {
        streams_override: Some(at - 1),
        duration_override: Some(onset::WARMUP + onset::PROBE),
        ..RunContext::new(&r, &cost)
    };
    let run = layouts::simulate(&below, spec).unwrap();
    assert!(
        run.throttles["lambda"] > 0,
        "{} streams throttle while cold: {:?}",
        at - 1,
        run.throttles
    );
}

/// Four streams whose converter needs 5 s of CPU a chunk (50 decodes of 100 ms), held
/// to one concurrent Lambda execution and queued without a deadline: executions wait
/// on the throttle far past 5 minutes. Express ends each at 5 minutes
/// (`States.Timeout`, its chunk dropped), the wait counted toward it, and bills no
/// execution more than 300,000 ms.
#[test]
fn express_executions_end_and_are_billed_at_five_minutes() {
    let text = r#"
name = "express-cap"
seed = 2
duration = "4min"
quota_era = "current"
kernels = "sampled"
overload = "queue"

[workload]
streams = 4
frames_per_second = 1
source_fps = 25
frame_size = "640x360"
detectors = ["black"]
chunk_seconds = 2

[[layouts]]
name = "express"
kind = "express"
account = { concurrency_limit = 1 }
"#;
    let r = Scenario::parse("<express-cap>", text, None).unwrap_or_else(|e| panic!("{e}"));
    let cost = FixedCost::uniform(1_000_000, 10_000).with(Kernel::H264Decode, 100_000_000);
    let ctx = RunContext::new(&r, &cost);
    let run: LayoutRun = layouts::simulate(&ctx, &r.scenario.layouts[0]).unwrap();
    assert!(run.items.balanced(), "{:?}", run.items);
    assert!(
        run.items.dropped > run.items.offered / 2,
        "under `queue` only the timeout drops: {:?}",
        run.items
    );
    let sf = &run.usage.step_functions[0];
    assert_eq!(sf.requests.map(|c| c.0), Some(run.executions));
    let billed = sf.avg_billed_duration_ms.map(|d| d.0).expect("metered");
    assert!(billed <= 300_000.0, "mean billed {billed} ms");
    // Most executions wait out the 5 minutes: the waits are billed.
    assert!(billed > 200_000.0, "mean billed {billed} ms");
}

/// Each stream is pinned to one instance, streams bin-packed: two c5.large (no
/// reserve), two streams to an instance. Streams 0 and 1 fill the first instance's
/// two cores for 10 s; stream 0's next frame waits for them though the second
/// instance is idle (an ideal scheduler would start it at once), while stream 2, past
/// the first instance's share, starts on the second at once.
#[test]
fn streams_are_pinned_to_an_instance_and_bin_packed() {
    let catalog = Catalog::builtin();
    let mut fleet = Ec2Fleet::new(
        &catalog,
        Ec2Config {
            instance_type: "c5.large".into(),
            scaling: Ec2Scaling::Fixed { instances: 2 },
            reserve_vcpu: Some(0.0),
            ..Ec2Config::default()
        },
    )
    .unwrap();
    let m = fleet.machines();
    m.pin_streams(3, 2);
    let s = NS_PER_SEC;
    assert_eq!(m.run_for(0, 0, 1, 10 * s), Some((0, 10 * s + 1)));
    assert_eq!(m.run_for(0, 1, 1, 10 * s), Some((0, 10 * s + 1)));
    assert_eq!(
        m.start_for(s / 2, 0),
        Some(10 * s + 1),
        "stream 0 waits on its instance"
    );
    assert_eq!(
        m.start_for(s / 2, 2),
        Some(s / 2),
        "stream 2 is on the second"
    );
}

/// A monolith sized by `initial = 0` under a daily profile of 100 streams whose first
/// hour carries a quarter of them and the second all, with no autoscaler evaluation
/// in the period (every 3 h): its first fleet is what the 25 streams of time 0 need,
/// the same as for 25 constant streams, not the peak still to come.
#[test]
fn the_first_fleet_is_sized_for_time_zero_without_foresight() {
    let fleet_for = |streams: u32, profile: &str| -> LayoutRun {
        let text = format!(
            r#"
name = "foresight"
seed = 6
duration = "2h"
kernels = "sampled"
[workload]
streams = {streams}
{profile}
frames_per_second = 1
frame_size = "640x360"
detectors = ["black", "freeze"]
chunk_seconds = 2
[quotas]
ec2_vcpus = {{ raised = 10000 }}
[[layouts]]
name = "mono"
kind = "monolith"
autoscale_every = "3h"
[layouts.ec2]
instance_type = "c5.large"
scaling = {{ kind = "target_tracking", target_cpu = 0.7, cooldown = "5min", min = 1, max = 1000, initial = 0 }}
"#
        );
        let r = Scenario::parse("<foresight>", &text, None).unwrap_or_else(|e| panic!("{e}"));
        let cost = FixedCost::uniform(20_000_000, 10_000);
        layouts::simulate(&RunContext::new(&r, &cost), &r.scenario.layouts[0]).unwrap()
    };
    let weights = format!(
        "profile = \"daily\"\nhourly_weights = [0.25, 1{}]",
        ", 0".repeat(22)
    );
    let rising = fleet_for(100, &weights);
    let quarter = fleet_for(25, "");
    let all = fleet_for(100, "");
    assert!(quarter.peak_instances > 1, "{}", quarter.peak_instances);
    assert_eq!(rising.peak_instances, quarter.peak_instances);
    assert!(all.peak_instances > 2 * quarter.peak_instances);
    assert!(
        rising.items.dropped > 0,
        "the second hour outgrows the first fleet"
    );
}

/// Lambda's refusals are told apart by cause: with the concurrency quota raised,
/// what still holds a cold start of 20,000 streams back is the scaling rule (new
/// execution environments at a fixed rate, which no quota request lifts: 3,000 at
/// once, then 500 a minute), and the verdict names it; under the default 1,000 the
/// concurrency quota binds. (6,000 streams keep up: a refused invocation takes the
/// next of its function's instances to finish, not only the next new one.)
#[test]
fn a_cold_start_held_back_by_the_scaling_rule_names_it_not_the_quota() {
    let binding = |quota: &str| {
        let text = minute_of_streams(20_000, "2023", &format!("lambda_concurrency = {quota}"))
            + "\n[[layouts]]\nname = \"ld\"\nkind = \"lambda-direct\"\n";
        let (_dir, path) = scenario_file("cold.toml", &text);
        let v = run_json(&path, &[]);
        let ld = layout(&v, "ld").clone();
        (ld["capacity"]["binding"].clone(), ld)
    };
    let (raised, ld) = binding("{ raised = 100000 }");
    assert_eq!(raised, "lambda.scaling_rate", "{}", ld["capacity"]);
    assert!(ld["throttles"]["lambda"].as_u64().unwrap() > 0);
    let (default, ld) = binding("\"default\"");
    assert_eq!(default, "lambda.concurrency", "{}", ld["capacity"]);
}
