//! Measured kernel costs: per-frame CPU-time samples of every kernel over a sample
//! stream, and the JPEG bytes per frame, saved as TOML. The simulator draws from these
//! empirical distributions by quantile ([`EmpiricalCost`] implements [`CostModel`]).

use std::io::IsTerminal;
use std::path::Path;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::error::{read_text, Error, InputError, Result};
use crate::frames::generate::{audio_range, GenerateSpec, Generator};
use crate::frames::h264::{H264Decoder, H264Encoder};
use crate::frames::{Frame, FrameSize};

use super::convert::{JpegCodec, Scaler};
use super::cost::{CostModel, Kernel};
use super::detect::{plain_sum, DetectorBank, DetectorParams};

/// Longest CPU-time sample a calibration may hold: a minute per frame.
pub const MAX_SAMPLE_NS: u64 = 60 * 1_000_000_000;
/// Most samples per kernel or list.
pub const MAX_SAMPLES: usize = 1_000_000;

/// The calibration shipped with archsim (measured on the development machine).
pub const BUILTIN: &str = include_str!("../../calibration/default.toml");

/// A calibration file: measured samples at one or more analysis sizes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    /// The machine the samples describe (CPU model, cores).
    pub machine: String,
    /// When it was measured (UTC, ISO 8601 date and time).
    pub date: String,
    /// How: archsim version, frames, clock used.
    #[serde(default)]
    pub note: String,
    /// One entry per measured size (`[[size]]` in TOML).
    #[serde(rename = "size")]
    pub sizes: Vec<SizeCalibration>,
}

/// Samples at one analysis size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SizeCalibration {
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    /// Photo the sample stream was made from.
    pub photo: String,
    /// Bytes of the H.264 stream per frame (mean).
    pub h264_bytes_per_frame: f64,
    /// JPEG bytes of each measured frame.
    pub jpeg_bytes: Vec<u64>,
    /// CPU ns of a plain sum over each frame's luma: the memory-bandwidth reference.
    pub sum_ns: Vec<u64>,
    /// Per-kernel CPU ns per frame (`[[size.kernel]]`).
    #[serde(rename = "kernel")]
    pub kernels: Vec<KernelSamples>,
}

/// CPU-time samples of one kernel, one per frame, in measurement order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KernelSamples {
    pub kernel: Kernel,
    pub ns: Vec<u64>,
}

impl SizeCalibration {
    pub fn size(&self) -> FrameSize {
        FrameSize::new(self.width, self.height)
    }

    /// The samples of `kernel`, if measured.
    pub fn samples(&self, kernel: Kernel) -> Option<&[u64]> {
        self.kernels
            .iter()
            .find(|k| k.kernel == kernel)
            .map(|k| k.ns.as_slice())
    }
}

