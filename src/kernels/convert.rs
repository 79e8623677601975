//! The media converter's steps after H.264 decoding (which lives in
//! [`crate::frames::h264`]): bilinear scaling to the analysis size, and JPEG encode /
//! decode of analysis frames for layouts that pass frames through storage.

use std::io::Cursor;

use image::codecs::jpeg::{JpegDecoder, JpegEncoder};
use image::{ExtendedColorType, ImageDecoder};

use crate::error::{Error, Result};
use crate::frames::generate::rgb_to_yuv;
use crate::frames::{Frame, FrameSize};

/// JPEG quality used by the converter (the image crate's scale, 1–100).
pub const JPEG_QUALITY: u8 = 85;

/// Bilinear scaler with coordinate tables cached for one (source, target) pair.
#[derive(Debug, Default, Clone)]
pub struct Scaler {
    key: Option<(FrameSize, FrameSize)>,
    lx: Vec<(u32, u16)>,
    ly: Vec<(u32, u16)>,
    cx: Vec<(u32, u16)>,
    cy: Vec<(u32, u16)>,
}

fn table(out: &mut Vec<(u32, u16)>, dst: usize, src: usize) {
    out.clear();
    let step = src as f64 / dst as f64;
    let max = src.saturating_sub(2) as f64;
    for i in 0..dst {
        let s = ((i as f64 + 0.5) * step - 0.5).clamp(0.0, max + 0.999);
        let i0 = s.floor();
        out.push((i0 as u32, ((s - i0) * 256.0) as u16));
    }
}

fn resample(src: &[u8], sw: usize, xs: &[(u32, u16)], ys: &[(u32, u16)], dst: &mut [u8]) {
    let dw = xs.len();
    for (row, &(sy, fy)) in ys.iter().enumerate() {
        let r0 = &src[sy as usize * sw..sy as usize * sw + sw];
        let r1 = &src[(sy as usize + 1) * sw..(sy as usize + 1) * sw + sw];
        let d = &mut dst[row * dw..(row + 1) * dw];
        let fy = fy as u32;
        for (o, &(sx, fx)) in d.iter_mut().zip(xs) {
            let sx = sx as usize;
            let fx = fx as u32;
            let top = r0[sx] as u32 * (256 - fx) + r0[sx + 1] as u32 * fx;
            let bot = r1[sx] as u32 * (256 - fx) + r1[sx + 1] as u32 * fx;
            *o = ((top * (256 - fy) + bot * fy + 32768) >> 16) as u8;
        }
    }
}

impl Scaler {
    pub fn new() -> Self {
        Scaler::default()
    }

    /// Resamples `src` onto `dst_size` (all three planes), always running the full
    /// bilinear pass (also for equal sizes: that is the converter's per-pixel cost).
    pub fn scale(&mut self, src: &Frame, dst_size: FrameSize, dst: &mut Frame) {
        if self.key != Some((src.size, dst_size)) {
            let (scw, sch) = src.size.chroma();
            let (dcw, dch) = dst_size.chroma();
            table(&mut self.lx, dst_size.width as usize, src.width());
            table(&mut self.ly, dst_size.height as usize, src.height());
            table(&mut self.cx, dcw, scw);
            table(&mut self.cy, dch, sch);
            self.key = Some((src.size, dst_size));
        }
        dst.reshape(dst_size);
        let (scw, _) = src.size.chroma();
        resample(&src.y, src.width(), &self.lx, &self.ly, &mut dst.y);
        resample(&src.u, scw, &self.cx, &self.cy, &mut dst.u);
        resample(&src.v, scw, &self.cx, &self.cy, &mut dst.v);
    }
}

/// JPEG encoder/decoder for analysis frames, with reused buffers.
#[derive(Debug, Clone)]
pub struct JpegCodec {
    pub quality: u8,
    rgb: Vec<u8>,
    bytes: Vec<u8>,
}

impl Default for JpegCodec {
    fn default() -> Self {
        JpegCodec::new(JPEG_QUALITY)
    }
}

impl JpegCodec {
    pub fn new(quality: u8) -> Self {
        JpegCodec {
            quality: quality.clamp(1, 100),
            rgb: Vec::new(),
            bytes: Vec::new(),
        }
    }

    /// Encodes `frame` (converted to RGB) as a colour JPEG; returns its bytes.
    pub fn encode(&mut self, frame: &Frame) -> Result<&[u8]> {
        yuv_to_rgb(frame, &mut self.rgb);
        self.bytes.clear();
        JpegEncoder::new_with_quality(&mut self.bytes, self.quality)
            .encode(
                &self.rgb,
                frame.size.width,
                frame.size.height,
                ExtendedColorType::Rgb8,
            )
            .map_err(|e| Error::Other(format!("JPEG encode: {e}")))?;
        Ok(&self.bytes)
    }

