//! Sample streams from real photographs: a slow pan and zoom across a photo, mild
//! sensor noise, a small white flash patch once a second with a matching audio tick,
//! and injected defects with their ground truth.
//!
//! [`Generator`] streams frame by frame (constant memory, used by `frames generate`
//! and the calibration); [`generate`] collects a whole [`Clip`].

use std::ops::Range;
use std::path::Path;

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, InputError, Result};

use super::defects::{parse_defects, DefectSpec, FLAG};
use super::{Defect, DefectKind, Frame, FrameSize, AUDIO_RATE};

/// The photographs shipped inside the binary (see assets/samples/SOURCES.md).
pub const PHOTOS: [&str; 4] = ["astronaut", "coffee", "chelsea", "rocket"];

/// Attribution of the shipped photographs.
pub const PHOTO_SOURCES: &str = include_str!("../../assets/samples/SOURCES.md");

fn photo_bytes(name: &str) -> Option<&'static [u8]> {
    Some(match name {
        "astronaut" => include_bytes!("../../assets/samples/astronaut.png"),
        "coffee" => include_bytes!("../../assets/samples/coffee.png"),
        "chelsea" => include_bytes!("../../assets/samples/chelsea.png"),
        "rocket" => include_bytes!("../../assets/samples/rocket.jpg"),
        _ => return None,
    })
}

/// Level of the background tone (peak amplitude, i16 units).
pub const TONE_AMPLITUDE: i16 = 600;
/// Peak amplitude of the uniform background noise.
pub const NOISE_AMPLITUDE: i16 = 300;
/// Peak amplitude of the once-a-second tick (a 2 kHz burst).
pub const TICK_AMPLITUDE: i16 = 16_000;
/// Length of the tick in milliseconds.
pub const TICK_MS: f64 = 8.0;
/// Frequency of the tick burst (Hz).
pub const TICK_HZ: f64 = 2000.0;
/// Frequency of the background tone (Hz).
pub const TONE_HZ: f64 = 440.0;
/// Luma of the flash patch's white square.
pub const FLASH_WHITE: u8 = 235;
/// Luma of the black ring around the flash patch.
pub const FLASH_RING: u8 = 16;

/// Position and size of the flash patch for frames of `size`: a white square inside
/// a black ring, near the top-left corner. Returns `(x, y, side, ring)`.
pub fn flash_patch(size: FrameSize) -> (usize, usize, usize, usize) {
    let side = ((size.height as usize / 18).max(16) + 1) & !1;
    let margin = (size.width as usize / 40).max(8) & !1;
    let ring = (side / 6).max(3);
    (margin, margin, side, ring)
}

/// Samples of audio belonging to frame `index` at `fps`: `[round(i·48000/fps), round((i+1)·48000/fps))`,
/// clamped to `len`.
pub fn audio_range(index: u64, fps: f64, len: usize) -> Range<usize> {
    let per = AUDIO_RATE as f64 / fps;
    let a = ((index as f64 * per).round() as usize).min(len);
    let b = (((index + 1) as f64 * per).round() as usize).min(len);
    a..b
}

/// Frames carrying the flash: the frame nearest each whole second.
pub fn flash_frames(fps: f64, total: u64) -> impl Iterator<Item = u64> {
    (0u64..)
        .map(move |k| (k as f64 * fps).round() as u64)
        .take_while(move |&f| f < total)
}

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateSpec {
    /// A shipped photo name (astronaut, coffee, chelsea, rocket) or a PNG/JPEG path.
    pub photo: String,
    pub size: FrameSize,
    pub fps: f64,
    pub seconds: f64,
    /// The defect spec, e.g. `"black@40..45,blocks@200"` (empty for a clean clip).
    pub defects: String,
    /// Seed of the noise, camera path and corruption (ChaCha8).
    pub seed: u64,
}

impl GenerateSpec {
    /// A clean clip of `photo` at `size`, `fps`, lasting `seconds`, seed 1.
    pub fn new(photo: &str, size: FrameSize, fps: f64, seconds: f64) -> Self {
        GenerateSpec {
            photo: photo.to_string(),
            size,
            fps,
            seconds,
            defects: String::new(),
            seed: 1,
        }
    }

    /// The same spec with defects.
    pub fn with_defects(mut self, defects: &str) -> Self {
        self.defects = defects.to_string();
        self
    }

