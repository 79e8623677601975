//! Frame and audio buffers, the sample-stream generator, defect injection with its
//! ground truth, and Y4M / WAV / H.264 I/O. This room uses nothing else of the crate
//! but the error types.

pub mod defects;
pub mod generate;
pub mod h264;
pub mod wav;
pub mod y4m;

use serde::{Deserialize, Serialize};

use crate::error::InputError;

pub use defects::{parse_defects, DefectSpec, FrameRange, Placement};

/// Audio sample rate of every stream archsim writes and analyses (Hz).
pub const AUDIO_RATE: u32 = 48_000;

/// Largest frame size the generator and the detectors accept.
pub const MAX_SIZE: FrameSize = FrameSize::new(7680, 4320);

/// Width and height of a video frame in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FrameSize {
    pub width: u32,
    pub height: u32,
}

impl FrameSize {
    pub const fn new(width: u32, height: u32) -> Self {
        FrameSize { width, height }
    }

    /// Number of luma pixels.
    pub fn pixels(self) -> u64 {
        self.width as u64 * self.height as u64
    }

    /// Width and height of each 4:2:0 chroma plane (rounded up).
    pub fn chroma(self) -> (usize, usize) {
        (
            self.width.div_ceil(2) as usize,
            self.height.div_ceil(2) as usize,
        )
    }

    /// Parses `WIDTHxHEIGHT` (e.g. `1280x720`); `flag` names the flag or file in the
    /// error. Both sides must be even, from 16 to 7680×4320.
    pub fn parse(text: &str, flag: &str) -> Result<FrameSize, InputError> {
        let bad = |msg: &str| {
            InputError::at_span(
                flag,
                text,
                0..text.len(),
                format!("{msg}: expected WIDTHxHEIGHT such as 1280x720"),
            )
        };
        let (w, h) = text
            .trim()
            .split_once(['x', 'X', '×'])
            .ok_or_else(|| bad(&format!("`{text}` is not a size")))?;
        let w: u32 = w
            .trim()
            .parse()
            .map_err(|_| bad(&format!("width `{w}` is not a whole number")))?;
        let h: u32 = h
            .trim()
            .parse()
            .map_err(|_| bad(&format!("height `{h}` is not a whole number")))?;
        let size = FrameSize::new(w, h);
        size.check().map_err(|m| bad(&m))?;
        Ok(size)
    }

    /// Checks the size is one archsim handles (even sides, 16 to 7680×4320).
    pub fn check(self) -> Result<(), String> {
        if self.width < 16 || self.height < 16 {
            return Err(format!("{self} is too small (at least 16x16)"));
        }
        if self.width > MAX_SIZE.width || self.height > MAX_SIZE.height {
            return Err(format!("{self} is too large (at most {MAX_SIZE})"));
        }
        if self.width % 2 != 0 || self.height % 2 != 0 {
            return Err(format!("{self}: width and height must be even (4:2:0)"));
        }
        Ok(())
    }
}

impl std::fmt::Display for FrameSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}x{}", self.width, self.height)
    }
}

/// One 8-bit 4:2:0 picture: full-size luma, half-size chroma planes, packed rows
/// (stride = width). Mono input gets neutral chroma (128).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub size: FrameSize,
    pub y: Vec<u8>,
    pub u: Vec<u8>,
    pub v: Vec<u8>,
}

impl Frame {
    /// A mid-gray frame.
    pub fn new(size: FrameSize) -> Frame {
        let (cw, ch) = size.chroma();
        Frame {
            size,
            y: vec![128; size.pixels() as usize],
            u: vec![128; cw * ch],
            v: vec![128; cw * ch],
        }
    }

    /// Width in pixels, as `usize`.
    pub fn width(&self) -> usize {
        self.size.width as usize
    }

    /// Height in pixels, as `usize`.
    pub fn height(&self) -> usize {
        self.size.height as usize
    }

    /// Resizes the buffers to `size` (reusing their capacity); contents are unspecified.
    pub fn reshape(&mut self, size: FrameSize) {
        let (cw, ch) = size.chroma();
        self.size = size;
        self.y.resize(size.pixels() as usize, 0);
        self.u.resize(cw * ch, 128);
        self.v.resize(cw * ch, 128);
    }

    /// Copies `other` into `self`, reusing buffers.
    pub fn copy_from(&mut self, other: &Frame) {
        self.size = other.size;
        self.y.clone_from(&other.y);
        self.u.clone_from(&other.u);
        self.v.clone_from(&other.v);
    }
}

/// What kind of defect a detector found (or the generator injected).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DefectKind {
    /// Black frames.
    Black,
    /// Frozen picture: frames repeating the previous one.
    Freeze,
    /// Block corruption: macroblocks lost or garbled.
    BlockCorruption,
    /// Audio silence.
    Silence,
    /// Audio/video out of sync.
    AvSync,
}