impl Calibration {
    /// The calibration embedded in the binary (calibration/default.toml).
    pub fn builtin() -> Calibration {
        static CELL: std::sync::OnceLock<Calibration> = std::sync::OnceLock::new();
        CELL.get_or_init(|| {
            Calibration::parse("calibration/default.toml", BUILTIN)
                .expect("the embedded calibration is valid")
        })
        .clone()
    }
    /// Parses and checks calibration TOML; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Calibration> {
        let cal: Calibration = crate::error::parse_toml(file, text)?;
        cal.check()
            .map_err(|(path, m)| InputError::at_path(file, text, &path, m))?;
        Ok(cal)
    }

    /// Loads a calibration file (errors name the file and position: exit code 2).
    pub fn load(path: &Path) -> Result<Calibration> {
        let text = read_text(path)?;
        Calibration::parse(&path.display().to_string(), &text)
    }

    /// Writes the calibration as TOML.
    pub fn save(&self, path: &Path) -> Result<()> {
        std::fs::write(path, self.to_toml()?).map_err(|e| Error::io(path, e))
    }

    /// The TOML text.
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string(self).map_err(|e| Error::Other(format!("calibration: {e}")))
    }

    /// The first impossible value, as a dotted path into the file and what was
    /// expected. Bounds keep every sample finite in the simulation: a CPU sample of at
    /// most [`MAX_SAMPLE_NS`], at most [`MAX_SAMPLES`] of them per kernel.
    fn check(&self) -> Result<(), (String, String)> {
        if self.sizes.is_empty() {
            return Err((
                "size".into(),
                "a calibration needs at least one [[size]]".into(),
            ));
        }
        for (i, s) in self.sizes.iter().enumerate() {
            let at = |f: &str| format!("size[{i}].{f}");
            s.size()
                .check()
                .map_err(|m| (at("width"), format!("size {}: {m}", s.size())))?;
            if !(s.fps.is_finite() && s.fps > 0.0 && s.fps <= 1000.0) {
                return Err((
                    at("fps"),
                    format!("fps must be more than 0 and at most 1000, got {}", s.fps),
                ));
            }
            let raw = s.size().pixels() as f64 * 3.0;
            if !(s.h264_bytes_per_frame.is_finite()
                && s.h264_bytes_per_frame > 0.0
                && s.h264_bytes_per_frame <= raw)
            {
                return Err((at("h264_bytes_per_frame"), format!(
                    "h264_bytes_per_frame must be more than 0 and at most {raw} (3 bytes a pixel), got {}",
                    s.h264_bytes_per_frame
                )));
            }
            if s.jpeg_bytes.is_empty() {
                return Err((
                    at("jpeg_bytes"),
                    format!("size {}: jpeg_bytes is empty", s.size()),
                ));
            }
            if let Some((j, b)) = s
                .jpeg_bytes
                .iter()
                .enumerate()
                .find(|(_, b)| **b == 0 || **b as f64 > raw)
            {
                return Err((format!("size[{i}].jpeg_bytes[{j}]"), format!(
                    "a JPEG frame has more than 0 and at most {raw} bytes (3 bytes a pixel), got {b}"
                )));
            }
            if s.jpeg_bytes.len() > MAX_SAMPLES || s.sum_ns.len() > MAX_SAMPLES {
                return Err((
                    at("jpeg_bytes"),
                    format!("at most {MAX_SAMPLES} samples per list"),
                ));
            }
            if let Some((j, ns)) = s
                .sum_ns
                .iter()
                .enumerate()
                .find(|(_, ns)| **ns > MAX_SAMPLE_NS)
            {
                return Err((
                    format!("size[{i}].sum_ns[{j}]"),
                    format!("a sample must be at most {MAX_SAMPLE_NS} ns (60 s), got {ns}"),
                ));
            }
            for k in Kernel::ALL {
                match s.samples(k) {
                    Some(ns) if !ns.is_empty() => {}
                    _ => {
                        return Err((
                            at("kernel"),
                            format!("size {}: no samples for kernel `{}`", s.size(), k.name()),
                        ))
                    }
                }
            }
            for (ki, k) in s.kernels.iter().enumerate() {
                if k.ns.len() > MAX_SAMPLES {
                    return Err((
                        format!("size[{i}].kernel[{ki}].ns"),
                        format!(
                            "at most {MAX_SAMPLES} samples per kernel, got {}",
                            k.ns.len()
                        ),
                    ));
                }
                if let Some((j, ns)) = k.ns.iter().enumerate().find(|(_, ns)| **ns > MAX_SAMPLE_NS)
                {
                    return Err((format!("size[{i}].kernel[{ki}].ns[{j}]"), format!(
                        "`{}`: a CPU-time sample must be at most {MAX_SAMPLE_NS} ns (60 s per frame), got {ns}",
                        k.kernel.name()
                    )));
                }
            }
        }
        Ok(())
    }

    /// Merges another calibration's sizes into this one (replacing equal sizes).
    pub fn merge(&mut self, other: Calibration) {
        for s in other.sizes {
            self.sizes.retain(|x| x.size() != s.size());
            self.sizes.push(s);
        }
        self.sizes
            .sort_by_key(|s| std::cmp::Reverse(s.size().pixels()));
        self.machine = other.machine;
        self.date = other.date;
        self.note = other.note;
    }

    /// The measured size nearest `size` (by pixel count, on a log scale).
    pub fn nearest(&self, size: FrameSize) -> &SizeCalibration {
        let target = (size.pixels().max(1) as f64).ln();
        self.sizes
            .iter()
            .min_by(|a, b| {
                let da = ((a.size().pixels().max(1) as f64).ln() - target).abs();
                let db = ((b.size().pixels().max(1) as f64).ln() - target).abs();
                da.total_cmp(&db)
                    .then(b.size().pixels().cmp(&a.size().pixels()))
            })
            .expect("a checked calibration has sizes")
    }

    /// A cost model for analysis frames of `size`: the nearest measured size, video
    /// kernels and JPEG bytes scaled by the pixel-count ratio when the size differs.
    pub fn cost_model(&self, size: FrameSize) -> EmpiricalCost {
        EmpiricalCost::new(self.nearest(size), size)
    }
}

