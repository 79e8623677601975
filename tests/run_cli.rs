//! `archsim run` end to end, through the built binary: deterministic JSON, usage
//! files that `archsim price` turns back into the same bills, the classroom scenario's
//! results, the help text and a guarded output folder.

use std::path::Path;
use std::sync::OnceLock;

use serde_json::Value;

#[path = "support/cli.rs"]
mod cli;
use cli::{archsim, ok};

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("valid JSON on stdout")
}

/// `archsim run --format json` on the embedded classroom scenario, run once for the
/// tests that read it (real kernels: the slowest run of these tests).
fn classroom() -> &'static [u8] {
    static OUT: OnceLock<Vec<u8>> = OnceLock::new();
    OUT.get_or_init(|| ok(&["run", "--format", "json"]))
}

const LOW_TRAFFIC: &str = "scenarios/low-traffic.toml";

#[test]
fn same_inputs_give_byte_identical_json() {
    let args = ["run", LOW_TRAFFIC, "--no-onset", "--format", "json"];
    let a = ok(&args);
    let b = ok(&args);
    assert!(!a.is_empty());
    assert!(a == b, "two runs of {LOW_TRAFFIC} differ");

    // The seed flag is the scenario's seed: the same value gives the same bytes, another
    // value other streams and so other results.
    let same_seed = ok(&[
        "run",
        LOW_TRAFFIC,
        "--no-onset",
        "--format",
        "json",
        "--seed",
        "11",
    ]);
    assert!(a == same_seed, "--seed 11 is the scenario's own seed");
    let other = ok(&[
        "run",
        LOW_TRAFFIC,
        "--no-onset",
        "--format",
        "json",
        "--seed",
        "12",
    ]);
    assert!(a != other, "--seed 12 changes nothing");
    let (a, other) = (json(&a), json(&other));
    assert_eq!(other["seed"], 12);
    assert_ne!(
        a["layouts"][0]["latency_ms"], other["layouts"][0]["latency_ms"],
        "another seed draws other service times"
    );
}

#[test]
fn classroom_json_is_byte_identical_across_runs() {
    let again = ok(&["run", "--format", "json"]);
    assert!(
        classroom() == again.as_slice(),
        "two runs of the classroom scenario differ"
    );
}

/// Bills compared item by item: same service, resource, item and unit in the same
/// order, quantities and amounts equal to 1e-9 relative (the usage file stores
/// decimal text, which could round the last bit of a mean duration).
fn assert_same_bill(layout: &str, run: &Value, priced: &Value) {
    let close = |a: &Value, b: &Value, what: &str| {
        let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
        assert!(
            (a - b).abs() <= 1e-9 * a.abs().max(b.abs()),
            "{layout}: {what}: {a} in the run, {b} priced"
        );
    };
    assert_eq!(run["currency"], priced["currency"], "{layout}");
    close(&run["total_usd"], &priced["total_usd"], "total");
    let (ri, pi) = (
        run["items"].as_array().unwrap(),
        priced["items"].as_array().unwrap(),
    );
    assert!(!ri.is_empty(), "{layout}: an empty bill");
    assert_eq!(ri.len(), pi.len(), "{layout}: {ri:?}\n{pi:?}");
    for (r, p) in ri.iter().zip(pi) {
        for key in ["service", "resource", "item", "unit"] {
            assert_eq!(r[key], p[key], "{layout}: {r}\n{p}");
        }
        close(
            &r["quantity"],
            &p["quantity"],
            &format!("{} quantity", r["item"]),
        );
        close(&r["usd"], &p["usd"], &format!("{} usd", r["item"]));
    }
}

/// Runs `scenario` with `--usage-out`, prices every usage file and compares.
fn round_trip(scenario: &str, kinds: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let usage = dir.path().join("usage");
    let report = json(&ok(&[
        "run",
        scenario,
        "--no-onset",
        "--usage-out",
        usage.to_str().unwrap(),
        "--format",
        "json",
    ]));
    let layouts = report["layouts"].as_array().unwrap();
    let found: Vec<&str> = layouts
        .iter()
        .map(|l| l["kind"].as_str().unwrap())
        .collect();
    assert_eq!(found, kinds);
    let files = std::fs::read_dir(&usage).unwrap().count();
    assert_eq!(files, layouts.len(), "one usage file per layout");
    for l in layouts {
        let name = l["name"].as_str().unwrap();
        let file = usage.join(format!("{name}.usage.toml"));
        assert!(file.is_file(), "{} missing", file.display());
        let priced = json(&ok(&["price", file.to_str().unwrap(), "--format", "json"]));
        assert_same_bill(name, &l["bill"], &priced);
    }
}

