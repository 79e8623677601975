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

/// Reads a WAV file as 48 kHz mono i16. Errors name the file (exit code 2).
pub fn read_wav(path: &Path) -> Result<Vec<i16>> {
    let name = path.display().to_string();
    let bad = |m: String| Error::Input(InputError::new(name.clone(), m));
    let reader =
        hound::WavReader::open(path).map_err(|e| bad(format!("not a readable WAV file: {e}")))?;
    let spec = reader.spec();
    let channels = spec.channels.max(1) as usize;
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
    let mono = if spec.sample_rate == AUDIO_RATE || spec.sample_rate == 0 {
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
    }
}
