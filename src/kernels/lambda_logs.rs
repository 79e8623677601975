//! Lambda REPORT records read from real logs, in both forms Lambda writes (see
//! `../shared/reference/aws.md` §6): the text line
//! `REPORT RequestId: …\tDuration: 395.99 ms\tBilled Duration: 662 ms\tMemory Size: 512 MB\t…`
//! and the JSON `platform.report` record. Other lines (START, END, the function's own
//! output, other `platform.*` records) are counted and skipped; a REPORT record that
//! cannot be read is an error naming the file, line and column, never skipped.
//!
//! Each invocation's Duration becomes CPU time at its memory's vCPU share
//! ([`VcpuRule::cpu_ns`]); the Init Duration of cold starts is kept as logged.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::error::{read_text, InputError, Result};
use crate::sim::{round_u64, Time, NS_PER_MS};

/// How Lambda memory buys CPU, from the price catalog (`mb_per_vcpu`, `max_vcpu`, the
/// memory range): `memory / mb_per_vcpu` vCPU, at most `max_vcpu`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VcpuRule {
    pub mb_per_vcpu: u32,
    pub max_vcpu: f64,
    pub memory_min_mb: u32,
    pub memory_max_mb: u32,
}

impl VcpuRule {
    /// vCPU share of a function with `memory_mb`.
    pub fn share(&self, memory_mb: u32) -> f64 {
        (f64::from(memory_mb) / f64::from(self.mb_per_vcpu.max(1))).min(self.max_vcpu)
    }

    /// CPU time of an invocation that took `wall_ns` at `memory_mb`.
    ///
    /// Modelling assumption: the function is CPU-bound and single-threaded, so it
    /// used min(1, share) of a core for its whole duration; above one vCPU it runs no
    /// faster. Exact integer arithmetic, rounded to the nearest nanosecond.
    pub fn cpu_ns(&self, wall_ns: Time, memory_mb: u32) -> Time {
        let per_vcpu = u128::from(self.mb_per_vcpu.max(1));
        let mb = u128::from(memory_mb);
        if mb >= per_vcpu {
            return wall_ns;
        }
        ((u128::from(wall_ns) * mb + per_vcpu / 2) / per_vcpu) as Time
    }
}

/// What Lambda reported for one invocation.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub request_id: String,
    /// Wall-clock duration of the handler (`Duration`).
    pub duration_ns: Time,
    pub memory_mb: u32,
    pub max_memory_used_mb: Option<u32>,
    /// `Init Duration`: present on cold starts only.
    pub init_ns: Option<Time>,
}

/// Counts for one log file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceCount {
    pub path: String,
    pub reports: usize,
    pub cold_starts: usize,
    pub skipped: usize,
}

/// Every REPORT record of some log files, in file order, and what was skipped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogScan {
    pub reports: Vec<Report>,
    pub sources: Vec<SourceCount>,
    /// Skipped lines or records by kind (`START`, `END`, `platform.start`, `app output`…).
    pub skipped: BTreeMap<String, usize>,
}

impl LogScan {
    /// Reads `paths` in order; errors and the sources name each file as given.
    pub fn read_files(paths: &[&Path], rule: &VcpuRule) -> Result<LogScan> {
        let mut scan = LogScan::default();
        for path in paths {
            let text = read_text(path)?;
            scan.add_text(&path.display().to_string(), &text, rule)?;
        }
        Ok(scan)
    }

    /// Adds the records of `text`, the content of `file`.
    pub fn add_text(&mut self, file: &str, text: &str, rule: &VcpuRule) -> Result<()> {
        let mut reader = Reader {
            file,
            text,
            rule,
            reports: Vec::new(),
            skipped: BTreeMap::new(),
        };
        reader.read()?;
        let count = SourceCount {
            path: file.to_string(),
            reports: reader.reports.len(),
            cold_starts: reader
                .reports
                .iter()
                .filter(|r| r.init_ns.is_some())
                .count(),
            skipped: reader.skipped.values().sum(),
        };
        for (kind, n) in reader.skipped {
            *self.skipped.entry(kind).or_default() += n;
        }
        self.reports.extend(reader.reports);
        self.sources.push(count);
        Ok(())
    }

