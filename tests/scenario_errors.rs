//! `archsim run` on bad scenario files, through the real binary: one test per kind of
//! mistake, each exiting with code 2 and naming `file:line:col` and what was expected.

use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::process::{Command, Output};

/// A valid scenario up to its layouts; each test appends or edits.
const BASE: &str = r#"name = "bad"
duration = "1min"
kernels = "sampled"

[workload]
streams = 2
frames_per_second = 1
frame_size = "640x360"
detectors = ["black", "freeze"]
chunk_seconds = 2

"#;

const DISTRIBUTED: &str = "[[layouts]]\nname = \"d\"\nkind = \"distributed\"\n";

fn archsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_archsim"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// 1-based number of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("`{needle}` not in:\n{text}"))
        + 1
}

/// Writes `text` as a scenario, runs it and checks: exit code 2, no panic, the
/// error at `path:LINE:COL:` with LINE in `lines`, and each of `phrases` in stderr.
fn bad(text: &str, lines: RangeInclusive<usize>, phrases: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("scenario.toml");
    std::fs::write(&path, text).unwrap();
    let out = archsim(&["run", path.to_str().unwrap(), "--no-onset"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr:\n{err}\nfile:\n{text}");
    assert!(out.stdout.is_empty(), "nothing on stdout");
    assert!(!err.contains("panicked"), "{err}");
    let shown = format!("{}:", path.display());
    let at = err
        .find(&shown)
        .unwrap_or_else(|| panic!("expected `{shown}LINE:COL:` in:\n{err}"));
    let mut pos = err[at + shown.len()..].splitn(3, ':');
    let line: usize = pos
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no line number in:\n{err}"));
    let col: usize = pos
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no column in:\n{err}"));
    assert!(
        lines.contains(&line) && col >= 1,
        "error at {line}:{col}, expected a line in {lines:?}:\n{err}"
    );
    for p in phrases {
        assert!(err.contains(p), "expected `{p}` in:\n{err}");
    }
}

#[test]
fn toml_syntax_error() {
    let text = format!("{BASE}{DISTRIBUTED}description = = \"x\"\n");
    let l = line_of(&text, "= =");
    bad(&text, l..=l, &["expected"]);
}

#[test]
fn unknown_field_suggests_the_nearest() {
    let text = format!("{BASE}{DISTRIBUTED}descriptoin = \"x\"\n");
    let l = line_of(&text, "descriptoin");
    bad(
        &text,
        l..=l,
        &["unknown field `descriptoin`", "did you mean `description`?"],
    );
}

#[test]
fn unknown_layout_kind() {
    let text = format!("{BASE}[[layouts]]\nname = \"d\"\nkind = \"distribute\"\n");
    let l = line_of(&text, "\"distribute\"");
    bad(
        &text,
        l..=l,
        &["`distribute`", "did you mean `distributed`?", "monolith"],
    );
}

#[test]
fn unknown_detector() {
    let text = format!("{BASE}{DISTRIBUTED}").replace("\"freeze\"", "\"frieze\"");
    let l = line_of(&text, "frieze");
    bad(
        &text,
        l..=l,
        &["unknown detector `frieze`", "did you mean `freeze`?"],
    );
}

#[test]
fn section_that_does_not_apply_to_the_kind() {
    let text = format!("{BASE}{DISTRIBUTED}[layouts.ec2]\ninstance_type = \"c5.large\"\n");
    let l = line_of(&text, "[layouts.ec2]");
    bad(
        &text,
        l..=l + 1,
        &["layout `d`", "distributed layout has no `ec2` section"],
    );
}

#[test]
fn negative_frame_rate() {
    let text =
        format!("{BASE}{DISTRIBUTED}").replace("frames_per_second = 1", "frames_per_second = -1");
    let l = line_of(&text, "frames_per_second");
    bad(&text, l..=l, &["expected a finite number > 0", "-1"]);
}

#[test]
fn zero_streams() {
    let text = format!("{BASE}{DISTRIBUTED}").replace("streams = 2", "streams = 0");
    let l = line_of(&text, "streams = 0");
    bad(&text, l..=l, &["streams must be at least 1"]);
}

#[test]
fn bad_frame_size() {
    for size in ["640x361", "big", "0x0", "640"] {
        let text = format!("{BASE}{DISTRIBUTED}").replace("640x360", size);
        let l = line_of(&text, "frame_size");
        bad(
            &text,
            l..=l,
            &["expected a frame size like \"1280x720\"", size],
        );
    }
}

#[test]
fn unknown_instance_type() {
    let text = format!(
        "{BASE}[[layouts]]\nname = \"m\"\nkind = \"monolith\"\n[layouts.ec2]\ninstance_type = \"c5.hyper\"\n"
    );
    let l = line_of(&text, "[layouts.ec2]");
    bad(
        &text,
        l..=l + 1,
        &["unknown instance type `c5.hyper`", "c5.large"],
    );
}

#[test]
fn duplicate_layout_names() {
    let text = format!("{BASE}{DISTRIBUTED}\n[[layouts]]\nname = \"d\"\nkind = \"monolith\"\n");
    let first = line_of(&text, "name = \"d\"");
    let last = line_of(&text, "\"monolith\"");
    bad(&text, first + 3..=last, &["two layouts are named `d`"]);
}

#[test]
fn assumption_that_names_no_value() {
    let text = format!(
        "{BASE}{DISTRIBUTED}\n[assumptions.\"workload.source_fps\"]\nnote = \"not written above\"\n"
    );
    let l = line_of(&text, "[assumptions.");
    bad(
        &text,
        l..=l,
        &["assumption `workload.source_fps` names no value"],
    );
}

#[test]
fn converter_lambda_memory_below_the_minimum() {
    let text = format!("{BASE}{DISTRIBUTED}[layouts.converter]\nmemory_mb = 64\n");
    let l = line_of(&text, "[layouts.converter]");
    bad(
        &text,
        l..=l + 1,
        &[
            "layout `d`",
            "`converter`",
            "memory_mb must be between 128 and 10240",
            "64",
        ],
    );
}

#[test]
fn missing_file_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nowhere.toml");
    let out = archsim(&["run", path.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("nowhere.toml") && err.contains("cannot read"),
        "{err}"
    );
}

// Concurrency no function could ever run with: without a check the run retried the
// throttled invocations for ever and never ended.

#[test]
fn zero_lambda_concurrency_limit() {
    for kind in ["distributed", "express", "lambda-direct"] {
        let text = format!(
            "{BASE}[[layouts]]\nname = \"d\"\nkind = \"{kind}\"\naccount = {{ concurrency_limit = 0 }}\n"
        );
        let l = line_of(&text, "concurrency_limit");
        bad(&text, l..=l, &["concurrency_limit must be at least 1"]);
    }
}

#[test]
fn zero_reserved_concurrency() {
    let text = format!("{BASE}{DISTRIBUTED}[layouts.converter]\nreserved_concurrency = 0\n");
    let l = line_of(&text, "[layouts.converter]");
    bad(
        &text,
        l..=l + 1,
        &["converter's reserved_concurrency is 0", "never finish"],
    );
}

#[test]
fn reserved_concurrency_that_leaves_none_for_the_other_functions() {
    let text = format!(
        "{BASE}{DISTRIBUTED}account = {{ concurrency_limit = 5 }}\n[layouts.converter]\nreserved_concurrency = 5\n"
    );
    let l = line_of(&text, "[layouts.converter]");
    bad(
        &text,
        l..=l + 1,
        &["reserved concurrency adds up to 5", "leaving none"],
    );
    // A detector's reservation applies to each detector function (2 here).
    let text = format!(
        "{BASE}{DISTRIBUTED}account = {{ concurrency_limit = 5 }}\n[layouts.detector]\nreserved_concurrency = 3\n"
    );
    let l = line_of(&text, "[layouts.detector]");
    bad(
        &text,
        l..=l + 1,
        &[
            "adds up to 6",
            "more than the account's concurrency limit of 5",
        ],
    );
}
