//! The defect-injection spec: `"black@40..45,freeze@100..160,blocks@200,silence@5s..6s,avsync=+120ms@8s.."`.
//!
//! Items are separated by commas. Each is `KIND@PLACE`, or `avsync=OFFSET@PLACE`.
//! Kinds: `black`, `freeze`, `blocks`, `silence`, `avsync`. A place is one position
//! (`200`, `8s`) or a range: `a..b` (half-open, like Rust: frames a to b-1),
//! `a..=b` (inclusive), `a..` (to the end of the clip). A position without unit is a
//! frame number; with `s` or `ms` it is a time. An offset is signed with a unit
//! (`+120ms`, `-0.08s`); positive means the audio lags the video.

use std::ops::Range;

use crate::error::InputError;

use super::DefectKind;

/// The flag name used in errors about the spec.
pub const FLAG: &str = "--defects";

/// A position in the stream: a frame number or a time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pos {
    Frame(u64),
    Seconds(f64),
}

impl Pos {
    /// The frame at this position (times round to the nearest frame).
    pub fn frame(self, fps: f64) -> u64 {
        match self {
            Pos::Frame(f) => f,
            Pos::Seconds(s) => (s * fps).round().max(0.0) as u64,
        }
    }

    /// The time of this position in seconds.
    pub fn seconds(self, fps: f64) -> f64 {
        match self {
            Pos::Frame(f) => f as f64 / fps,
            Pos::Seconds(s) => s,
        }
    }
}

/// How a placement ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FrameRange {
    /// One frame (or, for audio, one frame's duration).
    Single,
    /// Up to, not including, this position.
    Exclusive(Pos),
    /// Up to and including this position (a frame; for times the same as exclusive).
    Inclusive(Pos),
    /// To the end of the clip.
    Open,
}

/// Where a defect goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    pub start: Pos,
    pub end: FrameRange,
}

impl Placement {
    /// Half-open frame range `start..end` in a clip of `total` frames.
    pub fn frames(&self, fps: f64, total: u64) -> (u64, u64) {
        let start = self.start.frame(fps);
        let end = match self.end {
            FrameRange::Single => start.saturating_add(1),
            FrameRange::Exclusive(p) => p.frame(fps),
            FrameRange::Inclusive(Pos::Frame(f)) => f.saturating_add(1),
            FrameRange::Inclusive(p) => p.frame(fps),
            FrameRange::Open => total,
        };
        (start, end)
    }

    /// Half-open time range in seconds in a clip of `duration` seconds.
    pub fn seconds(&self, fps: f64, duration: f64) -> (f64, f64) {
        let start = self.start.seconds(fps);
        let end = match self.end {
            FrameRange::Single => start + 1.0 / fps,
            FrameRange::Exclusive(p) => p.seconds(fps),
            FrameRange::Inclusive(Pos::Frame(f)) => f.saturating_add(1) as f64 / fps,
            FrameRange::Inclusive(p) => p.seconds(fps),
            FrameRange::Open => duration,
        };
        (start, end)
    }
}

/// One parsed item of the spec.
#[derive(Debug, Clone, PartialEq)]
pub struct DefectSpec {
    pub kind: DefectKind,
    pub place: Placement,
    /// A/V offset in milliseconds (avsync only; positive = audio late).
    pub offset_ms: f64,
    /// Byte range of the item in the spec string, for errors.
    pub span: Range<usize>,
}

impl DefectSpec {
    /// An error about this item, pointing at it in `text`.
    pub fn error(&self, text: &str, message: impl Into<String>) -> InputError {
        InputError::at_span(FLAG, text, self.span.clone(), message)
    }
}

/// Parses a defect spec. Errors name `--defects` and the column of the mistake.
pub fn parse_defects(text: &str) -> Result<Vec<DefectSpec>, InputError> {
    let mut out = Vec::new();
    let mut offset = 0;
    for item in text.split(',') {
        let start = offset;
        offset += item.len() + 1;
        let lead = item.len() - item.trim_start().len();
        let item_t = item.trim();
        if item_t.is_empty() {
            if text.trim().is_empty() {
                break;
            }
            return Err(InputError::at_span(
                FLAG,
                text,
                start..start + item.len(),
                "empty item: expected KIND@PLACE such as black@40..45",
            ));
        }
        out.push(parse_item(text, item_t, start + lead)?);
    }
    Ok(out)
}

fn err(text: &str, at: usize, len: usize, msg: impl Into<String>) -> InputError {
    InputError::at_span(FLAG, text, at..at + len.max(1), msg)
}