impl DefectKind {
    /// Every kind, in a fixed order.
    pub const ALL: [DefectKind; 5] = [
        DefectKind::Black,
        DefectKind::Freeze,
        DefectKind::BlockCorruption,
        DefectKind::Silence,
        DefectKind::AvSync,
    ];

    /// The snake_case name used in JSON.
    pub fn name(self) -> &'static str {
        match self {
            DefectKind::Black => "black",
            DefectKind::Freeze => "freeze",
            DefectKind::BlockCorruption => "block_corruption",
            DefectKind::Silence => "silence",
            DefectKind::AvSync => "av_sync",
        }
    }

    /// True for defects found in the audio alone (positions in seconds are exact).
    pub fn is_audio(self) -> bool {
        matches!(self, DefectKind::Silence)
    }
}

/// One defect, found or injected. Ranges are half-open: `start_frame` is the first
/// defective frame and `end_frame` the first frame after it; `start_s`/`end_s` are the
/// same in seconds (exact sample times for audio defects). `score` is the detector's
/// measure (black: share of dark pixels; freeze: mean absolute difference; block
/// corruption: corrupted macroblocks; silence: RMS in dBFS; av_sync: offset in ms,
/// positive when the audio lags).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defect {
    pub kind: DefectKind,
    pub start_frame: u64,
    pub end_frame: u64,
    pub start_s: f64,
    pub end_s: f64,
    pub score: f64,
}

impl Defect {
    /// A defect over frames `start..end` at `fps`, times derived from frames.
    pub fn frames(kind: DefectKind, start: u64, end: u64, fps: f64, score: f64) -> Defect {
        Defect {
            kind,
            start_frame: start,
            end_frame: end,
            start_s: round_us(start as f64 / fps),
            end_s: round_us(end as f64 / fps),
            score,
        }
    }

    /// A defect over `start_s..end_s` seconds, frames derived (floor/ceil) at `fps`.
    pub fn seconds(kind: DefectKind, start_s: f64, end_s: f64, fps: f64, score: f64) -> Defect {
        Defect {
            kind,
            start_frame: (start_s * fps + 1e-9).floor().max(0.0) as u64,
            end_frame: (end_s * fps - 1e-9).ceil().max(0.0) as u64,
            start_s: round_us(start_s),
            end_s: round_us(end_s),
            score,
        }
    }

    /// Sorts defects deterministically: by start, then kind, then end.
    pub fn sort(defects: &mut [Defect]) {
        defects.sort_by(|a, b| {
            a.start_frame
                .cmp(&b.start_frame)
                .then(a.kind.cmp(&b.kind))
                .then(a.end_frame.cmp(&b.end_frame))
                .then(a.start_s.total_cmp(&b.start_s))
        });
    }
}

/// Rounds seconds to the microsecond, so JSON stays short and stable.
pub fn round_us(s: f64) -> f64 {
    (s * 1e6).round() / 1e6
}

/// The JSON document written by `frames generate` (ground truth) and `kernels detect`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefectReport {
    pub frames: u64,
    pub fps: f64,
    pub defects: Vec<Defect>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_parses_and_rejects() {
        assert_eq!(
            FrameSize::parse("1280x720", "--size").unwrap(),
            FrameSize::new(1280, 720)
        );
        for bad in ["1280", "axb", "1281x720", "8x8", "99999x10", "-2x4", ""] {
            let e = FrameSize::parse(bad, "--size").unwrap_err();
            assert_eq!(e.file, "--size", "{bad}");
        }
    }

    #[test]
    fn defect_json_shape() {
        let d = Defect::frames(DefectKind::BlockCorruption, 200, 201, 25.0, 12.0);
        let j = serde_json::to_string(&d).unwrap();
        assert_eq!(
            j,
            r#"{"kind":"block_corruption","start_frame":200,"end_frame":201,"start_s":8.0,"end_s":8.04,"score":12.0}"#
        );
        let s = Defect::seconds(DefectKind::Silence, 5.0, 6.0, 25.0, -90.0);
        assert_eq!((s.start_frame, s.end_frame), (125, 150));
    }
}

/// Largest media file read whole into memory (an H.264 elementary stream): 2 GiB.
pub const MAX_MEDIA_BYTES: u64 = 2 << 30;

/// Reads a media file whole, at most [`MAX_MEDIA_BYTES`] (so `/dev/zero` cannot be
/// read until memory runs out). Errors name the file (exit code 2).
pub fn read_media(path: &std::path::Path) -> crate::Result<Vec<u8>> {
    crate::error::read_capped(path, MAX_MEDIA_BYTES, "cut the clip shorter")
}
