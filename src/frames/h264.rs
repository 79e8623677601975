//! H.264 Annex-B elementary streams (`.h264`/`.264`), encoded and decoded with the
//! `openh264` crate (Cisco's OpenH264 built from its bundled source).

use openh264::decoder::{Decoder, DecoderConfig};
use openh264::encoder::{
    BitRate, Complexity, Encoder, EncoderConfig, FrameRate, IntraFramePeriod, QpRange,
    RateControlMode,
};
use openh264::formats::{YUVSlices, YUVSource};
use openh264::OpenH264API;

use crate::error::{Error, InputError, Result};

use super::{Frame, FrameSize};

/// Bits per pixel per frame the encoder aims at (≈ 3.5 Mbit/s at 720p25, 7.8 at 1080p25),
/// with at least [`MIN_BITRATE`].
pub const BITS_PER_PIXEL: f64 = 0.15;
/// Smallest bitrate the encoder is given (bit/s).
pub const MIN_BITRATE: f64 = 1.0e6;

/// Encodes frames to an Annex-B stream.
pub struct H264Encoder {
    enc: Encoder,
    size: FrameSize,
}

impl H264Encoder {
    /// An encoder for frames of `size` at `fps`: bitrate from [`BITS_PER_PIXEL`]
    /// (buffer-based rate control, QP 20–32), no skipped frames, an IDR every two
    /// seconds, low complexity (fast).
    pub fn new(size: FrameSize, fps: f64) -> Result<Self> {
        let bps = (size.pixels() as f64 * fps * BITS_PER_PIXEL).clamp(MIN_BITRATE, 100e6) as u32;
        let config = EncoderConfig::new()
            .bitrate(BitRate::from_bps(bps))
            .max_frame_rate(FrameRate::from_hz(fps as f32))
            .rate_control_mode(RateControlMode::Bufferbased)
            .qp(QpRange::new(20, 32))
            .complexity(Complexity::Low)
            .skip_frames(false)
            .intra_frame_period(IntraFramePeriod::from_num_frames(
                (fps * 2.0).round().max(1.0) as u32,
            ));
        let enc = Encoder::with_api_config(OpenH264API::from_source(), config)
            .map_err(|e| Error::Other(format!("H.264 encoder: {e}")))?;
        Ok(H264Encoder { enc, size })
    }

    /// Encodes one frame, appending its NAL units to `out`.
    pub fn encode(&mut self, frame: &Frame, out: &mut Vec<u8>) -> Result<()> {
        if frame.size != self.size {
            return Err(Error::Other(format!(
                "H.264 encoder: frame is {} but the stream is {}",
                frame.size, self.size
            )));
        }
        let (w, h) = (frame.width(), frame.height());
        let src = YUVSlices::new((&frame.y, &frame.u, &frame.v), (w, h), (w, w / 2, w / 2));
        let bits = self
            .enc
            .encode(&src)
            .map_err(|e| Error::Other(format!("H.264 encoder: {e}")))?;
        bits.write_vec(out);
        Ok(())
    }
}

/// Encodes a whole sequence of frames to an Annex-B stream.
pub fn encode_frames<'a>(frames: impl IntoIterator<Item = &'a Frame>, fps: f64) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut enc: Option<H264Encoder> = None;
    for f in frames {
        let e = match &mut enc {
            Some(e) => e,
            None => enc.insert(H264Encoder::new(f.size, fps)?),
        };
        e.encode(f, &mut out)?;
    }
    Ok(out)
}

/// Decodes Annex-B NAL units into frames.
pub struct H264Decoder {
    dec: Decoder,
    name: String,
    frames: u64,
}

impl H264Decoder {
    /// A decoder; `name` (the file) is used in errors.
    pub fn new(name: &str) -> Result<Self> {
        let dec = Decoder::with_api_config(OpenH264API::from_source(), DecoderConfig::new())
            .map_err(|e| Error::Other(format!("H.264 decoder: {e}")))?;
        Ok(H264Decoder {
            dec,
            name: name.to_string(),
            frames: 0,
        })
    }

