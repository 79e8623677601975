//! Replications, shards and merge through the real binary: every shard a separate
//! process, the merge byte for byte the run on one machine.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "support/cli.rs"]
mod cli;
use cli::files;

fn archsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_archsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("AWS_BATCH_JOB_ARRAY_INDEX")
        .output()
        .expect("the binary runs")
}

fn ok(args: &[&str]) -> Output {
    let o = archsim(args);
    assert!(
        o.status.success(),
        "archsim {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("archsim-scale-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs `args` whole into `dir/whole`, then as `shards` separate processes and a
/// merge into `dir/merged`; asserts the folders and the printouts are identical.
fn shards_merge_to_the_whole(dir: &Path, args: &[&str], shards: u32) {
    let whole = dir.join("whole");
    let mut a = args.to_vec();
    a.extend(["--out", whole.to_str().unwrap()]);
    let single = ok(&a);
    let mut parts = Vec::new();
    for i in 0..shards {
        let part = dir.join(format!("part-{i}.json"));
        let shard = format!("{i}/{shards}");
        let mut a = args.to_vec();
        a.extend(["--shard", &shard, "--out", part.to_str().unwrap()]);
        let o = ok(&a);
        assert!(o.stdout.is_empty(), "a shard prints no report");
        parts.push(part.to_str().unwrap().to_string());
    }
    // In another order than the shards ran.
    parts.reverse();
    let merged = dir.join("merged");
    let mut m = vec!["merge"];
    m.extend(parts.iter().map(String::as_str));
    m.extend(["--out", merged.to_str().unwrap()]);
    let o = ok(&m);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&single.stdout),
        "the merge prints what the single run prints"
    );
    let (w, g) = (files(&whole), files(&merged));
    assert!(!w.is_empty());
    assert_eq!(
        w.iter().map(|f| &f.0).collect::<Vec<_>>(),
        g.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    for ((name, a), (_, b)) in w.iter().zip(&g) {
        assert!(
            a == b,
            "{name} differs between the merge and the single run"
        );
    }
}

const SWEEP: [&str; 8] = [
    "sweep",
    "scenarios/low-traffic.toml",
    "--vary",
    "workload.streams=1..40:log:5",
    "--layouts",
    "distributed,monolith",
    "--duration",
    "2h",
];

#[test]
fn sharded_sweep_merges_to_the_bytes_of_the_whole_sweep() {
    let d = temp_dir("sweep");
    shards_merge_to_the_whole(&d.join("three"), &SWEEP, 3);
    // More shards than units: some shards run none.
    shards_merge_to_the_whole(&d.join("seven"), &SWEEP, 7);
}

#[test]
fn sharded_replications_merge_to_the_bytes_of_the_whole_run() {
    let d = temp_dir("run");
    let run = [
        "run",
        "scenarios/low-traffic.toml",
        "--replications",
        "4",
        "--no-onset",
    ];
    shards_merge_to_the_whole(&d, &run, 3);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("merged/summary.json")).unwrap()).unwrap();
    let e = &json["layouts"][0]["replicated"]["usd_per_stream_hour"];
    assert_eq!(e["n"], 4);
    let (lo, mean, hi) = (
        e["ci95"][0].as_f64().unwrap(),
        e["mean"].as_f64().unwrap(),
        e["ci95"][1].as_f64().unwrap(),
    );
    assert!(lo < mean && mean < hi, "{e}");
}

#[test]
fn sharded_sensitivity_with_replications_merges_to_the_whole() {
    let d = temp_dir("sensitivity");
    let sens = [
        "sensitivity",
        "scenarios/low-traffic.toml",
        "--replications",
        "2",
    ];
    shards_merge_to_the_whole(&d, &sens, 2);
    let csv = std::fs::read_to_string(d.join("merged/sensitivity.csv")).unwrap();
    assert!(
        csv.lines().next().unwrap().ends_with("replications"),
        "{csv}"
    );
}

fn shard(dir: &Path, tag: &str, args: &[&str], i: u32, n: u32) -> String {
    let part = dir.join(format!("{tag}-{i}.json"));
    let s = format!("{i}/{n}");
    let mut a = args.to_vec();
    a.extend(["--shard", &s, "--out", part.to_str().unwrap()]);
    ok(&a);
    part.to_str().unwrap().to_string()
}

