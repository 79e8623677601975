//! `archsim sweep`, `explain` and `sensitivity` end to end, through the built binary.

use std::process::{Command, Output};

fn archsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_archsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("archsim-analyses-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn sweep_over_streams_prints_the_crossover_and_writes_its_files() {
    let out = temp_dir("sweep");
    let o = archsim(&[
        "sweep",
        "scenarios/low-traffic.toml",
        "--vary",
        "workload.streams=1..40:log:6",
        "--layouts",
        "distributed,monolith",
        "--out",
        out.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Serverless is cheaper with few streams on air two hours a day; the monolith's
    // always-on instance wins once enough streams share it.
    // Sentences wrap at 100 columns, continued with a two-space indent.
    let text = text.replace("\n  ", " ");
    let line = text
        .lines()
        .find(|l| l.starts_with("Crossover: distributed and monolith"))
        .unwrap_or_else(|| panic!("no crossover line in:\n{text}"));
    assert!(line.contains("above it monolith is cheaper"), "{line}");
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    assert!(
        csv.starts_with("workload.streams,layout,usd_per_month"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 1 + 6 * 2, "{csv}");
    let svg = std::fs::read_to_string(out.join("sweep.svg")).unwrap();
    assert!(svg.contains("distributed") && svg.contains("monolith"));
    assert!(out.join("sweep.png").exists());
}

#[test]
fn sweep_rejects_a_bad_vary_spec() {
    let o = archsim(&[
        "sweep",
        "scenarios/low-traffic.toml",
        "--vary",
        "workload.strems=1..4:log:3",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("did you mean `streams`"), "{err}");
}

#[test]
fn explain_prints_the_bill_of_one_stream_second() {
    let o = archsim(&["explain", "--no-onset"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let md = String::from_utf8_lossy(&o.stdout);
    for want in [
        "# The case explained: prime-video-small",
        "## The bill of one stream-second",
        "Standard executions × 8 transitions × $0.000025",
        "## What disappears in the monolith",
        "**step_functions**",
        "**s3**",
    ] {
        assert!(md.contains(want), "missing `{want}` in:\n{md}");
    }
}

#[test]
fn sensitivity_draws_a_tornado_of_the_saving() {
    let out = temp_dir("sens");
    let o = archsim(&[
        "sensitivity",
        "scenarios/prime-video-small.toml",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("Saving of monolith vs distributed"), "{text}");
    assert!(
        text.contains("workload.chunk_seconds")
            && text.contains("layouts.monolith.ec2.instance_type"),
        "{text}"
    );
    let svg = std::fs::read_to_string(out.join("tornado.svg")).unwrap();
    assert!(
        svg.contains("chunk_seconds"),
        "the tornado names its assumptions"
    );
    let csv = std::fs::read_to_string(out.join("sensitivity.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
}
