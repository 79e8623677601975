//! Small value types that check themselves while they are read, so a bad value is
//! reported at its own line and column.

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

use crate::kernels::FrameSize;

/// A finite number > 0.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Positive(pub f64);

impl<'de> Deserialize<'de> for Positive {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        if v.is_finite() && v > 0.0 {
            Ok(Positive(v))
        } else {
            Err(de::Error::custom(format!(
                "expected a finite number > 0, got {v}"
            )))
        }
    }
}

impl Serialize for Positive {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.0)
    }
}

/// A frame size written "WIDTHxHEIGHT", even sizes from 16x16 to 7680x4320.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameSizeText(pub FrameSize);

impl FrameSizeText {
    /// Parses "1280x720".
    pub fn parse(s: &str) -> Result<FrameSize, String> {
        let bad = || {
            format!("expected a frame size like \"1280x720\" (even numbers, 16x16 to 7680x4320), got {s:?}")
        };
        let (w, h) = s.trim().split_once(['x', 'X']).ok_or_else(bad)?;
        let w: u32 = w.trim().parse().map_err(|_| bad())?;
        let h: u32 = h.trim().parse().map_err(|_| bad())?;
        if !(16..=7680).contains(&w) || !(16..=4320).contains(&h) || w % 2 == 1 || h % 2 == 1 {
            return Err(bad());
        }
        Ok(FrameSize::new(w, h))
    }
}

impl<'de> Deserialize<'de> for FrameSizeText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        FrameSizeText::parse(&s)
            .map(FrameSizeText)
            .map_err(de::Error::custom)
    }
}

impl Serialize for FrameSizeText {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_sizes() {
        assert_eq!(
            FrameSizeText::parse("1280x720"),
            Ok(FrameSize::new(1280, 720))
        );
        assert!(FrameSizeText::parse("1281x720").is_err());
        assert!(FrameSizeText::parse("big").is_err());
        assert!(FrameSizeText::parse("0x0").is_err());
    }
}
