//! A stage calibration: one pipeline stage's CPU time per item and its cold starts,
//! measured from real Lambda REPORT records (`archsim calibrate lambda-logs`), saved
//! as TOML. A scenario names it as the stage's work (`"empirical(stage.cal.toml)"`).

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use rand::Rng;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::lambda_logs::{LogScan, VcpuRule};
use crate::error::{read_text, InputError, Result};
use crate::sim::{round_u64, Time};

/// Sorted samples in nanoseconds, drawn by quantile with linear interpolation
/// between neighbours (the sample quantile of the measured data).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Empirical {
    sorted: Vec<Time>,
    mean: f64,
}

impl Empirical {
    pub fn new(mut samples: Vec<Time>) -> Empirical {
        samples.sort_unstable();
        let mean = samples.iter().map(|&x| x as f64).sum::<f64>() / samples.len().max(1) as f64;
        Empirical {
            sorted: samples,
            mean,
        }
    }
    /// The samples, ascending.
    pub fn samples(&self) -> &[Time] {
        &self.sorted
    }
    pub fn len(&self) -> usize {
        self.sorted.len()
    }
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }
    /// Mean of the samples (0 when there are none).
    pub fn mean(&self) -> f64 {
        self.mean
    }
    /// The `p` sample quantile (linear interpolation; 0 when there are no samples).
    pub fn quantile(&self, p: f64) -> f64 {
        super::calibration::quantile(&self.sorted, p)
    }
    /// One draw: the quantile at a uniform `u`.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Time {
        round_u64(self.quantile(rng.random::<f64>()))
    }
}

/// What one log file contributed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceFile {
    pub path: String,
    pub records: usize,
    pub cold_starts: usize,
    pub skipped_lines: usize,
}

/// A memory size seen in the records and how many records ran at it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemorySeen {
    pub mb: u32,
    pub records: usize,
}

/// A stage's measured work.
#[derive(Debug, Clone, PartialEq)]
pub struct StageCalibration {
    pub stage: String,
    /// MB per vCPU the durations were converted with (the catalog's `mb_per_vcpu`).
    pub mb_per_vcpu: u32,
    pub sources: Vec<SourceFile>,
    pub memory: Vec<MemorySeen>,
    pub max_memory_used_mb: Option<u32>,
    /// Skipped lines by kind.
    pub skipped: BTreeMap<String, usize>,
    /// CPU time per invocation.
    pub cpu: Empirical,
    /// Init Duration of each cold start (wall time, as logged).
    pub cold_start: Empirical,
}

/// The file's layout. Checked fields keep their positions for error messages.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalFile {
    stage: Spanned<String>,
    mb_per_vcpu: u32,
    records: Spanned<usize>,
    cold_starts: Spanned<usize>,
    cold_share: Spanned<f64>,
    skipped_lines: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_memory_used_mb: Option<u32>,
    #[serde(rename = "source", default)]
    sources: Vec<SourceFile>,
    #[serde(default)]
    memory: Vec<MemorySeen>,
    #[serde(default)]
    skipped: BTreeMap<String, usize>,
    samples: Samples,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Samples {
    /// CPU ns per invocation, ascending.
    cpu_ns: Spanned<Vec<Time>>,
    /// Init ns per cold start, ascending.
    #[serde(default = "no_samples")]
    init_ns: Spanned<Vec<Time>>,
}

fn no_samples() -> Spanned<Vec<Time>> {
    Spanned::new(0..0, Vec::new())
}

