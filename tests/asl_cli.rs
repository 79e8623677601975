//! `archsim asl count` through the real binary: the shipped Prime Video machine, the
//! JSON shape, and mistakes exiting 2 with `file:line:col`.

use std::process::{Command, Output};

fn archsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_archsim"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const PV: &str = "scenarios/prime-video.asl.json";

#[test]
fn prime_video_is_eight_transitions() {
    let o = archsim(&["asl", "count", PV]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("8 transitions billed: 8 states entered + 0 retries"),
        "{out}"
    );
    assert!(out.lines().all(|l| l.chars().count() <= 100), "{out}");
}

#[test]
fn two_throttles_of_convert_make_ten_as_json() {
    let o = archsim(&[
        "asl",
        "count",
        PV,
        "--fail",
        "Convert=2",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    // Convert entered once + 2 retries, Detect, 5 x Detector, Aggregate.
    assert_eq!(
        v,
        serde_json::json!({"transitions": 10, "states_entered": 8, "retries": 2, "states": [
            {"name": "Convert", "entered": 1, "retries": 2},
            {"name": "Detect", "entered": 1, "retries": 0},
            {"name": "Detector", "entered": 5, "retries": 0},
            {"name": "Aggregate", "entered": 1, "retries": 0}]})
    );
}

#[test]
fn mistakes_exit_2_with_positions() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("m.asl.json");
    std::fs::write(&bad, "{\n  \"StartAt\": \"A\",\n  \"States\": {\n    \"A\": {\"Type\": \"Pass\", \"Next\": \"Nope\"}\n  }\n}\n").unwrap();
    let o = archsim(&["asl", "count", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("m.asl.json:4:35: state \"A\": Next \"Nope\" is not a state"),
        "{e}"
    );
    assert!(!e.contains("panicked"), "{e}");

    let input = dir.path().join("in.json");
    std::fs::write(&input, "{\"a\": 1,\n \"b\": }").unwrap();
    let o = archsim(&["asl", "count", PV, "--input", input.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("in.json:2:7: invalid JSON"),
        "{}",
        stderr(&o)
    );

    let o = archsim(&["asl", "count", PV, "--fail", "Convrt=1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("did you mean \"Convert\""),
        "{}",
        stderr(&o)
    );
}
