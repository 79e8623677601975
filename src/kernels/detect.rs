//! The defect detectors: pure functions over planes and buffers, and
//! [`DetectorBank`], which runs the chosen detectors frame by frame and merges
//! per-frame verdicts into defects. No allocation per frame: every buffer is sized in
//! [`DetectorBank::new`].

use serde::{Deserialize, Serialize};

use crate::frames::generate::flash_patch;
use crate::frames::{Defect, DefectKind, Frame, FrameSize, AUDIO_RATE};

use super::cost::Kernel;

/// The detectors' thresholds, with documented defaults (see docs/kernels.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectorParams {
    /// Black: a pixel is dark at or below this luma (ffmpeg blackdetect pix_th=0.10 is ≈ 38 on 16–235).
    pub black_pixel_luma: u8,
    /// Black: share of dark pixels for a black frame (blackdetect pic_th, 0.98).
    pub black_ratio: f64,
    /// Black: and the frame's mean luma must be at most this.
    pub black_mean_luma: f64,
    /// Black: shortest black run reported, seconds (0 = any single frame).
    pub black_min_s: f64,
    /// Freeze: a frame is a repeat when its mean absolute luma difference to the
    /// previous frame is below this (8-bit levels).
    pub freeze_mad: f64,
    /// Freeze: shortest frozen run reported, seconds.
    pub freeze_min_s: f64,
    /// Freeze: one frame inside a frozen run whose difference is below this still
    /// continues the run (a compressed stream refines a still picture now and then).
    pub freeze_bridge_mad: f64,
    /// Block corruption: codec grid in pixels (16 = H.264 macroblocks).
    pub block_size: u32,
    /// Block corruption: a block is corrupt when, on two of its four edges, the step
    /// across the grid line exceeds the texture beside it by this many times.
    pub block_edge_ratio: f64,
    /// Block corruption: texture floor (levels) added to the texture beside an edge,
    /// so flat areas do not turn coding noise into discontinuities.
    pub block_texture_floor: f64,
    /// Block corruption: fewest corrupt blocks for a corrupt frame.
    pub block_min_blocks: u32,
    /// Block corruption: a frame is corrupt when its corrupt-block count exceeds
    /// `block_min_blocks + block_baseline_factor × running baseline`.
    pub block_baseline_factor: f64,
    /// Block corruption: weight of each clean frame in the running baseline.
    pub block_baseline_alpha: f64,
    /// Silence: RMS below this (dBFS) is silent (silencedetect noise=-60dB).
    pub silence_db: f64,
    /// Silence: RMS window, milliseconds.
    pub silence_window_ms: f64,
    /// Silence: shortest silence reported, seconds.
    pub silence_min_s: f64,
    /// A/V sync: offsets beyond ± this many milliseconds are defects.
    pub av_threshold_ms: f64,
    /// A/V sync: a tick pairs with a flash within ± this many milliseconds.
    pub av_window_ms: f64,
    /// A/V sync: a tick starts when |sample| reaches this level.
    pub av_tick_level: i16,
    /// A/V sync: the flash patch's white square has at least this mean luma...
    pub av_flash_luma: f64,
    /// ...and its ring at most this mean luma.
    pub av_ring_luma: f64,
}

impl Default for DetectorParams {
    fn default() -> Self {
        DetectorParams {
            black_pixel_luma: 32,
            black_ratio: 0.98,
            black_mean_luma: 40.0,
            black_min_s: 0.0,
            freeze_mad: 0.5,
            freeze_min_s: 0.1,
            freeze_bridge_mad: 1.0,
            block_size: 16,
            block_edge_ratio: 4.0,
            block_texture_floor: 2.0,
            block_min_blocks: 5,
            block_baseline_factor: 3.0,
            block_baseline_alpha: 0.05,
            silence_db: -50.0,
            silence_window_ms: 10.0,
            silence_min_s: 0.1,
            av_threshold_ms: 45.0,
            av_window_ms: 450.0,
            av_tick_level: 8000,
            av_flash_luma: 180.0,
            av_ring_luma: 70.0,
        }
    }
}