#[test]
fn usage_files_price_back_to_the_same_bills() {
    round_trip(
        LOW_TRAFFIC,
        &[
            "distributed",
            "monolith",
            "lambda-direct",
            "fargate",
            "containers",
        ],
    );
}

#[test]
fn usage_files_of_every_layout_kind_price_back_to_the_same_bills() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("all-kinds.toml");
    std::fs::write(
        &path,
        r#"
name = "all-kinds"
seed = 5
duration = "5min"
quota_era = "2023"
kernels = "sampled"

[workload]
streams = 10
frames_per_second = 2
frame_size = "1280x720"
detectors = ["black", "freeze", "block_corruption", "silence", "av_sync"]
chunk_seconds = 2

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
instance_type = "c5.xlarge"
savings_plan_discount = 0.3

[[layouts]]
name = "cloned-monolith"
kind = "cloned-monolith"
clones = 2

[[layouts]]
name = "fargate"
kind = "fargate"
"#,
    )
    .unwrap();
    round_trip(
        path.to_str().unwrap(),
        &[
            "distributed",
            "express",
            "lambda-direct",
            "monolith",
            "cloned-monolith",
            "fargate",
        ],
    );
}

/// The classroom scenario: 3 streams for a minute, the real detectors on a sample
/// clip with one defect of each kind injected, every layout.
#[test]
fn classroom_scenario_reproduces_the_case() {
    let v = json(classroom());
    assert_eq!(v["scenario"], "prime-video-small");
    assert_eq!(
        v["kernels"], "real",
        "the classroom scenario runs the detectors"
    );
    let layouts = v["layouts"].as_array().unwrap();
    assert_eq!(layouts.len(), 6);
    let by_name = |n: &str| {
        layouts
            .iter()
            .find(|l| l["name"] == n)
            .unwrap_or_else(|| panic!("no layout {n}"))
    };

    // Same frames, same detectors, same sample clip: the defects found cannot depend
    // on how the pipeline is laid out (exactly the same list).
    let defects = &layouts[0]["defects"];
    for l in layouts {
        assert_eq!(&l["defects"], defects, "{} found other defects", l["name"]);
        assert_eq!(
            l["frames_analyzed"], layouts[0]["frames_analyzed"],
            "{}",
            l["name"]
        );
        assert_eq!(l["frames_analyzed"], l["frames_captured"], "{}", l["name"]);
    }
    // 3 streams × 60 s × 25 frames/s, in whole 2-second chunks.
    assert_eq!(layouts[0]["frames_analyzed"], 4_500);
    let kinds: std::collections::BTreeSet<&str> = defects
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    for kind in ["black", "freeze", "block_corruption", "silence", "av_sync"] {
        assert!(kinds.contains(kind), "no {kind} found: {kinds:?}");
    }
    // Every stream cycles the same clip, so every stream finds every kind.
    for stream in 0..3 {
        let n = defects
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["stream"] == stream)
            .map(|d| d["kind"].as_str().unwrap())
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        assert_eq!(n, 5, "stream {stream} found {n} kinds of defect");
    }

    let distributed = by_name("distributed");
    let monolith = by_name("monolith");
    let monthly = |l: &Value| l["monthly_usd"].as_f64().unwrap();
    let saving = 1.0 - monthly(monolith) / monthly(distributed);
    // The post's "over 90%": more than 90%, and less than 100% because the monolith's
    // instance is not free. The model gives about 98% here (one c5.large for the minute
    // against 90 executions, each 8 transitions, 7 Lambda invocations, 50 S3 PUTs and
    // 250 GETs); the bounds are the post's claim, not the model's current digits, so a
    // re-calibration or a changed default that keeps the case's conclusion passes.
    assert!(
        saving > 0.90 && saving < 1.0,
        "monolith saves {:.1}% against distributed",
        saving * 100.0
    );
    // Frames in memory answer faster than through S3 and Step Functions: a strict
    // inequality, no margin, since the gap is three orders of magnitude (ms vs s).
    let p50 = |l: &Value| l["latency_ms"]["p50"].as_f64().unwrap();
    assert!(
        p50(monolith) < p50(distributed),
        "p50 {} ms (monolith) vs {} ms (distributed)",
        p50(monolith),
        p50(distributed)
    );
    // Nothing in a 3-stream scenario comes near a quota.
    for l in layouts {
        for (service, n) in l["throttles"].as_object().unwrap() {
            assert_eq!(n, 0, "{}: {service} throttled", l["name"]);
        }
    }
}

