//! One [`Exporter`] per output file (as hyperfine has one per format), and
//! [`write_report`], which renders them all into an output folder.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::charts::{self, Chart};
use super::data::RunReport;
use super::html;
use super::output::OutputDir;
use crate::error::{Error, Result};

/// Renders one file of a report.
pub trait Exporter: Send + Sync {
    /// The file's name in the output folder.
    fn file_name(&self) -> &str;
    /// The file's content.
    fn render(&self, report: &RunReport) -> Result<Vec<u8>>;
}

/// `summary.json`: the whole report, pretty-printed.
pub struct JsonExporter;

impl Exporter for JsonExporter {
    fn file_name(&self) -> &str {
        "summary.json"
    }
    fn render(&self, report: &RunReport) -> Result<Vec<u8>> {
        let mut out = serde_json::to_vec_pretty(report)
            .map_err(|e| Error::Other(format!("writing JSON: {e}")))?;
        out.push(b'\n');
        Ok(out)
    }
}

fn csv_bytes(
    header: &[&str],
    fill: impl FnOnce(&mut csv::Writer<Vec<u8>>) -> csv::Result<()>,
) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| Error::Other(format!("writing CSV: {e}"));
    w.write_record(header).map_err(err)?;
    fill(&mut w).map_err(err)?;
    w.into_inner()
        .map_err(|e| Error::Other(format!("writing CSV: {e}")))
}

/// `line_items.csv`: layout, service, resource, item, quantity, unit, usd.
pub struct LineItemsCsv;

impl Exporter for LineItemsCsv {
    fn file_name(&self) -> &str {
        "line_items.csv"
    }
    fn render(&self, report: &RunReport) -> Result<Vec<u8>> {
        csv_bytes(
            &[
                "layout", "service", "resource", "item", "quantity", "unit", "usd",
            ],
            |w| {
                for l in &report.layouts {
                    for i in &l.bill.items {
                        w.write_record([
                            l.name.as_str(),
                            i.service.label(),
                            &i.resource,
                            &i.item,
                            &i.quantity.to_string(),
                            &i.unit,
                            &i.usd.to_string(),
                        ])?;
                    }
                }
                Ok(())
            },
        )
    }
}

/// `latency.csv`: the CDF points, layout, ms, fraction.
pub struct LatencyCsv;

impl Exporter for LatencyCsv {
    fn file_name(&self) -> &str {
        "latency.csv"
    }
    fn render(&self, report: &RunReport) -> Result<Vec<u8>> {
        csv_bytes(&["layout", "ms", "fraction"], |w| {
            for l in &report.layouts {
                for (ms, f) in &l.latency_cdf {
                    w.write_record([l.name.as_str(), &ms.to_string(), &f.to_string()])?;
                }
            }
            Ok(())
        })
    }
}

/// `latency_percentiles.csv`: layout, p50_ms, p95_ms, p99_ms, max_ms.
pub struct PercentilesCsv;

impl Exporter for PercentilesCsv {
    fn file_name(&self) -> &str {
        "latency_percentiles.csv"
    }
    fn render(&self, report: &RunReport) -> Result<Vec<u8>> {
        csv_bytes(&["layout", "p50_ms", "p95_ms", "p99_ms", "max_ms"], |w| {
            for l in &report.layouts {
                let p = l.latency_ms;
                w.write_record([
                    l.name.as_str(),
                    &p.p50.to_string(),
                    &p.p95.to_string(),
                    &p.p99.to_string(),
                    &p.max.to_string(),
                ])?;
            }
            Ok(())
        })
    }
}

/// Which chart of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    Cost,
    LatencyCdf,
    /// The timeline of the layout at this index.
    Timeline(usize),
    Sweep,
    Tornado,
}

/// Image format of a chart file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Svg,
    Png,
}

/// A chart as an SVG or PNG file.
pub struct ChartExporter {
    pub file_name: String,
    pub kind: ChartKind,
    pub format: ImageFormat,
}

