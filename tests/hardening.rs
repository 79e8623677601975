//! Hostile inputs through the real binary (issue 12): every case gives exit code 2 and
//! a non-empty message that names its position, or a correct answer; output folders
//! appear whole or not at all.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn archsim_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_archsim"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The path of a shipped file, `scenarios/NAME` for instance, as an argument.
fn shipped(path: &str) -> String {
    repo().join(path).display().to_string()
}

/// Runs `archsim ARGS` in `dir`, expecting exit code 2 and an error message that names
/// a position (`file:line:col:` or a byte offset) followed by text; returns stderr.
fn fails(dir: &Path, args: &[&str]) -> String {
    let out = archsim_in(dir, args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "archsim {args:?}:\n{err}");
    let first = err.lines().next().unwrap_or_default();
    assert!(
        positioned(first),
        "archsim {args:?}: no position in {first:?}"
    );
    err
}

/// Like [`fails`], for errors about a flag or a whole path (no line to point at).
fn fails_plain(dir: &Path, args: &[&str]) -> String {
    let out = archsim_in(dir, args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "archsim {args:?}:\n{err}");
    let message = err.trim_start_matches("error: ");
    assert!(
        message
            .split_once(": ")
            .is_some_and(|(_, m)| !m.trim().is_empty()),
        "{err}"
    );
    err
}

/// `file:L:C: message` or `…: byte offset N: message`, the message not empty.
fn positioned(line: &str) -> bool {
    let parts: Vec<&str> = line.split(':').collect();
    let line_col = parts.windows(3).any(|w| {
        w[0].parse::<usize>().is_ok() && w[1].parse::<usize>().is_ok() && !w[2].trim().is_empty()
    });
    let offset = line.contains("byte offset ");
    (line_col || offset) && !line.trim_end().ends_with(':')
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap()
}

/// `text` with the first `from` replaced by `to` (which must be there).
fn edit(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "{from:?} not in the file");
    text.replacen(from, to, 1)
}

/// Writes `text` to `dir/name`, returns the name.
fn put(dir: &Path, name: &str, text: &str) -> String {
    std::fs::write(dir.join(name), text).unwrap();
    name.to_string()
}

fn small() -> String {
    read("scenarios/prime-video-small.toml")
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn bounds_on_what_drives_memory_and_time() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let cases = [
        ("streams = 3", "streams = 1000000000", "at most 1000000"),
        (
            "source_fps = 25",
            "source_fps = 1e9",
            "source_fps must be at most",
        ),
        (
            "duration = \"1min\"",
            "duration = \"400days\"",
            "at most 366 days",
        ),
        (
            "instances = 1 }",
            "instances = 10000000 }",
            "at most 100000",
        ),
    ];
    for (from, to, want) in cases {
        let f = put(d, "s.toml", &edit(&small(), from, to));
        let err = fails(d, &["run", &f]);
        assert!(err.contains(want), "{to}: {err}");
    }
}

#[test]
fn a_run_past_the_work_bound_stops_before_it_starts() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let f = put(
        d,
        "s.toml",
        &edit(&small(), "duration = \"1min\"", "duration = \"300days\""),
    );
    let err = fails(d, &["run", &f, "--kernels", "sampled"]);
    assert!(
        err.contains("events") && err.contains("--allow-large"),
        "{err}"
    );
    // A scenario of every event (prime-video.toml runs fast: a warm-up and a window
    // of any duration are within the bound).
    let low = shipped("scenarios/low-traffic.toml");
    let err = fails(d, &["explain", &low, "--duration", "8000h"]);
    assert!(err.contains("--allow-large"), "{err}");
    let pv = shipped("scenarios/prime-video.toml");
    let err = fails_plain(d, &["explain", &pv, "--duration", "100000h"]);
    assert!(err.contains("at most 366 days"), "{err}");
}

#[test]
fn durations_of_zero_are_rejected_everywhere() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let low = shipped("scenarios/low-traffic.toml");
    for args in [
        vec!["explain", "--duration", "0s"],
        vec![
            "sweep",
            low.as_str(),
            "--vary",
            "workload.streams=1,2",
            "--duration",
            "0s",
        ],
    ] {
        let err = fails_plain(d, &args);
        assert!(
            err.contains("--duration") && err.contains("longer than 0"),
            "{err}"
        );
    }
}