    /// Lines or records skipped, all kinds.
    pub fn skipped_total(&self) -> usize {
        self.skipped.values().sum()
    }
}

/// Lambda's own text lines other than REPORT, recognised by their first word.
const PLATFORM_WORDS: [&str; 8] = [
    "START",
    "END",
    "INIT_START",
    "INIT_REPORT",
    "RESTORE_START",
    "RESTORE_REPORT",
    "EXTENSION",
    "TELEMETRY",
];

/// The REPORT fields archsim reads, longest first so `Billed Duration:` is not taken
/// for `Duration:`.
const KEYS: [&str; 11] = [
    "Billed Restore Duration:",
    "Restore Duration:",
    "Max Memory Used:",
    "Billed Duration:",
    "Init Duration:",
    "Memory Size:",
    "XRAY TraceId:",
    "Duration:",
    "RequestId:",
    "SegmentId:",
    "Sampled:",
];

struct Reader<'a> {
    file: &'a str,
    text: &'a str,
    rule: &'a VcpuRule,
    reports: Vec<Report>,
    skipped: BTreeMap<String, usize>,
}

impl<'a> Reader<'a> {
    fn error(&self, offset: usize, message: impl Into<String>) -> crate::Error {
        // serde_json counts columns in bytes: step back to the start of a character.
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        InputError::at_span(self.file, self.text, offset..offset, message).into()
    }

    fn skip(&mut self, kind: &str) {
        *self.skipped.entry(kind.to_string()).or_default() += 1;
    }

    fn read(&mut self) -> Result<()> {
        let start = self.text.len() - self.text.trim_start().len();
        // A whole JSON document (an array of records, or `get-log-events` output).
        if matches!(self.text[start..].chars().next(), Some('[' | '{'))
            && serde_json::from_str::<serde::de::IgnoredAny>(self.text).is_ok()
        {
            return self.read_document(start);
        }
        let mut offset = 0;
        for line in self.text.split_inclusive('\n') {
            let content = line.trim_end_matches(['\n', '\r']);
            self.read_line(offset, content)?;
            offset += line.len();
        }
        Ok(())
    }

