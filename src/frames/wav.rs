//! WAV (PCM) reading and writing. archsim writes 48 kHz mono 16-bit; it reads 8/16/24/32-bit
//! integer or float WAV, any channel count (mixed down) and any rate (resampled to 48 kHz).

use std::path::Path;

use crate::error::{Error, InputError, Result};

use super::AUDIO_RATE;

/// Writes 48 kHz mono 16-bit PCM.
pub fn write_wav(path: &Path, samples: &[i16]) -> Result<()> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: AUDIO_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let io = |e: hound::Error| match e {
        hound::Error::IoError(io) => Error::io(path, io),
        other => Error::Other(format!("{}: {other}", path.display())),
    };
    let mut w = hound::WavWriter::create(path, spec).map_err(io)?;
    for &s in samples {
        w.write_sample(s).map_err(io)?;
    }
    w.finalize().map_err(io)
}

/// Lowest and highest sample rates read (telephone to studio), Hz.
const MIN_RATE: u32 = 8_000;
const MAX_RATE: u32 = 384_000;
/// Longest audio read, seconds.
const MAX_SECONDS: u64 = 3 * 3600;

/// Reads a WAV file as 48 kHz mono i16. Errors name the file (exit code 2).
pub fn read_wav(path: &Path) -> Result<Vec<i16>> {
    let name = path.display().to_string();
    let bad = |m: String| Error::Input(InputError::new(name.clone(), m));
    let reader = hound::WavReader::open(path)
        .map_err(|e| bad(format!("byte offset 0: not a readable WAV header: {e}")))?;
    let spec = reader.spec();
    if !(MIN_RATE..=MAX_RATE).contains(&spec.sample_rate) {
        return Err(bad(format!(
            "byte offset 24: sample rate {} Hz in the header; expected {MIN_RATE} to {MAX_RATE} Hz",
            spec.sample_rate
        )));
    }
    if !(1..=32).contains(&spec.channels) {
        return Err(bad(format!(
            "byte offset 22: {} channels in the header; expected 1 to 32",
            spec.channels
        )));
    }
    let declared = reader.len() as u64;
    let bytes_per_sample = (spec.bits_per_sample as u64).div_ceil(8).max(1);
    let file_len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if declared == 0 {
        return Err(bad(format!(
            "byte offset {file_len}: no audio samples; expected a non-empty WAV file"
        )));
    }
    if declared * bytes_per_sample > file_len {
        return Err(bad(format!(
            "byte offset {file_len}: the header declares {declared} samples ({} bytes) but the file ends here: truncated WAV",
            declared * bytes_per_sample
        )));
    }
    if declared / spec.channels as u64 > MAX_SECONDS * spec.sample_rate as u64 {
        return Err(bad(format!(
            "longer than {MAX_SECONDS} s: cut the clip shorter"
        )));
    }
    let channels = spec.channels as usize;
    let raw: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .into_samples::<f32>()
            .collect::<Result<_, _>>()
            .map_err(|e| bad(format!("garbled WAV data: {e}")))?,
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
                .map_err(|e| bad(format!("garbled WAV data: {e}")))?
        }
    };
    let mono: Vec<f32> = raw
        .chunks(channels)
        .map(|c| c.iter().sum::<f32>() / channels as f32)
        .collect();
    let mono = if spec.sample_rate == AUDIO_RATE {
        mono
    } else {
        resample(&mono, spec.sample_rate, AUDIO_RATE)
    };
    Ok(mono
        .iter()
        .map(|&s| (s * 32768.0).round().clamp(-32768.0, 32767.0) as i16)
        .collect())
}

/// Linear-interpolation resampling.
fn resample(x: &[f32], from: u32, to: u32) -> Vec<f32> {
    if x.is_empty() {
        return Vec::new();
    }
    let n = (x.len() as u64 * to as u64 / from as u64) as usize;
    let step = from as f64 / to as f64;
    (0..n)
        .map(|i| {
            let p = i as f64 * step;
            let i0 = p.floor() as usize;
            let f = (p - i0 as f64) as f32;
            let a = x[i0.min(x.len() - 1)];
            let b = x[(i0 + 1).min(x.len() - 1)];
            a + (b - a) * f
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.wav");
        let samples: Vec<i16> = (0..1000).map(|i| (i * 30 - 15000) as i16).collect();
        write_wav(&p, &samples).unwrap();
        assert_eq!(read_wav(&p).unwrap(), samples);
        let g = dir.path().join("g.wav");
        std::fs::write(&g, b"RIFF nonsense").unwrap();
        assert!(read_wav(&g).unwrap_err().is_input());
        assert!(read_wav(&dir.path().join("missing.wav"))
            .unwrap_err()
            .is_input());
        assert_eq!(resample(&[0.0, 1.0, 2.0, 3.0], 24_000, 48_000).len(), 8);
        // A header that lies about the rate (1 Hz, 0 Hz) or is cut short.
        let mut bytes = std::fs::read(&p).unwrap();
        for rate in [0u32, 1] {
            bytes[24..28].copy_from_slice(&rate.to_le_bytes());
            std::fs::write(&g, &bytes).unwrap();
            let e = read_wav(&g).unwrap_err().to_string();
            // hound itself refuses some lying headers (an inconsistent fmt chunk).
            assert!(
                e.contains("byte offset") && (e.contains("sample rate") || e.contains("fmt")),
                "{e}"
            );
        }
        let good = std::fs::read(&p).unwrap();
        std::fs::write(&g, &good[..good.len() - 100]).unwrap();
        let e = read_wav(&g).unwrap_err().to_string();
        assert!(e.contains("truncated") || e.contains("garbled"), "{e}");
    }
}