#[test]
fn calibration_values_are_bounded_and_positioned() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let cal = read("calibration/default.toml");
    let first_h264 = cal.find("kernel = \"h264_decode\"\nns = [").unwrap()
        + "kernel = \"h264_decode\"\nns = [".len();
    let mut max = cal.clone();
    max.insert_str(first_h264, "9223372036854775807, ");
    let cases = [
        (max, "at most 60000000000 ns"),
        (edit(&cal, "fps = 25.0", "fps = -1.0"), "fps must be"),
        (
            edit(
                &cal,
                "h264_bytes_per_frame = 24346.0",
                "h264_bytes_per_frame = 0.0",
            ),
            "h264_bytes_per_frame",
        ),
        (
            edit(&cal, "jpeg_bytes = [", "jpeg_bytes = [0, "),
            "JPEG frame",
        ),
    ];
    for (text, want) in cases {
        let f = put(d, "cal.toml", &text);
        let err = fails(d, &["run", "--calibration", &f, "--no-onset"]);
        assert!(err.contains(want), "{err}");
    }
    // All samples at 1e15 ns: the first is out of bounds.
    let mut huge = String::new();
    for line in cal.lines() {
        if let Some(rest) = line.strip_prefix("ns = [") {
            let n = rest.split(',').count();
            huge.push_str(&format!(
                "ns = [{}]\n",
                vec!["1000000000000000"; n].join(", ")
            ));
        } else {
            huge.push_str(line);
            huge.push('\n');
        }
    }
    let f = put(d, "cal.toml", &huge);
    fails(d, &["run", "--calibration", &f, "--no-onset"]);
}

#[test]
fn catalog_zeros_and_bad_values_are_rejected_at_their_line() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let cat = read("catalogs/aws-us-east-1.toml");
    for (from, to) in [
        (
            "lambda_concurrent_executions = { value = 1000",
            "lambda_concurrent_executions = { value = 0",
        ),
        ("put_per_s = 3500", "put_per_s = 0"),
        (
            "state_transition_refill_per_s = 1500",
            "state_transition_refill_per_s = 0",
        ),
        ("mb_per_vcpu = 1769", "mb_per_vcpu = 0"),
        ("requests = { usd = 0.20", "requests = { usd = -0.20"),
        ("confidence = \"P\"", "confidence = \"Z\""),
    ] {
        let f = put(d, "cat.toml", &edit(&cat, from, to));
        let err = fails(d, &["catalog", "show", "--catalog", &f]);
        let line: usize = err.split(':').nth(2).unwrap().parse().unwrap();
        let text = edit(&cat, from, to);
        let at = text.lines().nth(line - 1).unwrap();
        assert!(at.contains(to), "{to}: {err} points at {at:?}");
    }
}

#[test]
fn price_rejects_what_would_overflow_and_names_the_catalog_line() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let usage = read("scenarios/usage-example.toml");
    let f = put(
        d,
        "u.toml",
        &edit(
            &usage,
            "avg_duration_ms = 11300.0",
            "avg_duration_ms = 1e308",
        ),
    );
    let err = fails(d, &["price", &f]);
    assert!(err.contains("at most 1e15"), "{err}");
    let f = put(
        d,
        "u.toml",
        &edit(
            &usage,
            "catalog = \"aws-us-east-1\"",
            "catalog = \"nosuch\"",
        ),
    );
    let err = fails(d, &["price", &f]);
    let line = 1 + usage
        .lines()
        .position(|l| l.starts_with("catalog = "))
        .expect("the usage example names its catalog");
    assert!(
        err.starts_with(&format!("error: u.toml:{line}:")) && err.contains("unknown catalog"),
        "{err}"
    );
}

#[test]
fn unreadable_and_endless_files_are_input_errors() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    for args in [
        vec!["run", "/dev/zero"],
        vec!["price", "/dev/zero"],
        vec!["run", "--calibration", "/dev/zero"],
    ] {
        let err = fails(d, &args);
        assert!(err.contains("larger than 16 MiB"), "{err}");
    }
    let f = put(d, "bad.toml", "name = \"caf\u{e9}\"\n");
    let mut bytes = std::fs::read(d.join(&f)).unwrap();
    bytes[11] = 0xff;
    std::fs::write(d.join(&f), bytes).unwrap();
    let err = fails(d, &["run", &f]);
    assert!(
        err.contains("bad.toml:1:") && err.contains("byte offset 11"),
        "{err}"
    );
    // A file ending in `key =` and a NUL byte: a message after the position.
    for text in ["name = \"x\"\nduration =", "name = \"x\0\"\n"] {
        let f = put(d, "t.toml", text);
        fails(d, &["run", &f]);
    }
}