    /// Number of frames.
    pub fn frame_count(&self) -> u64 {
        (self.seconds * self.fps).round() as u64
    }
}

/// A whole generated clip in memory.
#[derive(Debug, Clone)]
pub struct Clip {
    pub size: FrameSize,
    pub fps: f64,
    pub frames: Vec<Frame>,
    /// 48 kHz mono PCM.
    pub audio: Vec<i16>,
    /// The injected defects, sorted.
    pub truth: Vec<Defect>,
}

impl Clip {
    /// The audio samples that belong to frame `index`.
    pub fn audio_for_frame(&self, index: u64) -> &[i16] {
        &self.audio[audio_range(index, self.fps, self.audio.len())]
    }
}

/// Generates a whole clip in memory (mind the size: 300 frames of 720p take 415 MB;
/// stream with [`Generator`] for long clips).
pub fn generate(spec: &GenerateSpec) -> Result<Clip> {
    let mut g = Generator::new(spec)?;
    let mut frames = Vec::with_capacity(g.frame_count() as usize);
    let mut f = Frame::new(spec.size);
    while g.next_frame(&mut f) {
        frames.push(f.clone());
    }
    Ok(Clip {
        size: spec.size,
        fps: spec.fps,
        frames,
        audio: g.audio().to_vec(),
        truth: g.truth().to_vec(),
    })
}

/// Streams a clip to `OUT.y4m`, `OUT.wav` and `OUT.truth.json` (and `OUT.h264` when
/// `h264`), where OUT is `out` with any extension removed. Returns the paths written.
pub fn write_clip(spec: &GenerateSpec, out: &Path, h264: bool) -> Result<Vec<std::path::PathBuf>> {
    let mut g = Generator::new(spec)?;
    let base = out.with_extension("");
    let with = |ext: &str| {
        let mut p = base.clone().into_os_string();
        p.push(ext);
        std::path::PathBuf::from(p)
    };
    let (y4m, wav, truth, h264_path) = (
        with(".y4m"),
        with(".wav"),
        with(".truth.json"),
        with(".h264"),
    );
    let mut writer = super::y4m::Y4mWriter::create(&y4m, spec.size, spec.fps)?;
    let mut encoder = if h264 {
        Some((
            super::h264::H264Encoder::new(spec.size, spec.fps)?,
            Vec::new(),
        ))
    } else {
        None
    };
    let mut frame = Frame::new(spec.size);
    while g.next_frame(&mut frame) {
        writer.write(&frame)?;
        if let Some((enc, bytes)) = &mut encoder {
            enc.encode(&frame, bytes)?;
        }
    }
    drop(writer);
    super::wav::write_wav(&wav, g.audio())?;
    let report = super::DefectReport {
        frames: g.frame_count(),
        fps: spec.fps,
        defects: g.truth().to_vec(),
    };
    let json = serde_json::to_string_pretty(&report).map_err(|e| Error::Other(e.to_string()))?;
    std::fs::write(&truth, json + "\n").map_err(|e| Error::io(&truth, e))?;
    let mut written = vec![y4m, wav, truth];
    if let Some((_, bytes)) = encoder {
        std::fs::write(&h264_path, bytes).map_err(|e| Error::io(&h264_path, e))?;
        written.push(h264_path);
    }
    Ok(written)
}

/// The photo as Y, U, V planes at its own resolution (full-resolution chroma).
struct Photo {
    w: usize,
    h: usize,
    y: Vec<u8>,
    u: Vec<u8>,
    v: Vec<u8>,
}

fn load_photo(name: &str) -> Result<Photo> {
    let img = match photo_bytes(name) {
        Some(bytes) => image::load_from_memory(bytes)
            .map_err(|e| Error::Other(format!("embedded photo {name}: {e}")))?,
        None => {
            let path = Path::new(name);
            if !path.exists() {
                return Err(InputError::new(
                    "--photo",
                    format!(
                        "unknown photo `{name}`: expected one of {} or a PNG/JPEG file",
                        PHOTOS.join(", ")
                    ),
                )
                .into());
            }
            image::open(path).map_err(|e| {
                InputError::new(name, format!("cannot read the photo (PNG or JPEG): {e}"))
            })?
        }
    };
    let rgb = img.to_rgb8();
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    if w < 16 || h < 16 {
        return Err(
            InputError::new("--photo", format!("photo `{name}` is smaller than 16x16")).into(),
        );
    }
    let mut p = Photo {
        w,
        h,
        y: vec![0; w * h],
        u: vec![0; w * h],
        v: vec![0; w * h],
    };
    for (i, px) in rgb.pixels().enumerate() {
        let [y, u, v] = rgb_to_yuv(px.0[0], px.0[1], px.0[2]);
        p.y[i] = y;
        p.u[i] = u;
        p.v[i] = v;
    }
    Ok(p)
}