impl StageCalibration {
    /// The calibration of `stage` from the REPORT records of a scan; an input error
    /// when there are none.
    pub fn from_scan(stage: &str, scan: &LogScan, rule: &VcpuRule) -> Result<StageCalibration> {
        if scan.reports.is_empty() {
            let files: Vec<&str> = scan.sources.iter().map(|s| s.path.as_str()).collect();
            return Err(InputError::new(
                files.join(", "),
                format!(
                    "no Lambda REPORT records found ({} other lines skipped): expected text lines \
                     `REPORT RequestId: …  Duration: … ms  …` or JSON `platform.report` records",
                    scan.skipped_total()
                ),
            )
            .into());
        }
        let mut memory: BTreeMap<u32, usize> = BTreeMap::new();
        for r in &scan.reports {
            *memory.entry(r.memory_mb).or_default() += 1;
        }
        Ok(StageCalibration {
            stage: stage.to_string(),
            mb_per_vcpu: rule.mb_per_vcpu,
            sources: scan
                .sources
                .iter()
                .map(|s| SourceFile {
                    path: s.path.clone(),
                    records: s.reports,
                    cold_starts: s.cold_starts,
                    skipped_lines: s.skipped,
                })
                .collect(),
            memory: memory
                .into_iter()
                .map(|(mb, records)| MemorySeen { mb, records })
                .collect(),
            max_memory_used_mb: scan
                .reports
                .iter()
                .filter_map(|r| r.max_memory_used_mb)
                .max(),
            skipped: scan.skipped.clone(),
            cpu: Empirical::new(
                scan.reports
                    .iter()
                    .map(|r| rule.cpu_ns(r.duration_ns, r.memory_mb))
                    .collect(),
            ),
            cold_start: Empirical::new(scan.reports.iter().filter_map(|r| r.init_ns).collect()),
        })
    }

    /// Invocations measured.
    pub fn records(&self) -> usize {
        self.cpu.len()
    }
    /// The share of invocations that were cold starts.
    pub fn cold_share(&self) -> f64 {
        self.cold_start.len() as f64 / self.records().max(1) as f64
    }
    /// The cold-start (Init Duration) distribution, if any cold start was logged.
    pub fn cold_start(&self) -> Option<&Empirical> {
        (!self.cold_start.is_empty()).then_some(&self.cold_start)
    }
    pub fn skipped_lines(&self) -> usize {
        self.skipped.values().sum()
    }

    /// Loads a calibration file; errors name the file, line and column.
    pub fn load(path: &Path) -> Result<StageCalibration> {
        let text = read_text(path)?;
        StageCalibration::parse(&path.display().to_string(), &text)
    }