/// Whether a kernel's cost grows with the frame's pixel count.
pub fn scales_with_pixels(kernel: Kernel) -> bool {
    !matches!(kernel, Kernel::Silence | Kernel::AvSync)
}

/// An empirical cost model: sorted samples, drawn by quantile with linear interpolation.
#[derive(Debug, Clone, PartialEq)]
pub struct EmpiricalCost {
    pub measured: FrameSize,
    pub size: FrameSize,
    ratio: f64,
    sorted: Vec<Vec<u64>>,
    jpeg: Vec<u64>,
    /// `mean_cpu_ns` of each kernel (index as `sorted`), computed once.
    means: Vec<f64>,
    mean_jpeg: f64,
}

/// The `u` quantile of ascending `sorted`, interpolating linearly between neighbours.
pub(crate) fn quantile(sorted: &[u64], u: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let u = if u.is_finite() {
        u.clamp(0.0, 1.0)
    } else {
        0.5
    };
    let pos = u * (sorted.len() - 1) as f64;
    let i = pos as usize; // pos >= 0: truncation is floor
    let j = (i + 1).min(sorted.len() - 1);
    let f = pos - i as f64;
    sorted[i] as f64 * (1.0 - f) + sorted[j] as f64 * f
}

impl EmpiricalCost {
    pub fn new(cal: &SizeCalibration, size: FrameSize) -> Self {
        let sorted = Kernel::ALL
            .iter()
            .map(|&k| {
                let mut v = cal.samples(k).unwrap_or(&[]).to_vec();
                v.sort_unstable();
                v
            })
            .collect();
        let mut jpeg = cal.jpeg_bytes.clone();
        jpeg.sort_unstable();
        let mut c = EmpiricalCost {
            measured: cal.size(),
            size,
            ratio: size.pixels() as f64 / cal.size().pixels().max(1) as f64,
            sorted,
            jpeg,
            means: Vec::new(),
            mean_jpeg: 0.0,
        };
        c.means = Kernel::ALL.iter().map(|&k| c.compute_mean(k)).collect();
        c.mean_jpeg =
            c.jpeg.iter().map(|&x| x as f64).sum::<f64>() / c.jpeg.len().max(1) as f64 * c.ratio;
        c
    }

    fn compute_mean(&self, kernel: Kernel) -> f64 {
        let v = &self.sorted[Self::idx(kernel)];
        v.iter().map(|&x| x as f64).sum::<f64>() / v.len().max(1) as f64 * self.factor(kernel)
    }

    fn idx(kernel: Kernel) -> usize {
        // `Kernel::ALL` lists the kernels in declaration order.
        debug_assert_eq!(Kernel::ALL[kernel as usize], kernel);
        kernel as usize
    }

    fn factor(&self, kernel: Kernel) -> f64 {
        if scales_with_pixels(kernel) {
            self.ratio
        } else {
            1.0
        }
    }

    /// The `u` quantile of `kernel`'s CPU time (ns), before rounding.
    pub fn quantile_ns(&self, kernel: Kernel, u: f64) -> f64 {
        quantile(&self.sorted[Self::idx(kernel)], u) * self.factor(kernel)
    }
}

