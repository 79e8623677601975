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

/// Reads a file to a string, mapping failure to an input error naming the file.
pub fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| {
        Error::Input(InputError::new(
            path.display().to_string(),
            format!("cannot read file: {e}"),
        ))
    })
}

/// Parses TOML `text` (the content of `file`) into `T`, turning any serde or syntax
/// error into an [`InputError`] with line, column and, for an unknown field, the
/// nearest valid name.
pub fn parse_toml<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T> {
    toml::from_str(text).map_err(|e| Error::Input(toml_error(file, text, &e)))
}

/// Converts a `toml` error into an [`InputError`].
pub fn toml_error(file: &str, text: &str, e: &toml::de::Error) -> InputError {
    let message = explain_serde_message(e.message().trim());
    match e.span() {
        Some(span) => InputError::at_span(file, text, span, message),
        None => InputError::new(file, message),
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
    fn display_has_file_line_column() {
        let e = InputError::at_span("u.toml", "x = 1\ny = -2\n", 10..12, "must be >= 0");
        let shown = e.to_string();
        assert!(shown.starts_with("u.toml:2:5: must be >= 0"), "{shown}");
    }
}