/// BT.601 limited-range RGB → YUV.
pub fn rgb_to_yuv(r: u8, g: u8, b: u8) -> [u8; 3] {
    let (r, g, b) = (r as i32, g as i32, b as i32);
    let y = ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16;
    let u = ((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128;
    let v = ((112 * r - 94 * g - 18 * b + 128) >> 8) + 128;
    [
        y.clamp(0, 255) as u8,
        u.clamp(0, 255) as u8,
        v.clamp(0, 255) as u8,
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VideoDefect {
    None,
    Black,
    Freeze,
    Blocks,
}

/// Streams a sample clip frame by frame.
pub struct Generator {
    spec: GenerateSpec,
    photo: Photo,
    total: u64,
    index: u64,
    per_frame: Vec<VideoDefect>,
    flash: Vec<bool>,
    audio: Vec<i16>,
    truth: Vec<Defect>,
    noise: Vec<i8>,
    rng: ChaCha8Rng,
    prev: Frame,
    xs: Vec<(u32, u16)>,
    ys: Vec<(u32, u16)>,
}

const NOISE_LEN: usize = 1 << 16;

impl Generator {
    /// Checks the spec, places the defects, renders the audio.
    pub fn new(spec: &GenerateSpec) -> Result<Generator> {
        spec.size
            .check()
            .map_err(|m| InputError::new("--size", m))?;
        if !(spec.fps.is_finite() && spec.fps >= 1.0 && spec.fps <= 240.0) {
            return Err(InputError::new(
                "--fps",
                format!("{} is not a frame rate from 1 to 240", spec.fps),
            )
            .into());
        }
        if !(spec.seconds.is_finite() && spec.seconds > 0.0 && spec.seconds <= 3600.0) {
            return Err(InputError::new(
                "--seconds",
                format!("{} is not a duration from 0 to 3600 s", spec.seconds),
            )
            .into());
        }
        let total = spec.frame_count().max(1);
        let duration = total as f64 / spec.fps;
        let photo = load_photo(&spec.photo)?;
        let items = parse_defects(&spec.defects)?;
        let text = &spec.defects;

        let mut per_frame = vec![VideoDefect::None; total as usize];
        let mut truth = Vec::new();
        let mut silences: Vec<(f64, f64)> = Vec::new();
        let mut offsets: Vec<(u64, u64, f64, &DefectSpec)> = Vec::new();
        for item in &items {
            let (a, b) = item.place.frames(spec.fps, total);
            let (sa, sb) = item.place.seconds(spec.fps, duration);
            match item.kind {
                DefectKind::Black | DefectKind::Freeze | DefectKind::BlockCorruption => {
                    if a >= b || b > total {
                        return Err(item
                            .error(
                                text,
                                format!("frames {a}..{b} are not inside the clip's {total} frames"),
                            )
                            .into());
                    }
                    if item.kind == DefectKind::Freeze && a == 0 {
                        return Err(item
                            .error(text, "a freeze repeats the frame before it, so it cannot start at frame 0")
                            .into());
                    }
                    let mark = match item.kind {
                        DefectKind::Black => VideoDefect::Black,
                        DefectKind::Freeze => VideoDefect::Freeze,
                        _ => VideoDefect::Blocks,
                    };
                    // Keep a clean frame between video defects so each one is its own event.
                    let lo = a.saturating_sub(1) as usize;
                    let hi = (b as usize + 1).min(total as usize);
                    if per_frame[lo..hi].iter().any(|d| *d != VideoDefect::None) {
                        return Err(item
                            .error(text, "overlaps or touches another video defect: leave at least one clean frame between them")
                            .into());
                    }
                    per_frame[a as usize..b as usize].fill(mark);
                    // Scores: black share 1, freeze difference 0, blocks filled when rendered.
                    let score = if mark == VideoDefect::Black { 1.0 } else { 0.0 };
                    truth.push(Defect::frames(item.kind, a, b, spec.fps, score));
                }
                DefectKind::Silence => {
                    let sb = sb.min(duration);
                    if sa >= sb {
                        return Err(item
                            .error(
                                text,
                                format!("{sa}s..{sb}s is not inside the clip's {duration} s"),
                            )
                            .into());
                    }
                    silences.push((sa, sb));
                    truth.push(Defect::seconds(
                        DefectKind::Silence,
                        sa,
                        sb,
                        spec.fps,
                        -120.0,
                    ));
                }
                DefectKind::AvSync => {
                    if item.offset_ms.abs() >= 450.0 {
                        return Err(item
                            .error(
                                text,
                                "the offset must be under ±450 ms (ticks are one second apart)",
                            )
                            .into());
                    }
                    if a >= b || a >= total {
                        return Err(item
                            .error(
                                text,
                                format!("frames {a}..{b} are not inside the clip's {total} frames"),
                            )
                            .into());
                    }
                    offsets.push((a, b.min(total), item.offset_ms, item));
                }
            }
        }

        // Which frames show the flash: flash frames that are rendered fresh.
        let mut flash = vec![false; total as usize];
        for f in flash_frames(spec.fps, total) {
            flash[f as usize] = matches!(
                per_frame[f as usize],
                VideoDefect::None | VideoDefect::Blocks
            );
        }

        // Audio: tone + noise, ticks at flash times (+ offset), then silences.
        let n = (duration * AUDIO_RATE as f64).round() as usize;
        let mut rng = ChaCha8Rng::seed_from_u64(spec.seed ^ 0xA0D1_0000);
        let mut audio: Vec<i16> = (0..n)
            .map(|i| {
                let t = i as f64 / AUDIO_RATE as f64;
                let tone = TONE_AMPLITUDE as f64 * (2.0 * std::f64::consts::PI * TONE_HZ * t).sin();
                let noise = rng.random_range(-(NOISE_AMPLITUDE as i32)..=NOISE_AMPLITUDE as i32);
                (tone.round() as i32 + noise).clamp(-32768, 32767) as i16
            })
            .collect();
        let tick_len = (TICK_MS / 1000.0 * AUDIO_RATE as f64).round() as usize;
        let mut ticks = Vec::new();
        for f in flash_frames(spec.fps, total) {
            let mut t = f as f64 / spec.fps;
            let mut off = None;
            for (a, b, ms, _) in &offsets {
                if f >= *a && f < *b {
                    t += ms / 1000.0;
                    off = Some(*ms);
                }
            }
            let start = (t * AUDIO_RATE as f64).round();
            if start < 0.0 || start as usize + tick_len > n {
                continue;
            }
            let start = start as usize;
            for k in 0..tick_len {
                let s = TICK_AMPLITUDE as f64
                    * (2.0 * std::f64::consts::PI * TICK_HZ * k as f64 / AUDIO_RATE as f64 + 0.5)
                        .sin();
                audio[start + k] = s.round() as i16;
            }
            ticks.push((f, start, off));
        }
        for &(sa, sb) in &silences {
            let a = ((sa * AUDIO_RATE as f64).round() as usize).min(n);
            let b = ((sb * AUDIO_RATE as f64).round() as usize).min(n);
            audio[a..b].fill(0);
        }

        // A/V offset ground truth: the flashes that are visible with an audible tick.
        for (a, b, ms, item) in &offsets {
            let seen: Vec<u64> = ticks
                .iter()
                .filter(|(f, start, off)| {
                    *f >= *a
                        && *f < *b
                        && off.is_some()
                        && flash[*f as usize]
                        && !silences.iter().any(|&(sa, sb)| {
                            let t0 = *start as f64 / AUDIO_RATE as f64;
                            let t1 = t0 + TICK_MS / 1000.0;
                            t1 > sa && t0 < sb
                        })
                })
                .map(|(f, _, _)| *f)
                .collect();
            let (Some(first), Some(last)) = (seen.first(), seen.last()) else {
                return Err(item
                    .error(text, "no visible flash with an audible tick in this range (there is one per second)")
                    .into());
            };
            truth.push(Defect::frames(
                DefectKind::AvSync,
                *first,
                last + 1,
                spec.fps,
                *ms,
            ));
        }

        Defect::sort(&mut truth);
        let mut nrng = ChaCha8Rng::seed_from_u64(spec.seed ^ 0x5E45_0000);
        let noise = (0..NOISE_LEN + spec.size.width as usize)
            .map(|_| {
                // Sum of three uniforms: roughly normal, sigma ~1.2 levels.
                let s: i32 = (0..3).map(|_| nrng.random_range(-1i32..=1)).sum();
                s as i8
            })
            .collect();
        Ok(Generator {
            spec: spec.clone(),
            photo,
            total,
            index: 0,
            per_frame,
            flash,
            audio,
            truth,
            noise,
            rng: ChaCha8Rng::seed_from_u64(spec.seed),
            prev: Frame::new(spec.size),
            xs: Vec::new(),
            ys: Vec::new(),
        })
    }

    /// Number of frames the clip has.
    pub fn frame_count(&self) -> u64 {
        self.total
    }

    /// The whole audio track (48 kHz mono).
    pub fn audio(&self) -> &[i16] {
        &self.audio
    }

    /// The injected defects, sorted.
    pub fn truth(&self) -> &[Defect] {
        &self.truth
    }

    /// Writes the next frame into `out`; false after the last frame.
    pub fn next_frame(&mut self, out: &mut Frame) -> bool {
        if self.index >= self.total {
            return false;
        }
        let i = self.index as usize;
        out.reshape(self.spec.size);
        match self.per_frame[i] {
            VideoDefect::Black => {
                out.y.fill(16);
                out.u.fill(128);
                out.v.fill(128);
            }
            VideoDefect::Freeze => out.copy_from(&self.prev),
            VideoDefect::None | VideoDefect::Blocks => {
                self.render(out);
                if self.flash[i] {
                    draw_flash(out);
                }
                if self.per_frame[i] == VideoDefect::Blocks {
                    let count = corrupt_blocks(out, &mut self.rng);
                    let frame = self.index;
                    if let Some(d) = self.truth.iter_mut().find(|d| {
                        d.kind == DefectKind::BlockCorruption
                            && d.start_frame <= frame
                            && frame < d.end_frame
                    }) {
                        d.score = d.score.max(count as f64);
                    }
                }
            }
        }
        self.prev.copy_from(out);
        self.index += 1;
        true
    }

    /// Renders the clean picture: pan/zoom across the photo, with sensor noise.
    fn render(&mut self, out: &mut Frame) {
        let t = self.index as f64 / self.spec.fps;
        let (pw, ph) = (self.photo.w as f64, self.photo.h as f64);
        let (ow, oh) = (out.width(), out.height());
        let aspect = ow as f64 / oh as f64;
        let base_w = pw.min(ph * aspect);
        let tau = std::f64::consts::TAU;
        // Zoom between 1.10x and 1.30x. The crop pans at constant speed along
        // triangle waves whose turning points never coincide (x turns every 4 s, y
        // every 3 s, half a second apart), so the camera never stops.
        let zoom = 1.2 + 0.1 * (tau * t / 9.0).sin();
        let cw = base_w / zoom;
        let chh = cw / aspect;
        let slack_x = (pw - cw) / 2.0;
        let slack_y = (ph - chh) / 2.0;
        let cx = pw / 2.0 + 0.8 * slack_x * triangle(t / 8.0);
        let cy = ph / 2.0 + 0.8 * slack_y * triangle((t + 1.5) / 6.0);
        let x0 = cx - cw / 2.0;
        let y0 = cy - chh / 2.0;

        let noise_off = (self.rng.next_u32() as usize) % NOISE_LEN;
        // Luma.
        coords(&mut self.xs, ow, x0, cw / ow as f64, self.photo.w);
        coords(&mut self.ys, oh, y0, chh / oh as f64, self.photo.h);
        sample_plane(
            &self.photo.y,
            self.photo.w,
            &self.xs,
            &self.ys,
            &mut out.y,
            ow,
            Some((&self.noise, noise_off)),
        );
        // Chroma: the same window on a half-resolution grid.
        let (cwid, chei) = out.size.chroma();
        coords(&mut self.xs, cwid, x0, cw / cwid as f64, self.photo.w);
        coords(&mut self.ys, chei, y0, chh / chei as f64, self.photo.h);
        sample_plane(
            &self.photo.u,
            self.photo.w,
            &self.xs,
            &self.ys,
            &mut out.u,
            cwid,
            None,
        );
        sample_plane(
            &self.photo.v,
            self.photo.w,
            &self.xs,
            &self.ys,
            &mut out.v,
            cwid,
            None,
        );
    }
}

/// A triangle wave of period 1 between -1 and 1, turning at whole and half periods.
fn triangle(p: f64) -> f64 {
    let f = p - p.floor();
    if f < 0.5 {
        4.0 * f - 1.0
    } else {
        3.0 - 4.0 * f
    }
}

/// Source index and 8-bit fraction for each of `n` output positions.
fn coords(out: &mut Vec<(u32, u16)>, n: usize, origin: f64, step: f64, src_len: usize) {
    out.clear();
    let max = (src_len - 2) as f64;
    for i in 0..n {
        let s = (origin + (i as f64 + 0.5) * step - 0.5).clamp(0.0, max + 0.999);
        let i0 = s.floor();
        out.push((i0 as u32, ((s - i0) * 256.0) as u16));
    }
}

fn sample_plane(
    src: &[u8],
    stride: usize,
    xs: &[(u32, u16)],
    ys: &[(u32, u16)],
    dst: &mut [u8],
    dst_w: usize,
    noise: Option<(&[i8], usize)>,
) {
    for (row, &(sy, fy)) in ys.iter().enumerate() {
        let r0 = &src[sy as usize * stride..];
        let r1 = &src[(sy as usize + 1) * stride..];
        let d = &mut dst[row * dst_w..(row + 1) * dst_w];
        let fy = fy as u32;
        for (x, &(sx, fx)) in xs.iter().enumerate() {
            let sx = sx as usize;
            let fx = fx as u32;
            let top = r0[sx] as u32 * (256 - fx) + r0[sx + 1] as u32 * fx;
            let bot = r1[sx] as u32 * (256 - fx) + r1[sx + 1] as u32 * fx;
            d[x] = ((top * (256 - fy) + bot * fy + 32768) >> 16) as u8;
        }
        if let Some((table, off)) = noise {
            let o = (off + row * 7919) % NOISE_LEN;
            for (p, n) in d.iter_mut().zip(&table[o..o + dst_w]) {
                *p = (*p as i16 + *n as i16).clamp(0, 255) as u8;
            }
        }
    }
}

fn draw_flash(f: &mut Frame) {
    let (x0, y0, side, ring) = flash_patch(f.size);
    let w = f.width();
    for y in y0..(y0 + side).min(f.height()) {
        for x in x0..(x0 + side).min(w) {
            let inner =
                y >= y0 + ring && y < y0 + side - ring && x >= x0 + ring && x < x0 + side - ring;
            f.y[y * w + x] = if inner { FLASH_WHITE } else { FLASH_RING };
        }
    }
    let (cw, ch) = f.size.chroma();
    for y in y0 / 2..((y0 + side) / 2).min(ch) {
        for x in x0 / 2..((x0 + side) / 2).min(cw) {
            f.u[y * cw + x] = 128;
            f.v[y * cw + x] = 128;
        }
    }
}

/// Corrupts a few runs of 16×16 macroblocks, as when slices are lost: each run is
/// gray, garbage, or content copied from elsewhere. Returns the number of blocks.
fn corrupt_blocks(f: &mut Frame, rng: &mut ChaCha8Rng) -> usize {
    let (mbw, mbh) = (f.width() / 16, f.height() / 16);
    let (fx, fy, side, _) = flash_patch(f.size);
    let flash_mb = |mx: usize, my: usize| mx * 16 < fx + side + 16 && my * 16 < fy + side + 16;
    let runs = 3 + rng.random_range(0..3usize);
    let longest = 24.min(mbw.saturating_sub(2)).max(6);
    let mut count = 0;
    for _ in 0..runs {
        let my = rng.random_range(1..mbh.saturating_sub(1).max(2));
        let len = rng.random_range(6..=longest).min(mbw.saturating_sub(2));
        let mx0 = rng.random_range(1..(mbw - len).max(2));
        let mode = rng.random_range(0..3u8);
        let (sx, sy) = (
            rng.random_range(0..mbw.saturating_sub(len).max(1)),
            rng.random_range(0..mbh),
        );
        for k in 0..len {
            let mx = mx0 + k;
            if mx >= mbw || my >= mbh || flash_mb(mx, my) {
                continue;
            }
            count += 1;
            corrupt_one(f, mx, my, mode, (sx + k, sy), rng);
        }
    }
    count
}

fn corrupt_one(
    f: &mut Frame,
    mx: usize,
    my: usize,
    mode: u8,
    src: (usize, usize),
    rng: &mut ChaCha8Rng,
) {
    let w = f.width();
    let (cw, _) = f.size.chroma();
    // If the copy source is (nearly) the same place, take one further away.
    let src = if src.0.abs_diff(mx) < 3 && src.1.abs_diff(my) < 3 {
        ((mx + 5) % (w / 16), (my + 3) % (f.height() / 16))
    } else {
        src
    };
    for y in 0..16 {
        for x in 0..16 {
            let i = (my * 16 + y) * w + mx * 16 + x;
            f.y[i] = match mode {
                0 => 128,
                1 => rng.random::<u8>(),
                _ => f.y[(src.1 * 16 + y) * w + src.0 * 16 + x],
            };
        }
    }
    for y in 0..8 {
        for x in 0..8 {
            let i = (my * 8 + y) * cw + mx * 8 + x;
            let j = (src.1 * 8 + y) * cw + src.0 * 8 + x;
            let (u, v) = match mode {
                0 => (128, 128),
                1 => (rng.random::<u8>(), rng.random::<u8>()),
                _ => (f.u[j], f.v[j]),
            };
            f.u[i] = u;
            f.v[i] = v;
        }
    }
}

/// Error for the `--defects` flag without a position.
pub fn defects_error(message: impl Into<String>) -> InputError {
    InputError::new(FLAG, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(defects: &str) -> GenerateSpec {
        GenerateSpec::new("astronaut", FrameSize::new(320, 180), 25.0, 4.0).with_defects(defects)
    }

    #[test]
    fn generates_frames_audio_and_truth() {
        let clip = generate(&small(
            "black@10..13,freeze@30..40,blocks@60,silence@1s..1.5s,avsync=+120ms@2s..",
        ))
        .unwrap();
        assert_eq!(clip.frames.len(), 100);
        assert_eq!(clip.audio.len(), 4 * 48_000);
        let kinds: Vec<_> = clip.truth.iter().map(|d| d.kind).collect();
        assert_eq!(
            kinds,
            [
                DefectKind::Black,
                DefectKind::Silence,
                DefectKind::Freeze,
                DefectKind::AvSync,
                DefectKind::BlockCorruption
            ]
        );
        assert!(clip.frames[11].y.iter().all(|&p| p == 16));
        assert_eq!(clip.frames[35], clip.frames[29]);
        assert_ne!(clip.frames[41], clip.frames[40]);
        assert!(clip.truth[4].score >= 3.0);
        let av = &clip.truth[3];
        assert_eq!((av.start_frame, av.end_frame, av.score), (50, 76, 120.0));
        assert!(clip.audio[48_000 + 100..72_000 - 100]
            .iter()
            .all(|&s| s == 0));
    }

    #[test]
    fn clean_frames_differ_and_are_deterministic() {
        let a = generate(&small("")).unwrap();
        let b = generate(&small("")).unwrap();
        assert_eq!(a.frames, b.frames);
        assert_eq!(a.audio, b.audio);
        assert!(a.truth.is_empty());
        for w in a.frames.windows(2) {
            assert_ne!(w[0].y, w[1].y);
        }
    }

    #[test]
    fn odd_inputs_never_panic() {
        for (w, h) in [(16, 16), (32, 16), (48, 32), (16, 64)] {
            let spec = GenerateSpec::new("rocket", FrameSize::new(w, h), 10.0, 1.0).with_defects(
                "black@1..2,blocks@4,freeze@6..8,silence@0.5s..0.7s,avsync=+100ms@0s..",
            );
            let clip = generate(&spec).unwrap();
            assert_eq!(clip.frames.len(), 10);
        }
        for d in [
            "black@99999999999999999..",
            "black@18446744073709551615",
            "black@1..=18446744073709551615",
            "silence@1e300s..",
            "blocks@1e30s",
            "avsync=+1ms@1e300s..",
            "freeze@5..3",
            "silence@2s..1s",
            "@,@@,..",
            "black@..",
            "black@1...3",
        ] {
            let r = generate(&small(d));
            assert!(r.is_err_and(|e| e.is_input()), "{d}");
        }
    }

    #[test]
    fn bad_specs_are_input_errors() {
        for d in [
            "freeze@0..3",
            "black@90..200",
            "black@10..12,freeze@12..14",
            "avsync=+600ms@1s..",
        ] {
            let e = generate(&small(d)).unwrap_err();
            assert!(e.is_input(), "{d}: {e}");
        }
        let mut s = small("");
        s.photo = "nope".into();
        assert!(generate(&s).unwrap_err().is_input());
    }
}
