//! The pipeline as data: the stages an item goes through, what each costs, what it
//! hands on and how. Every layout derives from this one description: the distributed
//! layouts run each stage as a Lambda function with hand-offs through S3 or the
//! payload (requests, serialization work, transfer time); the instance layouts run
//! the stages in one process with hand-offs in memory (no serialization, no requests).
//!
//! A scenario writes its stages as `[[stages]]`; a video workload without them gets
//! the Prime Video monitor's stages (converter, one stage per detector, aggregator).

use std::collections::BTreeMap;
use std::ops::Range;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::kernels::Kernel;
use crate::sim::{millis, Dist};

/// Step Functions' payload limit (256 KiB): an inline hand-off above it is an error.
pub const PAYLOAD_LIMIT_BYTES: u64 = 256 * 1024;

/// Bytes a second of decoded audio takes as PCM: 48 kHz × 2 channels × 16 bits (an
/// assumption: the post says the converter sent "decrypted audio buffers", not their
/// format; 48 kHz stereo 16-bit is broadcast audio's usual shape).
pub const PCM_BYTES_PER_SECOND: u64 = 48_000 * 2 * 2;

/// What a stage reads from the stages it comes after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Input {
    /// Their items (video frames in the video pipeline).
    #[default]
    Video,
    /// Their audio buffer, one per batch (chunk): no frames, no frame decoding.
    Audio,
    /// Both: items and the audio buffer (an A/V-sync detector compares the two).
    Av,
}

impl Input {
    /// Whether it reads the items (frames).
    pub fn video(self) -> bool {
        self != Input::Audio
    }
    /// Whether it reads the audio buffer.
    pub fn audio(self) -> bool {
        self != Input::Video
    }
}

/// How a stage's output travels in the distributed layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    /// An S3 object per item: one PUT by the producer, one GET by each consumer.
    #[default]
    S3,
    /// Inline in the state's payload (limited to 256 KiB per execution).
    Payload,
}

/// The work a stage does per item (or per batch): built-in kernels or a CPU-time
/// distribution.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkSpec {
    /// Built-in real kernels, each once per item, or `name*N` for N times per item
    /// (`h264_decode*12.5`).
    #[serde(default)]
    pub kernels: Vec<String>,
    /// CPU time per item on one core (a distribution), e.g.
    /// `{ kind = "lognormal", median = "40ms", p99 = "120ms" }`.
    #[serde(default)]
    pub cpu: Option<Dist>,
}

/// One `[[stages]]` entry of a scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageSpec {
    pub name: Spanned<String>,
    /// The stages it reads from; default: the one before it (the first reads the
    /// source). Several: a fan-in (it runs once all of them are done).
    #[serde(default)]
    pub after: Option<Spanned<Vec<String>>>,
    /// The Lambda function a state machine's Task names to run it (default: the name).
    #[serde(default)]
    pub function: Option<String>,
    /// Built-in kernels per item (see [`WorkSpec::kernels`]).
    #[serde(default)]
    pub kernels: Vec<String>,
    /// CPU time per item (or per batch with `per = "batch"`), as a table.
    #[serde(default)]
    pub cpu: Option<Spanned<Dist>>,
    /// CPU time per item as written in a string: `"lognormal(median 40ms, p99
    /// 120ms)"`, `"40ms"`, `"empirical(thumbnail.cal.toml)"` (a calibration from
    /// Lambda logs) … (see `kernels::work::FORMS`).
    #[serde(default, skip_serializing)]
    pub work: Option<Spanned<crate::kernels::work::CpuDistSpec>>,
    /// "item" (default): the work repeats for each item of a batch; "batch": once.
    #[serde(default)]
    pub per: Per,
    /// Bytes handed on per item (0: nothing but a small result), or `"jpeg"`: an
    /// analysis frame as a JPEG, its size drawn from the calibration.
    #[serde(default = "zero_bytes")]
    pub output_bytes: Spanned<BytesSpec>,
    /// How the output travels in the distributed layouts.
    #[serde(default)]
    pub via: Via,
    /// What it reads from the stages it comes after: `"video"` (their items, the
    /// default), `"audio"` (their audio buffer) or `"av"` (both).
    #[serde(default)]
    pub input: Option<Spanned<Input>>,
    /// Bytes of the audio buffer it hands on per batch (chunk), travelling as `via`
    /// says, or `"pcm"`: the chunk's audio as 48 kHz stereo 16-bit PCM. Written only
    /// where a reader's `input` takes audio.
    #[serde(default)]
    pub audio_bytes: Option<Spanned<BytesSpec>>,
    /// Work to write the output for another process (e.g. `jpeg_encode`): done only
    /// where the hand-off leaves the process.
    #[serde(default)]
    pub serialize: WorkSpec,
    /// Work each reader does per item to read it back (e.g. `jpeg_decode`).
    #[serde(default)]
    pub deserialize: WorkSpec,
}

