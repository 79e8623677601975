//! Work split across machines. A sweep, a sensitivity analysis or a set of
//! replications is a list of independent work units; `--shard I/N` runs units I,
//! I+N, I+2N, … and writes their results to a part file; `archsim merge` checks that
//! the parts come from the same inputs and cover every unit once, and hands the
//! results back in unit order, so the merged output is the single-machine output.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::error::{Error, InputError, Result};

/// The `format` of a part file.
pub const PART_FORMAT: &str = "archsim-part/1";

/// Environment variables that give a job-array task its index, in the order they are
/// tried: Kubernetes Indexed Job, Slurm job array, AWS Batch array job.
pub const INDEX_VARS: [&str; 3] = [
    "JOB_COMPLETION_INDEX",
    "SLURM_ARRAY_TASK_ID",
    "AWS_BATCH_JOB_ARRAY_INDEX",
];

/// The variable that gives the task count (Slurm only: Kubernetes and AWS Batch do
/// not export theirs, so `--shards N` says it).
pub const COUNT_VAR: &str = "SLURM_ARRAY_TASK_COUNT";

/// One machine's share of the units: index `index` (0-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// Parses `--shard I/N` or `--shard auto` (index from a job-array variable,
    /// count from `shards` or [`COUNT_VAR`]); `env` reads a variable.
    pub fn parse(
        text: &str,
        shards: Option<u32>,
        env: impl Fn(&str) -> Option<String>,
    ) -> std::result::Result<Shard, InputError> {
        let bad = |m: String| InputError::at_span("--shard", text, 0..text.len(), m);
        let (index, count) = if text.trim() == "auto" {
            let (var, value) = INDEX_VARS
                .iter()
                .find_map(|v| env(v).map(|x| (*v, x)))
                .ok_or_else(|| {
                    InputError::new(
                        "--shard",
                        format!(
                            "`auto` takes the index from {}, and none is set: run it as a job-array task, or give --shard I/N",
                            INDEX_VARS.join(", ")
                        ),
                    )
                })?;
            let index = value.trim().parse::<u32>().map_err(|_| {
                InputError::new(
                    var,
                    format!("expected a task index (0, 1, 2, …), got `{value}`"),
                )
            })?;
            let count = match shards {
                Some(n) => n,
                None => {
                    let v = env(COUNT_VAR).ok_or_else(|| {
                        InputError::new(
                            "--shards",
                            format!("`--shard auto` from {var} needs the task count: give --shards N (the array's size)"),
                        )
                    })?;
                    v.trim().parse::<u32>().map_err(|_| {
                        InputError::new(COUNT_VAR, format!("expected a task count, got `{v}`"))
                    })?
                }
            };
            (index, count)
        } else {
            if shards.is_some() {
                return Err(InputError::new(
                    "--shards",
                    "goes with --shard auto; --shard I/N already says the count",
                ));
            }
            let (i, n) = text
                .split_once('/')
                .ok_or_else(|| bad(format!("expected I/N (e.g. 0/4) or auto, got `{text}`")))?;
            let num = |t: &str| t.trim().parse::<u32>().ok();
            match (num(i), num(n)) {
                (Some(i), Some(n)) => (i, n),
                _ => {
                    return Err(bad(format!(
                        "expected I/N with whole numbers (e.g. 0/4), got `{text}`"
                    )))
                }
            }
        };
        if count == 0 || index >= count {
            return Err(InputError::new(
                "--shard",
                format!(
                    "index {index} of {count} shards: the index goes from 0 to the count less one"
                ),
            ));
        }
        Ok(Shard { index, count })
    }

    /// The units of `total` this shard runs, in order.
    pub fn units(&self, total: usize) -> impl Iterator<Item = usize> {
        (self.index as usize..total).step_by(self.count as usize)
    }
}

