//! Y4M (YUV4MPEG2) reading and writing: 8-bit 4:2:0 (`C420`, `C420jpeg`,
//! `C420paldv`, `C420mpeg2`) and mono (`Cmono`). `ffmpeg -i movie.mp4 -t 10 -f yuv4mpegpipe clip.y4m`
//! makes one.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use crate::error::{Error, InputError, Result};

use super::{Frame, FrameSize};

/// Streams frames from a Y4M file.
pub struct Y4mReader<R: Read> {
    dec: ::y4m::Decoder<R>,
    name: String,
    size: FrameSize,
    fps: f64,
    mono: bool,
    index: u64,
}

impl Y4mReader<BufReader<File>> {
    /// Opens a Y4M file; errors name the file (exit code 2).
    pub fn open(path: &Path) -> Result<Self> {
        let name = path.display().to_string();
        let file = File::open(path)
            .map_err(|e| InputError::new(name.clone(), format!("cannot read file: {e}")))?;
        let meta = file
            .metadata()
            .map_err(|e| InputError::new(name.clone(), format!("cannot read file: {e}")))?;
        let reader = Y4mReader::new(BufReader::with_capacity(1 << 20, file), &name)?;
        if meta.is_file() {
            check_length(path, &name, meta.len(), &reader)?;
        }
        Ok(reader)
    }
}

/// Checks that a Y4M file holds a whole number of frames of the size its header
/// states (each `FRAME` line and its planes), so a lying header or a truncated last
/// frame is an error at its byte offset rather than a short count.
fn check_length<R: Read>(path: &Path, name: &str, len: u64, r: &Y4mReader<R>) -> Result<()> {
    let mut head = Vec::new();
    File::open(path)
        .and_then(|f| f.take(4096).read_to_end(&mut head))
        .map_err(|e| InputError::new(name, format!("cannot read file: {e}")))?;
    let Some(header_len) = head.iter().position(|&b| b == b'\n').map(|i| i as u64 + 1) else {
        return Ok(());
    };
    // Frames with parameters on their FRAME line have no fixed length: not checked.
    let after = &head[header_len as usize..];
    if after.len() >= 6 && &after[..6] != b"FRAME\n" {
        return Ok(());
    }
    let (cw, ch) = r.size.chroma();
    let planes = r.size.pixels() + if r.mono { 0 } else { 2 * (cw * ch) as u64 };
    let frame_len = 6 + planes;
    let body = len - header_len.min(len);
    if body == 0 {
        return Err(InputError::new(name, format!(
            "byte offset {header_len}: no frames after the header; expected `FRAME` and {planes} bytes per {} frame",
            r.size
        )).into());
    }
    let whole = body / frame_len;
    if body % frame_len != 0 {
        let offset = header_len + whole * frame_len;
        return Err(InputError::new(name, format!(
            "byte offset {offset}: frame {whole} is cut short ({} of {frame_len} bytes); the header states {} frames of {planes} bytes each: truncated file or a header that does not match the frames",
            body % frame_len,
            r.size
        )).into());
    }
    Ok(())
}

impl<R: Read> Y4mReader<R> {
    /// Byte offset in the file of frame `index` is unknown to a plain reader; the
    /// file check above reports lengths, this names the frame.
    fn frame_error(&self, e: impl std::fmt::Display) -> Error {
        InputError::new(
            self.name.clone(),
            format!("frame {}: garbled Y4M frame: {e}", self.index),
        )
        .into()
    }
}

impl<R: Read> Y4mReader<R> {
    /// Reads the stream header from `reader`; `name` is used in errors.
    pub fn new(reader: R, name: &str) -> Result<Self> {
        let bad = |m: String| Error::Input(InputError::new(name, m));
        let dec = ::y4m::Decoder::new_with_limits(reader, ::y4m::Limits { bytes: 64 << 20 })
            .map_err(|e| {
                bad(format!(
                    "not a Y4M stream (expected a `YUV4MPEG2 W.. H.. F..` header): {e}"
                ))
            })?;
        let size = FrameSize::new(dec.get_width() as u32, dec.get_height() as u32);
        size.check()
            .map_err(|m| bad(format!("unsupported frame size: {m}")))?;
        let mono = match dec.get_colorspace() {
            ::y4m::Colorspace::Cmono => true,
            ::y4m::Colorspace::C420
            | ::y4m::Colorspace::C420jpeg
            | ::y4m::Colorspace::C420paldv
            | ::y4m::Colorspace::C420mpeg2 => false,
            other => {
                return Err(bad(format!(
                    "colorspace {other:?} is not supported: expected 8-bit 4:2:0 or mono (ffmpeg -pix_fmt yuv420p)"
                )))
            }
        };
        let r = dec.get_framerate();
        if r.num == 0 || r.den == 0 {
            return Err(bad(format!("frame rate {}:{} is not valid", r.num, r.den)));
        }
        let fps = r.num as f64 / r.den as f64;
        if !(0.1..=1000.0).contains(&fps) {
            return Err(bad(format!("frame rate {fps} is out of range")));
        }
        Ok(Y4mReader {
            dec,
            name: name.to_string(),
            size,
            fps,
            mono,
            index: 0,
        })
    }