fn zero_bytes() -> Spanned<BytesSpec> {
    Spanned::new(0..0, BytesSpec::Count(0))
}

/// `output_bytes` as written: a count, or the name of a calibrated size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BytesSpec {
    Count(u64),
    Named(String),
}

/// Whether a stage's work repeats per item of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Per {
    #[default]
    Item,
    Batch,
}

/// What a stage costs, resolved.
#[derive(Debug, Clone, Default)]
pub enum Work {
    #[default]
    None,
    /// Kernels, each repeated `times` per item.
    Kernels(Vec<(Kernel, f64)>),
    /// A CPU-time distribution per item.
    Cpu(Dist),
    /// A CPU-time distribution written as a string, or a calibration from logs.
    Dist(std::sync::Arc<crate::kernels::work::CpuDist>),
}

impl PartialEq for Work {
    fn eq(&self, other: &Work) -> bool {
        match (self, other) {
            (Work::None, Work::None) => true,
            (Work::Kernels(a), Work::Kernels(b)) => a == b,
            (Work::Cpu(a), Work::Cpu(b)) => a == b,
            (Work::Dist(a), Work::Dist(b)) => a.spec() == b.spec(),
            _ => false,
        }
    }
}

impl Work {
    /// The kernels it runs (none for a distribution).
    pub fn kernels(&self) -> impl Iterator<Item = (Kernel, f64)> + '_ {
        let list: &[(Kernel, f64)] = match self {
            Work::Kernels(k) => k,
            _ => &[],
        };
        list.iter().copied()
    }

    /// How it reads in the assumptions table.
    pub fn describe(&self) -> String {
        match self {
            Work::None => "none".into(),
            Work::Kernels(k) => k
                .iter()
                .map(|(k, n)| {
                    if *n == 1.0 {
                        k.name().to_string()
                    } else {
                        format!("{}×{}", k.name(), trim(*n))
                    }
                })
                .collect::<Vec<_>>()
                .join(" + "),
            Work::Cpu(d) => d.describe(),
            Work::Dist(d) => d.describe(),
        }
    }
}

fn trim(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Bytes a stage hands on per item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputBytes {
    Fixed(u64),
    /// A JPEG analysis frame: its size drawn from the calibration.
    JpegFrame,
}

/// One stage, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    pub name: String,
    /// The Lambda function that runs it in the distributed layouts.
    pub function: String,
    pub work: Work,
    pub per: Per,
    /// Indices of the stages it reads from (empty: the source).
    pub after: Vec<usize>,
    pub output: OutputBytes,
    pub via: Via,
    pub serialize: Work,
    pub deserialize: Work,
    /// The detector it runs, in the video pipeline (counted per frame, run for real).
    pub detector: Option<Kernel>,
    /// What it reads from the stages in `after`.
    pub input: Input,
    /// Bytes of the audio buffer it hands on per batch (0: none).
    pub audio_bytes: u64,
}

impl Stage {
    /// Whether its output is written as an object per item in the distributed layouts.
    pub fn writes_objects(&self) -> bool {
        self.via == Via::S3 && self.output != OutputBytes::Fixed(0)
    }
}

/// The stages of a scenario, in an order where every stage comes after those it
/// reads from.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Pipeline {
    pub stages: Vec<Stage>,
}