/// The command line of a sharded run without the flags that differ between shards
/// (`--shard`, `--shards`) or name where results go (`--out`, `--force`): the same for
/// every part of one job, and what `merge` replays.
pub fn canonical_args(args: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--shard" | "--shards" | "--out" => {
                it.next();
            }
            "--force" => {}
            s if ["--shard=", "--shards=", "--out="]
                .iter()
                .any(|p| s.starts_with(p)) => {}
            _ => out.push(a.clone()),
        }
    }
    out
}

/// SHA-256 (hex) of what a run's results depend on: archsim's version, the command
/// line (canonical), and each input's text or resolved form, each with its length so
/// no two lists run together.
pub fn fingerprint(args: &[String], inputs: &[&str]) -> String {
    let mut h = Sha256::new();
    let mut put = |s: &str| {
        h.update((s.len() as u64).to_le_bytes());
        h.update(s.as_bytes());
    };
    put(env!("CARGO_PKG_VERSION"));
    for a in args {
        put(a);
    }
    put("--inputs--");
    for i in inputs {
        put(i);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// [`fingerprint`] of a scenario run: the command line, the scenario's text, its
/// resolved catalog and pipeline (stage work and calibration files read), and the
/// calibration (`flag` or the scenario's). A calibration measured now would differ
/// from machine to machine, so it is refused.
pub fn scenario_fingerprint(
    args: &[String],
    r: &crate::scenario::Resolved,
    flag: Option<&str>,
    dir: Option<&Path>,
) -> Result<String> {
    if flag.unwrap_or(&r.scenario.calibration) == "measure" {
        return Err(InputError::new(
            "--shard",
            "calibration `measure` gives every machine its own figures: measure once (archsim kernels bench --out cal.toml) and run every shard with --calibration cal.toml",
        )
        .into());
    }
    let (cal, _) = crate::run::scenario_calibration(r, flag, dir)?;
    let catalog = json(&r.catalog)?;
    let calibration = json(&cal)?;
    let pipeline = format!("{:?}", r.pipeline);
    Ok(fingerprint(
        args,
        &[&r.text, &catalog, &calibration, &pipeline],
    ))
}

fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::Other(format!("hashing the inputs: {e}")))
}

/// What one shard ran: enough to check it against the others and replay the command.
#[derive(Debug, Serialize, Deserialize)]
pub struct Part<R> {
    pub format: String,
    /// archsim's version.
    pub archsim: String,
    /// The canonical command line ([`canonical_args`]).
    pub args: Vec<String>,
    /// [`fingerprint`] of the inputs.
    pub inputs_sha256: String,
    /// Units in the whole job.
    pub units: usize,
    pub shard: Shard,
    /// (unit index, its result), in unit order.
    pub results: Vec<(usize, R)>,
}

impl<R: Serialize> Part<R> {
    /// The part of `shard` with `results`.
    pub fn new(
        args: Vec<String>,
        inputs_sha256: String,
        units: usize,
        shard: Shard,
        results: Vec<(usize, R)>,
    ) -> Self {
        Part {
            format: PART_FORMAT.into(),
            archsim: env!("CARGO_PKG_VERSION").into(),
            args,
            inputs_sha256,
            units,
            shard,
            results,
        }
    }

    /// Writes the part (JSON) atomically to `path`; an existing file needs `force`.
    pub fn write(&self, path: &Path, force: bool) -> Result<()> {
        if path.exists() && !force {
            return Err(InputError::new(
                path.display().to_string(),
                "exists: pass --force to replace the part, or choose another --out",
            )
            .into());
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        let mut bytes =
            serde_json::to_vec(self).map_err(|e| Error::Other(format!("writing a part: {e}")))?;
        bytes.push(b'\n');
        crate::report::output::write_atomic(path, &bytes)
    }
}

/// Parts read back and checked: every unit's result, in unit order, as JSON to be
/// read by the command that made them.
#[derive(Debug)]
pub struct Merged {
    pub args: Vec<String>,
    pub inputs_sha256: String,
    pub results: Vec<Box<RawValue>>,
}

impl Merged {
    /// The results as the command's type.
    pub fn results<R: DeserializeOwned>(&self) -> Result<Vec<R>> {
        self.results
            .iter()
            .enumerate()
            .map(|(u, raw)| {
                serde_json::from_str(raw.get()).map_err(|e| {
                    Error::from(InputError::new(
                        "merge",
                        format!("unit {u}: not a result of this command ({e}): were the parts made by this command line?"),
                    ))
                })
            })
            .collect()
    }