impl CostModel for EmpiricalCost {
    fn cpu_ns(&self, kernel: Kernel, u: f64) -> u64 {
        crate::sim::round_u64(self.quantile_ns(kernel, u))
    }
    fn jpeg_bytes(&self, u: f64) -> u64 {
        crate::sim::round_u64(quantile(&self.jpeg, u) * self.ratio)
    }
    fn mean_cpu_ns(&self, kernel: Kernel) -> f64 {
        self.means[Self::idx(kernel)]
    }
    fn mean_jpeg_bytes(&self) -> f64 {
        self.mean_jpeg
    }
}

/// How to measure.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasureOptions {
    /// Frames measured (after warm-up).
    pub frames: usize,
    /// Frames run first and not recorded.
    pub warmup: usize,
    /// Photo the sample stream is made from.
    pub photo: String,
    pub seed: u64,
    /// Show a progress bar (only drawn when stderr is a terminal).
    pub progress: bool,
}

impl Default for MeasureOptions {
    fn default() -> Self {
        MeasureOptions {
            frames: 300,
            warmup: 25,
            photo: "astronaut".into(),
            seed: 1,
            progress: true,
        }
    }
}

/// CPU time of the calling thread in ns (wall clock where unavailable).
fn thread_ns() -> u64 {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes into the timespec we own.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        if rc == 0 {
            return ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64;
        }
    }
    use std::sync::OnceLock;
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_nanos() as u64
}

/// Smallest interval the clock reports for nothing: subtracted from every sample.
fn clock_overhead() -> u64 {
    (0..200)
        .map(|_| {
            let a = thread_ns();
            let b = thread_ns();
            b - a
        })
        .min()
        .unwrap_or(0)
}

fn timed<T>(overhead: u64, f: impl FnOnce() -> T) -> (u64, T) {
    let a = thread_ns();
    let r = f();
    let b = thread_ns();
    ((b - a).saturating_sub(overhead), r)
}