impl Pipeline {
    /// The stages that read stage `i`.
    pub fn readers(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.stages
            .iter()
            .enumerate()
            .filter(move |(_, s)| s.after.contains(&i))
            .map(|(j, _)| j)
    }

    /// Whether stage `i` PUTs an object per item in the distributed layouts: it hands
    /// its items on through S3 and a reader takes them (or nobody reads it: its
    /// output is the pipeline's result).
    pub fn puts_items(&self, i: usize) -> bool {
        let mut readers = self.readers(i).peekable();
        self.stages[i].writes_objects()
            && (readers.peek().is_none() || readers.any(|j| self.stages[j].input.video()))
    }

    /// Whether stage `i` PUTs its audio buffer, one object per batch: it has one, it
    /// goes through S3, and a reader takes audio.
    pub fn puts_audio(&self, i: usize) -> bool {
        let st = &self.stages[i];
        st.audio_bytes > 0
            && st.via == Via::S3
            && self.readers(i).any(|j| self.stages[j].input.audio())
    }

    /// Stages nobody reads: where an item's trip ends.
    pub fn sinks(&self) -> Vec<usize> {
        (0..self.stages.len())
            .filter(|&i| self.readers(i).next().is_none())
            .collect()
    }

    /// Stages on the longest chain from a first stage to a last (stages are listed
    /// after what they read, so one pass in order finds each stage's depth).
    pub fn depth(&self) -> u32 {
        let mut depth = vec![0u32; self.stages.len()];
        for (i, s) in self.stages.iter().enumerate() {
            depth[i] = 1 + s
                .after
                .iter()
                .filter(|&&j| j < i)
                .map(|&j| depth[j])
                .max()
                .unwrap_or(0);
        }
        depth.into_iter().max().unwrap_or(0)
    }

    /// The stages whose work is the analysis, counted per item in every layout: those
    /// between the first and the last, or the last when there is nothing between.
    pub fn counted_stages(&self) -> std::ops::Range<usize> {
        let n = self.stages.len();
        if n >= 3 {
            1..n - 1
        } else {
            n.saturating_sub(1)..n
        }
    }

    /// The stage named `name`.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.stages.iter().position(|s| s.name == name)
    }

    /// The stage whose Lambda function is `function`.
    pub fn by_function(&self, function: &str) -> Option<usize> {
        self.stages.iter().position(|s| s.function == function)
    }

    /// The Prime Video monitor's stages: the converter decodes every source frame,
    /// scales the analysed ones and (to hand them on) encodes each as a JPEG, and
    /// hands on the chunk's audio as one buffer of `audio_bytes` ("frames or
    /// decrypted audio buffers", as the post says); one stage per detector reads
    /// every frame (silence the audio buffer instead, A/V sync both); an aggregator
    /// merges their results and notifies, once per chunk.
    pub fn video(
        detectors: &[Kernel],
        decoded_per_frame: f64,
        aggregate_cpu: Dist,
        audio_bytes: u64,
    ) -> Pipeline {
        let mut stages = vec![Stage {
            name: "converter".into(),
            function: "converter".into(),
            work: Work::Kernels(vec![
                (Kernel::H264Decode, decoded_per_frame),
                (Kernel::Scale, 1.0),
            ]),
            per: Per::Item,
            after: vec![],
            output: OutputBytes::JpegFrame,
            via: Via::S3,
            serialize: Work::Kernels(vec![(Kernel::JpegEncode, 1.0)]),
            deserialize: Work::Kernels(vec![(Kernel::JpegDecode, 1.0)]),
            detector: None,
            input: Input::Video,
            audio_bytes,
        }];
        for k in detectors {
            stages.push(Stage {
                name: k.name().into(),
                function: k.name().into(),
                work: Work::Kernels(vec![(*k, 1.0)]),
                per: Per::Item,
                after: vec![0],
                output: OutputBytes::Fixed(0),
                via: Via::Payload,
                serialize: Work::None,
                deserialize: Work::None,
                detector: Some(*k),
                input: match k {
                    Kernel::Silence => Input::Audio,
                    Kernel::AvSync => Input::Av,
                    _ => Input::Video,
                },
                audio_bytes: 0,
            });
        }
        stages.push(Stage {
            name: "aggregator".into(),
            function: "aggregator".into(),
            work: Work::Cpu(aggregate_cpu),
            per: Per::Batch,
            after: (1..=detectors.len()).collect(),
            output: OutputBytes::Fixed(0),
            via: Via::Payload,
            serialize: Work::None,
            deserialize: Work::None,
            detector: None,
            input: Input::Video,
            audio_bytes: 0,
        });
        Pipeline { stages }
    }

    /// Whether it has the shape the built-in orchestration runs: one first stage,
    /// stages that each read only it, and one last stage that reads all of those.
    pub fn is_fan_out_fan_in(&self) -> bool {
        let n = self.stages.len();
        n >= 3
            && self.stages[0].after.is_empty()
            && self.stages[1..n - 1].iter().all(|s| s.after == [0])
            && self.stages[n - 1].after == (1..n - 1).collect::<Vec<_>>()
    }
}

