//! What a kernel costs, as the simulator sees it. The calibration (measured) and
//! [`FixedCost`] (a mock for tests) both implement [`CostModel`], so the engine and
//! the service models never depend on measuring anything.

use serde::{Deserialize, Serialize};

pub use crate::frames::FrameSize;

/// Every kernel whose cost the simulator draws. The first four are the media
/// converter's steps; the rest are detectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kernel {
    /// Decode one frame of H.264.
    H264Decode,
    /// Convert/scale one decoded frame to the analysis size.
    Scale,
    /// Encode one analysis frame as JPEG (layouts that pass frames through storage).
    JpegEncode,
    /// Decode one JPEG frame (each detector, in those layouts).
    JpegDecode,
    /// Black-frame detector, per frame.
    Black,
    /// Freeze detector, per frame.
    Freeze,
    /// Block-corruption detector, per frame.
    BlockCorruption,
    /// Audio-silence detector, per frame's worth of audio.
    Silence,
    /// Audio/video sync detector, per frame (and its audio).
    AvSync,
}

impl Kernel {
    /// Every kernel, in a fixed order.
    pub const ALL: [Kernel; 9] = [
        Kernel::H264Decode,
        Kernel::Scale,
        Kernel::JpegEncode,
        Kernel::JpegDecode,
        Kernel::Black,
        Kernel::Freeze,
        Kernel::BlockCorruption,
        Kernel::Silence,
        Kernel::AvSync,
    ];

    /// The detectors, in a fixed order.
    pub const DETECTORS: [Kernel; 5] = [
        Kernel::Black,
        Kernel::Freeze,
        Kernel::BlockCorruption,
        Kernel::Silence,
        Kernel::AvSync,
    ];

    /// The snake_case name used in files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::H264Decode => "h264_decode",
            Kernel::Scale => "scale",
            Kernel::JpegEncode => "jpeg_encode",
            Kernel::JpegDecode => "jpeg_decode",
            Kernel::Black => "black",
            Kernel::Freeze => "freeze",
            Kernel::BlockCorruption => "block_corruption",
            Kernel::Silence => "silence",
            Kernel::AvSync => "av_sync",
        }
    }

    /// Parses a snake_case name.
    pub fn from_name(name: &str) -> Option<Kernel> {
        Kernel::ALL.into_iter().find(|k| k.name() == name)
    }

    /// True for the defect detectors.
    pub fn is_detector(self) -> bool {
        Kernel::DETECTORS.contains(&self)
    }
}

/// CPU cost of the kernels at one analysis frame size, on one core of the machine
/// the costs describe.
///
/// Draws take a quantile `u` in `[0, 1)` rather than a generator, so the trait stays
/// object-safe and the caller owns its seeded random streams.
pub trait CostModel: Send + Sync {
    /// CPU time in nanoseconds for `kernel` on one frame, at quantile `u`.
    fn cpu_ns(&self, kernel: Kernel, u: f64) -> u64;
    /// Bytes of one analysis frame encoded as JPEG, at quantile `u`.
    fn jpeg_bytes(&self, u: f64) -> u64;
    /// Mean CPU time in nanoseconds for `kernel` on one frame.
    fn mean_cpu_ns(&self, kernel: Kernel) -> f64;
    /// Mean bytes of one JPEG frame.
    fn mean_jpeg_bytes(&self) -> f64;
}

/// A mock cost model: every draw is the same known number, so tests are exact.
#[derive(Debug, Clone, PartialEq)]
pub struct FixedCost {
    /// CPU nanoseconds per frame, indexed like [`Kernel::ALL`].
    pub cpu_ns: [u64; 9],
    pub jpeg_bytes: u64,
}

impl FixedCost {
    /// Every kernel costs `ns` per frame; a JPEG frame is `jpeg_bytes` bytes.
    pub fn uniform(ns: u64, jpeg_bytes: u64) -> Self {
        FixedCost {
            cpu_ns: [ns; 9],
            jpeg_bytes,
        }
    }

    /// Sets one kernel's cost.
    pub fn with(mut self, kernel: Kernel, ns: u64) -> Self {
        let i = Kernel::ALL.iter().position(|k| *k == kernel).unwrap_or(0);
        self.cpu_ns[i] = ns;
        self
    }

    fn index(kernel: Kernel) -> usize {
        Kernel::ALL.iter().position(|k| *k == kernel).unwrap_or(0)
    }
}

impl CostModel for FixedCost {
    fn cpu_ns(&self, kernel: Kernel, _u: f64) -> u64 {
        self.cpu_ns[Self::index(kernel)]
    }
    fn jpeg_bytes(&self, _u: f64) -> u64 {
        self.jpeg_bytes
    }
    fn mean_cpu_ns(&self, kernel: Kernel) -> f64 {
        self.cpu_ns[Self::index(kernel)] as f64
    }
    fn mean_jpeg_bytes(&self) -> f64 {
        self.jpeg_bytes as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in Kernel::ALL {
            assert_eq!(Kernel::from_name(k.name()), Some(k));
        }
        assert_eq!(Kernel::from_name("nope"), None);
    }

    #[test]
    fn fixed_cost_is_exact() {
        let m = FixedCost::uniform(1000, 50_000).with(Kernel::H264Decode, 4000);
        assert_eq!(m.cpu_ns(Kernel::H264Decode, 0.9), 4000);
        assert_eq!(m.cpu_ns(Kernel::Black, 0.1), 1000);
        assert_eq!(m.jpeg_bytes(0.5), 50_000);
    }
}