impl ChartKind {
    /// The chart of `report`, if the report has the data for it.
    pub fn chart<'a>(&self, report: &'a RunReport) -> Option<Chart<'a>> {
        match *self {
            ChartKind::Cost => Some(charts::cost_by_layout(&report.layouts)),
            ChartKind::LatencyCdf => Some(charts::latency_cdf(&report.layouts)),
            ChartKind::Timeline(i) => report.layouts.get(i).map(charts::timeline),
            ChartKind::Sweep => report.sweep.as_ref().map(charts::sweep),
            ChartKind::Tornado => report.sensitivity.as_ref().map(charts::tornado),
        }
    }
}

impl Exporter for ChartExporter {
    fn file_name(&self) -> &str {
        &self.file_name
    }
    fn render(&self, report: &RunReport) -> Result<Vec<u8>> {
        let chart = self.kind.chart(report).ok_or_else(|| {
            Error::Other(format!("{}: the report has no data for it", self.file_name))
        })?;
        match self.format {
            ImageFormat::Svg => chart.svg().map(String::into_bytes),
            ImageFormat::Png => chart.png(),
        }
    }
}

/// `report.html`: the self-contained page.
pub struct HtmlExporter;

impl Exporter for HtmlExporter {
    fn file_name(&self) -> &str {
        "report.html"
    }
    fn render(&self, report: &RunReport) -> Result<Vec<u8>> {
        html::render(report).map(String::into_bytes)
    }
}

/// A file-name-safe form of a layout name: lower-case letters, digits, `-` and `_`.
pub fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches('-').to_string();
    if s.is_empty() {
        "layout".into()
    } else {
        s
    }
}

/// File stem of each layout's timeline, unique even when two names slug alike.
fn timeline_stems(report: &RunReport) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    report
        .layouts
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let mut stem = format!("timeline-{}", slug(&l.name));
            if !seen.insert(stem.clone()) {
                stem = format!("{stem}-{}", i + 1);
                seen.insert(stem.clone());
            }
            stem
        })
        .collect()
}

/// Every exporter for `report`, in the order the files are written: data files,
/// charts (sweep and tornado only when the report has them), then the page.
pub fn exporters(report: &RunReport) -> Vec<Box<dyn Exporter>> {
    let mut v: Vec<Box<dyn Exporter>> = vec![
        Box::new(JsonExporter),
        Box::new(LineItemsCsv),
        Box::new(LatencyCsv),
        Box::new(PercentilesCsv),
    ];
    let mut kinds = vec![
        ("cost".to_string(), ChartKind::Cost),
        ("latency_cdf".to_string(), ChartKind::LatencyCdf),
    ];
    for (i, stem) in timeline_stems(report).into_iter().enumerate() {
        kinds.push((stem, ChartKind::Timeline(i)));
    }
    if report.sweep.is_some() {
        kinds.push(("sweep".into(), ChartKind::Sweep));
    }
    if report.sensitivity.is_some() {
        kinds.push(("tornado".into(), ChartKind::Tornado));
    }
    for (stem, kind) in kinds {
        for (ext, format) in [("svg", ImageFormat::Svg), ("png", ImageFormat::Png)] {
            v.push(Box::new(ChartExporter {
                file_name: format!("{stem}.{ext}"),
                kind,
                format,
            }));
        }
    }
    v.push(Box::new(HtmlExporter));
    v
}

/// Writes every file of the report into `dir` (see [`OutputDir::create`] for
/// `force`). Files are rendered in parallel, then each is written atomically, in a
/// fixed order. Returns the paths written.
pub fn write_report(dir: &Path, report: &RunReport, force: bool) -> Result<Vec<PathBuf>> {
    let out = OutputDir::create(dir, force)?;
    let names = write_report_into(&out, report)?;
    let dest = out.commit()?;
    Ok(names.iter().map(|n| dest.join(n)).collect())
}