    /// Parses and checks calibration TOML; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<StageCalibration> {
        let f: CalFile = crate::error::parse_toml(file, text)?;
        let at = |span: Range<usize>, message: String| -> crate::Error {
            InputError::at_span(file, text, span, message).into()
        };
        if f.stage.get_ref().trim().is_empty() {
            return Err(at(f.stage.span(), "the stage needs a name".into()));
        }
        let cpu = f.samples.cpu_ns.get_ref();
        let init = f.samples.init_ns.get_ref();
        if cpu.is_empty() {
            return Err(at(
                f.samples.cpu_ns.span(),
                "cpu_ns needs at least one sample".into(),
            ));
        }
        if *f.records.get_ref() != cpu.len() {
            return Err(at(
                f.records.span(),
                format!(
                    "records = {} but cpu_ns holds {} samples",
                    f.records.get_ref(),
                    cpu.len()
                ),
            ));
        }
        if *f.cold_starts.get_ref() != init.len() {
            return Err(at(
                f.cold_starts.span(),
                format!(
                    "cold_starts = {} but init_ns holds {} samples",
                    f.cold_starts.get_ref(),
                    init.len()
                ),
            ));
        }
        let share = init.len() as f64 / cpu.len() as f64;
        if (f.cold_share.get_ref() - share).abs() > 1e-6 {
            return Err(at(
                f.cold_share.span(),
                format!("cold_share must be cold_starts / records = {share}"),
            ));
        }
        if f.mb_per_vcpu == 0 {
            return Err(InputError::new(file, "mb_per_vcpu must be positive").into());
        }
        Ok(StageCalibration {
            stage: f.stage.into_inner(),
            mb_per_vcpu: f.mb_per_vcpu,
            sources: f.sources,
            memory: f.memory,
            max_memory_used_mb: f.max_memory_used_mb,
            skipped: f.skipped,
            cpu: Empirical::new(f.samples.cpu_ns.into_inner()),
            cold_start: Empirical::new(f.samples.init_ns.into_inner()),
        })
    }

    /// The file's text: a comment header with the summary, then the data.
    pub fn to_toml(&self) -> Result<String> {
        let span = || 0..0;
        let file = CalFile {
            stage: Spanned::new(span(), self.stage.clone()),
            mb_per_vcpu: self.mb_per_vcpu,
            records: Spanned::new(span(), self.records()),
            cold_starts: Spanned::new(span(), self.cold_start.len()),
            cold_share: Spanned::new(span(), self.cold_share()),
            skipped_lines: self.skipped_lines(),
            max_memory_used_mb: self.max_memory_used_mb,
            sources: self.sources.clone(),
            memory: self.memory.clone(),
            skipped: self.skipped.clone(),
            samples: Samples {
                cpu_ns: Spanned::new(span(), self.cpu.samples().to_vec()),
                init_ns: Spanned::new(span(), self.cold_start.samples().to_vec()),
            },
        };
        let body = toml::to_string(&file)
            .map_err(|e| crate::Error::Other(format!("stage calibration: {e}")))?;
        let mut head = format!(
            "# Stage calibration of `{}`, from Lambda REPORT records (archsim calibrate lambda-logs).\n\
             # CPU time per invocation = Duration x min(1, Memory Size / {} MB): the function is\n\
             # taken to be CPU-bound and single-threaded, so above one vCPU it runs no faster.\n\
             # init_ns: Init Duration of each cold start, as logged (wall time).\n",
            self.stage, self.mb_per_vcpu
        );
        for (name, e) in [("cpu", &self.cpu), ("init", &self.cold_start)] {
            if !e.is_empty() {
                head.push_str(&format!(
                    "# {name}: p50 {}  p95 {}  p99 {}  mean {}  ({} samples)\n",
                    ms(e.quantile(0.5)),
                    ms(e.quantile(0.95)),
                    ms(e.quantile(0.99)),
                    ms(e.mean()),
                    e.len()
                ));
            }
        }
        Ok(format!("{head}\n{body}"))
    }
}

/// `ns` as milliseconds for people: `115.77 ms`.
pub fn ms(ns: f64) -> String {
    format!("{:.2} ms", ns / 1e6)
}