    /// Checks that the inputs now (`inputs_sha256`, from the replayed command) are
    /// the ones the parts were made from.
    pub fn check_inputs(&self, inputs_sha256: &str) -> Result<()> {
        if inputs_sha256 == self.inputs_sha256 {
            return Ok(());
        }
        Err(InputError::new(
            "merge",
            "the parts were made from other inputs than those here now (scenario, calibration, catalog or archsim version changed since): run the shards again",
        )
        .into())
    }
}

/// Reads part files and checks them: one format and archsim version, one command
/// line and inputs, one unit count and shard count, every shard exactly once, each
/// with exactly its units. Errors name the file.
pub fn read_parts(paths: &[&Path]) -> Result<Merged> {
    if paths.is_empty() {
        return Err(InputError::new("merge", "name the part files to merge").into());
    }
    let mut parts: Vec<(String, Part<Box<RawValue>>)> = Vec::new();
    for p in paths {
        let name = p.display().to_string();
        let text = crate::error::read_text(p)?;
        let part: Part<Box<RawValue>> = serde_json::from_str(&text).map_err(|e| {
            let msg = format!("not an archsim part file: {e}");
            let (line, col) = (e.line(), e.column());
            if line > 0 {
                let offset = text
                    .split_inclusive('\n')
                    .take(line - 1)
                    .map(str::len)
                    .sum::<usize>()
                    + col.saturating_sub(1);
                InputError::at_span(&name, &text, offset..offset, msg)
            } else {
                InputError::new(&name, msg)
            }
        })?;
        if part.format != PART_FORMAT {
            return Err(InputError::new(
                &name,
                format!("format `{}`, expected `{PART_FORMAT}`", part.format),
            )
            .into());
        }
        if part.archsim != env!("CARGO_PKG_VERSION") {
            return Err(InputError::new(
                &name,
                format!(
                    "made by archsim {}, this is {}: merge with the version that made the parts",
                    part.archsim,
                    env!("CARGO_PKG_VERSION")
                ),
            )
            .into());
        }
        parts.push((name, part));
    }
    let (first_name, first) = &parts[0];
    let mut by_index: Vec<Option<&str>> = vec![None; first.shard.count as usize];
    for (name, p) in &parts {
        let same = p.args == first.args && p.inputs_sha256 == first.inputs_sha256;
        if !same {
            return Err(InputError::new(
                name,
                format!(
                    "made from other inputs than {first_name} (command line `{}` against `{}`, or a scenario, calibration or catalog that differs): parts of one job only",
                    p.args.join(" "),
                    first.args.join(" ")
                ),
            )
            .into());
        }
        if p.units != first.units || p.shard.count != first.shard.count {
            return Err(InputError::new(
                name,
                format!(
                    "shard {}/{} of {} units, but {first_name} is of {} shards and {} units",
                    p.shard.index, p.shard.count, p.units, first.shard.count, first.units
                ),
            )
            .into());
        }
        let slot = &mut by_index[p.shard.index as usize];
        if let Some(other) = slot {
            return Err(InputError::new(
                name,
                format!(
                    "shard {}/{} is also in {other}: give each shard once",
                    p.shard.index, p.shard.count
                ),
            )
            .into());
        }
        *slot = Some(name);
        let want: Vec<usize> = p.shard.units(p.units).collect();
        let got: Vec<usize> = p.results.iter().map(|(u, _)| *u).collect();
        if want != got {
            return Err(InputError::new(
                name,
                format!("shard {}/{} should hold units {want:?} but holds {got:?}: the file was changed or cut short", p.shard.index, p.shard.count),
            )
            .into());
        }
    }
    let missing: Vec<String> = by_index
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_none())
        .map(|(i, _)| format!("{i}/{}", first.shard.count))
        .collect();
    if !missing.is_empty() {
        return Err(InputError::new(
            "merge",
            format!(
                "incomplete set: shard {} missing (have {} of {})",
                missing.join(", "),
                parts.len(),
                first.shard.count
            ),
        )
        .into());
    }
    let args = first.args.clone();
    let inputs_sha256 = first.inputs_sha256.clone();
    let total = first.units;
    let mut results: Vec<Option<Box<RawValue>>> = (0..total).map(|_| None).collect();
    for (_, p) in parts {
        for (u, r) in p.results {
            results[u] = Some(r);
        }
    }
    Ok(Merged {
        args,
        inputs_sha256,
        results: results
            .into_iter()
            .map(|r| r.expect("every unit checked above"))
            .collect(),
    })
}