    /// A file that is one JSON value: an array of events, an object holding
    /// `events`/`logEvents` (CloudWatch exports), or one record.
    fn read_document(&mut self, start: usize) -> Result<()> {
        #[derive(Deserialize)]
        struct Wrapped<'b> {
            #[serde(borrow, alias = "logEvents")]
            events: Option<Vec<&'b RawValue>>,
        }
        let text = self.text;
        let items: Vec<&RawValue> = if text[start..].starts_with('[') {
            serde_json::from_str(text).map_err(|e| self.json_error(0, &e))?
        } else {
            match serde_json::from_str::<Wrapped>(text) {
                Ok(Wrapped {
                    events: Some(events),
                }) => events,
                _ => vec![serde_json::from_str(text).map_err(|e| self.json_error(0, &e))?],
            }
        };
        for raw in items {
            let offset = raw.get().as_ptr() as usize - text.as_ptr() as usize;
            let value: Value =
                serde_json::from_str(raw.get()).map_err(|e| self.json_error(offset, &e))?;
            self.read_json(offset, &value)?;
        }
        Ok(())
    }

    fn json_error(&self, base: usize, e: &serde_json::Error) -> crate::Error {
        // serde_json counts lines and columns from the start of the text it was given.
        let part = &self.text[base..];
        let line_start: usize = part
            .split_inclusive('\n')
            .take(e.line().saturating_sub(1))
            .map(str::len)
            .sum();
        let offset = base + line_start + e.column().saturating_sub(1);
        self.error(offset, format!("not valid JSON: {e}"))
    }

    /// One line: a text REPORT, another Lambda line, a JSON record or app output.
    fn read_line(&mut self, offset: usize, line: &str) -> Result<()> {
        if line.trim().is_empty() {
            return Ok(());
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with('{') {
            match serde_json::from_str::<Value>(trimmed) {
                Ok(value) => return self.read_json(offset + line.len() - trimmed.len(), &value),
                Err(e) if trimmed.contains("platform.report") => {
                    return Err(self.json_error(offset + line.len() - trimmed.len(), &e))
                }
                Err(_) => {} // the function's own output that happens to start with `{`
            }
        }
        let words: Vec<(usize, &str)> = words(line).collect();
        for pair in words.windows(2) {
            let ((at, word), (_, next)) = (pair[0], pair[1]);
            if word == "REPORT" && next == "RequestId:" {
                let report = self.text_report(offset + at, &line[at..])?;
                self.reports.push(report);
                return Ok(());
            }
        }
        let kind = words
            .iter()
            .find(|(_, w)| PLATFORM_WORDS.contains(w))
            .map_or("app output", |(_, w)| w);
        self.skip(kind);
        Ok(())
    }

    /// Parses `REPORT RequestId: … Duration: 395.99 ms …` starting at byte `at`.
    fn text_report(&self, at: usize, body: &str) -> Result<Report> {
        // Where each known key starts (preceded by whitespace or the start).
        let mut found: Vec<(usize, &str)> = Vec::new();
        let mut i = 0;
        while i < body.len() {
            let boundary = i == 0 || body[..i].ends_with(char::is_whitespace);
            if boundary {
                if let Some(key) = KEYS.iter().find(|k| body[i..].starts_with(**k)) {
                    found.push((i, key));
                    i += key.len();
                    continue;
                }
            }
            i += body[i..].chars().next().map_or(1, char::len_utf8);
        }
        let mut fields: BTreeMap<&str, (usize, &str)> = BTreeMap::new();
        for (n, &(pos, key)) in found.iter().enumerate() {
            let end = found.get(n + 1).map_or(body.len(), |&(p, _)| p);
            let raw = &body[pos + key.len()..end];
            let lead = raw.len() - raw.trim_start().len();
            fields.insert(key, (at + pos + key.len() + lead, raw.trim()));
        }
        let request_id = fields
            .get("RequestId:")
            .and_then(|(_, v)| v.split_whitespace().next())
            .unwrap_or("")
            .to_string();
        let ms = |key: &str| -> Result<Option<Time>> {
            fields
                .get(key)
                .map(|&(pos, v)| self.text_value(pos, key, v, "ms").map(ms_to_ns))
                .transpose()
        };
        let mb = |key: &str| -> Result<Option<u32>> {
            fields
                .get(key)
                .map(|&(pos, v)| {
                    let x = self.text_value(pos, key, v, "MB")?;
                    self.memory(pos, key, x)
                })
                .transpose()
        };
        let duration_ns = ms("Duration:")?.ok_or_else(|| {
            self.error(
                at,
                "this REPORT record has no `Duration: <number> ms` field \
                 (expected `REPORT RequestId: <id>  Duration: 395.99 ms  Billed Duration: 396 ms  Memory Size: 512 MB  …`)",
            )
        })?;
        ms("Billed Duration:")?;
        let memory_mb = mb("Memory Size:")?.ok_or_else(|| {
            self.error(
                at,
                "this REPORT record has no `Memory Size: <number> MB` field, needed to \
                 convert its Duration to CPU time",
            )
        })?;
        let max_memory_used_mb = mb("Max Memory Used:")?;
        let init_ns = ms("Init Duration:")?;
        ms("Restore Duration:")?;
        ms("Billed Restore Duration:")?;
        Ok(Report {
            request_id,
            duration_ns,
            memory_mb,
            max_memory_used_mb,
            init_ns,
        })
    }

    /// The number in `value` (`395.99 ms`), which must carry `unit`. Text after it is
    /// accepted only when it is another field (`Key: …`) archsim does not read.
    fn text_value(&self, pos: usize, key: &str, value: &str, unit: &str) -> Result<f64> {
        let words: Vec<(usize, &str)> = words(value).collect();
        let name = key.trim_end_matches(':');
        let Some(&(_, number)) = words.first() else {
            return Err(self.error(
                pos,
                format!("`{key}` has no value: expected `<number> {unit}`"),
            ));
        };
        let x = number
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite() && *x >= 0.0)
            .ok_or_else(|| {
                self.error(
                    pos,
                    format!("{name}: expected a non-negative number of {unit}, got `{number}`"),
                )
            })?;
        match words.get(1) {
            Some(&(_, u)) if u == unit => {}
            Some(&(upos, u)) => {
                return Err(self.error(
                    pos + upos,
                    format!("{name}: unknown unit `{u}`: Lambda writes `{unit}`"),
                ))
            }
            None => {
                return Err(self.error(
                    pos + value.len(),
                    format!("{name}: expected the unit `{unit}` after {number}"),
                ))
            }
        }
        if let Some(&(rpos, rest)) = words.get(2) {
            if !words[2..].iter().any(|(_, w)| w.ends_with(':')) {
                return Err(self.error(
                    pos + rpos,
                    format!("{name}: unexpected `{rest}` after `{number} {unit}`"),
                ));
            }
        }
        Ok(x)
    }

    /// A memory size in MB: a whole number in the catalog's range.
    fn memory(&self, pos: usize, key: &str, mb: f64) -> Result<u32> {
        let name = key.trim_end_matches(':');
        if mb.fract() != 0.0 {
            return Err(self.error(
                pos,
                format!("{name}: expected a whole number of MB, got {mb}"),
            ));
        }
        let r = self.rule;
        let range = f64::from(r.memory_min_mb)..=f64::from(r.memory_max_mb);
        if (key == "Memory Size:" && !range.contains(&mb)) || mb > f64::from(r.memory_max_mb) {
            return Err(self.error(
                pos,
                format!(
                    "{name}: {mb} MB is outside Lambda's {}..={} MB",
                    r.memory_min_mb, r.memory_max_mb
                ),
            ));
        }
        Ok(mb as u32)
    }

    /// One JSON value at byte `offset`: a `platform.report`, another `platform.*`
    /// record, a log-event wrapper (`message`), a list of them, or app output.
    fn read_json(&mut self, offset: usize, value: &Value) -> Result<()> {
        match value {
            Value::Array(items) => {
                for item in items {
                    self.read_json(offset, item)?;
                }
            }
            Value::Object(map) => {
                if let Some(Value::String(kind)) = map.get("type") {
                    if kind == "platform.report" {
                        let report = self.json_report(offset, value)?;
                        self.reports.push(report);
                    } else {
                        self.skip(kind);
                    }
                } else if let Some(Value::String(message)) = map.get("message") {
                    // A CloudWatch log event: its message is a text line or a JSON record.
                    let message = message.trim_end_matches(['\n', '\r']).to_string();
                    self.read_message(offset, &message)?;
                } else if let Some(Value::Array(events)) =
                    map.get("events").or_else(|| map.get("logEvents"))
                {
                    for e in events {
                        self.read_json(offset, e)?;
                    }
                } else {
                    self.skip("app output");
                }
            }
            _ => self.skip("app output"),
        }
        Ok(())
    }

    /// A log event's message: read on its own, errors placed at the event.
    fn read_message(&mut self, offset: usize, message: &str) -> Result<()> {
        let mut inner = Reader {
            file: self.file,
            text: message,
            rule: self.rule,
            reports: Vec::new(),
            skipped: BTreeMap::new(),
        };
        inner.read_line(0, message).map_err(|e| match e {
            crate::Error::Input(i) => self.error(
                offset,
                format!("in this log event's message: {}", i.message),
            ),
            other => other,
        })?;
        self.reports.append(&mut inner.reports);
        for (k, n) in inner.skipped {
            *self.skipped.entry(k).or_default() += n;
        }
        Ok(())
    }

    fn json_report(&self, offset: usize, value: &Value) -> Result<Report> {
        #[derive(Deserialize)]
        struct Record {
            #[serde(rename = "requestId", default)]
            request_id: String,
            metrics: Metrics,
        }
        #[derive(Deserialize)]
        struct Metrics {
            #[serde(rename = "durationMs")]
            duration: f64,
            #[serde(rename = "billedDurationMs")]
            billed: Option<f64>,
            #[serde(rename = "memorySizeMB")]
            memory: f64,
            #[serde(rename = "maxMemoryUsedMB")]
            max_memory_used: Option<f64>,
            #[serde(rename = "initDurationMs")]
            init: Option<f64>,
            #[serde(rename = "restoreDurationMs")]
            restore: Option<f64>,
        }
        let Some(record) = value.get("record").filter(|r| r.is_object()).cloned() else {
            return Err(self.error(
                offset,
                "this platform.report has no `record` object: expected \
                 {\"type\":\"platform.report\",\"record\":{\"requestId\":…,\"metrics\":{\"durationMs\":…,\"memorySizeMB\":…}}}",
            ));
        };
        let r: Record = serde_json::from_value(record).map_err(|e| {
            self.error(
                offset,
                format!(
                    "this platform.report record cannot be read: {e}; expected \
                     {{\"type\":\"platform.report\",\"record\":{{\"requestId\":…,\"metrics\":\
                     {{\"durationMs\":…,\"memorySizeMB\":…,\"initDurationMs\"?:…}}}}}}"
                ),
            )
        })?;
        let m = &r.metrics;
        let check = |name: &str, x: f64| -> Result<f64> {
            if x.is_finite() && x >= 0.0 {
                Ok(x)
            } else {
                Err(self.error(
                    offset,
                    format!("{name}: expected a non-negative number, got {x}"),
                ))
            }
        };
        let duration_ns = ms_to_ns(check("metrics.durationMs", m.duration)?);
        if let Some(b) = m.billed {
            check("metrics.billedDurationMs", b)?;
        }
        if let Some(x) = m.restore {
            check("metrics.restoreDurationMs", x)?;
        }
        let memory_mb = self.memory(
            offset,
            "Memory Size:",
            check("metrics.memorySizeMB", m.memory)?,
        )?;
        let max_memory_used_mb = m
            .max_memory_used
            .map(|x| {
                self.memory(
                    offset,
                    "Max Memory Used:",
                    check("metrics.maxMemoryUsedMB", x)?,
                )
            })
            .transpose()?;
        let init_ns = m
            .init
            .map(|x| check("metrics.initDurationMs", x).map(ms_to_ns))
            .transpose()?;
        Ok(Report {
            request_id: r.request_id,
            duration_ns,
            memory_mb,
            max_memory_used_mb,
            init_ns,
        })
    }
}