impl DetectorParams {
    /// Checks the values make sense; the message names the field.
    pub fn check(&self) -> Result<(), String> {
        let non_negative = [
            ("black_mean_luma", self.black_mean_luma),
            ("black_min_s", self.black_min_s),
            ("freeze_mad", self.freeze_mad),
            ("freeze_min_s", self.freeze_min_s),
            ("freeze_bridge_mad", self.freeze_bridge_mad),
            ("block_texture_floor", self.block_texture_floor),
            ("block_baseline_factor", self.block_baseline_factor),
            ("silence_min_s", self.silence_min_s),
            ("av_flash_luma", self.av_flash_luma),
            ("av_ring_luma", self.av_ring_luma),
        ];
        for (name, v) in non_negative {
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!("{name} must be a finite number >= 0, got {v}"));
            }
        }
        let pos = [
            ("black_ratio", self.black_ratio),
            ("freeze_min_s", self.freeze_min_s + 1e-12),
            ("block_edge_ratio", self.block_edge_ratio),
            ("silence_window_ms", self.silence_window_ms),
            ("av_window_ms", self.av_window_ms),
            ("av_threshold_ms", self.av_threshold_ms),
        ];
        for (name, v) in pos {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("{name} must be a positive number"));
            }
        }
        if self.black_ratio > 1.0 {
            return Err("black_ratio must be at most 1".into());
        }
        if !(4..=64).contains(&self.block_size) {
            return Err("block_size must be from 4 to 64".into());
        }
        if !(self.block_baseline_alpha >= 0.0 && self.block_baseline_alpha <= 1.0) {
            return Err("block_baseline_alpha must be from 0 to 1".into());
        }
        if !(self.silence_db.is_finite() && self.silence_db < 0.0) {
            return Err("silence_db must be negative (dBFS)".into());
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------
// Pure kernels.

/// Lanes of the vectorisable inner loops: 32 bytes at a time, 16-bit accumulators
/// flushed every 255 rows of lanes (255 × 255 fits in a u16).
const LANES: usize = 32;
const BLOCK: usize = LANES * 255;

/// Sum of luma and count of pixels at or below `dark`, in one pass.
pub fn black_stats(y: &[u8], dark: u8) -> (u64, u64) {
    let mut sum = 0u64;
    let mut count = 0u64;
    for block in y.chunks(BLOCK) {
        let mut s = [0u16; LANES];
        let mut c = [0u8; LANES];
        let mut it = block.chunks_exact(LANES);
        for ch in &mut it {
            for i in 0..LANES {
                s[i] += ch[i] as u16;
                c[i] += (ch[i] <= dark) as u8;
            }
        }
        sum += s.iter().map(|&v| v as u64).sum::<u64>();
        count += c.iter().map(|&v| v as u64).sum::<u64>();
        for &p in it.remainder() {
            sum += p as u64;
            count += (p <= dark) as u64;
        }
    }
    (sum, count)
}

/// Sum of absolute differences between two planes, and the sum of `cur`, in one pass.
pub fn freeze_stats(cur: &[u8], prev: &[u8]) -> (u64, u64) {
    let mut sad = 0u64;
    let mut sum = 0u64;
    for (a, b) in cur.chunks(BLOCK).zip(prev.chunks(BLOCK)) {
        let mut d = [0u16; LANES];
        let mut s = [0u16; LANES];
        let mut ia = a.chunks_exact(LANES);
        let mut ib = b.chunks_exact(LANES);
        for (x, y) in (&mut ia).zip(&mut ib) {
            for i in 0..LANES {
                d[i] += x[i].abs_diff(y[i]) as u16;
                s[i] += x[i] as u16;
            }
        }
        sad += d.iter().map(|&v| v as u64).sum::<u64>();
        sum += s.iter().map(|&v| v as u64).sum::<u64>();
        for (&x, &y) in ia.remainder().iter().zip(ib.remainder()) {
            sad += x.abs_diff(y) as u64;
            sum += x as u64;
        }
    }
    (sad, sum)
}

/// [`freeze_stats`] that also copies `cur` into `prev` in the same pass (what the
/// streaming detector needs: one read of each plane, one write).
#[allow(clippy::manual_memcpy)]
pub fn freeze_stats_update(cur: &[u8], prev: &mut [u8]) -> (u64, u64) {
    let mut sad = 0u64;
    let mut sum = 0u64;
    for (a, b) in cur.chunks(BLOCK).zip(prev.chunks_mut(BLOCK)) {
        let mut d = [0u16; LANES];
        let mut s = [0u16; LANES];
        let mut ia = a.chunks_exact(LANES);
        let mut ib = b.chunks_exact_mut(LANES);
        for (x, y) in (&mut ia).zip(&mut ib) {
            for i in 0..LANES {
                d[i] += x[i].abs_diff(y[i]) as u16;
                s[i] += x[i] as u16;
                y[i] = x[i];
            }
        }
        sad += d.iter().map(|&v| v as u64).sum::<u64>();
        sum += s.iter().map(|&v| v as u64).sum::<u64>();
        for (&x, y) in ia.remainder().iter().zip(ib.into_remainder()) {
            sad += x.abs_diff(*y) as u64;
            sum += x as u64;
            *y = x;
        }
    }
    (sad, sum)
}

/// Plain sum of bytes: the memory-bandwidth reference the detectors are compared with.
pub fn plain_sum(buf: &[u8]) -> u64 {
    let mut total = 0u64;
    for chunk in buf.chunks(4096) {
        total += chunk.iter().map(|&b| b as u32).sum::<u32>() as u64;
    }
    total
}

/// Scratch for [`block_stats`]: discontinuity per grid edge, sized for one frame size.
#[derive(Debug, Clone)]
pub struct BlockScratch {
    bs: usize,
    mbw: usize,
    mbh: usize,
    /// Vertical edges: (mbw + 1) × mbh; edge k of block row j is at x = k·bs.
    v: Vec<f32>,
    /// Horizontal edges: mbw × (mbh + 1).
    h: Vec<f32>,
    /// Column sums of horizontal steps over one block row (≤ 64 × 255 fits a u16).
    col: Vec<u16>,
}

impl BlockScratch {
    pub fn new(size: FrameSize, block: u32) -> Self {
        let bs = block as usize;
        let mbw = size.width as usize / bs;
        let mbh = size.height as usize / bs;
        BlockScratch {
            bs,
            mbw,
            mbh,
            v: vec![0.0; (mbw + 1) * mbh],
            h: vec![0.0; mbw * (mbh + 1)],
            col: vec![0; size.width as usize],
        }
    }
}

/// Per-frame result of the block-corruption kernel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlockStats {
    /// Blocks whose edges are discontinuous beyond the threshold.
    pub corrupt_blocks: u32,
    /// Mean absolute neighbour difference next to the grid lines (the frame's texture).
    pub texture: f64,
}