/// Measures every kernel at `size`: generates a sample stream from a photo, encodes it
/// once to H.264, then per frame times H.264 decode, scale, JPEG encode, JPEG decode,
/// each detector, and a plain sum over the same luma, on this thread's CPU clock.
pub fn measure(size: FrameSize, fps: f64, opts: &MeasureOptions) -> Result<Calibration> {
    if opts.frames == 0 || opts.frames > 100_000 {
        return Err(InputError::new(
            "--frames",
            format!("measure from 1 to 100000 frames, got {}", opts.frames),
        )
        .into());
    }
    if opts.warmup > 10_000 {
        return Err(InputError::new(
            "--warmup",
            format!("at most 10000 warm-up frames, got {}", opts.warmup),
        )
        .into());
    }
    let total = opts.frames + opts.warmup;
    let mut spec = GenerateSpec::new(&opts.photo, size, fps, total as f64 / fps);
    spec.seed = opts.seed;
    let mut generator = Generator::new(&spec)?;
    let audio = generator.audio().to_vec();
    let bar = if opts.progress && std::io::stderr().is_terminal() {
        ProgressBar::with_draw_target(Some(2 * total as u64), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{msg:>18} [{bar:30}] {pos}/{len} frames")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(format!("encoding {size}"));

    // The sample stream, encoded once.
    let mut encoder = H264Encoder::new(size, fps)?;
    let mut stream = Vec::new();
    let mut frame = Frame::new(size);
    while generator.next_frame(&mut frame) {
        encoder.encode(&frame, &mut stream)?;
        bar.inc(1);
    }
    drop(encoder);
    let frames_made = generator.frame_count() as usize;

    bar.set_message(format!("measuring {size}"));
    let overhead = clock_overhead();
    let mut decoder = H264Decoder::new("sample stream")?;
    let mut scaler = Scaler::new();
    let mut jpeg = JpegCodec::default();
    let params = DetectorParams::default();
    let mut banks: Vec<(Kernel, DetectorBank)> = Kernel::DETECTORS
        .iter()
        .map(|&k| (k, DetectorBank::new(&[k], fps, size, &params)))
        .collect();
    let mut decoded = Frame::new(size);
    let mut analysis = Frame::new(size);
    let mut from_jpeg = Frame::new(size);
    let mut samples: Vec<Vec<u64>> = vec![Vec::with_capacity(opts.frames); Kernel::ALL.len()];
    let mut jpeg_bytes = Vec::with_capacity(opts.frames);
    let mut sum_ns = Vec::with_capacity(opts.frames);
    let mut decode_ns = 0u64;
    let mut index = 0usize;
    let mut sink = 0u64;
    let record = |samples: &mut Vec<Vec<u64>>, k: Kernel, ns: u64, on: bool| {
        if on {
            samples[Kernel::ALL.iter().position(|x| *x == k).unwrap_or(0)].push(ns);
        }
    };
    for nal in openh264::nal_units(&stream) {
        let (ns, got) = timed(overhead, || decoder.decode_nal(nal, &mut decoded));
        decode_ns += ns;
        if !got? {
            continue;
        }
        let on = index >= opts.warmup;
        record(&mut samples, Kernel::H264Decode, decode_ns, on);
        decode_ns = 0;
        let (ns, ()) = timed(overhead, || scaler.scale(&decoded, size, &mut analysis));
        record(&mut samples, Kernel::Scale, ns, on);
        let (ns, bytes) = timed(overhead, || jpeg.encode(&analysis).map(|b| b.to_vec()));
        let bytes = bytes?;
        record(&mut samples, Kernel::JpegEncode, ns, on);
        let (ns, r) = timed(overhead, || jpeg.decode(&bytes, &mut from_jpeg));
        r?;
        record(&mut samples, Kernel::JpegDecode, ns, on);
        // The bandwidth reference: one untimed pass brings the luma into cache, as the
        // detectors that follow find it; then the timed pass.
        sink = sink.wrapping_add(plain_sum(std::hint::black_box(&analysis.y)));
        let (ns, s) = timed(overhead, || plain_sum(std::hint::black_box(&analysis.y)));
        sink = sink.wrapping_add(s);
        let sum_sample = ns;
        let chunk = &audio[audio_range(index as u64, fps, audio.len())];
        for (k, bank) in banks.iter_mut() {
            let (ns, ()) = timed(overhead, || bank.push(&analysis, chunk));
            record(&mut samples, *k, ns, on);
        }
        let ns = sum_sample;
        if on {
            jpeg_bytes.push(bytes.len() as u64);
            sum_ns.push(ns);
        }
        index += 1;
        bar.inc(1);
    }
    std::hint::black_box(sink);
    bar.finish_and_clear();
    if index < frames_made || jpeg_bytes.is_empty() {
        return Err(Error::Other(format!(
            "calibration: decoded {index} of {frames_made} frames of the sample stream"
        )));
    }
    Ok(Calibration {
        machine: machine_description(),
        date: utc_now(),
        note: format!(
            "archsim {} kernels bench: {} frames after {} warm-up, thread CPU time, one core",
            env!("CARGO_PKG_VERSION"),
            jpeg_bytes.len(),
            opts.warmup
        ),
        sizes: vec![SizeCalibration {
            width: size.width,
            height: size.height,
            fps,
            photo: opts.photo.clone(),
            h264_bytes_per_frame: (stream.len() as f64 / frames_made as f64).round(),
            jpeg_bytes,
            sum_ns,
            kernels: Kernel::ALL
                .iter()
                .zip(samples)
                .map(|(&kernel, ns)| KernelSamples { kernel, ns })
                .collect(),
        }],
    })
}

/// CPU model and core count, from /proc/cpuinfo where available.
pub fn machine_description() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!(
        "{cpu}, {cores} cores available, {} {}",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Summary statistics of one kernel at one size.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KernelSummary {
    pub kernel: String,
    pub median_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub frames_per_s: f64,
    /// Bytes the kernel reads per frame, per second of its median time.
    pub mb_per_s: f64,
    /// For detectors: `mb_per_s` as a share of the plain-sum bandwidth.
    pub of_sum_bandwidth: Option<f64>,
}

/// Bytes a kernel reads per frame at `size` (what its MB/s is computed from).
pub fn bytes_per_frame(kernel: Option<Kernel>, size: FrameSize, fps: f64) -> f64 {
    let luma = size.pixels() as f64;
    match kernel {
        None | Some(Kernel::Black | Kernel::Freeze | Kernel::BlockCorruption) => luma,
        Some(Kernel::Silence | Kernel::AvSync) => 2.0 * crate::frames::AUDIO_RATE as f64 / fps,
        Some(_) => luma * 1.5,
    }
}

impl SizeCalibration {
    /// Median, p90, p99, throughput per kernel, and the plain-sum reference (last row, kernel "sum").
    pub fn summary(&self) -> Vec<KernelSummary> {
        let sum_mb = {
            let mut s = self.sum_ns.clone();
            s.sort_unstable();
            bytes_per_frame(None, self.size(), self.fps) / quantile(&s, 0.5).max(1.0) * 1e3
        };
        let mut rows: Vec<KernelSummary> = Kernel::ALL
            .iter()
            .map(|&k| {
                let mut s = self.samples(k).unwrap_or(&[]).to_vec();
                s.sort_unstable();
                let med = quantile(&s, 0.5).max(1.0);
                let mb = bytes_per_frame(Some(k), self.size(), self.fps) / med * 1e3;
                KernelSummary {
                    kernel: k.name().to_string(),
                    median_us: med / 1e3,
                    p90_us: quantile(&s, 0.9) / 1e3,
                    p99_us: quantile(&s, 0.99) / 1e3,
                    frames_per_s: 1e9 / med,
                    mb_per_s: mb,
                    of_sum_bandwidth: matches!(
                        k,
                        Kernel::Black | Kernel::Freeze | Kernel::BlockCorruption
                    )
                    .then_some(mb / sum_mb),
                }
            })
            .collect();
        let mut s = self.sum_ns.clone();
        s.sort_unstable();
        let med = quantile(&s, 0.5).max(1.0);
        rows.push(KernelSummary {
            kernel: "sum (bandwidth reference)".into(),
            median_us: med / 1e3,
            p90_us: quantile(&s, 0.9) / 1e3,
            p99_us: quantile(&s, 0.99) / 1e3,
            frames_per_s: 1e9 / med,
            mb_per_s: sum_mb,
            of_sum_bandwidth: Some(1.0),
        });
        rows
    }
}

/// The bench table for people.
pub fn summary_table(cal: &Calibration) -> String {
    let mut out = format!("machine: {}\nmeasured: {}\n", cal.machine, cal.date);
    for s in &cal.sizes {
        let mut t = comfy_table::Table::new();
        t.load_preset(comfy_table::presets::UTF8_BORDERS_ONLY);
        t.set_header([
            "kernel",
            "median µs",
            "p90 µs",
            "p99 µs",
            "frames/s",
            "MB/s",
            "vs sum",
        ]);
        for r in s.summary() {
            t.add_row([
                r.kernel.clone(),
                format!("{:.1}", r.median_us),
                format!("{:.1}", r.p90_us),
                format!("{:.1}", r.p99_us),
                format!("{:.0}", r.frames_per_s),
                format!("{:.0}", r.mb_per_s),
                r.of_sum_bandwidth
                    .map_or(String::new(), |x| format!("{:.0}%", x * 100.0)),
            ]);
        }
        let mean_jpeg = s.jpeg_bytes.iter().sum::<u64>() as f64 / s.jpeg_bytes.len().max(1) as f64;
        out.push_str(&format!(
            "\n{}x{} at {} fps ({} frames of {}): JPEG {:.0} bytes/frame, H.264 {:.0} bytes/frame\n{t}\n",
            s.width,
            s.height,
            s.fps,
            s.jpeg_bytes.len(),
            s.photo,
            mean_jpeg,
            s.h264_bytes_per_frame
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake(size: FrameSize, base: u64) -> SizeCalibration {
        SizeCalibration {
            width: size.width,
            height: size.height,
            fps: 25.0,
            photo: "astronaut".into(),
            h264_bytes_per_frame: 1000.0,
            jpeg_bytes: vec![100, 300, 200],
            sum_ns: vec![10, 10, 10],
            kernels: Kernel::ALL
                .iter()
                .map(|&kernel| KernelSamples {
                    kernel,
                    ns: vec![3 * base, base, 2 * base],
                })
                .collect(),
        }
    }

    #[test]
    fn quantile_draws_scale_and_round_trip() {
        let cal = Calibration {
            machine: "test".into(),
            date: "2026-01-01T00:00:00Z".into(),
            note: String::new(),
            sizes: vec![
                fake(FrameSize::new(1920, 1080), 1000),
                fake(FrameSize::new(1280, 720), 100),
            ],
        };
        let m = cal.cost_model(FrameSize::new(1280, 720));
        assert_eq!(m.cpu_ns(Kernel::Black, 0.0), 100);
        assert_eq!(m.cpu_ns(Kernel::Black, 0.5), 200);
        assert_eq!(m.cpu_ns(Kernel::Black, 1.0), 300);
        assert_eq!(m.cpu_ns(Kernel::Black, 0.25), 150);
        assert_eq!(m.jpeg_bytes(0.5), 200);
        // 960x540 is nearest 1280x720: video kernels scale by 0.5625, audio ones do not.
        let q = cal.cost_model(FrameSize::new(960, 540));
        assert_eq!(q.measured, FrameSize::new(1280, 720));
        assert_eq!(q.cpu_ns(Kernel::Freeze, 0.5), 113);
        assert_eq!(q.cpu_ns(Kernel::Silence, 0.5), 200);
        assert_eq!(
            cal.cost_model(FrameSize::new(3840, 2160)).measured,
            FrameSize::new(1920, 1080)
        );
        let text = cal.to_toml().unwrap();
        assert_eq!(Calibration::parse("c.toml", &text).unwrap(), cal);
        let e = Calibration::parse("c.toml", &text.replace("jpeg_bytes", "jpg_bytes")).unwrap_err();
        assert!(e.is_input());
    }

    #[test]
    fn builtin_calibration_loads_with_two_sizes() {
        let cal = Calibration::builtin();
        assert!(cal
            .sizes
            .iter()
            .any(|s| s.size() == FrameSize::new(1920, 1080)));
        assert!(cal
            .sizes
            .iter()
            .any(|s| s.size() == FrameSize::new(1280, 720)));
        let m = cal.cost_model(FrameSize::new(1920, 1080));
        assert!(m.mean_cpu_ns(Kernel::H264Decode) > m.mean_cpu_ns(Kernel::Black));
        assert!(m.mean_jpeg_bytes() > 10_000.0);
        for s in &cal.sizes {
            assert!(
                s.jpeg_bytes.len() >= 200,
                "several hundred samples at {}",
                s.size()
            );
        }
        // Draws are monotone in u and the same for the same u.
        for k in Kernel::ALL {
            let draws: Vec<u64> = (0..=20).map(|i| m.cpu_ns(k, i as f64 / 20.0)).collect();
            assert!(draws.windows(2).all(|w| w[0] <= w[1]), "{k:?}: {draws:?}");
            assert_eq!(
                m.cpu_ns(k, 0.37),
                cal.cost_model(FrameSize::new(1920, 1080)).cpu_ns(k, 0.37)
            );
        }
    }

    #[test]
    fn utc_now_is_iso() {
        let d = utc_now();
        assert_eq!(d.len(), 20);
        assert!(d.starts_with("20") && d.ends_with('Z'));
    }

    #[test]
    fn measure_small_stream_records_every_kernel() {
        let opts = MeasureOptions {
            frames: 6,
            warmup: 2,
            progress: false,
            ..MeasureOptions::default()
        };
        let cal = measure(FrameSize::new(160, 96), 25.0, &opts).unwrap();
        let s = &cal.sizes[0];
        assert_eq!(s.jpeg_bytes.len(), 6);
        for k in Kernel::ALL {
            assert_eq!(s.samples(k).unwrap().len(), 6, "{k:?}");
        }
        assert!(summary_table(&cal).contains("h264_decode"));
    }
}