#[test]
fn monthly_cost_is_the_priced_month_of_the_projected_usage() {
    let v = json(classroom());
    for l in v["layouts"].as_array().unwrap() {
        let month = &l["monthly_bill"];
        let total = month["total_usd"].as_f64().unwrap();
        assert_eq!(l["monthly_usd"].as_f64().unwrap(), total, "{}", l["name"]);
        let sum: f64 = month["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["usd"].as_f64().unwrap())
            .sum();
        assert!((sum - total).abs() <= 1e-9 * total.max(1.0));
        // Flat-rate items scale with the month exactly: requests and transitions are
        // counts × (730 h / the period).
        let factor = 730.0 / l["period_hours"].as_f64().unwrap();
        let period = &l["bill"]["items"];
        for (p, m) in period
            .as_array()
            .unwrap()
            .iter()
            .zip(month["items"].as_array().unwrap())
        {
            if p["unit"] == "requests" || p["unit"] == "transitions" {
                let want = (p["quantity"].as_f64().unwrap() * factor).round();
                assert_eq!(m["quantity"].as_f64().unwrap(), want, "{p} vs {m}");
            }
        }
    }
}

#[test]
fn run_help_shows_examples() {
    let help = String::from_utf8(ok(&["run", "--help"])).unwrap();
    assert!(help.contains("Examples:"), "{help}");
    for want in [
        "archsim run scenarios/prime-video.toml",
        "--usage-out",
        "--out",
        "--no-onset",
        "--seed",
    ] {
        assert!(help.contains(want), "`{want}` not in:\n{help}");
    }
}

fn listing(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn out_into_a_non_empty_folder_needs_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "mine\n").unwrap();
    std::fs::write(out.join("summary.json"), "{\"old\": true}\n").unwrap();
    let before = listing(&out);

    let res = archsim(&[
        "run",
        LOW_TRAFFIC,
        "--no-onset",
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--force"),
        "the error says how to proceed:\n{err}"
    );
    assert!(res.stdout.is_empty(), "refused before running");
    assert_eq!(listing(&out), before, "the folder is left untouched");
}

/// The pipeline is data: the Prime Video stages written out as `[[stages]]` give the
/// same run, byte for byte in every layout, as the stages the video workload implies.
#[test]
fn explicit_stages_equal_the_derived_video_pipeline() {
    let base = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/low-traffic.toml"),
    )
    .unwrap();
    let mut stages = String::from(
        r#"
[[stages]]
name = "converter"
kernels = ["h264_decode*25", "scale"]
output_bytes = "jpeg"
audio_bytes = "pcm"
serialize = { kernels = ["jpeg_encode"] }
deserialize = { kernels = ["jpeg_decode"] }
"#,
    );
    let detectors = ["black", "freeze", "block_corruption", "silence", "av_sync"];
    for d in detectors {
        // The audio detectors read the converter's audio buffer (A/V sync with the frames).
        let input = match d {
            "silence" => "input = \"audio\"\n",
            "av_sync" => "input = \"av\"\n",
            _ => "",
        };
        stages.push_str(&format!(
            "\n[[stages]]\nname = \"{d}\"\nafter = [\"converter\"]\nkernels = [\"{d}\"]\n{input}"
        ));
    }
    stages.push_str(&format!(
        "\n[[stages]]\nname = \"aggregator\"\nafter = {detectors:?}\ncpu = {{ kind = \"fixed\", value = \"2ms\" }}\nper = \"batch\"\n"
    ));
    // `[[stages]]` go before the first `[[layouts]]` (top-level arrays, any order).
    let at = base.find("[[layouts]]").unwrap();
    let text = format!("{}{stages}\n{}", &base[..at], &base[at..]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("staged.toml");
    std::fs::write(&file, text).unwrap();
    let derived = json(&ok(&[
        "run",
        "scenarios/low-traffic.toml",
        "--format",
        "json",
    ]));
    let staged = json(&ok(&["run", file.to_str().unwrap(), "--format", "json"]));
    let layouts = |v: &Value| v["layouts"].clone();
    assert_eq!(layouts(&derived).as_array().unwrap().len(), 5);
    assert_eq!(layouts(&staged), layouts(&derived));
}

/// A stage's work can be a CPU-time string or a calibration measured from Lambda
/// logs (`empirical(FILE)`, relative to the scenario); a bad string names its line.
#[test]
fn stage_work_from_a_string_and_from_lambda_logs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let base = std::fs::read_to_string(root.join("scenarios/low-traffic.toml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root.join("examples/logs/thumbnail.cal.toml"),
        dir.path().join("thumbnail.cal.toml"),
    )
    .unwrap();
    let at = base.find("[[layouts]]").unwrap();
    let staged = |aggregator_work: &str| {
        format!(
            "{}\n[[stages]]\nname = \"converter\"\nkernels = [\"h264_decode*25\", \"scale\"]\noutput_bytes = \"jpeg\"\nserialize = {{ kernels = [\"jpeg_encode\"] }}\ndeserialize = {{ kernels = [\"jpeg_decode\"] }}\n\n[[stages]]\nname = \"black\"\nkernels = [\"black\"]\n\n[[stages]]\nname = \"thumbnail\"\nafter = [\"converter\"]\nwork = \"empirical(thumbnail.cal.toml)\"\n\n[[stages]]\nname = \"aggregator\"\nafter = [\"black\", \"thumbnail\"]\nper = \"batch\"\nwork = \"{aggregator_work}\"\n\n{}",
            &base[..at], &base[at..]
        )
    };
    let file = dir.path().join("staged.toml");
    std::fs::write(&file, staged("lognormal(median 2ms, p99 6ms)")).unwrap();
    let out = json(&ok(&["run", file.to_str().unwrap(), "--format", "json"]));
    for l in out["layouts"].as_array().unwrap() {
        assert_eq!(l["frames_analyzed"], l["frames_captured"], "{}", l["name"]);
        assert!(l["frames_by_detector"]["thumbnail"].as_u64().unwrap() > 0);
    }
    std::fs::write(&file, staged("lognormal(median 2ms, p99 1ms)")).unwrap();
    let bad = archsim(&["run", file.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("staged.toml:") && err.contains("p99"), "{err}");
}

/// A pipeline of another shape than first → side by side → last runs in the
/// monolith and in the serverless layouts (Step Functions through the machine the
/// shape implies: a chain of two Tasks bills 2 transitions an execution); the cloned
/// monolith, which needs that shape, says so at the layout (exit 2).
#[test]
fn a_chain_of_stages_runs_in_the_monolith_and_serverless_and_is_refused_where_the_shape_matters() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let base = std::fs::read_to_string(root.join("scenarios/low-traffic.toml")).unwrap();
    let at = base.find("[[layouts]]").unwrap();
    let chain = "\n[[stages]]\nname = \"decode\"\nkernels = [\"h264_decode*25\", \"scale\"]\n\n[[stages]]\nname = \"black\"\nkernels = [\"black\"]\n";
    let monolith = "[[layouts]]\nname = \"m\"\nkind = \"monolith\"\n[layouts.ec2]\ninstance_type = \"c5.large\"\nscaling = { kind = \"fixed\", instances = 1 }\n";
    let serverless = "[[layouts]]\nname = \"d\"\nkind = \"distributed\"\n\n[[layouts]]\nname = \"l\"\nkind = \"lambda-direct\"\n";
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("chain.toml");
    std::fs::write(
        &file,
        format!("{}{chain}\n{monolith}\n{serverless}", &base[..at]),
    )
    .unwrap();
    let out = json(&ok(&["run", file.to_str().unwrap(), "--format", "json"]));
    for l in out["layouts"].as_array().unwrap() {
        assert!(l["frames_captured"].as_u64().unwrap() > 0, "{l}");
        assert_eq!(l["frames_analyzed"], l["frames_captured"], "{l}");
    }
    let d = &out["layouts"][1];
    assert_eq!(
        d["usage"]["step_functions"][0]["state_transitions"].as_u64(),
        Some(2 * d["executions"].as_u64().unwrap()),
        "{d}"
    );
    let text = format!(
        "{}{chain}\n{monolith}\n[[layouts]]\nname = \"x\"\nkind = \"cloned-monolith\"\n",
        &base[..at]
    );
    std::fs::write(&file, text).unwrap();
    let bad = archsim(&["run", file.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("chain.toml:") && err.contains("stages side by side"),
        "{err}"
    );
}

/// A state machine of one's own runs through the same interpreter: a Choice whose
/// variable the input lacks takes the scenario's weights, a Pass state is billed
/// like any state. Weights [1, 0] always take rule 0, so every execution enters
/// Convert, Route, Detect, 5 × Detector, Note (Pass), Aggregate: 10 transitions.
#[test]
fn own_state_machine_runs_with_choice_weights() {
    let asl = r#"{
  "StartAt": "Convert",
  "States": {
    "Convert": { "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
      "Parameters": { "FunctionName": "converter", "Payload": { "detectors": ["black", "freeze", "block_corruption", "silence", "av_sync"] } },
      "ResultSelector": { "detectors.$": "$.Payload.detectors" }, "Next": "Route" },
    "Route": { "Type": "Choice",
      "Choices": [ { "Variable": "$.hd", "BooleanEquals": true, "Next": "Detect" } ],
      "Default": "Aggregate" },
    "Detect": { "Type": "Map", "ItemsPath": "$.detectors",
      "ItemProcessor": { "StartAt": "Detector", "States": {
        "Detector": { "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
          "Parameters": { "FunctionName.$": "$", "Payload": {} }, "End": true } } },
      "ResultPath": null, "Next": "Note" },
    "Note": { "Type": "Pass", "Next": "Aggregate" },
    "Aggregate": { "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:aggregator", "End": true }
  }
}"#;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mine.asl.json"), asl).unwrap();
    let base = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/prime-video-small.toml"),
    )
    .unwrap();
    let layouts_at = base.find("[[layouts]]").unwrap();
    let scenario = |weights: &str| {
        format!(
            "{}[[layouts]]\nname = \"mine\"\nkind = \"distributed\"\nstate_machine = \"mine.asl.json\"\n{weights}",
            &base[..layouts_at].replace("kernels = \"real\"", "kernels = \"sampled\"")
        )
    };
    let file = dir.path().join("mine.toml");
    std::fs::write(&file, scenario("choice_weights = { Route = [1, 0] }\n")).unwrap();
    let out = json(&ok(&["run", file.to_str().unwrap(), "--format", "json"]));
    let l = &out["layouts"][0];
    let executions = l["executions"].as_u64().unwrap();
    assert!(executions > 0);
    let transitions = l["usage"]["step_functions"][0]["state_transitions"]
        .as_u64()
        .unwrap();
    assert_eq!(transitions, 10 * executions, "{l}");
    assert_eq!(l["frames_analyzed"], l["frames_captured"]);

    // Without the weights the run says which state needs them, and exits 2.
    std::fs::write(&file, scenario("")).unwrap();
    let out = archsim(&["run", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Choice state `Route`") && err.contains("choice_weights"),
        "{err}"
    );

    // A Task naming a function no stage has is refused when the scenario is read.
    std::fs::write(
        dir.path().join("mine.asl.json"),
        asl.replace("function:aggregator", "function:aggregate"),
    )
    .unwrap();
    std::fs::write(&file, scenario("choice_weights = { Route = [1, 0] }\n")).unwrap();
    let out = archsim(&["run", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("mine.toml:") && err.contains("function `aggregate`"),
        "{err}"
    );
}
