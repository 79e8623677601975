//! `archsim run --fidelity fast|full` through the built binary: both run, each says
//! which ran (table, JSON), the scenario key is honoured, and the output is byte for
//! byte the same whatever the number of threads.

use serde_json::Value;

#[path = "support/cli.rs"]
mod cli;

/// 300 streams for five minutes, one fleet and one serverless layout.
const SCENARIO: &str = r#"
name = "fidelity"
seed = 5
duration = "5min"
kernels = "sampled"
quota_era = "2023"
[workload]
streams = 300
frames_per_second = 1
frame_size = "1280x720"
detectors = ["black", "freeze"]
chunk_seconds = 2
[quotas]
ec2_vcpus = { raised = 1000 }
lambda_concurrency = { raised = 120 }
[[layouts]]
name = "monolith"
kind = "monolith"
[layouts.ec2]
instance_type = "c5.large"
scaling = { kind = "target_tracking", target_cpu = 0.7, cooldown = "5min", min = 1, max = 1000, initial = 0 }
[[layouts]]
name = "lambda-direct"
kind = "lambda-direct"
"#;

fn scenario(dir: &tempfile::TempDir, extra: &str) -> String {
    let path = dir.path().join("s.toml");
    std::fs::write(&path, format!("{extra}{SCENARIO}")).unwrap();
    path.display().to_string()
}

/// `archsim ARGS` on `threads` rayon threads; stdout, failing on a non-zero exit.
fn ok(args: &[&str], threads: &str) -> Vec<u8> {
    cli::ok_with_env(args, &[("RAYON_NUM_THREADS", threads)])
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("valid JSON")
}

#[test]
fn both_modes_run_and_say_which_ran() {
    let dir = tempfile::tempdir().unwrap();
    let s = scenario(&dir, "");
    let base = ["run", &s, "--no-onset", "--cohort", "100"];

    let fast = json(&ok(
        &[&base[..], &["--format", "json", "--fidelity", "fast"]].concat(),
        "2",
    ));
    let f = &fast["fidelity"];
    assert_eq!(f["mode"], "fast", "{f}");
    assert_eq!(f["simulated_streams"], 100);
    assert_eq!(f["streams"], 300);
    assert_eq!(f["error_bound"]["cost"].as_f64(), Some(0.01));
    assert!(f["error_bound"]["p95"].as_f64().unwrap() > 0.0);

    let full = json(&ok(
        &[&base[..], &["--format", "json", "--fidelity", "full"]].concat(),
        "2",
    ));
    let g = &full["fidelity"];
    assert_eq!(g["mode"], "full", "{g}");
    assert_eq!(g["simulated_streams"], 300);
    assert_eq!(g["error_bound"]["cost"].as_f64(), Some(0.0));

    // Both bill all 300 streams: the same stream-hours, every frame offered counted.
    for (a, b) in fast["layouts"]
        .as_array()
        .unwrap()
        .iter()
        .zip(full["layouts"].as_array().unwrap())
    {
        assert_eq!(a["stream_hours"], b["stream_hours"], "{}", a["name"]);
        assert_eq!(a["frames_captured"], b["frames_captured"], "{}", a["name"]);
        let (x, y) = (
            a["monthly_usd"].as_f64().unwrap(),
            b["monthly_usd"].as_f64().unwrap(),
        );
        assert!(
            x > 0.0 && y > 0.0 && (x / y - 1.0).abs() < 0.25,
            "{x} vs {y}"
        );
    }

    // The table's notes say it too.
    let table = String::from_utf8(ok(&[&base[..], &["--fidelity", "fast"]].concat(), "2")).unwrap();
    assert!(table.contains("Fidelity: fast"), "{table}");
    assert!(
        table.contains("a cohort of 100 of the 300 streams"),
        "{table}"
    );
    // Without the flag or the key the run is full.
    let table = String::from_utf8(ok(&base, "2")).unwrap();
    assert!(table.contains("Fidelity: full"), "{table}");
}