#[test]
fn scenario_messages_say_what_is_wrong() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    // Files the scenario names that cannot be read: at the scenario's line.
    for (from, to) in [
        ("calibration = \"builtin\"", "calibration = \"b9iltin\""),
        ("catalog = \"aws-us-east-1\"", "catalog = \"nosuch.toml\""),
    ] {
        let f = put(
            d,
            "c.toml",
            &edit(&read("scenarios/low-traffic.toml"), from, to),
        );
        let err = fails(d, &["run", &f]);
        assert!(err.contains("cannot read file"), "{err}");
    }
    let low = read("scenarios/low-traffic.toml");
    let f = put(
        d,
        "w.toml",
        &edit(&low, "0, 0, 0, 1, 1, 0, 0, 0]", "0, 0, 0, 2, 1, 0, 0, 0]"),
    );
    let err = fails(d, &["run", &f]);
    assert!(
        err.contains("hourly_weights[19]") && !err.contains("got 24 values"),
        "{err}"
    );
    let f = put(
        d,
        "w.toml",
        &edit(&low, "0, 0, 0, 1, 1, 0, 0, 0]", "0, 0, 0, nan, 1, 0, 0, 0]"),
    );
    let err = fails(d, &["run", &f]);
    assert!(err.contains("hourly_weights[19]"), "{err}");
    // Two names, one file name.
    let text = edit(
        &edit(&small(), "name = \"monolith\"", "name = \"mono lith\""),
        "name = \"cloned-monolith\"",
        "name = \"mono-lith\"",
    );
    let f = put(d, "n.toml", &text);
    let err = fails(d, &["run", &f]);
    assert!(err.contains("share the file name"), "{err}");
    // An assumption's range upside down.
    let text = edit(
        &read("scenarios/prime-video.toml"),
        "low = 1\nhigh = 5",
        "low = 5\nhigh = 1",
    );
    let f = put(d, "a.toml", &text);
    let err = fails(d, &["run", &f]);
    assert!(err.contains("must not be above high"), "{err}");
}

#[test]
fn sweep_errors_point_into_the_real_file_and_check_flags() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let f = put(d, "low-traffic.toml", &read("scenarios/low-traffic.toml"));
    let err = fails(d, &["sweep", &f, "--vary", "workload.streams=1.5,2"]);
    assert!(
        err.starts_with("error: low-traffic.toml:16:11: with workload.streams = 1.5"),
        "{err}"
    );
    let err = fails_plain(
        d,
        &[
            "sweep",
            &f,
            "--vary",
            "workload.streams=1..1000:lin:1000",
            "--vary",
            "workload.chunk_seconds=1..1000:lin:1000",
        ],
    );
    assert!(err.contains("points"), "{err}");
    let out = d.join("out").display().to_string();
    let err = fails_plain(
        d,
        &[
            "sweep",
            &f,
            "--vary",
            "workload.streams=1,2",
            "--layouts",
            "nosuch",
            "--out",
            &out,
        ],
    );
    assert!(err.contains("no layout named `nosuch`"), "{err}");
    assert!(!d.join("out").exists());
    let err = fails_plain(
        d,
        &[
            "sweep",
            &f,
            "--vary",
            "workload.streams=1..1000000000:log:3",
        ],
    );
    assert!(err.contains("at most 1000000"), "{err}");
}

#[test]
fn bench_flags_name_themselves() {
    let t = tempfile::tempdir().unwrap();
    let err = fails_plain(
        t.path(),
        &[
            "kernels",
            "bench",
            "--warmup",
            "1000000000",
            "--size",
            "64x64",
        ],
    );
    assert!(
        err.contains("--warmup") && !err.contains("--seconds"),
        "{err}"
    );
}