    /// Decodes a JPEG (RGB or gray) into a 4:2:0 frame.
    pub fn decode(&mut self, bytes: &[u8], out: &mut Frame) -> Result<()> {
        let dec = JpegDecoder::new(Cursor::new(bytes))
            .map_err(|e| Error::Other(format!("JPEG decode: {e}")))?;
        let (w, h) = dec.dimensions();
        let channels = dec.color_type().channel_count() as usize;
        let size = FrameSize::new(w, h);
        size.check()
            .map_err(|m| Error::Other(format!("JPEG decode: {m}")))?;
        self.rgb.resize(w as usize * h as usize * channels, 0);
        dec.read_image(&mut self.rgb)
            .map_err(|e| Error::Other(format!("JPEG decode: {e}")))?;
        out.reshape(size);
        if channels == 1 {
            out.y.copy_from_slice(&self.rgb);
            out.u.fill(128);
            out.v.fill(128);
        } else {
            rgb_to_frame(&self.rgb, channels, out);
        }
        Ok(())
    }
}

/// BT.601 limited-range 4:2:0 → packed RGB.
pub fn yuv_to_rgb(f: &Frame, rgb: &mut Vec<u8>) {
    let (w, h) = (f.width(), f.height());
    let (cw, _) = f.size.chroma();
    rgb.resize(w * h * 3, 0);
    for y in 0..h {
        let yr = &f.y[y * w..(y + 1) * w];
        let ur = &f.u[(y / 2) * cw..(y / 2) * cw + cw];
        let vr = &f.v[(y / 2) * cw..(y / 2) * cw + cw];
        let out = &mut rgb[y * w * 3..(y + 1) * w * 3];
        for (x, px) in out.chunks_exact_mut(3).enumerate() {
            let c = 298 * (yr[x] as i32 - 16);
            let d = ur[x / 2] as i32 - 128;
            let e = vr[x / 2] as i32 - 128;
            px[0] = ((c + 409 * e + 128) >> 8).clamp(0, 255) as u8;
            px[1] = ((c - 100 * d - 208 * e + 128) >> 8).clamp(0, 255) as u8;
            px[2] = ((c + 516 * d + 128) >> 8).clamp(0, 255) as u8;
        }
    }
}

/// Packed RGB (3 or 4 channels) → 4:2:0 frame (chroma from the top-left pixel of each 2×2).
pub fn rgb_to_frame(rgb: &[u8], channels: usize, out: &mut Frame) {
    let (w, h) = (out.width(), out.height());
    let (cw, _) = out.size.chroma();
    for y in 0..h {
        for x in 0..w {
            let i = (y * w + x) * channels;
            let [yy, u, v] = rgb_to_yuv(rgb[i], rgb[i + 1], rgb[i + 2]);
            out.y[y * w + x] = yy;
            if y % 2 == 0 && x % 2 == 0 {
                out.u[(y / 2) * cw + x / 2] = u;
                out.v[(y / 2) * cw + x / 2] = v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_and_jpeg_round_trip() {
        let size = FrameSize::new(64, 32);
        let mut f = Frame::new(size);
        for (i, p) in f.y.iter_mut().enumerate() {
            *p = (16 + (i % 64) * 3) as u8;
        }
        let mut s = Scaler::new();
        let mut half = Frame::new(size);
        s.scale(&f, FrameSize::new(32, 16), &mut half);
        assert_eq!(half.size, FrameSize::new(32, 16));
        assert!(
            half.y[5].abs_diff(f.y[10]) <= 3,
            "{} vs {}",
            half.y[5],
            f.y[10]
        );
        let mut same = Frame::new(size);
        s.scale(&f, size, &mut same);
        assert_eq!(same.y, f.y);

        let mut c = JpegCodec::default();
        let bytes = c.encode(&f).unwrap().to_vec();
        assert!(bytes.len() > 100 && bytes.starts_with(&[0xFF, 0xD8]));
        let mut back = Frame::new(FrameSize::new(16, 16));
        c.decode(&bytes, &mut back).unwrap();
        assert_eq!(back.size, size);
        let err: u32 = back
            .y
            .iter()
            .zip(&f.y)
            .map(|(a, b)| a.abs_diff(*b) as u32)
            .max()
            .unwrap();
        assert!(err < 12, "max error {err}");
        assert!(c.decode(b"not a jpeg", &mut back).is_err());
    }
}