#[test]
fn the_scenario_key_picks_the_mode_and_the_flag_overrides_it() {
    let dir = tempfile::tempdir().unwrap();
    let s = scenario(&dir, "fidelity = \"full\"\n");
    let args = [
        "run",
        &s,
        "--no-onset",
        "--cohort",
        "100",
        "--format",
        "json",
    ];
    assert_eq!(json(&ok(&args, "2"))["fidelity"]["mode"], "full");
    let fast = json(&ok(&[&args[..], &["--fidelity", "fast"]].concat(), "2"));
    assert_eq!(fast["fidelity"]["mode"], "fast");

    // A mode it does not know: an error at the key's line and column, exit 2.
    let bad = scenario(&dir, "fidelity = \"quick\"\n");
    let out = cli::archsim(&["run", &bad]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("s.toml:1:12"), "{err}");
    assert!(err.contains("fast") && err.contains("full"), "{err}");
    // A cohort of no streams is refused by the flag's parser.
    let out = cli::archsim(&["run", &s, "--cohort", "0"]);
    assert_eq!(out.status.code(), Some(2));
}

/// Layouts, their reruns with quotas raised and the onset search run in parallel;
/// the output is collected in the scenario's order, so one thread or two give the
/// same bytes, in either mode.
#[test]
fn one_thread_or_two_give_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let s = scenario(&dir, "");
    for mode in ["fast", "full"] {
        let args = [
            "run",
            &s,
            "--cohort",
            "100",
            "--fidelity",
            mode,
            "--format",
            "json",
        ];
        let one = ok(&args, "1");
        let two = ok(&args, "2");
        assert!(one == two, "{mode}: RAYON_NUM_THREADS=1 and 2 differ");
    }
}

/// Half an hour at a constant count, two layouts that drop what they cannot carry:
/// the fast mode runs each as a warm-up and a window (steady segments), says so,
/// and counts what the full run does; one thread or two give the same bytes.
#[test]
fn steady_segments_stand_for_a_long_constant_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    std::fs::write(
        &path,
        SCENARIO
            .replace("duration = \"5min\"", "duration = \"30min\"")
            .replace("streams = 300", "streams = 60"),
    )
    .unwrap();
    let s = path.display().to_string();
    let base = ["run", &s, "--no-onset", "--format", "json"];
    let fast_bytes = ok(&[&base[..], &["--fidelity", "fast"]].concat(), "2");
    assert!(
        fast_bytes == ok(&[&base[..], &["--fidelity", "fast"]].concat(), "1"),
        "the stretches run side by side: the same bytes on one thread"
    );
    let fast = json(&fast_bytes);
    let full = json(&ok(&[&base[..], &["--fidelity", "full"]].concat(), "2"));
    let seg = &fast["fidelity"]["steady_segments"];
    assert_eq!(seg["stretches"], 1, "{seg}");
    assert_eq!(seg["window_s"].as_f64(), Some(180.0));
    assert!(full["fidelity"].get("steady_segments").is_none());
    for (a, b) in fast["layouts"]
        .as_array()
        .unwrap()
        .iter()
        .zip(full["layouts"].as_array().unwrap())
    {
        let name = &a["name"];
        assert_eq!(a["stream_hours"], b["stream_hours"], "{name}");
        let near = |key: &str, tol: f64| {
            let (x, y) = (a[key].as_f64().unwrap(), b[key].as_f64().unwrap());
            assert!(
                y > 0.0 && (x / y - 1.0).abs() <= tol,
                "{name} {key}: {x} vs {y}"
            );
        };
        // Frames are the streams' clocks: to the few of the runs' ends.
        near("frames_captured", 0.005);
        near("monthly_usd", 0.03);
    }
    let table =
        String::from_utf8(ok(&["run", &s, "--no-onset", "--fidelity", "fast"], "2")).unwrap();
    assert!(table.contains("of constant load"), "{table}");
}