/// The command's summary: records, cold starts, skipped lines, and p50/p95/p99 of
/// the logged duration, the CPU time and the cold starts' Init Duration.
pub fn summary_text(scan: &LogScan, cal: &StageCalibration) -> String {
    let memory: Vec<String> = cal
        .memory
        .iter()
        .map(|m| format!("{} MB x {}", m.mb, m.records))
        .collect();
    let skipped: Vec<String> = cal
        .skipped
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    let mut out = format!(
        "stage {}: {} REPORT records from {} file(s); memory {}\n\
         cold starts: {} ({:.2}% of invocations)\n\
         skipped: {} other lines ({})\n\n",
        cal.stage,
        cal.records(),
        cal.sources.len(),
        memory.join(", "),
        cal.cold_start.len(),
        cal.cold_share() * 100.0,
        cal.skipped_lines(),
        if skipped.is_empty() {
            "none".to_string()
        } else {
            skipped.join(", ")
        },
    );
    let duration = Empirical::new(scan.reports.iter().map(|r| r.duration_ns).collect());
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_BORDERS_ONLY);
    t.set_header(["", "p50", "p95", "p99", "mean", "samples"]);
    for (name, e) in [
        ("duration (logged)", &duration),
        ("CPU time", &cal.cpu),
        ("cold start (Init)", &cal.cold_start),
    ] {
        if e.is_empty() {
            continue;
        }
        t.add_row([
            name.to_string(),
            ms(e.quantile(0.5)),
            ms(e.quantile(0.95)),
            ms(e.quantile(0.99)),
            ms(e.mean()),
            e.len().to_string(),
        ]);
    }
    out.push_str(&format!("{t}\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> VcpuRule {
        VcpuRule {
            mb_per_vcpu: 1769,
            max_vcpu: 6.0,
            memory_min_mb: 128,
            memory_max_mb: 10240,
        }
    }

    fn sample_scan() -> LogScan {
        let mut s = LogScan::default();
        let text = "START RequestId: a\n\
REPORT RequestId: a\tDuration: 400.00 ms\tBilled Duration: 666 ms\tMemory Size: 512 MB\tMax Memory Used: 301 MB\tInit Duration: 265.72 ms\n\
END RequestId: a\n\
REPORT RequestId: b\tDuration: 100.00 ms\tBilled Duration: 100 ms\tMemory Size: 2048 MB\tMax Memory Used: 320 MB\n\
REPORT RequestId: c\tDuration: 50.00 ms\tBilled Duration: 50 ms\tMemory Size: 512 MB\tMax Memory Used: 300 MB\n";
        s.add_text("f.log", text, &rule()).unwrap();
        s
    }

    #[test]
    fn from_scan_converts_and_counts() {
        let cal = StageCalibration::from_scan("resize", &sample_scan(), &rule()).unwrap();
        // 400 ms and 50 ms at 512 MB (x 512/1769), 100 ms at 2048 MB (one core).
        assert_eq!(cal.cpu.samples(), &[14_471_453, 100_000_000, 115_771_622]);
        assert_eq!(cal.cold_start.samples(), &[265_720_000]);
        assert!((cal.cold_share() - 1.0 / 3.0).abs() < 1e-15);
        assert_eq!(cal.max_memory_used_mb, Some(320));
        assert_eq!(
            cal.memory,
            vec![
                MemorySeen {
                    mb: 512,
                    records: 2
                },
                MemorySeen {
                    mb: 2048,
                    records: 1
                }
            ]
        );
        assert_eq!(cal.skipped_lines(), 2);
        let empty = StageCalibration::from_scan("x", &LogScan::default(), &rule()).unwrap_err();
        assert!(
            empty.to_string().contains("no Lambda REPORT records"),
            "{empty}"
        );
    }

    #[test]
    fn round_trips_through_its_file() {
        let cal = StageCalibration::from_scan("resize", &sample_scan(), &rule()).unwrap();
        let text = cal.to_toml().unwrap();
        assert!(text.contains("# cpu: p50 100.00 ms"), "{text}");
        let back = StageCalibration::parse("r.cal.toml", &text).unwrap();
        assert_eq!(back, cal);
        assert_eq!(back.to_toml().unwrap(), text);
    }

    #[test]
    fn inconsistent_files_are_errors_at_the_field() {
        let text = StageCalibration::from_scan("resize", &sample_scan(), &rule())
            .unwrap()
            .to_toml()
            .unwrap();
        let bad = |from: &str, to: &str| {
            let edited = text.replacen(from, to, 1);
            assert_ne!(edited, text, "{from}");
            StageCalibration::parse("r.cal.toml", &edited)
                .unwrap_err()
                .to_string()
        };
        let e = bad("records = 3", "records = 4");
        assert!(e.contains("records = 4 but cpu_ns holds 3 samples"), "{e}");
        assert!(e.starts_with("r.cal.toml:10:11:"), "{e}");
        let e = bad("cold_share = 0.333", "cold_share = 0.5 #");
        assert!(e.contains("cold_share must be"), "{e}");
        let e = bad("cpu_ns = [", "cpu_ns = [-1, ");
        assert!(e.starts_with("r.cal.toml:"), "{e}");
        let e = bad("stage = ", "stag = ");
        assert!(e.contains("unknown field `stag`"), "{e}");
    }
}