    /// Feeds one NAL unit (with its start code); when it completes a picture, copies
    /// it into `out` and returns true.
    pub fn decode_nal(&mut self, nal: &[u8], out: &mut Frame) -> Result<bool> {
        let res = self.dec.decode(nal).map_err(|e| {
            InputError::new(
                self.name.clone(),
                format!(
                    "not a decodable H.264 stream (after {} frames): {e}",
                    self.frames
                ),
            )
        })?;
        match res {
            Some(yuv) => {
                copy_decoded(&yuv, out, &self.name)?;
                self.frames += 1;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Decodes a whole stream, calling `sink` with each picture (one reused buffer).
    /// Returns the number of pictures.
    pub fn decode_stream(
        &mut self,
        stream: &[u8],
        mut sink: impl FnMut(&Frame) -> Result<()>,
    ) -> Result<u64> {
        let mut frame = Frame::new(FrameSize::new(16, 16));
        let mut n = 0;
        if stream.is_empty() {
            return Err(InputError::new(
                self.name.clone(),
                "byte offset 0: the stream is empty; expected H.264 Annex-B NAL units (starting 00 00 00 01)",
            )
            .into());
        }
        for nal in openh264::nal_units(stream) {
            let offset = nal.as_ptr() as usize - stream.as_ptr() as usize;
            let got = self.decode_nal(nal, &mut frame).map_err(|e| match e {
                Error::Input(mut i) => {
                    i.message = format!("byte offset {offset}: {}", i.message);
                    Error::Input(i)
                }
                other => other,
            })?;
            if got {
                sink(&frame)?;
                n += 1;
            }
        }
        let rest = self.dec.flush_remaining().map_err(|e| {
            InputError::new(
                self.name.clone(),
                format!("not a decodable H.264 stream: {e}"),
            )
        })?;
        let mut tail = Vec::new();
        for yuv in &rest {
            let mut f = Frame::new(FrameSize::new(16, 16));
            copy_decoded(yuv, &mut f, &self.name)?;
            tail.push(f);
        }
        drop(rest);
        for f in &tail {
            sink(f)?;
            n += 1;
        }
        if n == 0 {
            return Err(InputError::new(
                self.name.clone(),
                format!("byte offset {}: no picture could be decoded from the {} bytes: expected an H.264 Annex-B stream", stream.len(), stream.len()),
            )
            .into());
        }
        Ok(n)
    }
}

/// Decodes a whole Annex-B stream into frames.
pub fn decode_frames(stream: &[u8], name: &str) -> Result<Vec<Frame>> {
    let mut out = Vec::new();
    H264Decoder::new(name)?.decode_stream(stream, |f| {
        out.push(f.clone());
        Ok(())
    })?;
    Ok(out)
}

fn copy_decoded(yuv: &impl YUVSource, out: &mut Frame, name: &str) -> Result<()> {
    let (w, h) = yuv.dimensions();
    let size = FrameSize::new(w as u32, h as u32);
    size.check()
        .map_err(|m| InputError::new(name, format!("unsupported frame size in the stream: {m}")))?;
    out.reshape(size);
    let (sy, su, sv) = yuv.strides();
    let (cw, ch) = size.chroma();
    copy_plane(yuv.y(), sy, &mut out.y, w, h);
    copy_plane(yuv.u(), su, &mut out.u, cw, ch);
    copy_plane(yuv.v(), sv, &mut out.v, cw, ch);
    Ok(())
}

fn copy_plane(src: &[u8], stride: usize, dst: &mut [u8], w: usize, h: usize) {
    for (row, d) in dst.chunks_exact_mut(w).take(h).enumerate() {
        d.copy_from_slice(&src[row * stride..row * stride + w]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_frame_count_and_content() {
        let size = FrameSize::new(64, 48);
        let frames: Vec<Frame> = (0..10)
            .map(|i| {
                let mut f = Frame::new(size);
                for (k, p) in f.y.iter_mut().enumerate() {
                    *p = ((k % 64) * 3 + i * 5) as u8;
                }
                f
            })
            .collect();
        let bytes = encode_frames(&frames, 25.0).unwrap();
        let back = decode_frames(&bytes, "mem").unwrap();
        assert_eq!(back.len(), frames.len());
        let err: u64 = back[9]
            .y
            .iter()
            .zip(&frames[9].y)
            .map(|(a, b)| a.abs_diff(*b) as u64)
            .sum();
        assert!(err / (64 * 48) < 4, "mean error {}", err / (64 * 48));
        let garbage: Vec<u8> = (0..5000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        assert!(decode_frames(&garbage, "g").is_err_and(|e| e.is_input()));
    }
}