/// `acc[i] += |cur[i] − prev[i]|`, 32 lanes at a time.
#[inline]
fn add_steps(acc: &mut [u16], cur: &[u8], prev: &[u8]) {
    let n = acc.len().min(cur.len()).min(prev.len());
    let (acc, cur, prev) = (&mut acc[..n], &cur[..n], &prev[..n]);
    let mut ia = acc.chunks_exact_mut(LANES);
    let mut ic = cur.chunks_exact(LANES);
    let mut ip = prev.chunks_exact(LANES);
    for ((a, c), p) in (&mut ia).zip(&mut ic).zip(&mut ip) {
        for i in 0..LANES {
            a[i] += c[i].abs_diff(p[i]) as u16;
        }
    }
    for ((a, c), p) in ia
        .into_remainder()
        .iter_mut()
        .zip(ic.remainder())
        .zip(ip.remainder())
    {
        *a += c.abs_diff(*p) as u16;
    }
}

/// Steps across a horizontal grid line between rows b and c (E), and beside it
/// (a→b: L, c→d: R), summed over one segment.
#[inline]
fn row_steps(a: &[u8], b: &[u8], c: &[u8], d: &[u8]) -> (u32, u32, u32) {
    if let (Ok(a), Ok(b), Ok(c), Ok(d)) = (
        <&[u8; 16]>::try_from(a),
        <&[u8; 16]>::try_from(b),
        <&[u8; 16]>::try_from(c),
        <&[u8; 16]>::try_from(d),
    ) {
        let (mut e, mut l, mut r) = ([0u16; 16], [0u16; 16], [0u16; 16]);
        for i in 0..16 {
            e[i] = c[i].abs_diff(b[i]) as u16;
            l[i] = b[i].abs_diff(a[i]) as u16;
            r[i] = d[i].abs_diff(c[i]) as u16;
        }
        let sum = |v: [u16; 16]| v.iter().map(|&x| x as u32).sum::<u32>();
        return (sum(e), sum(l), sum(r));
    }
    let (mut e, mut l, mut r) = (0u32, 0u32, 0u32);
    for i in 0..a.len().min(b.len()).min(c.len()).min(d.len()) {
        e += c[i].abs_diff(b[i]) as u32;
        l += b[i].abs_diff(a[i]) as u32;
        r += d[i].abs_diff(c[i]) as u32;
    }
    (e, l, r)
}

/// How much a grid edge breaks the picture: the step across the line beyond the
/// smoother side's own texture, relative to that texture (+ `floor` levels).
#[inline]
fn edge_score(e: u32, l: u32, r: u32, bs: usize, floor: f32) -> f32 {
    let inside = l.min(r) as f32 / bs as f32;
    let step = e as f32 / bs as f32 - inside;
    step / (inside + floor)
}

/// Discontinuities on the codec grid compared with the picture's own texture.
///
/// For each grid edge (a `bs`-pixel segment of a grid line) it sums |step across the
/// line| (E) and |step| one pixel inside on each side (L, R). The edge's score is
/// `(E − min(L, R)) / (min(L, R) + floor·bs)`: near zero for natural content, where the
/// step across the line is like the steps beside it, large when a block does not
/// continue its neighbour (gray, garbage or misplaced content). A block is corrupt
/// when the second-largest score of its four edges exceeds `ratio`, so one natural
/// edge lying on the grid is not enough.
pub fn block_stats(
    y: &[u8],
    width: usize,
    s: &mut BlockScratch,
    ratio: f64,
    floor: f64,
) -> BlockStats {
    let (bs, mbw, mbh) = (s.bs, s.mbw, s.mbh);
    let floor = floor as f32;
    if s.col.len() < width {
        s.col.resize(width, 0);
    }
    if mbw < 2 || mbh < 2 || width < mbw * bs || y.len() < width * mbh * bs {
        return BlockStats {
            corrupt_blocks: 0,
            texture: 0.0,
        };
    }
    let mut tex_sum = 0u64;
    let mut tex_n = 0u64;
    // Vertical grid lines x = k·bs, k = 1..mbw-1: accumulate |r[x] − r[x−1]| over the
    // block row for every x (contiguous, vectorised), then read it at the grid.
    for j in 0..mbh {
        let acc = &mut s.col[..width];
        acc.fill(0);
        for row in j * bs..(j + 1) * bs {
            let r = &y[row * width..(row + 1) * width];
            add_steps(&mut acc[1..], &r[1..], &r[..width - 1]);
        }
        let edges = &mut s.v[j * (mbw + 1)..(j + 1) * (mbw + 1)];
        edges[0] = 0.0;
        edges[mbw] = 0.0;
        for (k, edge) in edges.iter_mut().enumerate().take(mbw).skip(1) {
            let x = k * bs;
            let (e, l, r) = (acc[x] as u32, acc[x - 1] as u32, acc[x + 1] as u32);
            tex_sum += (l + r) as u64;
            tex_n += 2 * bs as u64;
            *edge = edge_score(e, l, r, bs, floor);
        }
    }
    // Horizontal grid lines y = j·bs, j = 1..mbh-1.
    for x in 0..mbw {
        s.h[x] = 0.0;
        s.h[mbh * mbw + x] = 0.0;
    }
    for j in 1..mbh {
        let yy = j * bs;
        let r0 = &y[(yy - 2) * width..(yy - 1) * width];
        let r1 = &y[(yy - 1) * width..yy * width];
        let r2 = &y[yy * width..(yy + 1) * width];
        let r3 = &y[(yy + 1) * width..(yy + 2) * width];
        let segs = r0
            .chunks_exact(bs)
            .zip(r1.chunks_exact(bs))
            .zip(r2.chunks_exact(bs).zip(r3.chunks_exact(bs)))
            .take(mbw);
        for (k, ((a, b), (c, d))) in segs.enumerate() {
            let (e, l, r) = row_steps(a, b, c, d);
            tex_sum += (l + r) as u64;
            tex_n += 2 * bs as u64;
            s.h[j * mbw + k] = edge_score(e, l, r, bs, floor);
        }
    }
    let texture = if tex_n > 0 {
        tex_sum as f64 / tex_n as f64
    } else {
        0.0
    };
    let limit = ratio as f32;
    let mut corrupt = 0u32;
    for j in 0..mbh {
        for k in 0..mbw {
            let e = [
                s.v[j * (mbw + 1) + k],
                s.v[j * (mbw + 1) + k + 1],
                s.h[j * mbw + k],
                s.h[(j + 1) * mbw + k],
            ];
            // Second largest of the four.
            let (mut a, mut b) = (f32::MIN, f32::MIN);
            for v in e {
                if v > a {
                    b = a;
                    a = v;
                } else if v > b {
                    b = v;
                }
            }
            corrupt += (b > limit) as u32;
        }
    }
    BlockStats {
        corrupt_blocks: corrupt,
        texture,
    }
}