/// Bytes of `seconds` of audio as PCM ([`PCM_BYTES_PER_SECOND`]).
pub fn pcm_bytes(seconds: f64) -> u64 {
    crate::sim::round_u64((PCM_BYTES_PER_SECOND as f64 * seconds).max(0.0))
}

/// The default aggregation CPU of the video pipeline (an assumption).
pub fn default_aggregate_cpu() -> Dist {
    Dist::fixed(millis(2))
}

/// A stage error at a position of the scenario (or one found reading a file the
/// stage names, already positioned).
pub struct StageError {
    pub span: Range<usize>,
    pub message: String,
    pub positioned: Option<crate::Error>,
}

fn error(span: Range<usize>, message: String) -> StageError {
    StageError {
        span,
        message,
        positioned: None,
    }
}

/// Where a scenario's relative paths start, and its text for positions.
pub struct Source<'a> {
    pub dir: &'a std::path::Path,
    pub file: &'a str,
    pub text: &'a str,
}

/// Parses `name` or `name*N` into a kernel and a repeat count.
fn kernel_of(text: &str) -> Result<(Kernel, f64), String> {
    let (name, times) = match text.split_once('*') {
        Some((n, t)) => (
            n.trim(),
            t.trim()
                .parse::<f64>()
                .ok()
                .filter(|t| t.is_finite() && *t > 0.0 && *t <= 1e6)
                .ok_or_else(|| {
                    format!("`{text}`: the repeat count after `*` must be a number in (0, 1e6]")
                })?,
        ),
        None => (text.trim(), 1.0),
    };
    let Some(k) = Kernel::from_name(name) else {
        let names: Vec<&str> = Kernel::ALL.iter().map(|k| k.name()).collect();
        let hint = crate::error::nearest(name, &names)
            .map(|n| format!(" (did you mean `{n}`?)"))
            .unwrap_or_default();
        return Err(format!(
            "unknown kernel `{name}`{hint}; expected one of: {}",
            names.join(", ")
        ));
    };
    Ok((k, times))
}

fn work_of(kernels: &[String], cpu: Option<&Dist>) -> Result<Work, String> {
    match (kernels.is_empty(), cpu) {
        (true, None) => Ok(Work::None),
        (false, Some(_)) => Err("give either `kernels` or `cpu`, not both".into()),
        (false, None) => Ok(Work::Kernels(
            kernels
                .iter()
                .map(|k| kernel_of(k))
                .collect::<Result<_, _>>()?,
        )),
        (true, Some(d)) => {
            d.check()?;
            Ok(Work::Cpu(d.clone()))
        }
    }
}