/// `value` written as a part carries it and read back: results computed here go the
/// same way as merged ones, so both give the same bytes.
pub fn through_part<R: Serialize + DeserializeOwned>(value: &R) -> Result<R> {
    let text =
        serde_json::to_string(value).map_err(|e| Error::Other(format!("writing a result: {e}")))?;
    serde_json::from_str(&text).map_err(|e| Error::Other(format!("reading a result back: {e}")))
}

/// Where a command's unit results come from.
pub enum Work {
    /// Run every unit here.
    All,
    /// Run this shard's units and write them to a part file.
    Shard {
        shard: Shard,
        args: Vec<String>,
        out: std::path::PathBuf,
        force: bool,
    },
    /// Read them from checked parts.
    Merged(Merged),
}

impl Work {
    /// Whether results are written to a part instead of reported.
    pub fn is_shard(&self) -> bool {
        matches!(self, Work::Shard { .. })
    }
}

/// Runs this shard's units of `total` (in parallel, results in unit order) and
/// writes the part; `inputs_sha256` is the [`fingerprint`] of the inputs.
#[allow(clippy::too_many_arguments)]
pub fn run_part<R, F>(
    shard: Shard,
    args: &[String],
    out: &Path,
    force: bool,
    inputs_sha256: String,
    total: usize,
    label: &str,
    run: F,
) -> Result<usize>
where
    R: Serialize + Send,
    F: Fn(usize) -> Result<R> + Sync + Send,
{
    let mine: Vec<usize> = shard.units(total).collect();
    let results = crate::sweep::run_units(&mine, label, |&u| run(u));
    let results = mine
        .iter()
        .zip(results)
        .map(|(u, r)| r.map(|r| (*u, r)))
        .collect::<Result<Vec<_>>>()?;
    let n = results.len();
    Part::new(args.to_vec(), inputs_sha256, total, shard, results).write(out, force)?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn shards_from_flags_and_job_arrays() {
        let none = env_of(&[]);
        assert_eq!(
            Shard::parse("1/4", None, &none).unwrap(),
            Shard { index: 1, count: 4 }
        );
        let s = Shard::parse("2/3", None, &none).unwrap();
        assert_eq!(s.units(10).collect::<Vec<_>>(), [2, 5, 8]);
        assert_eq!(
            Shard::parse(
                "auto",
                None,
                env_of(&[
                    ("SLURM_ARRAY_TASK_ID", "3"),
                    ("SLURM_ARRAY_TASK_COUNT", "8")
                ])
            )
            .unwrap(),
            Shard { index: 3, count: 8 }
        );
        assert_eq!(
            Shard::parse("auto", Some(5), env_of(&[("JOB_COMPLETION_INDEX", "4")])).unwrap(),
            Shard { index: 4, count: 5 }
        );
        assert_eq!(
            Shard::parse(
                "auto",
                Some(2),
                env_of(&[("AWS_BATCH_JOB_ARRAY_INDEX", "0")])
            )
            .unwrap(),
            Shard { index: 0, count: 2 }
        );
        for (text, shards, vars, flag) in [
            ("4/4", None, vec![], "--shard"),
            ("x/4", None, vec![], "--shard"),
            ("3", None, vec![], "--shard"),
            ("1/4", Some(4), vec![], "--shards"),
            ("auto", None, vec![], "--shard"),
            (
                "auto",
                None,
                vec![("JOB_COMPLETION_INDEX", "1")],
                "--shards",
            ),
            (
                "auto",
                Some(4),
                vec![("AWS_BATCH_JOB_ARRAY_INDEX", "one")],
                "AWS_BATCH_JOB_ARRAY_INDEX",
            ),
            (
                "auto",
                Some(4),
                vec![("JOB_COMPLETION_INDEX", "9")],
                "--shard",
            ),
        ] {
            let e = Shard::parse(text, shards, env_of(&vars)).unwrap_err();
            assert_eq!(e.file, flag, "{text}: {e}");
        }
    }

    #[test]
    fn canonical_args_drop_what_differs_between_shards() {
        let a: Vec<String> = [
            "sweep",
            "s.toml",
            "--shard",
            "1/4",
            "--vary",
            "x=1,2",
            "--out=p1.json",
            "--force",
            "--shards",
            "4",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(canonical_args(&a), ["sweep", "s.toml", "--vary", "x=1,2"]);
    }

    #[test]
    fn fingerprint_changes_with_any_input() {
        let args = vec!["run".to_string()];
        let f = fingerprint(&args, &["a", "b"]);
        assert_eq!(f.len(), 64);
        assert_eq!(f, fingerprint(&args, &["a", "b"]));
        assert_ne!(f, fingerprint(&args, &["ab", ""]));
        assert_ne!(f, fingerprint(&["sweep".to_string()], &["a", "b"]));
    }

    fn write_parts(dir: &Path, count: u32, units: usize, hash: &str) -> Vec<std::path::PathBuf> {
        (0..count)
            .map(|i| {
                let shard = Shard { index: i, count };
                let results: Vec<(usize, f64)> =
                    shard.units(units).map(|u| (u, u as f64 * 1.5)).collect();
                let p = dir.join(format!("part-{i}.json"));
                Part::new(vec!["run".into()], hash.into(), units, shard, results)
                    .write(&p, false)
                    .unwrap();
                p
            })
            .collect()
    }

    #[test]
    fn merge_puts_units_in_order_and_refuses_bad_sets() {
        let t = tempfile::tempdir().unwrap();
        let paths = write_parts(t.path(), 3, 7, "h");
        let refs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
        let m = read_parts(&[refs[2], refs[0], refs[1]]).unwrap();
        assert_eq!(
            m.results::<f64>().unwrap(),
            (0..7).map(|u| u as f64 * 1.5).collect::<Vec<_>>()
        );
        assert!(m.check_inputs("h").is_ok() && m.check_inputs("other").is_err());

        let msg = |r: Result<Merged>| r.unwrap_err().to_string();
        assert!(msg(read_parts(&refs[..2])).contains("shard 2/3 missing"));
        assert!(msg(read_parts(&[refs[0], refs[1], refs[1]])).contains("also in"));
        let other = tempfile::tempdir().unwrap();
        let foreign = write_parts(other.path(), 3, 7, "another");
        assert!(msg(read_parts(&[refs[0], refs[1], &foreign[2]])).contains("other inputs"));
        let third = tempfile::tempdir().unwrap();
        let four = write_parts(third.path(), 4, 7, "h");
        assert!(msg(read_parts(&[refs[0], refs[1], &four[2]])).contains("shards"));
        // A part cut short names its file, line and column.
        let text = std::fs::read_to_string(refs[0]).unwrap();
        std::fs::write(refs[0], &text[..text.len() / 2]).unwrap();
        let e = msg(read_parts(&refs));
        assert!(
            e.contains("part-0.json:1:") && e.contains("not an archsim part file"),
            "{e}"
        );
        // An existing part is not replaced without force.
        let again = Part::new(
            vec![],
            "h".into(),
            1,
            Shard { index: 0, count: 1 },
            vec![(0usize, 1.0)],
        );
        assert!(again.write(refs[1], false).is_err() && again.write(refs[1], true).is_ok());
    }
}