    /// Frame size from the header.
    pub fn size(&self) -> FrameSize {
        self.size
    }

    /// Frames per second from the header.
    pub fn fps(&self) -> f64 {
        self.fps
    }

    /// Reads the next frame into `out`; `Ok(false)` at the end of the stream.
    pub fn read_into(&mut self, out: &mut Frame) -> Result<bool> {
        let frame = match self.dec.read_frame() {
            Ok(f) => f,
            Err(::y4m::Error::EOF) => return Ok(false),
            Err(e) => return Err(self.frame_error(e)),
        };
        out.reshape(self.size);
        out.y.copy_from_slice(frame.get_y_plane());
        if self.mono {
            out.u.fill(128);
            out.v.fill(128);
        } else {
            out.u.copy_from_slice(frame.get_u_plane());
            out.v.copy_from_slice(frame.get_v_plane());
        }
        self.index += 1;
        Ok(true)
    }
}

/// The Y4M frame-rate ratio for `fps` (e.g. 25 → 25:1, 29.97 → 30000:1001).
pub fn fps_ratio(fps: f64) -> (usize, usize) {
    if (fps - fps.round()).abs() < 1e-9 {
        return (fps.round() as usize, 1);
    }
    let ntsc = fps * 1001.0 / 1000.0;
    if (ntsc - ntsc.round()).abs() < 1e-6 {
        return (ntsc.round() as usize * 1000, 1001);
    }
    ((fps * 1000.0).round() as usize, 1000)
}

/// Writes frames to a Y4M file (`C420jpeg`).
pub struct Y4mWriter<W: Write> {
    enc: ::y4m::Encoder<W>,
    path: String,
}

impl Y4mWriter<BufWriter<File>> {
    /// Creates `path` and writes the header.
    pub fn create(path: &Path, size: FrameSize, fps: f64) -> Result<Self> {
        let file = File::create(path).map_err(|e| Error::io(path, e))?;
        Y4mWriter::new(
            BufWriter::with_capacity(1 << 20, file),
            size,
            fps,
            &path.display().to_string(),
        )
    }
}

impl<W: Write> Y4mWriter<W> {
    /// Writes the header to `writer`.
    pub fn new(writer: W, size: FrameSize, fps: f64, name: &str) -> Result<Self> {
        let (num, den) = fps_ratio(fps);
        let enc = ::y4m::encode(
            size.width as usize,
            size.height as usize,
            ::y4m::Ratio::new(num, den),
        )
        .with_colorspace(::y4m::Colorspace::C420jpeg)
        .write_header(writer)
        .map_err(|e| Error::Other(format!("{name}: {e}")))?;
        Ok(Y4mWriter {
            enc,
            path: name.to_string(),
        })
    }

    /// Appends one frame.
    pub fn write(&mut self, frame: &Frame) -> Result<()> {
        self.enc
            .write_frame(&::y4m::Frame::new([&frame.y, &frame.u, &frame.v], None))
            .map_err(|e| Error::Other(format!("{}: {e}", self.path)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let size = FrameSize::new(32, 16);
        let mut f = Frame::new(size);
        f.y[5] = 7;
        f.v[3] = 200;
        let mut buf = Vec::new();
        {
            let mut w = Y4mWriter::new(&mut buf, size, 29.97, "mem").unwrap();
            w.write(&f).unwrap();
            w.write(&f).unwrap();
        }
        let mut r = Y4mReader::new(&buf[..], "mem").unwrap();
        assert_eq!(r.size(), size);
        assert!((r.fps() - 29.97).abs() < 1e-3);
        let mut g = Frame::new(FrameSize::new(16, 16));
        assert!(r.read_into(&mut g).unwrap());
        assert_eq!(g, f);
        assert!(r.read_into(&mut g).unwrap());
        assert!(!r.read_into(&mut g).unwrap());

        assert!(Y4mReader::new(&b"garbage"[..], "g").is_err_and(|e| e.is_input()));
        let mono = b"YUV4MPEG2 W16 H16 F25:1 Cmono\nFRAME\n";
        let mut data = mono.to_vec();
        data.extend([50u8; 256]);
        let mut r = Y4mReader::new(&data[..], "m").unwrap();
        assert!(r.read_into(&mut g).unwrap());
        assert!(g.y.iter().all(|&p| p == 50) && g.u.iter().all(|&p| p == 128));
        let bad = b"YUV4MPEG2 W16 H16 F25:1 C444\n";
        assert!(Y4mReader::new(&bad[..], "b").is_err_and(|e| e.is_input()));
        let mut broken = buf.clone();
        broken[buf.len() / 2 + 3..buf.len() / 2 + 8].copy_from_slice(b"XXXXX");
        let mut r = Y4mReader::new(&broken[..], "b").unwrap();
        let res = (0..3)
            .map(|_| r.read_into(&mut g))
            .find(|r| !matches!(r, Ok(true)));
        assert!(res.is_some());
    }
}