fn parse_item(text: &str, item: &str, at: usize) -> Result<DefectSpec, InputError> {
    let Some(atpos) = item.find('@') else {
        return Err(err(
            text,
            at,
            item.len(),
            format!("`{item}` has no `@`: expected KIND@PLACE such as black@40..45 or avsync=+120ms@8s.."),
        ));
    };
    let (head, place) = (&item[..atpos], &item[atpos + 1..]);
    let (name, offset_ms) = match head.split_once('=') {
        Some((name, off)) => {
            let off_at = at + name.len() + 1;
            if name.trim() != "avsync" {
                return Err(err(
                    text,
                    at,
                    name.len(),
                    format!("only avsync takes a value (`{name}=...`)"),
                ));
            }
            (name.trim(), parse_offset(text, off.trim(), off_at)?)
        }
        None => (head.trim(), 0.0),
    };
    let kind = match name {
        "black" => DefectKind::Black,
        "freeze" => DefectKind::Freeze,
        "blocks" | "block" | "block_corruption" => DefectKind::BlockCorruption,
        "silence" => DefectKind::Silence,
        "avsync" | "av_sync" => DefectKind::AvSync,
        other => {
            let hint =
                crate::error::nearest(other, &["black", "freeze", "blocks", "silence", "avsync"])
                    .map(|n| format!("; did you mean `{n}`?"))
                    .unwrap_or_default();
            return Err(err(
                text,
                at,
                other.len(),
                format!("unknown defect `{other}`: expected black, freeze, blocks, silence or avsync{hint}"),
            ));
        }
    };
    if kind == DefectKind::AvSync && !head.contains('=') {
        return Err(err(
            text,
            at,
            head.len(),
            "avsync needs an offset: avsync=+120ms@8s..",
        ));
    }
    let place_at = at + atpos + 1;
    let place = parse_place(text, place, place_at)?;
    Ok(DefectSpec {
        kind,
        place,
        offset_ms,
        span: at..at + item.len(),
    })
}

fn parse_offset(text: &str, s: &str, at: usize) -> Result<f64, InputError> {
    let bad = || {
        err(
            text,
            at,
            s.len(),
            format!("`{s}` is not an offset: expected a signed duration such as +120ms or -0.08s"),
        )
    };
    let (num, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return Err(bad());
    };
    let v: f64 = num.trim().parse().map_err(|_| bad())?;
    if !v.is_finite() || v.abs() * scale > 10_000.0 {
        return Err(err(text, at, s.len(), "offset must be within ±10 s"));
    }
    Ok(v * scale)
}

fn parse_pos(text: &str, s: &str, at: usize) -> Result<Pos, InputError> {
    let bad = |why: &str| {
        err(
            text,
            at,
            s.len(),
            format!("`{s}` {why}: expected a frame number (40) or a time (5s, 1500ms)"),
        )
    };
    if s.is_empty() {
        return Err(bad("is empty"));
    }
    if let Some(n) = s.strip_suffix("ms") {
        let v: f64 = n.parse().map_err(|_| bad("is not a time"))?;
        if !(v.is_finite() && v >= 0.0) {
            return Err(bad("is negative"));
        }
        return Ok(Pos::Seconds(v / 1000.0));
    }
    if let Some(n) = s.strip_suffix('s') {
        let v: f64 = n.parse().map_err(|_| bad("is not a time"))?;
        if !(v.is_finite() && v >= 0.0) {
            return Err(bad("is negative"));
        }
        return Ok(Pos::Seconds(v));
    }
    s.parse::<u64>()
        .map(Pos::Frame)
        .map_err(|_| bad("is not a position"))
}

fn parse_place(text: &str, s: &str, at: usize) -> Result<Placement, InputError> {
    let Some(dots) = s.find("..") else {
        return Ok(Placement {
            start: parse_pos(text, s, at)?,
            end: FrameRange::Single,
        });
    };
    let start = parse_pos(text, &s[..dots], at)?;
    let rest = &s[dots + 2..];
    let end = if rest.is_empty() {
        FrameRange::Open
    } else if let Some(r) = rest.strip_prefix('=') {
        FrameRange::Inclusive(parse_pos(text, r, at + dots + 3)?)
    } else {
        FrameRange::Exclusive(parse_pos(text, rest, at + dots + 2)?)
    };
    Ok(Placement { start, end })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_example() {
        let d = parse_defects(
            "black@40..45,freeze@100..160,blocks@200,silence@5s..6s,avsync=+120ms@8s..",
        )
        .unwrap();
        assert_eq!(d.len(), 5);
        assert_eq!(d[0].kind, DefectKind::Black);
        assert_eq!(d[0].place.frames(25.0, 300), (40, 45));
        assert_eq!(d[1].place.frames(25.0, 300), (100, 160));
        assert_eq!(d[2].place.frames(25.0, 300), (200, 201));
        assert_eq!(d[3].place.seconds(25.0, 12.0), (5.0, 6.0));
        assert_eq!(d[4].kind, DefectKind::AvSync);
        assert_eq!(d[4].offset_ms, 120.0);
        assert_eq!(d[4].place.seconds(25.0, 12.0), (8.0, 12.0));
        let inc = parse_defects("black@3..=5").unwrap();
        assert_eq!(inc[0].place.frames(25.0, 300), (3, 6));
        assert!(parse_defects("").unwrap().is_empty());
    }

    #[test]
    fn errors_point_at_the_mistake() {
        let e = parse_defects("black@40..45,frezee@100").unwrap_err();
        assert_eq!(e.file, "--defects");
        assert_eq!(e.column, Some(14));
        assert!(e.message.contains("did you mean `freeze`"), "{}", e.message);
        let e = parse_defects("black@40..4x5").unwrap_err();
        assert_eq!(e.column, Some(11));
        let e = parse_defects("avsync=+12@8s..").unwrap_err();
        assert_eq!(e.column, Some(8));
        assert!(parse_defects("avsync@8s").is_err());
        assert!(parse_defects("black40").is_err());
        assert!(parse_defects("black@1,,freeze@3..5").is_err());
        assert!(parse_defects("silence@-5s..6s").is_err());
    }
}