fn refused(args: &[&str], words: &str) {
    let o = archsim(args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{}: {err}", args.join(" "));
    assert!(err.contains(words), "`{words}` not in: {err}");
}

#[test]
fn merge_refuses_mismatched_incomplete_and_repeated_parts() {
    let d = temp_dir("refuse");
    let a0 = shard(&d, "a", &SWEEP, 0, 2);
    let a1 = shard(&d, "a", &SWEEP, 1, 2);
    let mut other = SWEEP.to_vec();
    other[3] = "workload.streams=1..40:log:4";
    other.push("--allow-large");
    let b1 = shard(&d, "b", &other, 1, 2);
    refused(&["merge", &a0, &b1], "other inputs");
    refused(&["merge", &a0], "shard 1/2 missing");
    refused(&["merge", &a0, &a1, &a1], "also in");
    let bad = d.join("bad.json");
    std::fs::write(&bad, "{\"format\": 3,\n  oops").unwrap();
    refused(&["merge", &a0, bad.to_str().unwrap()], "bad.json:");

    // The scenario changed between the shards and the merge.
    let scen = d.join("s.toml");
    std::fs::copy("scenarios/low-traffic.toml", &scen).unwrap();
    let mut moved = SWEEP.to_vec();
    moved[1] = scen.to_str().unwrap();
    let c0 = shard(&d, "c", &moved, 0, 2);
    let c1 = shard(&d, "c", &moved, 1, 2);
    let text = std::fs::read_to_string(&scen).unwrap();
    std::fs::write(&scen, text.replace("seed = 11", "seed = 12")).unwrap();
    refused(&["merge", &c0, &c1], "other inputs than those here now");

    // Flags that cannot go together.
    let p = d.join("p.json");
    let p = p.to_str().unwrap();
    refused(
        &[
            "run",
            "scenarios/low-traffic.toml",
            "--precision",
            "1%",
            "--shard",
            "0/2",
            "--out",
            p,
        ],
        "--precision",
    );
    refused(
        &[
            "run",
            "scenarios/low-traffic.toml",
            "--shard",
            "2/2",
            "--out",
            p,
        ],
        "--shard",
    );
    refused(
        &["run", "scenarios/low-traffic.toml", "--shard", "0/2"],
        "needs --out",
    );
    refused(
        &["run", "scenarios/low-traffic.toml", "--replications", "1"],
        "--replications",
    );
}

#[test]
fn shard_auto_reads_the_job_array_index() {
    let d = temp_dir("auto");
    let part = d.join("p.json");
    let mut a: Vec<&str> = SWEEP.to_vec();
    a.extend(["--shard", "auto", "--out", part.to_str().unwrap()]);
    let o = Command::new(env!("CARGO_BIN_EXE_archsim"))
        .args(&a)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("SLURM_ARRAY_TASK_ID", "1")
        .env("SLURM_ARRAY_TASK_COUNT", "3")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&part).unwrap()).unwrap();
    assert_eq!(json["shard"]["index"], 1);
    assert_eq!(json["shard"]["count"], 3);
    let units: Vec<u64> = json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[0].as_u64().unwrap())
        .collect();
    assert_eq!(units, [1, 4]);
}

#[test]
fn replications_print_plus_minus_and_precision_adds_them() {
    let o = ok(&[
        "run",
        "scenarios/low-traffic.toml",
        "--no-onset",
        "--replications",
        "3",
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("± ") && text.contains("Replications: 3"),
        "{text}"
    );
    let plain = ok(&["run", "scenarios/low-traffic.toml", "--no-onset"]);
    assert!(!String::from_utf8_lossy(&plain.stdout).contains('±'));

    let o = ok(&[
        "run",
        "scenarios/low-traffic.toml",
        "--no-onset",
        "--precision",
        "0.05%",
        "--max-replications",
        "12",
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for l in json["layouts"].as_array().unwrap() {
        let e = &l["replicated"]["monthly_usd"];
        let n = e["n"].as_u64().unwrap();
        let half = (e["ci95"][1].as_f64().unwrap() - e["ci95"][0].as_f64().unwrap()) / 2.0;
        let mean = e["mean"].as_f64().unwrap();
        assert!((3..=12).contains(&n), "{e}");
        assert!(half <= 0.0005 * mean.abs() + 1e-12 || n == 12, "{e}");
    }
}
