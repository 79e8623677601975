//! The shipped cluster files' own commands, run here as their engines would run them:
//! the shell line of each shard task with the engine's index variable set, one
//! process per index, then the merge line; the merged folder must equal the sweep
//! run on one machine byte for byte. What is swapped: the sweep (a small one for the
//! shipped Prime Video sweep) and the shared volume `/parts` (a temporary folder).
//! The engines themselves are not here (`deploy/slurm/test-local.sh` brings up a
//! real Slurm); this pins that the files' command lines work with this archsim.

use std::path::{Path, PathBuf};

use std::process::Command;
use tempfile::TempDir;

#[path = "support/cli.rs"]
mod cli;
use cli::files;

/// The shipped sweep in the cluster files, and the small one run in its place.
const SHIPPED: &str = "scenarios/prime-video.toml --vary workload.streams=100..10000:log:24";
const SMALL: &str =
    "scenarios/low-traffic.toml --vary workload.streams=1..40:log:3 --layouts distributed,monolith";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `sh -c script args...` in the repository with `archsim` on the PATH and the
/// engines' index variables cleared but for `env`.
fn sh(script: &str, args: &[&str], env: &[(&str, String)]) {
    let bin = Path::new(env!("CARGO_BIN_EXE_archsim")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(script)
        .args(args)
        .current_dir(repo())
        .env("PATH", path)
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("AWS_BATCH_JOB_ARRAY_INDEX");
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().expect("sh runs");
    assert!(
        o.status.success(),
        "sh -c {script:?} {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The small sweep on one machine, in `dir/local`.
fn local_sweep(dir: &Path) -> PathBuf {
    let out = dir.join("local");
    sh(
        &format!("archsim sweep {SMALL} --out {}", out.display()),
        &[],
        &[],
    );
    out
}

/// A cluster file's shell line with the small sweep and `parts` for `/parts`.
fn adapt(line: &str, parts: &Path) -> String {
    assert!(
        line.contains("/parts"),
        "the line writes to the shared volume: {line}"
    );
    line.replace(SHIPPED, SMALL)
        .replace("/parts", &parts.display().to_string())
}

/// The Kubernetes Indexed Job: its folded `args` line per index (`$JOB_COMPLETION_INDEX`
/// from 0 to `completions` − 1), then the merge Job's line.
#[test]
fn the_kubernetes_jobs_commands_merge_to_the_local_sweep() {
    let job = std::fs::read_to_string(repo().join("deploy/k8s/sweep-job.yaml")).unwrap();
    let merge = std::fs::read_to_string(repo().join("deploy/k8s/merge-job.yaml")).unwrap();
    // The one folded scalar (`- >-`) under `args:` is the shard's shell line.
    let folded: Vec<&str> = job
        .lines()
        .skip_while(|l| l.trim() != "- >-")
        .skip(1)
        .take_while(|l| l.starts_with("              "))
        .map(str::trim)
        .collect();
    assert!(!folded.is_empty(), "a folded args line in sweep-job.yaml");
    let shard_line = folded.join(" ");
    assert!(shard_line.contains(SHIPPED), "{shard_line}");
    let completions: u32 = job
        .lines()
        .find_map(|l| l.trim().strip_prefix("completions:"))
        .expect("completions")
        .trim()
        .parse()
        .unwrap();
    assert!(
        shard_line.contains(&format!("--shards {completions}")),
        "--shards equals completions: {shard_line}"
    );
    let merge_line = merge
        .lines()
        .find_map(|l| l.trim().strip_prefix("args: [\""))
        .and_then(|l| l.strip_suffix("\"]"))
        .expect("the merge Job's args line");

    let dir = TempDir::new().unwrap();
    let parts = dir.path().join("parts");
    std::fs::create_dir_all(&parts).unwrap();
    for i in 0..completions {
        sh(
            &adapt(&shard_line, &parts),
            &[],
            &[("JOB_COMPLETION_INDEX", i.to_string())],
        );
    }
    sh(&adapt(merge_line, &parts), &[], &[]);
    assert_eq!(
        files(&parts.join("result")),
        files(&local_sweep(dir.path()))
    );
}

/// The AWS Batch array job: the job definition's command as the container runs it
/// (`Ref::` parameters substituted, `$AWS_BATCH_JOB_ARRAY_INDEX` from 0 to `SHARDS`
/// − 1), then the merge job definition's command.
#[test]
fn the_aws_batch_job_definitions_commands_merge_to_the_local_sweep() {
    let read = |f: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(repo().join(f)).unwrap()).unwrap()
    };
    let job = read("deploy/aws-batch/job-definition.json");
    let merge = read("deploy/aws-batch/merge-job-definition.json");
    let params = &job["parameters"];
    let command: Vec<&str> = job["containerProperties"]["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(&command[..2], ["sh", "-c"]);
    // `sh -c script $0 $@`: the `Ref::` parameters become the script's arguments,
    // the shipped sweep among them, swapped for the small one like the other lines'.
    let argv = command[3..]
        .iter()
        .map(|a| match a.strip_prefix("Ref::") {
            Some(name) => params[name].as_str().unwrap(),
            None => a,
        })
        .collect::<Vec<_>>()
        .join(" ");
    assert_eq!(argv, format!("archsim sweep {SHIPPED}"));
    let argv = argv.replace(SHIPPED, SMALL);
    let args: Vec<&str> = argv.split(' ').collect();
    let shards: u32 = job["containerProperties"]["environment"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "SHARDS")
        .and_then(|e| e["value"].as_str())
        .unwrap()
        .parse()
        .unwrap();

    let dir = TempDir::new().unwrap();
    let parts = dir.path().join("parts");
    std::fs::create_dir_all(&parts).unwrap();
    for i in 0..shards {
        sh(
            &adapt(command[2], &parts),
            &args,
            &[
                ("AWS_BATCH_JOB_ARRAY_INDEX", i.to_string()),
                ("SHARDS", shards.to_string()),
            ],
        );
    }
    let merge_cmd = merge["containerProperties"]["command"].as_array().unwrap();
    assert_eq!(merge_cmd[0], "sh");
    sh(&adapt(merge_cmd[2].as_str().unwrap(), &parts), &[], &[]);
    assert_eq!(
        files(&parts.join("result")),
        files(&local_sweep(dir.path()))
    );
}