/// Resolves the `[[stages]]` of a scenario: names unique, `after` naming earlier
/// stages, work known, inline payloads within the limit for `items_per_batch`,
/// audio read only from stages that hand audio on (`"pcm"` is `pcm_per_batch` bytes).
pub fn resolve(
    specs: &[StageSpec],
    items_per_batch: u64,
    pcm_per_batch: u64,
    source: &Source,
) -> Result<Pipeline, StageError> {
    let mut stages: Vec<Stage> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut functions: BTreeMap<String, usize> = BTreeMap::new();
    for (i, s) in specs.iter().enumerate() {
        let name = s.name.get_ref().trim().to_string();
        if name.is_empty() {
            return Err(error(s.name.span(), "a stage needs a name".into()));
        }
        if index.contains_key(&name) {
            return Err(error(
                s.name.span(),
                format!("two stages are named `{name}`"),
            ));
        }
        let after = match &s.after {
            None if i == 0 => vec![],
            None => vec![i - 1],
            Some(list) => {
                let mut out = Vec::new();
                for a in list.get_ref() {
                    match index.get(a.as_str()) {
                        Some(&j) if !out.contains(&j) => out.push(j),
                        Some(_) => {
                            return Err(error(list.span(), format!("`{a}` is listed twice")))
                        }
                        None => {
                            let known: Vec<&str> = index.keys().map(|k| k.as_str()).collect();
                            return Err(error(
                                list.span(),
                                format!(
                                    "stage `{name}` reads from `{a}`, which is not a stage above it{}",
                                    if known.is_empty() {
                                        " (the first stage reads the source: leave `after` out)"
                                            .to_string()
                                    } else {
                                        format!(" (stages above: {})", known.join(", "))
                                    }
                                ),
                            ));
                        }
                    }
                }
                out
            }
        };
        let at = |m: String| error(s.name.span(), format!("stage `{name}`: {m}"));
        let mut work = work_of(&s.kernels, s.cpu.as_ref().map(|c| c.get_ref())).map_err(at)?;
        if let Some(w) = &s.work {
            if work != Work::None {
                return Err(error(
                    w.span(),
                    format!("stage `{name}`: give one of `kernels`, `cpu` or `work`"),
                ));
            }
            let d = crate::kernels::work::CpuDistSpec::resolve_spanned(
                w,
                source.dir,
                source.file,
                source.text,
            )
            .map_err(|e| StageError {
                span: w.span(),
                message: e.to_string(),
                positioned: Some(e),
            })?;
            work = Work::Dist(std::sync::Arc::new(d));
        }
        let serialize = work_of(&s.serialize.kernels, s.serialize.cpu.as_ref()).map_err(at)?;
        let deserialize =
            work_of(&s.deserialize.kernels, s.deserialize.cpu.as_ref()).map_err(at)?;
        let (output, bytes) = match s.output_bytes.get_ref() {
            BytesSpec::Count(b) => (OutputBytes::Fixed(*b), *b),
            BytesSpec::Named(n) if n == "jpeg" => (OutputBytes::JpegFrame, 0),
            BytesSpec::Named(n) => {
                return Err(error(
                    s.output_bytes.span(),
                    format!("stage `{name}`: output_bytes must be a number of bytes or \"jpeg\" (a calibrated JPEG frame), got \"{n}\""),
                ))
            }
        };
        if s.via == Via::Payload && output == OutputBytes::JpegFrame {
            return Err(error(
                s.output_bytes.span(),
                format!("stage `{name}`: JPEG frames are handed on through S3 (`via = \"s3\"`), not in the payload"),
            ));
        }
        if s.via == Via::Payload && bytes.saturating_mul(items_per_batch) > PAYLOAD_LIMIT_BYTES {
            return Err(error(
                s.output_bytes.span(),
                format!(
                    "stage `{name}`: {bytes} bytes per item × {items_per_batch} items per execution is over Step Functions' payload limit of 256 KiB ({PAYLOAD_LIMIT_BYTES} bytes); hand it on through S3 (`via = \"s3\"`)"
                ),
            ));
        }
        let audio_bytes = match s.audio_bytes.as_ref().map(|a| (a.span(), a.get_ref())) {
            None => 0,
            Some((_, BytesSpec::Count(b))) => *b,
            Some((_, BytesSpec::Named(n))) if n == "pcm" => pcm_per_batch,
            Some((span, BytesSpec::Named(n))) => {
                return Err(error(
                    span,
                    format!("stage `{name}`: audio_bytes must be a number of bytes per chunk or \"pcm\" (48 kHz stereo 16-bit), got \"{n}\""),
                ))
            }
        };
        if s.via == Via::Payload && audio_bytes > PAYLOAD_LIMIT_BYTES {
            let span = s.audio_bytes.as_ref().map_or(s.name.span(), |a| a.span());
            return Err(error(
                span,
                format!("stage `{name}`: an audio buffer of {audio_bytes} bytes is over Step Functions' payload limit of 256 KiB ({PAYLOAD_LIMIT_BYTES} bytes); hand it on through S3 (`via = \"s3\"`)"),
            ));
        }
        let input = s.input.as_ref().map_or(Input::Video, |i| *i.get_ref());
        if input.audio() {
            let span = s.input.as_ref().map_or(s.name.span(), |i| i.span());
            if after.is_empty() {
                return Err(error(
                    span,
                    format!("stage `{name}` reads audio from the stages it comes after, but it reads the source; give it `after` or leave `input` out"),
                ));
            }
            if let Some(&j) = after.iter().find(|&&j| stages[j].audio_bytes == 0) {
                return Err(error(
                    span,
                    format!(
                        "stage `{name}` reads audio, but stage `{}` hands none on; give `{}` `audio_bytes` (a number per chunk or \"pcm\")",
                        stages[j].name, stages[j].name
                    ),
                ));
            }
        }
        let function = s.function.clone().unwrap_or_else(|| name.clone());
        if let Some(&j) = functions.get(&function) {
            return Err(at(format!(
                "its function `{function}` is already stage `{}`'s",
                stages[j].name
            )));
        }
        functions.insert(function.clone(), i);
        index.insert(name.clone(), i);
        let detector = match &work {
            Work::Kernels(k) => k.iter().map(|(k, _)| *k).find(|k| k.is_detector()),
            _ => None,
        };
        stages.push(Stage {
            name,
            function,
            work,
            per: s.per,
            after,
            output,
            via: s.via,
            serialize,
            deserialize,
            detector,
            input,
            audio_bytes,
        });
    }
    Ok(Pipeline { stages })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src() -> Source<'static> {
        Source {
            dir: std::path::Path::new("."),
            file: "test.toml",
            text: "",
        }
    }

    fn specs(text: &str) -> Vec<StageSpec> {
        #[derive(Deserialize)]
        struct Doc {
            stages: Vec<StageSpec>,
        }
        toml::from_str::<Doc>(text).unwrap().stages
    }

    #[test]
    fn video_pipeline_fans_out_and_in() {
        let p = Pipeline::video(&Kernel::DETECTORS, 12.5, default_aggregate_cpu(), 384_000);
        assert_eq!(p.stages.len(), 7);
        // Silence reads the audio buffer only, A/V sync frames and audio, the rest
        // frames; the converter PUTs both, since readers take each.
        let inputs: Vec<Input> = p.stages[1..6].iter().map(|s| s.input).collect();
        use Input::*;
        assert_eq!(inputs, [Video, Video, Video, Audio, Av]);
        assert!(p.puts_items(0) && p.puts_audio(0));
        // With only video detectors no audio object is written; with only silence
        // no frame is.
        let video = Pipeline::video(&[Kernel::Black], 12.5, default_aggregate_cpu(), 384_000);
        assert!(video.puts_items(0) && !video.puts_audio(0));
        let audio = Pipeline::video(&[Kernel::Silence], 12.5, default_aggregate_cpu(), 384_000);
        assert!(!audio.puts_items(0) && audio.puts_audio(0));
        assert!(p.is_fan_out_fan_in());
        assert_eq!(p.sinks(), vec![6]);
        assert_eq!(p.readers(0).count(), 5);
        assert_eq!(p.by_function("freeze"), Some(2));
        assert_eq!(p.stages[0].work.describe(), "h264_decode×12.5 + scale");
    }

    #[test]
    fn stages_default_to_a_chain_and_fan_in_by_name() {
        let p = resolve(
            &specs(
                r#"
[[stages]]
name = "thumbnail"
cpu = { kind = "lognormal", median = "40ms", p99 = "120ms" }
output_bytes = 20000
[[stages]]
name = "classify"
after = ["thumbnail"]
kernels = ["jpeg_decode", "scale*2"]
[[stages]]
name = "tag"
after = ["thumbnail"]
cpu = { kind = "fixed", value = "5ms" }
[[stages]]
name = "index"
after = ["classify", "tag"]
per = "batch"
"#,
            ),
            1,
            0,
            &src(),
        )
        .map_err(|e| e.message)
        .unwrap();
        assert_eq!(p.stages[1].after, vec![0]);
        assert_eq!(p.stages[3].after, vec![1, 2]);
        assert_eq!(
            p.stages[1].work,
            Work::Kernels(vec![(Kernel::JpegDecode, 1.0), (Kernel::Scale, 2.0)])
        );
        assert!(p.is_fan_out_fan_in());
        assert_eq!(p.sinks(), vec![3]);
    }

    #[test]
    fn bad_stages_say_what_is_wrong() {
        let msg = |t: &str, n: u64| {
            resolve(&specs(t), n, 0, &src())
                .err()
                .map(|e| e.message)
                .unwrap()
        };
        assert!(
            msg("[[stages]]\nname = \"a\"\nkernels = [\"jpg_decode\"]\n", 1)
                .contains("did you mean `jpeg_decode`?")
        );
        assert!(
            msg("[[stages]]\nname = \"a\"\n[[stages]]\nname = \"a\"\n", 1)
                .contains("two stages are named `a`")
        );
        assert!(
            msg("[[stages]]\nname = \"a\"\nafter = [\"b\"]\n", 1).contains("not a stage above it")
        );
        let big = "[[stages]]\nname = \"a\"\noutput_bytes = 100000\nvia = \"payload\"\n";
        assert!(resolve(&specs(big), 2, 0, &src()).is_ok());
        // A CPU-time string, and one that says where it is wrong.
        let p = resolve(
            &specs("[[stages]]\nname = \"a\"\nwork = \"lognormal(median 40ms, p99 120ms)\"\n"),
            1,
            0,
            &src(),
        )
        .map_err(|e| e.message)
        .unwrap();
        assert!(matches!(p.stages[0].work, Work::Dist(_)));
        assert!(resolve(
            &specs("[[stages]]\nname = \"a\"\nwork = \"40ms\"\nkernels = [\"scale\"]\n"),
            1,
            0,
            &src()
        )
        .is_err());
        assert!(msg(big, 3).contains("payload limit of 256 KiB"));
    }

    #[test]
    fn audio_is_read_only_from_stages_that_hand_it_on() {
        let two = |audio: &str, input: &str| {
            format!("[[stages]]\nname = \"a\"\noutput_bytes = 10\n{audio}\n[[stages]]\nname = \"b\"\n{input}\n")
        };
        let p = resolve(
            &specs(&two("audio_bytes = \"pcm\"", "input = \"audio\"")),
            4,
            384_000,
            &src(),
        )
        .map_err(|e| e.message)
        .unwrap();
        assert_eq!(
            (p.stages[0].audio_bytes, p.stages[1].input),
            (384_000, Input::Audio)
        );
        assert!(
            p.puts_audio(0) && !p.puts_items(0),
            "b takes audio, nobody the items"
        );
        let p = resolve(
            &specs(&two("audio_bytes = 1000", "input = \"av\"")),
            4,
            0,
            &src(),
        )
        .map_err(|e| e.message)
        .unwrap();
        assert!(p.puts_audio(0) && p.puts_items(0));
        let msg = |t: &str| {
            resolve(&specs(t), 4, 384_000, &src())
                .err()
                .map(|e| e.message)
                .unwrap()
        };
        assert!(msg(&two("", "input = \"audio\"")).contains("stage `a` hands none on"));
        assert!(
            msg("[[stages]]\nname = \"a\"\ninput = \"audio\"\n").contains("it reads the source")
        );
        assert!(msg(&two("audio_bytes = \"wav\"", "")).contains("or \"pcm\""));
        assert!(msg(&two("audio_bytes = 300000\nvia = \"payload\"", "")).contains("payload limit"));
    }
}