/// A short generated clip: `clip.y4m`, `clip.wav`.
fn clip(dir: &Path) -> (PathBuf, PathBuf) {
    let out = archsim_in(
        dir,
        &[
            "frames",
            "generate",
            "--size",
            "64x64",
            "--seconds",
            "2",
            "--out",
            "clip",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (dir.join("clip.y4m"), dir.join("clip.wav"))
}

#[test]
fn media_readers_reject_lies_and_truncation_at_a_byte_offset() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let (y4m, wav) = clip(d);
    let bytes = std::fs::read(&y4m).unwrap();
    std::fs::write(d.join("cut.y4m"), &bytes[..bytes.len() - 10]).unwrap();
    let err = fails(d, &["kernels", "detect", "cut.y4m"]);
    assert!(err.contains("cut short"), "{err}");
    let text = String::from_utf8_lossy(&bytes[..40]).into_owned();
    let lying = edit(&text, "W64", "W32").into_bytes();
    let mut l = lying[..lying.iter().position(|&b| b == b'\n').unwrap()].to_vec();
    l.extend_from_slice(&bytes[bytes.iter().position(|&b| b == b'\n').unwrap()..]);
    std::fs::write(d.join("lie.y4m"), l).unwrap();
    fails(d, &["kernels", "detect", "lie.y4m"]);
    let header_end = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
    std::fs::write(d.join("none.y4m"), &bytes[..header_end]).unwrap();
    let err = fails(d, &["kernels", "detect", "none.y4m"]);
    assert!(err.contains("no frames"), "{err}");
    std::fs::write(d.join("empty.h264"), b"").unwrap();
    let err = fails(d, &["kernels", "detect", "empty.h264"]);
    assert!(err.contains("empty"), "{err}");
    // WAV headers saying 1 Hz or 0 Hz.
    let mut w = std::fs::read(&wav).unwrap();
    for rate in [1u32, 0] {
        w[24..28].copy_from_slice(&rate.to_le_bytes());
        std::fs::write(d.join("rate.wav"), &w).unwrap();
        let err = fails(d, &["kernels", "detect", "clip.y4m", "--audio", "rate.wav"]);
        assert!(
            err.contains("sample rate") || err.contains("WAV header"),
            "{err}"
        );
    }
    // Detector thresholds: NaN and negatives.
    for bad in ["freeze_mad = nan", "black_min_s = -1.0"] {
        let f = put(d, "p.toml", &format!("{bad}\n"));
        let err = fails(d, &["kernels", "detect", "clip.y4m", "--params", &f]);
        assert!(err.contains(bad.split(' ').next().unwrap()), "{err}");
    }
}

#[test]
fn output_paths_are_checked_before_the_run() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    std::fs::write(d.join("file"), "x").unwrap();
    for flag in ["--out", "--usage-out"] {
        let err = fails_plain(d, &["run", flag, "file"]);
        assert!(err.contains("not a folder"), "{err}");
        let err = fails_plain(d, &["run", flag, "file/sub"]);
        assert!(err.contains("file"), "{err}");
    }
    // --usage-out does not replace an existing folder without --force.
    std::fs::create_dir(d.join("u")).unwrap();
    std::fs::write(d.join("u/keep.toml"), "x").unwrap();
    let err = fails_plain(d, &["run", "--usage-out", "u"]);
    assert!(err.contains("--force"), "{err}");
    assert_eq!(names(&d.join("u")), ["keep.toml"]);
    // An input error found after the start leaves no folder.
    let f = put(d, "cal.toml", "machine = \"x\"\n");
    fails(d, &["run", "--calibration", &f, "--out", "o"]);
    assert!(!d.join("o").exists());
    assert_eq!(names(d), ["cal.toml", "file", "u"]);
}

/// Waits until `path` exists (a run has taken its lock), at most a minute.
fn wait_for(path: &Path) {
    for _ in 0..600 {
        if path.exists() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("{} never appeared", path.display());
}

#[test]
fn two_runs_into_one_folder_cannot_both_succeed() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let mut first = Command::new(env!("CARGO_BIN_EXE_archsim"))
        .args(["run", "--out", "out"])
        .current_dir(d)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(&d.join(".out.archsim-lock"));
    let err = fails_plain(d, &["run", "--out", "out"]);
    assert!(err.contains("another archsim run"), "{err}");
    assert!(first.wait().unwrap().success());
    assert!(d.join("out/summary.json").exists());
    assert_eq!(names(d), ["out"], "no lock or staging folder left");
    // With --force, the folder is replaced whole.
    std::fs::write(d.join("out/stray.txt"), "old").unwrap();
    let out = archsim_in(d, &["run", "--out", "out", "--force", "--no-onset"]);
    assert!(out.status.success());
    assert!(!d.join("out/stray.txt").exists() && d.join("out/report.html").exists());
}

#[cfg(unix)]
#[test]
fn an_interrupted_run_leaves_the_old_folder() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    std::fs::create_dir(d.join("out")).unwrap();
    std::fs::write(d.join("out/old.txt"), "old").unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_archsim"))
        .args(["run", "--out", "out", "--force"])
        .current_dir(d)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(&d.join(".out.archsim-lock"));
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait_with_output().unwrap().status;
    assert!(!status.success());
    assert_eq!(names(d), ["out"], "no lock or staging folder left");
    assert_eq!(names(&d.join("out")), ["old.txt"]);
}