/// Mean luma of the flash patch's white square and of its ring.
pub fn flash_means(y: &[u8], size: FrameSize) -> (f64, f64) {
    let (x0, y0, side, ring) = flash_patch(size);
    let w = size.width as usize;
    let (mut inner, mut ni, mut outer, mut no) = (0u64, 0u64, 0u64, 0u64);
    for yy in y0..(y0 + side).min(size.height as usize) {
        for xx in x0..(x0 + side).min(w) {
            let p = y[yy * w + xx] as u64;
            let is_inner = yy >= y0 + ring
                && yy < y0 + side - ring
                && xx >= x0 + ring
                && xx < x0 + side - ring;
            if is_inner {
                inner += p;
                ni += 1;
            } else {
                outer += p;
                no += 1;
            }
        }
    }
    (
        inner as f64 / ni.max(1) as f64,
        outer as f64 / no.max(1) as f64,
    )
}

/// Sum of squares of samples (for windowed RMS).
pub fn sum_squares(samples: &[i16]) -> u64 {
    samples.iter().map(|&s| (s as i64 * s as i64) as u64).sum()
}

fn db(rms: f64) -> f64 {
    if rms <= 0.0 {
        -120.0
    } else {
        (20.0 * (rms / 32768.0).log10()).max(-120.0)
    }
}

// ---------------------------------------------------------------------------------
// The streaming bank.

#[derive(Debug, Clone, Default)]
struct Run {
    start: Option<u64>,
    score: f64,
    /// Freeze only: a bridged frame inside the run, not yet confirmed.
    gap: Option<u64>,
}

/// Runs the chosen detectors over a stream, one frame (and its audio) at a time.
pub struct DetectorBank {
    params: DetectorParams,
    fps: f64,
    size: FrameSize,
    on: [bool; 5],
    frame: u64,
    out: Vec<Defect>,
    // black
    black: Run,
    // freeze
    prev: Vec<u8>,
    freeze: Run,
    // blocks
    scratch: BlockScratch,
    baseline: f64,
    blocks: Run,
    // silence
    sample: u64,
    window: usize,
    win_sq: u64,
    win_n: usize,
    win_first_loud: Option<u64>,
    last_loud: Option<u64>,
    loud_amp: i32,
    quiet_limit: u64,
    silence_start: Option<u64>,
    silence_sq: f64,
    silence_n: u64,
    // av sync
    flashes: Vec<u64>,
    ticks: Vec<u64>,
    prev_flash: bool,
    tick_refractory: u64,
}

impl DetectorBank {
    /// A bank running `detectors` (non-detector kernels are ignored) on frames of
    /// `size` at `fps`.
    pub fn new(detectors: &[Kernel], fps: f64, size: FrameSize, params: &DetectorParams) -> Self {
        let on = [
            detectors.contains(&Kernel::Black),
            detectors.contains(&Kernel::Freeze),
            detectors.contains(&Kernel::BlockCorruption),
            detectors.contains(&Kernel::Silence),
            detectors.contains(&Kernel::AvSync),
        ];
        let window =
            ((params.silence_window_ms / 1000.0 * AUDIO_RATE as f64).round() as usize).max(1);
        let amp = 10f64.powf(params.silence_db / 20.0) * 32768.0;
        let quiet_limit = (amp * amp * window as f64) as u64;
        let fps = if fps.is_finite() && fps > 0.0 {
            fps
        } else {
            25.0
        };
        DetectorBank {
            params: params.clone(),
            fps,
            size,
            on,
            frame: 0,
            out: Vec::new(),
            black: Run::default(),
            prev: if on[1] {
                vec![0; size.pixels() as usize]
            } else {
                Vec::new()
            },
            freeze: Run::default(),
            scratch: BlockScratch::new(
                if on[2] { size } else { FrameSize::new(0, 0) },
                params.block_size.max(4),
            ),
            baseline: 0.0,
            blocks: Run::default(),
            sample: 0,
            window,
            win_sq: 0,
            win_n: 0,
            win_first_loud: None,
            last_loud: None,
            loud_amp: amp.ceil() as i32,
            quiet_limit,
            silence_start: None,
            silence_sq: 0.0,
            silence_n: 0,
            flashes: Vec::new(),
            ticks: Vec::new(),
            prev_flash: false,
            tick_refractory: 0,
        }
    }

