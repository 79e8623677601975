//! Errors shared by every room. A user's mistake becomes an [`InputError`] that names
//! the file, line and column and what was expected; the binary maps it to exit code 2.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A mistake in something the user gave us: a file, a flag value, a string.
#[derive(Debug, Clone, PartialEq)]
pub struct InputError {
    /// File the mistake is in, or a pseudo-name such as `--defects` for a flag.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// What is wrong and what was expected.
    pub message: String,
    /// The offending source line, shown under the message.
    pub snippet: Option<String>,
}

impl InputError {
    /// An error about a whole file or flag, without a position.
    pub fn new(file: impl Into<String>, message: impl Into<String>) -> Self {
        InputError {
            file: file.into(),
            line: None,
            column: None,
            message: message.into(),
            snippet: None,
        }
    }

    /// An error at a byte offset range of `text`, the content of `file`.
    pub fn at_span(
        file: impl Into<String>,
        text: &str,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> Self {
        let (line, column, snippet) = locate(text, span.start);
        InputError {
            file: file.into(),
            line: Some(line),
            column: Some(column),
            message: message.into(),
            snippet: Some(snippet),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        write!(f, ": {}", self.message)?;
        if let (Some(snippet), Some(line), Some(col)) = (&self.snippet, self.line, self.column) {
            let gutter = line.to_string().len();
            write!(
                f,
                "\n{:gutter$} |\n{line} | {snippet}\n{:gutter$} | {:>col$}",
                "", "", "^"
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for InputError {}

/// Everything the library can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The user's input is wrong (exit code 2).
    #[error(transparent)]
    Input(#[from] InputError),
    /// Reading or writing a file failed.
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// Something else went wrong that is not the user's fault.
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            error: source,
        }
    }

    /// True for mistakes in the user's input (exit code 2).
    pub fn is_input(&self) -> bool {
        matches!(self, Error::Input(_))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// 1-based line and column of byte `offset` in `text`, and the text of that line.
pub fn locate(text: &str, offset: usize) -> (usize, usize, String) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..offset].chars().count() + 1;
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let snippet = text[line_start..line_end]
        .trim_end_matches('\r')
        .to_string();
    (line, column, snippet)
}

/// Largest input file (scenario, usage, catalog, calibration, thresholds) read: far
/// above any real one (the shipped calibration is about 100 KB), and a cap that keeps
/// `/dev/zero` or a huge file from being read until memory runs out.
pub const MAX_INPUT_BYTES: u64 = 16 << 20;

/// Reads a file to a string, mapping failure to an input error naming the file. The
/// file must be at most [`MAX_INPUT_BYTES`] and UTF-8; invalid UTF-8 is reported by
/// line, column and byte offset.
pub fn read_text(path: &Path) -> Result<String> {
    let bytes = read_capped(
        path,
        MAX_INPUT_BYTES,
        "expected a TOML file (is this the right file?)",
    )?;
    text_from_bytes(&path.display().to_string(), bytes)
}

/// Reads at most `limit` bytes of `path` (so `/dev/zero` or a huge file cannot be
/// read until memory runs out); a longer file is an input error at byte `limit`
/// saying `what_instead`.
pub fn read_capped(path: &Path, limit: u64, what_instead: &str) -> Result<Vec<u8>> {
    use std::io::Read;
    let shown = path.display().to_string();
    let cannot = |e: std::io::Error| {
        Error::Input(InputError::new(
            shown.clone(),
            format!("cannot read file: {e}"),
        ))
    };
    let file = std::fs::File::open(path).map_err(cannot)?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > limit {
        return Err(Error::Input(InputError::new(
            shown,
            format!(
                "byte offset {limit}: larger than {} MiB; {what_instead}",
                limit >> 20
            ),
        )));
    }
    Ok(bytes)
}

/// `bytes` as UTF-8 text, or an error at the first invalid byte (line, column and
/// byte offset) naming `file`.
pub fn text_from_bytes(file: &str, bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let bytes = e.into_bytes();
        // The valid prefix locates the bad byte.
        let prefix = std::str::from_utf8(&bytes[..offset]).unwrap_or_default();
        let (line, column, snippet) = locate(prefix, offset);
        Error::Input(InputError {
            file: file.to_string(),
            line: Some(line),
            column: Some(column),
            message: format!(
                "invalid UTF-8 at byte offset {offset} (byte 0x{:02x}): expected a UTF-8 text file",
                bytes[offset]
            ),
            snippet: Some(snippet),
        })
    })
}

/// Byte span of the value at `path` in TOML `text`, for pointing at values that are
/// checked after parsing. `path` is dotted, with `[i]` for an element of an array or
/// array of tables (`size[0].kernel[2].ns`, `quotas.s3_per_prefix.put_per_s`). When
/// the full path is not written in the file (a default), the span of the deepest
/// part that is; `0..0` (line 1) when the text does not parse.
pub fn value_span(text: &str, path: &str) -> Range<usize> {
    let Ok(doc) = toml_edit::ImDocument::parse(text) else {
        return 0..0;
    };
    let mut best = 0..0;
    let mut item: &toml_edit::Item = doc.as_item();
    for seg in path.split('.') {
        let (key, index) = match seg.split_once('[') {
            Some((k, rest)) => (k, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (seg, None),
        };
        let Some(next) = item.get(key) else { break };
        item = next;
        if let Some(span) = item_span(item) {
            best = span;
        }
        if let Some(i) = index {
            let Some(next) = item.get(i) else { break };
            item = next;
            if let Some(span) = item_span(item) {
                best = span;
            }
        }
    }
    best
}

fn item_span(item: &toml_edit::Item) -> Option<Range<usize>> {
    match item {
        toml_edit::Item::ArrayOfTables(a) => a.span().or_else(|| a.get(0)?.span()),
        other => other.span(),
    }
}

impl InputError {
    /// An error about the value at dotted `path` of TOML `text` (see [`value_span`]).
    pub fn at_path(
        file: impl Into<String>,
        text: &str,
        path: &str,
        message: impl Into<String>,
    ) -> Self {
        InputError::at_span(file, text, value_span(text, path), message)
    }
}

/// Parses TOML `text` (the content of `file`) into `T`, turning any serde or syntax
/// error into an [`InputError`] with line, column and, for an unknown field, the
/// nearest valid name.
pub fn parse_toml<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T> {
    toml::from_str(text).map_err(|e| Error::Input(toml_error(file, text, &e)))
}

/// Converts a `toml` error into an [`InputError`].
pub fn toml_error(file: &str, text: &str, e: &toml::de::Error) -> InputError {
    let mut message = explain_serde_message(e.message().trim());
    if message.is_empty() {
        message = syntax_detail(&e.to_string());
    }
    // Without a span (rare: a whole-document error), point at the start.
    InputError::at_span(file, text, e.span().unwrap_or(0..0), message)
}

/// What a syntax error expected, from the `toml` crate's full text (its short message
/// is empty for some errors, such as a file ending in `key =`): the lines after the
/// source excerpt, or a plain fallback, so a message is never empty.
fn syntax_detail(full: &str) -> String {
    let detail: Vec<&str> = full
        .lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty()
                && !l.starts_with("TOML parse error")
                && !l.starts_with('|')
                && !l
                    .split_once('|')
                    .is_some_and(|(n, _)| n.trim().parse::<usize>().is_ok())
        })
        .collect();
    if detail.is_empty() {
        "invalid TOML here: expected a complete `key = value` line".into()
    } else {
        format!("invalid TOML: {}", detail.join("; "))
    }
}

/// Adds "did you mean" to serde's unknown-field and unknown-variant messages.
pub fn explain_serde_message(message: &str) -> String {
    for (prefix, what) in [("unknown field `", "field"), ("unknown variant `", "value")] {
        if let Some(rest) = message.strip_prefix(prefix) {
            let Some(end) = rest.find('`') else { break };
            let given = &rest[..end];
            let expected: Vec<&str> = rest[end + 1..]
                .split('`')
                .enumerate()
                .filter(|(i, _)| i % 2 == 1)
                .map(|(_, s)| s)
                .collect();
            if let Some(best) = nearest(given, &expected) {
                return format!("{message}; did you mean `{best}`?");
            }
            if expected.is_empty() {
                return format!("unknown {what} `{given}`");
            }
        }
    }
    message.to_string()
}

/// The candidate closest to `given`, if any is reasonably close.
pub fn nearest<'a>(given: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(given, c), *c))
        .filter(|(score, _)| *score >= 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_finds_line_and_column() {
        let text = "a = 1\nbb = 22\n";
        assert_eq!(locate(text, 11), (2, 6, "bb = 22".to_string()));
        assert_eq!(locate(text, 0), (1, 1, "a = 1".to_string()));
    }

    #[test]
    fn unknown_field_suggests_nearest() {
        let msg = "unknown field `memry_mb`, expected one of `name`, `memory_mb`, `invocations`";
        let out = explain_serde_message(msg);
        assert!(out.ends_with("did you mean `memory_mb`?"), "{out}");
    }

    #[test]
    fn truncated_file_has_a_message() {
        let text = "name = \"x\"\nduration =";
        let e = toml::from_str::<toml::Table>(text).unwrap_err();
        let err = toml_error("t.toml", text, &e);
        assert!(!err.message.is_empty(), "{err}");
        assert_eq!(err.line, Some(2), "{err}");
    }

    #[test]
    fn invalid_utf8_has_line_column_and_offset() {
        let err = text_from_bytes("b.toml", b"a = 1\nname = \"\xff\"\n".to_vec()).unwrap_err();
        let shown = err.to_string();
        assert!(
            shown.starts_with("b.toml:2:9: invalid UTF-8 at byte offset 14"),
            "{shown}"
        );
    }

    #[test]
    fn reading_is_capped() {
        #[cfg(unix)]
        {
            let err = read_text(Path::new("/dev/zero")).unwrap_err();
            assert!(
                err.is_input() && err.to_string().contains("larger than"),
                "{err}"
            );
        }
    }

    #[test]
    fn value_spans_follow_dotted_paths() {
        let text = "[a]\nb = 1\n[[c]]\nd = 2\n[[c]]\nd = 3\n";
        assert_eq!(&text[value_span(text, "a.b")], "1");
        assert_eq!(&text[value_span(text, "c[1].d")], "3");
        // A missing key points at the deepest part that exists.
        assert_eq!(locate(text, value_span(text, "a.zz").start).0, 1);
    }

    #[test]
    fn display_has_file_line_column() {
        let e = InputError::at_span("u.toml", "x = 1\ny = -2\n", 10..12, "must be >= 0");
        let shown = e.to_string();
        assert!(shown.starts_with("u.toml:2:5: must be >= 0"), "{shown}");
    }
}