/// The whitespace-separated words of `s` with their byte offsets.
fn words(s: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut rest = s.char_indices().peekable();
    std::iter::from_fn(move || {
        while rest.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let (start, _) = *rest.peek()?;
        let mut end = s.len();
        while let Some(&(i, c)) = rest.peek() {
            if c.is_whitespace() {
                end = i;
                break;
            }
            rest.next();
        }
        Some((start, &s[start..end]))
    })
}

fn ms_to_ns(ms: f64) -> Time {
    round_u64(ms * NS_PER_MS as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The embedded catalog's rule: 1,769 MB per vCPU, at most 6, 128..=10240 MB.
    fn rule() -> VcpuRule {
        let l = &crate::pricing::Catalog::builtin().lambda;
        VcpuRule {
            mb_per_vcpu: l.mb_per_vcpu,
            max_vcpu: l.max_vcpu,
            memory_min_mb: l.memory_min_mb,
            memory_max_mb: l.memory_max_mb,
        }
    }

    fn scan(text: &str) -> Result<LogScan> {
        let mut s = LogScan::default();
        s.add_text("f.log", text, &rule())?;
        Ok(s)
    }

    fn error(text: &str) -> InputError {
        match scan(text) {
            Err(crate::Error::Input(e)) => e,
            other => panic!("expected an input error, got {other:?}"),
        }
    }

    const COLD: &str = "REPORT RequestId: 3f5c1a2e-0000-4000-8000-000000000001\tDuration: 400.00 ms\tBilled Duration: 666 ms\tMemory Size: 512 MB\tMax Memory Used: 301 MB\tInit Duration: 265.72 ms\t";

    #[test]
    fn cpu_time_is_wall_time_at_the_memory_share() {
        let r = rule();
        assert_eq!(r.mb_per_vcpu, 1769);
        // 400 ms at 512 MB: 400 x 512 / 1769 = 115.771622... ms.
        assert_eq!(r.cpu_ns(400_000_000, 512), 115_771_622);
        // At or above one vCPU a single-threaded function runs no faster.
        assert_eq!(r.cpu_ns(400_000_000, 1769), 400_000_000);
        assert_eq!(r.cpu_ns(400_000_000, 10240), 400_000_000);
        assert!((r.share(10240) - 10240.0 / 1769.0).abs() < 1e-12);
        assert!((r.share(884) - 884.0 / 1769.0).abs() < 1e-12);
    }

    #[test]
    fn reads_a_text_report_with_a_cold_start() {
        let s = scan(&format!(
            "START RequestId: x Version: $LATEST\n{COLD}\nEND RequestId: x\n"
        ))
        .unwrap();
        assert_eq!(
            s.reports,
            vec![Report {
                request_id: "3f5c1a2e-0000-4000-8000-000000000001".into(),
                duration_ns: 400_000_000,
                memory_mb: 512,
                max_memory_used_mb: Some(301),
                init_ns: Some(265_720_000),
            }]
        );
        assert_eq!(s.sources[0].cold_starts, 1);
        assert_eq!(s.skipped_total(), 2);
    }

    #[test]
    fn reads_prefixes_runs_of_spaces_and_xray_fields() {
        let text = "2026-11-30T10:00:01.000000+00:00 2026/11/30/[$LATEST]ab12 REPORT RequestId: a2  Duration: 100.5 ms  Billed Duration: 101 ms  Memory Size: 2048 MB  Max Memory Used: 80 MB  \nREPORT RequestId: a3 Duration: 7.25 ms Billed Duration: 8 ms Memory Size: 128 MB Max Memory Used: 40 MB\tXRAY TraceId: 1-5e-abc\tSegmentId: 12ab\tSampled: true\n";
        let s = scan(text).unwrap();
        assert_eq!(s.reports.len(), 2);
        assert_eq!(s.reports[0].duration_ns, 100_500_000);
        assert_eq!(s.reports[0].memory_mb, 2048);
        assert_eq!(s.reports[0].init_ns, None);
        assert_eq!(s.reports[1].duration_ns, 7_250_000);
        assert_eq!(s.reports[1].memory_mb, 128);
        assert_eq!(s.skipped_total(), 0);
    }

    #[test]
    fn reads_json_records_lines_arrays_and_log_events() {
        let report = r#"{"time":"2026-11-30T10:00:00.000Z","type":"platform.report","record":{"requestId":"b1","metrics":{"durationMs":812.5,"billedDurationMs":813,"memorySizeMB":1024,"maxMemoryUsedMB":300,"initDurationMs":180.25},"status":"success"}}"#;
        let lines = format!(
            "{{\"time\":\"t\",\"type\":\"platform.start\",\"record\":{{\"requestId\":\"b1\"}}}}\n{{\"level\":\"INFO\",\"msg\":\"classified\"}}\n{report}\n"
        );
        let s = scan(&lines).unwrap();
        assert_eq!(s.reports.len(), 1);
        let r = &s.reports[0];
        assert_eq!(
            (r.duration_ns, r.memory_mb, r.init_ns),
            (812_500_000, 1024, Some(180_250_000))
        );
        // 812.5 ms x 1024 / 1769 = 470.322216 ms of CPU.
        assert_eq!(rule().cpu_ns(r.duration_ns, r.memory_mb), 470_322_216);
        assert_eq!(s.skipped.get("platform.start"), Some(&1));
        assert_eq!(s.skipped.get("app output"), Some(&1));

        let array = format!("[\n  {report},\n  {report}\n]\n");
        assert_eq!(scan(&array).unwrap().reports.len(), 2);
        // `aws logs get-log-events` output: text REPORT lines inside log events.
        let events = format!(
            "{{\"events\": [\n {{\"timestamp\": 1, \"message\": \"START RequestId: x\\n\"}},\n {{\"timestamp\": 2, \"message\": {}}}\n]}}",
            serde_json::to_string(COLD).unwrap()
        );
        let s = scan(&events).unwrap();
        assert_eq!(s.reports.len(), 1);
        assert_eq!(s.reports[0].init_ns, Some(265_720_000));
        assert_eq!(s.skipped.get("START"), Some(&1));
    }

    #[test]
    fn a_malformed_report_is_an_error_with_its_position() {
        let missing = error(
            "START RequestId: x\nREPORT RequestId: x\tBilled Duration: 5 ms\tMemory Size: 512 MB\n",
        );
        assert_eq!((missing.line, missing.column), (Some(2), Some(1)));
        assert!(
            missing.message.contains("no `Duration"),
            "{}",
            missing.message
        );

        let number = error("\nREPORT RequestId: x\tDuration: 3O5.1 ms\tMemory Size: 512 MB\n");
        assert_eq!((number.line, number.column), (Some(2), Some(31)));
        assert!(number.message.contains("`3O5.1`"), "{}", number.message);

        let unit = error("REPORT RequestId: x\tDuration: 395.99 sec\tMemory Size: 512 MB\n");
        assert_eq!((unit.line, unit.column), (Some(1), Some(38)));
        assert!(
            unit.message.contains("unknown unit `sec`"),
            "{}",
            unit.message
        );

        let memory = error("REPORT RequestId: x\tDuration: 1 ms\tMemory Size: 64 MB\n");
        assert!(memory.message.contains("outside"), "{}", memory.message);
        let no_memory = error("REPORT RequestId: x\tDuration: 1 ms\n");
        assert!(
            no_memory.message.contains("Memory Size"),
            "{}",
            no_memory.message
        );

        let json = error("{\"type\":\"platform.start\"}\n{\"type\":\"platform.report\",\"record\":{\"requestId\":\"b\",\"metrics\":{\"memorySizeMB\":512}}}\n");
        assert_eq!(json.line, Some(2));
        assert!(json.message.contains("durationMs"), "{}", json.message);
        let broken =
            error("{\"type\":\"platform.report\",\"record\":{\"metrics\":{\"durationMs\":1,}}\n");
        assert_eq!(broken.line, Some(1));
        assert!(
            broken.message.contains("not valid JSON"),
            "{}",
            broken.message
        );
    }

    #[test]
    fn non_report_lines_are_counted_by_kind() {
        let s = scan("INIT_START Runtime Version: python:3.12.v40\nSTART RequestId: x Version: $LATEST\n2026-11-30T10:00:00.000Z\tx\tINFO\tresized photo-1.jpg\nThe REPORT for today is ready\nEND RequestId: x\n\n").unwrap();
        let kinds: Vec<(&str, usize)> = s.skipped.iter().map(|(k, n)| (k.as_str(), *n)).collect();
        assert_eq!(
            kinds,
            vec![
                ("END", 1),
                ("INIT_START", 1),
                ("START", 1),
                ("app output", 2)
            ]
        );
        assert!(s.reports.is_empty());
    }
}