    /// Frames pushed so far.
    pub fn frames(&self) -> u64 {
        self.frame
    }

    /// Analyses the next frame and the audio samples that belong to it. A frame of a
    /// different size than the bank's is skipped by the video detectors.
    pub fn push(&mut self, frame: &Frame, audio_for_frame: &[i16]) {
        let n = self.frame;
        let ok = frame.size == self.size && frame.y.len() == self.size.pixels() as usize;
        let pixels = self.size.pixels().max(1) as f64;
        let min_black_frames = (self.params.black_min_s * self.fps).ceil().max(1.0) as u64;
        let min_freeze_frames = (self.params.freeze_min_s * self.fps).ceil().max(1.0) as u64;
        // Black.
        let mut dark_frame = false;
        if ok && (self.on[0] || self.on[1]) {
            // The freeze detector needs darkness too; compute it here when black is on.
            if self.on[0] {
                let (sum, dark) = black_stats(&frame.y, self.params.black_pixel_luma);
                let ratio = dark as f64 / pixels;
                let mean = sum as f64 / pixels;
                dark_frame =
                    ratio >= self.params.black_ratio && mean <= self.params.black_mean_luma;
                let fps = self.fps;
                step_run(
                    &mut self.black,
                    dark_frame,
                    n,
                    ratio,
                    f64::min,
                    |a, b, s| {
                        (b - a >= min_black_frames)
                            .then(|| Defect::frames(DefectKind::Black, a, b, fps, s))
                    },
                    &mut self.out,
                );
            }
        }
        // Freeze.
        if self.on[1] {
            let mut frozen = false;
            let mut mad = 0.0;
            if ok {
                let (sad, sum) = freeze_stats_update(&frame.y, &mut self.prev);
                mad = sad as f64 / pixels;
                let mean = sum as f64 / pixels;
                frozen = n > 0
                    && mad < self.params.freeze_mad
                    && mean > self.params.black_mean_luma
                    && !dark_frame;
            }
            self.step_freeze(frozen, n, mad, min_freeze_frames);
        }
        // Block corruption.
        if self.on[2] {
            let mut corrupt = false;
            let mut count = 0.0;
            if ok {
                let st = block_stats(
                    &frame.y,
                    self.size.width as usize,
                    &mut self.scratch,
                    self.params.block_edge_ratio,
                    self.params.block_texture_floor,
                );
                count = st.corrupt_blocks as f64;
                let limit = self.params.block_min_blocks as f64
                    + self.params.block_baseline_factor * self.baseline;
                corrupt = st.corrupt_blocks >= self.params.block_min_blocks && count > limit - 1e-9;
                if !corrupt {
                    let a = self.params.block_baseline_alpha;
                    self.baseline = (1.0 - a) * self.baseline + a * count;
                }
            }
            let fps = self.fps;
            step_run(
                &mut self.blocks,
                corrupt,
                n,
                count,
                f64::max,
                |a, b, s| Some(Defect::frames(DefectKind::BlockCorruption, a, b, fps, s)),
                &mut self.out,
            );
        }
        // A/V sync: flash rising edges and tick onsets.
        if self.on[4] {
            let flash = ok && {
                let (inner, ring) = flash_means(&frame.y, self.size);
                inner >= self.params.av_flash_luma && ring <= self.params.av_ring_luma
            };
            if flash && !self.prev_flash {
                self.flashes.push(n);
            }
            self.prev_flash = flash;
            let level = self.params.av_tick_level.unsigned_abs() as i32;
            let refractory = AUDIO_RATE as u64 / 5;
            for (i, &s) in audio_for_frame.iter().enumerate() {
                let pos = self.sample + i as u64;
                if (s as i32).abs() >= level && pos >= self.tick_refractory {
                    self.ticks.push(pos);
                    self.tick_refractory = pos + refractory;
                }
            }
        }
        // Silence.
        if self.on[3] {
            for (i, &s) in audio_for_frame.iter().enumerate() {
                let pos = self.sample + i as u64;
                if (s as i32).abs() > self.loud_amp {
                    self.last_loud = Some(pos);
                    if self.win_first_loud.is_none() {
                        self.win_first_loud = Some(pos);
                    }
                }
                self.win_sq += (s as i64 * s as i64) as u64;
                self.win_n += 1;
                if self.win_n == self.window {
                    self.close_window(pos + 1);
                }
            }
        }
        self.sample += audio_for_frame.len() as u64;
        self.frame += 1;
    }

    fn step_freeze(&mut self, frozen: bool, n: u64, mad: f64, min_frames: u64) {
        let run = &mut self.freeze;
        match (run.start, frozen) {
            (None, true) => {
                run.start = Some(n);
                run.score = mad;
            }
            (Some(_), true) => {
                run.gap = None;
                run.score = run.score.max(mad);
            }
            (Some(a), false) => {
                if run.gap.is_none() && mad < self.params.freeze_bridge_mad {
                    run.gap = Some(n);
                    return;
                }
                let end = run.gap.take().unwrap_or(n);
                if end - a >= min_frames {
                    self.out.push(Defect::frames(
                        DefectKind::Freeze,
                        a,
                        end,
                        self.fps,
                        round3(run.score),
                    ));
                }
                run.start = None;
            }
            (None, false) => {}
        }
    }

