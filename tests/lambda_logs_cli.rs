//! `archsim calibrate lambda-logs` end to end, through the built binary, and the
//! generator of the shipped example logs (`examples/logs/`).
//!
//! The example logs are synthetic but shaped like real ones: made by the seeded
//! generator below, never typed by hand. To rewrite them after changing it:
//! `ARCHSIM_REGENERATE_LOGS=1 cargo test --release --test lambda_logs_cli`, then run
//! the two `calibrate` commands of README's "Calibration from Lambda logs".

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, LogNormal};

fn archsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_archsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn temp_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("archsim-lambda-logs-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `archsim calibrate lambda-logs LOG --stage STAGE --out OUT [--force]`.
fn calibrate(log: &str, stage: &str, out: &Path, force: bool) -> Output {
    let out = out.to_str().unwrap();
    let mut args = vec![
        "calibrate",
        "lambda-logs",
        log,
        "--stage",
        stage,
        "--out",
        out,
    ];
    if force {
        args.push("--force");
    }
    archsim(&args)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

// ---------------------------------------------------------------------------------
// The generator of the example logs.

/// MB of memory per vCPU (the catalog's `mb_per_vcpu`): a CPU-bound single-threaded
/// function at `m` MB takes cpu / min(1, m / 1769) of wall time.
const MB_PER_VCPU: f64 = 1769.0;

fn uuid(rng: &mut ChaCha8Rng) -> String {
    let b: [u8; 16] = rng.random();
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-4{}-8{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// `2026-11-30T08:00:00.000Z` plus `ms` milliseconds (within the day).
fn stamp(ms: u64) -> String {
    let (h, m, s, f) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    format!("2026-11-30T{:02}:{m:02}:{s:02}.{f:03}Z", 8 + h)
}

/// Wall milliseconds of `cpu_ms` of CPU work at `memory_mb`.
fn wall_ms(cpu_ms: f64, memory_mb: u32) -> f64 {
    cpu_ms / (f64::from(memory_mb) / MB_PER_VCPU).min(1.0)
}

/// An image-thumbnail function's log as `aws logs tail` prints it (timestamp and log
/// stream before each line): 400 invocations, memory raised from 512 to 1024 MB
/// after 250 (a new environment then, so a cold start), CPU time lognormal
/// (median 180 ms, sigma 0.35), about 1% cold starts with Init lognormal (median
/// 250 ms, sigma 0.3), two app lines per invocation.
fn thumbnail_log() -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(20261130);
    let cpu = LogNormal::new(180f64.ln(), 0.35).unwrap();
    let init = LogNormal::new(250f64.ln(), 0.3).unwrap();
    let gap = Exp::new(1.0 / 90_000.0).unwrap(); // ms between uploads
    let mut out = String::new();
    let mut t = 0u64;
    let mut stream = String::new();
    for i in 0..400 {
        let memory: u32 = if i < 250 { 512 } else { 1024 };
        let cold = i == 0 || i == 250 || rng.random::<f64>() < 0.005;
        if cold {
            let env: [u8; 16] = rng.random();
            stream = format!(
                "2026/11/30/[$LATEST]{}",
                env.iter().map(|x| format!("{x:02x}")).collect::<String>()
            );
        }
        let line = |out: &mut String, at: u64, text: &str| {
            let _ = writeln!(
                out,
                "{} {stream} {text}",
                stamp(at).replace('Z', "000+00:00")
            );
        };
        let id = uuid(&mut rng);
        let init_ms = cold.then(|| init.sample(&mut rng));
        if let Some(ms) = init_ms {
            line(&mut out, t, "INIT_START Runtime Version: python:3.12.v40\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:6ee5c8a1d3b4f7a2c9e0b1d2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2");
            t += ms as u64;
        }
        let duration = wall_ms(cpu.sample(&mut rng), memory);
        let photo = rng.random_range(1000..9999);
        let (w, h) = if rng.random::<f64>() < 0.7 {
            (4032, 3024)
        } else {
            (3024, 4032)
        };
        let kb = rng.random_range(12.0..31.0f64);
        line(
            &mut out,
            t,
            &format!("START RequestId: {id} Version: $LATEST"),
        );
        line(
            &mut out,
            t + 2,
            &format!(
                "[INFO]\t{}\t{id}\tresizing uploads/IMG_{photo}.jpg {w}x{h}",
                stamp(t + 2)
            ),
        );
        let end = t + duration as u64;
        line(
            &mut out,
            end,
            &format!(
                "[INFO]\t{}\t{id}\twrote thumbnails/IMG_{photo}.jpg 256x{} ({kb:.1} KB)",
                stamp(end),
                256 * h / w
            ),
        );
        line(&mut out, end, &format!("END RequestId: {id}"));
        let billed = (duration + init_ms.unwrap_or(0.0)).ceil() as u64;
        let used = rng.random_range(140..190) + if memory > 512 { 12 } else { 0 };
        let mut report = format!(
            "REPORT RequestId: {id}\tDuration: {duration:.2} ms\tBilled Duration: {billed} ms\tMemory Size: {memory} MB\tMax Memory Used: {used} MB\t"
        );
        if let Some(ms) = init_ms {
            let _ = write!(report, "Init Duration: {ms:.2} ms\t");
        }
        line(&mut out, end, &report);
        t = end + gap.sample(&mut rng) as u64;
    }
    out
}

/// An image classifier in Lambda's JSON log format: 300 invocations at 2048 MB (more
/// than one vCPU, so CPU time = Duration), CPU time lognormal (median 850 ms, sigma
/// 0.25), about 1% cold starts loading the model (Init lognormal, median 1.8 s,
/// sigma 0.2); platform.initStart/start/runtimeDone/report records and the
/// function's own JSON log lines.
fn classify_log() -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(20261201);
    let cpu = LogNormal::new(850f64.ln(), 0.25).unwrap();
    let init = LogNormal::new(1800f64.ln(), 0.2).unwrap();
    let gap = Exp::new(1.0 / 120_000.0).unwrap();
    let labels = ["cat", "dog", "bicycle", "coffee mug", "rocket", "astronaut"];
    let memory = 2048;
    let mut out = String::new();
    let mut t = 0u64;
    for i in 0..300 {
        let cold = i == 0 || rng.random::<f64>() < 0.008;
        let id = uuid(&mut rng);
        let init_ms = cold.then(|| init.sample(&mut rng));
        if let Some(ms) = init_ms {
            let _ = writeln!(
                out,
                r#"{{"time":"{}","type":"platform.initStart","record":{{"initializationType":"on-demand","phase":"init","runtimeVersion":"python:3.12.v40","functionName":"classify","functionVersion":"$LATEST"}}}}"#,
                stamp(t)
            );
            t += ms as u64;
        }
        let duration = wall_ms(cpu.sample(&mut rng), memory);
        let photo = rng.random_range(1000..9999);
        let label = labels[rng.random_range(0..labels.len())];
        let score = rng.random_range(0.55..0.99f64);
        let end = t + duration as u64;
        let _ = writeln!(
            out,
            r#"{{"time":"{}","type":"platform.start","record":{{"requestId":"{id}","version":"$LATEST"}}}}"#,
            stamp(t)
        );
        let _ = writeln!(
            out,
            r#"{{"timestamp":"{}","level":"INFO","message":"classified uploads/IMG_{photo}.jpg: {label} ({score:.2})","logger":"root","requestId":"{id}"}}"#,
            stamp(end)
        );
        let _ = writeln!(
            out,
            r#"{{"time":"{}","type":"platform.runtimeDone","record":{{"requestId":"{id}","status":"success","metrics":{{"durationMs":{duration:.3},"producedBytes":0}}}}}}"#,
            stamp(end)
        );
        let billed = (duration + init_ms.unwrap_or(0.0)).ceil() as u64;
        let used = rng.random_range(610..680);
        let init_field =
            init_ms.map_or(String::new(), |ms| format!(r#","initDurationMs":{ms:.3}"#));
        let _ = writeln!(
            out,
            r#"{{"time":"{}","type":"platform.report","record":{{"requestId":"{id}","metrics":{{"durationMs":{duration:.3},"billedDurationMs":{billed},"memorySizeMB":{memory},"maxMemoryUsedMB":{used}{init_field}}},"status":"success"}}}}"#,
            stamp(end)
        );
        t = end + gap.sample(&mut rng) as u64;
    }
    out
}

#[test]
fn shipped_logs_are_what_the_generator_writes() {
    for (path, text) in [
        ("examples/logs/thumbnail-report.log", thumbnail_log()),
        ("examples/logs/classify-report.jsonl", classify_log()),
    ] {
        let file = repo(path);
        if std::env::var_os("ARCHSIM_REGENERATE_LOGS").is_some() {
            std::fs::write(&file, &text).unwrap();
        }
        let shipped = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            shipped == text,
            "{path} differs from its generator (see this file's header)"
        );
    }
}

#[test]
fn shipped_calibrations_are_what_the_command_writes() {
    let dir = temp_dir("shipped");
    for (log, stage, cal) in [
        (
            "examples/logs/thumbnail-report.log",
            "thumbnail",
            "examples/logs/thumbnail.cal.toml",
        ),
        (
            "examples/logs/classify-report.jsonl",
            "classify",
            "examples/logs/classify.cal.toml",
        ),
    ] {
        let out = dir.join(format!("{stage}.cal.toml"));
        let o = calibrate(log, stage, &out, true);
        assert!(o.status.success(), "{}", stderr(&o));
        let written = std::fs::read_to_string(&out).unwrap();
        let shipped = std::fs::read_to_string(repo(cal)).unwrap();
        assert!(
            written == shipped,
            "{cal} differs from what the command writes now"
        );
    }
}

#[test]
fn summarises_records_cold_starts_and_skipped_lines() {
    let dir = temp_dir("summary");
    let out = dir.join("t.cal.toml");
    let o = calibrate(
        "examples/logs/thumbnail-report.log",
        "thumbnail",
        &out,
        true,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("stage thumbnail: 400 REPORT records from 1 file(s); memory 512 MB x 250, 1024 MB x 150"), "{text}");
    // 400 START, 400 END, 800 app lines and one INIT_START per cold start.
    let cold: usize = text
        .lines()
        .find_map(|l| l.strip_prefix("cold starts: "))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("a cold-starts line");
    assert!((2..=12).contains(&cold), "{cold}");
    let skipped = format!(
        "skipped: {} other lines (END 400, INIT_START {cold}, START 400, app output 800)",
        1600 + cold
    );
    assert!(text.contains(&skipped), "{text}");
    for row in ["duration (logged)", "CPU time", "cold start (Init)"] {
        assert!(text.contains(row), "{text}");
    }
    // The CPU time does not depend on the memory the function ran at: the median
    // is the generator's 180 ms within sampling noise.
    let cal = archsim::kernels::StageCalibration::load(&out).unwrap();
    let p50 = cal.cpu.quantile(0.5) / 1e6;
    assert!((p50 / 180.0 - 1.0).abs() < 0.08, "{p50}");
    assert_eq!(cal.cold_start.len(), cold);
}

#[test]
fn refuses_to_overwrite_without_force() {
    let dir = temp_dir("force");
    let out = dir.join("x.cal.toml");
    std::fs::write(&out, "keep me").unwrap();
    let log = "examples/logs/classify-report.jsonl";
    let o = calibrate(log, "classify", &out, false);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("exists: pass --force"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "keep me");
    let o = calibrate(log, "classify", &out, true);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .starts_with("# Stage calibration of `classify`"));
    // No temporary file is left beside it.
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn a_malformed_report_exits_2_with_file_and_line() {
    let dir = temp_dir("malformed");
    let log = dir.join("bad.log");
    std::fs::write(
        &log,
        "START RequestId: a Version: $LATEST\nEND RequestId: a\nREPORT RequestId: a\tDuration: 12,5 ms\tBilled Duration: 13 ms\tMemory Size: 512 MB\tMax Memory Used: 80 MB\t\n",
    )
    .unwrap();
    let out = dir.join("bad.cal.toml");
    let o = calibrate(log.to_str().unwrap(), "s", &out, false);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let want = format!(
        "{}:3:31: Duration: expected a non-negative number of ms, got `12,5`",
        log.display()
    );
    assert!(stderr(&o).contains(&want), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"));
    assert!(!out.exists());

    std::fs::write(&log, "START RequestId: a\nhello\n").unwrap();
    let o = calibrate(log.to_str().unwrap(), "s", &out, false);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no Lambda REPORT records found (2 other lines skipped)"),
        "{}",
        stderr(&o)
    );

    let o = calibrate("no/such.log", "s", &out, false);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no/such.log: cannot read file"),
        "{}",
        stderr(&o)
    );
}