/// Writes every file of the report into `out`, a folder prepared (and checked) before
/// the run; the caller commits it. Returns the file names.
pub fn write_report_into(out: &OutputDir, report: &RunReport) -> Result<Vec<String>> {
    let exporters = exporters(report);
    let rendered: Vec<Result<Vec<u8>>> = exporters.par_iter().map(|e| e.render(report)).collect();
    let mut written = Vec::with_capacity(exporters.len());
    for (e, bytes) in exporters.iter().zip(rendered) {
        out.write(e.file_name(), &bytes?)?;
        written.push(e.file_name().to_string());
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_every_file() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("out");
        let r = RunReport::example();
        let paths = write_report(&dir, &r, false).unwrap();
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let mut want: Vec<String> = [
            "summary.json",
            "line_items.csv",
            "latency.csv",
            "latency_percentiles.csv",
            "report.html",
            "cost.svg",
            "cost.png",
            "latency_cdf.svg",
            "latency_cdf.png",
            "timeline-distributed.svg",
            "timeline-distributed.png",
            "timeline-monolith.svg",
            "timeline-monolith.png",
            "timeline-cloned-monolith.svg",
            "timeline-cloned-monolith.png",
            "sweep.svg",
            "sweep.png",
            "tornado.svg",
            "tornado.png",
        ]
        .map(String::from)
        .to_vec();
        want.sort();
        assert_eq!(names, want);
        assert_eq!(paths.len(), want.len());

        // A second run needs --force; with it, files are replaced.
        let err = write_report(&dir, &r, false).unwrap_err();
        assert!(
            err.is_input() && err.to_string().contains("--force"),
            "{err}"
        );
        write_report(&dir, &r, true).unwrap();

        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
        assert_eq!(json["layouts"][1]["name"], "monolith");
        assert_eq!(json["seed"], 42);
    }

    #[test]
    fn same_report_same_bytes() {
        let r = RunReport::example();
        for e in exporters(&r) {
            assert_eq!(
                e.render(&r).unwrap(),
                e.render(&r).unwrap(),
                "{} differs between two renders",
                e.file_name()
            );
        }
    }

    #[test]
    fn line_items_csv_has_one_row_per_item() {
        let r = RunReport::example();
        let bytes = LineItemsCsv.render(&r).unwrap();
        let mut rd = csv::Reader::from_reader(bytes.as_slice());
        assert_eq!(
            rd.headers().unwrap().iter().collect::<Vec<_>>(),
            ["layout", "service", "resource", "item", "quantity", "unit", "usd"]
        );
        let rows: Vec<csv::StringRecord> = rd.records().map(|r| r.unwrap()).collect();
        let items: usize = r.layouts.iter().map(|l| l.bill.items.len()).sum();
        assert_eq!(rows.len(), items);
        assert_eq!(&rows[3][0], "distributed");
        assert_eq!(&rows[3][1], "step_functions");
        assert_eq!(rows[3][6].parse::<f64>().unwrap(), 270.0);
    }

    #[test]
    fn latency_csvs() {
        let r = RunReport::example();
        let text = String::from_utf8(LatencyCsv.render(&r).unwrap()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "layout,ms,fraction");
        assert_eq!(lines[3], "distributed,180,0.5");
        assert_eq!(lines.len(), 1 + 3 * 7);
        let text = String::from_utf8(PercentilesCsv.render(&r).unwrap()).unwrap();
        assert_eq!(text.lines().nth(2), Some("monolith,95,140,210,420"));
    }

    #[test]
    fn optional_charts_follow_the_data() {
        let mut r = RunReport::example();
        r.sweep = None;
        r.sensitivity = None;
        let names: Vec<String> = exporters(&r)
            .iter()
            .map(|e| e.file_name().to_string())
            .collect();
        assert!(!names
            .iter()
            .any(|n| n.starts_with("sweep") || n.starts_with("tornado")));
        let e = ChartExporter {
            file_name: "sweep.svg".into(),
            kind: ChartKind::Sweep,
            format: ImageFormat::Svg,
        };
        assert!(e.render(&r).is_err());
    }

    #[test]
    fn slugs_and_unique_timeline_names() {
        assert_eq!(slug("Cloned Monolith (x2)"), "cloned-monolith--x2");
        assert_eq!(slug("%%"), "layout");
        let mut r = RunReport::example();
        r.layouts[1].name = "Distributed".into();
        assert_eq!(
            timeline_stems(&r),
            [
                "timeline-distributed",
                "timeline-distributed-2",
                "timeline-cloned-monolith"
            ]
        );
    }
}