    fn close_window(&mut self, end: u64) {
        let quiet = self.win_sq <= self.quiet_limit;
        if quiet {
            if self.silence_start.is_none() {
                let begin = end - self.win_n as u64;
                let start = match self.last_loud {
                    Some(l) if l + 1 >= begin.saturating_sub(self.window as u64) => {
                        (l + 1).min(begin)
                    }
                    _ => begin,
                };
                self.silence_start = Some(start);
                self.silence_sq = 0.0;
                self.silence_n = 0;
            }
            self.silence_sq += self.win_sq as f64;
            self.silence_n += self.win_n as u64;
        } else if let Some(start) = self.silence_start.take() {
            let stop = self.win_first_loud.unwrap_or(end - self.win_n as u64);
            self.emit_silence(start, stop);
        }
        self.win_sq = 0;
        self.win_n = 0;
        self.win_first_loud = None;
    }

    fn emit_silence(&mut self, start: u64, stop: u64) {
        let rate = AUDIO_RATE as f64;
        if stop > start && (stop - start) as f64 / rate >= self.params.silence_min_s {
            let rms = (self.silence_sq / self.silence_n.max(1) as f64).sqrt();
            self.out.push(Defect::seconds(
                DefectKind::Silence,
                start as f64 / rate,
                stop as f64 / rate,
                self.fps,
                round3(db(rms)),
            ));
        }
    }

    /// Closes open runs, pairs flashes with ticks, and returns every defect, sorted.
    pub fn finish(mut self) -> Vec<Defect> {
        let n = self.frame;
        let fps = self.fps;
        let min_black = (self.params.black_min_s * fps).ceil().max(1.0) as u64;
        let min_freeze = (self.params.freeze_min_s * fps).ceil().max(1.0) as u64;
        for (run, kind) in [
            (std::mem::take(&mut self.black), DefectKind::Black),
            (std::mem::take(&mut self.freeze), DefectKind::Freeze),
            (
                std::mem::take(&mut self.blocks),
                DefectKind::BlockCorruption,
            ),
        ] {
            if let Some(a) = run.start {
                let n = run.gap.unwrap_or(n);
                let min = match kind {
                    DefectKind::Black => min_black,
                    DefectKind::Freeze => min_freeze,
                    _ => 1,
                };
                if n - a >= min {
                    let s = if kind == DefectKind::Freeze {
                        round3(run.score)
                    } else {
                        run.score
                    };
                    self.out.push(Defect::frames(kind, a, n, fps, s));
                }
            }
        }
        if self.on[3] {
            if self.win_n > 0 {
                // A partial last window counts if it is quiet for its length.
                let limit = self.quiet_limit as f64 * self.win_n as f64 / self.window as f64;
                let quiet = (self.win_sq as f64) <= limit;
                let end = self.sample;
                if quiet {
                    if self.silence_start.is_none() {
                        let begin = end - self.win_n as u64;
                        self.silence_start = Some(self.last_loud.map_or(begin, |l| {
                            (l + 1).clamp(begin.saturating_sub(self.window as u64), begin)
                        }));
                    }
                    self.silence_sq += self.win_sq as f64;
                    self.silence_n += self.win_n as u64;
                } else if let Some(start) = self.silence_start.take() {
                    let stop = self.win_first_loud.unwrap_or(end);
                    self.emit_silence(start, stop);
                }
            }
            if let Some(start) = self.silence_start.take() {
                let end = self.sample;
                self.emit_silence(start, end);
            }
        }
        if self.on[4] {
            let defects = pair_av(&self.flashes, &self.ticks, fps, &self.params);
            self.out.extend(defects);
        }
        Defect::sort(&mut self.out);
        self.out
    }
}

/// Pairs each flash (frame) with the nearest tick (sample) within the window and
/// reports runs of consecutive pairs whose offset exceeds the threshold, same sign.
pub fn pair_av(flashes: &[u64], ticks: &[u64], fps: f64, p: &DetectorParams) -> Vec<Defect> {
    let rate = AUDIO_RATE as f64;
    let mut pairs: Vec<(u64, f64)> = Vec::new();
    for &f in flashes {
        let tf = f as f64 / fps;
        let best = ticks
            .iter()
            .map(|&t| (t as f64 / rate - tf) * 1000.0)
            .filter(|d| d.abs() <= p.av_window_ms)
            .min_by(|a, b| a.abs().total_cmp(&b.abs()));
        if let Some(d) = best {
            pairs.push((f, d));
        }
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < pairs.len() {
        let (f, d) = pairs[i];
        if d.abs() <= p.av_threshold_ms {
            i += 1;
            continue;
        }
        let mut j = i;
        let mut sum = 0.0;
        while j < pairs.len()
            && pairs[j].1.abs() > p.av_threshold_ms
            && pairs[j].1.signum() == d.signum()
        {
            sum += pairs[j].1;
            j += 1;
        }
        let last = pairs[j - 1].0;
        let mean = (sum / (j - i) as f64 * 10.0).round() / 10.0;
        out.push(Defect::frames(DefectKind::AvSync, f, last + 1, fps, mean));
        i = j;
    }
    out
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Advances a run: opens it on `on`, folds the score, closes it (emitting through
/// `make`) when `on` turns false.
fn step_run(
    run: &mut Run,
    on: bool,
    n: u64,
    score: f64,
    fold: fn(f64, f64) -> f64,
    make: impl FnOnce(u64, u64, f64) -> Option<Defect>,
    out: &mut Vec<Defect>,
) {
    match (run.start, on) {
        (None, true) => {
            run.start = Some(n);
            run.score = score;
        }
        (Some(_), true) => run.score = fold(run.score, score),
        (Some(a), false) => {
            if let Some(d) = make(a, n, run.score) {
                out.push(d);
            }
            run.start = None;
        }
        (None, false) => {}
    }
}

/// Runs every detector over a whole clip.
pub fn detect_clip(clip: &crate::frames::generate::Clip, params: &DetectorParams) -> Vec<Defect> {
    let mut bank = DetectorBank::new(&Kernel::DETECTORS, clip.fps, clip.size, params);
    for (i, f) in clip.frames.iter().enumerate() {
        bank.push(f, clip.audio_for_frame(i as u64));
    }
    bank.finish()
}

/// Parses detector names (`black`, `freeze`, `block_corruption`, `silence`,
/// `av_sync`; `blocks` and `avsync` too); an empty list means all of them.
pub fn parse_detectors(names: &[String]) -> Result<Vec<Kernel>, crate::InputError> {
    let mut out = Vec::new();
    for n in names.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        let k = match n {
            "blocks" => Some(Kernel::BlockCorruption),
            "avsync" => Some(Kernel::AvSync),
            other => Kernel::from_name(other).filter(|k| k.is_detector()),
        };
        match k {
            Some(k) if !out.contains(&k) => out.push(k),
            Some(_) => {}
            None => {
                let names: Vec<&str> = Kernel::DETECTORS.iter().map(|k| k.name()).collect();
                let hint = crate::error::nearest(n, &names)
                    .map(|b| format!("; did you mean `{b}`?"))
                    .unwrap_or_default();
                return Err(crate::InputError::new(
                    "--detectors",
                    format!(
                        "unknown detector `{n}`: expected {}{hint}",
                        names.join(", ")
                    ),
                ));
            }
        }
    }
    if out.is_empty() {
        out = Kernel::DETECTORS.to_vec();
    }
    Ok(out)
}

impl DetectorParams {
    /// Loads thresholds from TOML (any subset of the fields; unknown fields are errors).
    pub fn load(path: &std::path::Path) -> crate::Result<DetectorParams> {
        let text = crate::error::read_text(path)?;
        let name = path.display().to_string();
        let p: DetectorParams = crate::error::parse_toml(&name, &text)?;
        // Each message starts with the field's name: point at it.
        p.check().map_err(|m| {
            let field = m.split_whitespace().next().unwrap_or_default();
            crate::InputError::at_path(name, &text, field, m.clone())
        })?;
        Ok(p)
    }
}

/// The defects as a table for people.
pub fn report_table(r: &crate::frames::DefectReport) -> String {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_BORDERS_ONLY);
    t.set_header(["defect", "frames", "seconds", "score"]);
    for d in &r.defects {
        t.add_row([
            d.kind.name().to_string(),
            format!("{}..{}", d.start_frame, d.end_frame),
            format!("{:.3}..{:.3}", d.start_s, d.end_s),
            format!("{}", d.score),
        ]);
    }
    format!(
        "{} frames at {} fps, {} defect(s)\n{}\n",
        r.frames,
        r.fps,
        r.defects.len(),
        if r.defects.is_empty() {
            String::new()
        } else {
            t.to_string()
        }
    )
}

/// The input formats `kernels detect` reads, by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoFormat {
    /// YUV4MPEG2, 8-bit 4:2:0 or mono (`.y4m`).
    Y4m,
    /// H.264 Annex-B elementary stream (`.h264`, `.264`).
    H264,
}

impl VideoFormat {
    /// The format of `path`, from its extension.
    pub fn of(path: &std::path::Path) -> Result<VideoFormat, crate::InputError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        match ext.as_str() {
            "y4m" => Ok(VideoFormat::Y4m),
            "h264" | "264" | "avc" => Ok(VideoFormat::H264),
            _ => Err(crate::InputError::new(
                path.display().to_string(),
                "unknown video format: expected .y4m (ffmpeg -f yuv4mpegpipe) or .h264/.264 (ffmpeg -c:v libx264 -f h264)",
            )),
        }
    }
}

/// Runs `detectors` over a video file (Y4M or H.264) and, optionally, a WAV file.
/// `fps` overrides the stream's rate (H.264 elementary streams carry none: 25 if not given).
pub fn detect_files(
    video: &std::path::Path,
    audio: Option<&std::path::Path>,
    fps: Option<f64>,
    detectors: &[Kernel],
    params: &DetectorParams,
) -> crate::Result<crate::frames::DefectReport> {
    use crate::frames::generate::audio_range;
    let name = video.display().to_string();
    if let Some(f) = fps {
        if !(f.is_finite() && f > 0.0 && f <= 1000.0) {
            return Err(crate::InputError::new("--fps", format!("{f} is not a frame rate")).into());
        }
    }
    params
        .check()
        .map_err(|m| crate::InputError::new("detector parameters", m))?;
    let samples = match audio {
        Some(p) => crate::frames::wav::read_wav(p)?,
        None => Vec::new(),
    };
    let mut bank: Option<DetectorBank> = None;
    let mut rate = fps.unwrap_or(25.0);
    let mut frames = 0u64;
    let mut feed = |frame: &Frame, rate: f64, bank: &mut Option<DetectorBank>| {
        let b = bank.get_or_insert_with(|| DetectorBank::new(detectors, rate, frame.size, params));
        let chunk = &samples[audio_range(frames, rate, samples.len())];
        b.push(frame, chunk);
        frames += 1;
    };
    match VideoFormat::of(video)? {
        VideoFormat::Y4m => {
            let mut reader = crate::frames::y4m::Y4mReader::open(video)?;
            rate = fps.unwrap_or(reader.fps());
            let mut frame = Frame::new(reader.size());
            while reader.read_into(&mut frame)? {
                feed(&frame, rate, &mut bank);
            }
        }
        VideoFormat::H264 => {
            let bytes = crate::frames::read_media(video)?;
            let mut dec = crate::frames::h264::H264Decoder::new(&name)?;
            dec.decode_stream(&bytes, |f| {
                feed(f, rate, &mut bank);
                Ok(())
            })?;
        }
    }
    let defects = bank.map(DetectorBank::finish).unwrap_or_default();
    Ok(crate::frames::DefectReport {
        frames,
        fps: rate,
        defects,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frames::generate::{generate, GenerateSpec};

    #[test]
    fn kernels_compute_what_they_say() {
        assert_eq!(black_stats(&[0, 10, 40, 200], 32), (250, 2));
        assert_eq!(freeze_stats(&[1, 5, 9], &[2, 5, 3]), (7, 15));
        let big: Vec<u8> = (0..20_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut prev: Vec<u8> = (0..20_000u32).map(|i| (i * 3 % 241) as u8).collect();
        let want = freeze_stats(&big, &prev);
        assert_eq!(freeze_stats_update(&big, &mut prev), want);
        assert_eq!(prev, big);
        let naive: u64 = big.iter().map(|&b| b as u64).sum();
        assert_eq!(black_stats(&big, 255), (naive, 20_000));
        assert_eq!(plain_sum(&vec![3u8; 10_000]), 30_000);
        assert_eq!(sum_squares(&[3, -4]), 25);
        assert_eq!(db(32768.0), 0.0);
    }

    #[test]
    fn flat_frames_have_no_corrupt_blocks_and_gray_blocks_do() {
        let size = FrameSize::new(128, 96);
        let mut f = Frame::new(size);
        for (i, p) in f.y.iter_mut().enumerate() {
            *p = (40 + (i % 128) + (i / 128)) as u8;
        }
        let mut s = BlockScratch::new(size, 16);
        assert_eq!(block_stats(&f.y, 128, &mut s, 4.0, 2.0).corrupt_blocks, 0);
        for y in 32..48 {
            for x in 48..64 {
                f.y[y * 128 + x] = 250;
            }
        }
        assert_eq!(block_stats(&f.y, 128, &mut s, 4.0, 2.0).corrupt_blocks, 1);
    }

    #[test]
    fn bank_finds_injected_defects_in_a_small_clip() {
        let spec = GenerateSpec::new("coffee", FrameSize::new(320, 180), 25.0, 5.0).with_defects(
            "black@10..13,freeze@30..40,blocks@60,silence@1.2s..1.7s,avsync=+120ms@3s..",
        );
        let clip = generate(&spec).unwrap();
        let found = detect_clip(&clip, &DetectorParams::default());
        let kinds: Vec<_> = found.iter().map(|d| (d.kind, d.start_frame)).collect();
        let want: Vec<_> = clip.truth.iter().map(|d| (d.kind, d.start_frame)).collect();
        assert_eq!(kinds, want, "found {found:?}");
    }

    #[test]
    fn defects_running_to_the_end_and_early_audio_are_closed() {
        let spec = GenerateSpec::new("rocket", FrameSize::new(320, 180), 25.0, 3.0)
            .with_defects("avsync=-90ms@1s..2s,freeze@60..70,black@72..,silence@2.5s..");
        let clip = generate(&spec).unwrap();
        let found = detect_clip(&clip, &DetectorParams::default());
        let got: Vec<_> = found
            .iter()
            .map(|d| (d.kind, d.start_frame, d.end_frame))
            .collect();
        let want: Vec<_> = clip
            .truth
            .iter()
            .map(|d| (d.kind, d.start_frame, d.end_frame))
            .collect();
        assert_eq!(got, want, "{found:?}");
        let av = found.iter().find(|d| d.kind == DefectKind::AvSync).unwrap();
        assert!((av.score + 90.0).abs() < 1.0, "{av:?}");
        let silence = found
            .iter()
            .find(|d| d.kind == DefectKind::Silence)
            .unwrap();
        assert!(
            (silence.start_s - 2.5).abs() < 0.002 && silence.end_s == 3.0,
            "{silence:?}"
        );

        // Without audio the audio detectors find nothing; results are deterministic.
        let mut bank = DetectorBank::new(
            &Kernel::DETECTORS,
            25.0,
            clip.size,
            &DetectorParams::default(),
        );
        for f in &clip.frames {
            bank.push(f, &[]);
        }
        let video_only = bank.finish();
        assert!(video_only
            .iter()
            .all(|d| !matches!(d.kind, DefectKind::Silence | DefectKind::AvSync)));
        assert_eq!(video_only.len(), 2);
        assert_eq!(detect_clip(&clip, &DetectorParams::default()), found);
    }

    #[test]
    fn params_reject_unknown_fields_and_bad_values() {
        assert!(toml::from_str::<DetectorParams>("freeze_madd = 1.0").is_err());
        let p: DetectorParams = toml::from_str("freeze_mad = 1.0").unwrap();
        assert_eq!(p.freeze_mad, 1.0);
        assert!(p.check().is_ok());
        let bad = DetectorParams {
            silence_db: 3.0,
            ..DetectorParams::default()
        };
        assert!(bad.check().is_err());
    }
}
