//! Command-line definitions (clap) and nothing else: `main.rs` resolves them into
//! validated options before anything runs.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const ABOUT: &str = "\
archsim: what a video-monitoring pipeline costs and how fast it answers, laid out as
serverless microservices (Step Functions + Lambda + S3) or as one process on EC2/ECS.";

const EXAMPLES: &str = "\
Examples:
  archsim run scenarios/prime-video.toml            compare the layouts of the Prime Video case
  archsim run                                       the small classroom scenario (seconds, real detectors)
  archsim run scenarios/prime-video.toml --out reports/prime-video   write charts and report.html
  archsim price scenarios/usage-example.toml        price a usage file (a month of metered usage)
  archsim price usage.toml --format json            the same bill as JSON
  archsim catalog show                              every price and quota, with sources
  archsim validate                                  check the engine against queueing theory
  archsim frames generate --photo astronaut --size 1280x720 --seconds 12 --defects \"black@40..45\" --out clip
  archsim kernels detect clip.y4m --audio clip.wav  find defects in a clip
  archsim kernels bench --size 1920x1080            measure every kernel, write a calibration
  archsim asl count scenarios/prime-video.asl.json  transitions one execution of a state machine is billed
  archsim calibrate lambda-logs app.log --stage thumbnail --out thumbnail.cal.toml   a stage's work from Lambda logs";

#[derive(Debug, Parser)]
#[command(name = "archsim", version, about = ABOUT, after_help = EXAMPLES)]
pub struct Cli {
    /// Price catalog file to use instead of the embedded aws-us-east-1 catalog.
    #[arg(long, global = true, value_name = "FILE")]
    pub catalog: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate a scenario's layouts: cost, latency, throttles and the defects found.
    #[command(after_help = RUN_EXAMPLES)]
    Run(RunArgs),
    /// Run a grid of scenario variants and find where one layout overtakes another.
    #[command(after_help = SWEEP_EXAMPLES)]
    Sweep(SweepArgs),
    /// The case explained: the bill of one stream-second in each layout, as Markdown.
    #[command(after_help = EXPLAIN_EXAMPLES)]
    Explain(ExplainArgs),
    /// Vary each labelled assumption over its range: how the saving moves (tornado chart).
    #[command(after_help = SENSITIVITY_EXAMPLES)]
    Sensitivity(SensitivityArgs),
    /// Price a usage file: line items and total.
    #[command(after_help = PRICE_EXAMPLES)]
    Price(PriceArgs),
    /// Inspect the price catalog.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Check the simulation engine against exact queueing results (Erlang B and C,
    /// Pollaczek-Khinchine, Little's law); exits 1 if any check fails.
    #[command(after_help = VALIDATE_EXAMPLES)]
    Validate(ValidateArgs),
    /// Sample video streams from real photographs, with injected defects.
    #[command(subcommand)]
    Frames(FramesCommand),
    /// Run the real media-converter and defect-detector kernels: detect, bench.
    #[command(subcommand)]
    Kernels(KernelsCommand),
    /// Print a shell completion script: `source <(archsim completions bash)`.
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `archsim man > archsim.1; man ./archsim.1`.
    Man,
    /// Your own Step Functions state machine (Amazon States Language): count.
    #[command(subcommand)]
    Asl(AslCommand),
    /// Measure a stage's work from real metrics: lambda-logs.
    #[command(subcommand)]
    Calibrate(CalibrateCommand),
    /// Merge the part files of a sharded run, sweep or sensitivity into its output.
    #[command(after_help = MERGE_EXAMPLES)]
    Merge(MergeArgs),
}

const MERGE_EXAMPLES: &str = "\
Examples:
  archsim sweep s.toml --vary workload.streams=1..100:log:8 --shard 0/2 --out parts/0.json
  archsim sweep s.toml --vary workload.streams=1..100:log:8 --shard 1/2 --out parts/1.json
  archsim merge parts/*.json --out sweep/          the files `sweep s.toml ... --out sweep/` writes

Every part carries its command line and a hash of its inputs (scenario, catalog,
calibration, archsim version); merge refuses parts of different inputs, a missing or
repeated shard, and a scenario changed since. It replays the command's output: the
same printout and, into --out, the same bytes as the run on one machine.";

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Part files written by `--shard I/N --out PART.json`, in any order.
    #[arg(required = true)]
    pub parts: Vec<PathBuf>,
    /// The output folder the unsharded command's --out would be.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace an existing --out folder.
    #[arg(long)]
    pub force: bool,
}

/// Replications and shards, shared by `run`, `sweep` and `sensitivity`.
#[derive(Debug, Clone, Args)]
pub struct ScaleArgs {
    /// Independent replications (seeds derived from the scenario's): mean ± 95%
    /// confidence interval of every figure.
    #[arg(long, value_name = "N")]
    pub replications: Option<u32>,
    /// Add replications until every cost interval's half-width is within this share
    /// of its mean, e.g. 1%.
    #[arg(long, value_name = "PERCENT")]
    pub precision: Option<String>,
    /// Most replications --precision may run (default 30).
    #[arg(long, value_name = "N")]
    pub max_replications: Option<u32>,
    /// Run only units I, I+N, … (I from 0) and write them to the part file --out; `auto`
    /// takes I from JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID or AWS_BATCH_JOB_ARRAY_INDEX.
    #[arg(long, value_name = "I/N|auto")]
    pub shard: Option<String>,
    /// The shard count N for --shard auto (Slurm's SLURM_ARRAY_TASK_COUNT otherwise).
    #[arg(long, value_name = "N")]
    pub shards: Option<u32>,
}

const ASL_COUNT_EXAMPLES: &str = "\
Examples:
  archsim asl count scenarios/prime-video.asl.json                  8 transitions a chunk
  archsim asl count scenarios/prime-video.asl.json --fail Convert=2 two throttles: 10
  archsim asl count machine.asl.json --input input.json --format json

One execution with instant tasks: a simulated function returns what it was given.
--fail STATE=N makes that Task fail its first N attempts with
Lambda.TooManyRequestsException (its Retry and Catch apply). Transitions follow AWS:
one per state entered (inside Map iterations and Parallel branches too), one per retry,
one per Distributed Map child execution started. See README.md for the ASL supported.";

#[derive(Debug, Subcommand)]
pub enum AslCommand {
    /// One execution with instant tasks: transitions billed, states entered, retries.
    #[command(after_help = ASL_COUNT_EXAMPLES)]
    Count(AslCountArgs),
}

#[derive(Debug, Args)]
pub struct AslCountArgs {
    /// State machine definition (Amazon States Language JSON).
    pub machine: PathBuf,
    /// Execution input (JSON file); without it the execution gets `{}`.
    #[arg(long, value_name = "INPUT.json")]
    pub input: Option<PathBuf>,
    /// STATE=N: that Task fails its first N attempts as a throttled function (repeatable).
    #[arg(long = "fail", value_name = "STATE=N")]
    pub fail: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

const LAMBDA_LOGS_EXAMPLES: &str = "\
Examples:
  archsim calibrate lambda-logs examples/logs/thumbnail-report.log --stage thumbnail --out thumbnail.cal.toml
  archsim calibrate lambda-logs day1.log day2.jsonl --stage classify --out classify.cal.toml --force
  aws logs tail /aws/lambda/thumbnail --since 1d > thumbnail.log

Reads Lambda REPORT records in the text form (`REPORT RequestId: ... Duration: 395.99 ms
Billed Duration: 396 ms Memory Size: 512 MB ...`, fields separated by tabs or spaces, a
timestamp prefix allowed) and the JSON log format (`platform.report` records, one per line,
a JSON array, or CloudWatch log events). Other lines are skipped and counted; a malformed
REPORT record is an error (exit 2). Each Duration becomes CPU time at its memory's vCPU
share: Duration x min(1, memory / 1769 MB), the catalog's `mb_per_vcpu`.
A pipeline stage names the result as its work per item: \"empirical(thumbnail.cal.toml)\".";

#[derive(Debug, Subcommand)]
pub enum CalibrateCommand {
    /// Read Lambda REPORT records and write a stage calibration (CPU time, cold starts).
    #[command(after_help = LAMBDA_LOGS_EXAMPLES)]
    LambdaLogs(LambdaLogsArgs),
}

#[derive(Debug, Args)]
pub struct LambdaLogsArgs {
    /// Log files: text (CloudWatch export, `aws logs tail`) or JSON log format.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Name of the pipeline stage the function runs.
    #[arg(long)]
    pub stage: String,
    /// Write the stage calibration (TOML) here.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Replace an existing --out file.
    #[arg(long)]
    pub force: bool,
}

const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  source <(archsim completions bash)                          this shell only
  archsim completions bash > ~/.local/share/bash-completion/completions/archsim
  archsim completions zsh > ~/.zfunc/_archsim                 with fpath+=~/.zfunc in ~/.zshrc
  archsim completions fish > ~/.config/fish/completions/archsim.fish
  archsim completions powershell >> $PROFILE";

const GENERATE_EXAMPLES: &str = "\
Examples:
  archsim frames generate --photo astronaut --size 1280x720 --fps 25 --seconds 12 \\
      --defects \"black@40..45,freeze@100..160,blocks@200,silence@5s..6s,avsync=+120ms@8s..\" --out clip
      writes clip.y4m, clip.wav and clip.truth.json (the injected defects)
  archsim frames generate --photo coffee --size 640x360 --seconds 4 --out clean --h264
      a clean clip, also encoded as clip.h264

Defects: KIND@PLACE items separated by commas. Kinds: black, freeze (repeats the frame
before), blocks (16x16 macroblocks gray, garbage or misplaced), silence, avsync=OFFSET
(audio late when positive). Places: 200 (a frame), 40..45 (frames 40 to 44), 40..=45,
5s..6s (times), 8s.. (to the end). Photos: astronaut, coffee, chelsea, rocket, or a
PNG/JPEG file. See docs/kernels.md.";

#[derive(Debug, Subcommand)]
pub enum FramesCommand {
    /// Generate a sample clip (Y4M + WAV + ground truth JSON) from a photograph.
    #[command(after_help = GENERATE_EXAMPLES)]
    Generate(GenerateArgs),
    /// List the shipped photographs and their sources.
    Photos,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Photograph: astronaut, coffee, chelsea, rocket, or a PNG/JPEG file.
    #[arg(long, default_value = "astronaut")]
    pub photo: String,
    /// Frame size WIDTHxHEIGHT (even, up to 1920x1080 recommended).
    #[arg(long, default_value = "1280x720")]
    pub size: String,
    /// Frames per second.
    #[arg(long, default_value_t = 25.0)]
    pub fps: f64,
    /// Duration in seconds.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Defects to inject, e.g. "black@40..45,blocks@200,silence@5s..6s".
    #[arg(long, default_value = "")]
    pub defects: String,
    /// Seed of the noise, camera path and corruption.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output path without extension: writes OUT.y4m, OUT.wav, OUT.truth.json.
    #[arg(long, value_name = "OUT")]
    pub out: PathBuf,
    /// Also write OUT.h264 (H.264 Annex-B, OpenH264).
    #[arg(long)]
    pub h264: bool,
}

const DETECT_EXAMPLES: &str = "\
Examples:
  archsim kernels detect clip.y4m --audio clip.wav
  archsim kernels detect clip.h264 --fps 25 --format json
  archsim kernels detect clip.y4m --detectors black,freeze --params thresholds.toml
  ffmpeg -i movie.mp4 -t 10 -f yuv4mpegpipe clip.y4m && ffmpeg -i movie.mp4 -t 10 -ac 1 -ar 48000 clip.wav

Inputs: Y4M (8-bit 4:2:0 or mono), H.264 Annex-B (.h264/.264), WAV. The thresholds file is
TOML with any of the fields in docs/kernels.md (e.g. freeze_mad = 0.5).";

const BENCH_EXAMPLES: &str = "\
Examples:
  archsim kernels bench --size 1920x1080 --fps 25
  archsim kernels bench --size 1280x720 --out calibration.toml
  archsim kernels bench --size 1920x1080 --frames 500 --out cal.toml --merge calibration/default.toml

Measures per-frame CPU time of H.264 decode, scale, JPEG encode/decode and each detector
over a sample stream (after warm-up), and a plain sum over the same frames as the
memory-bandwidth reference. The calibration file is what the simulator draws from.";

#[derive(Debug, Subcommand)]
pub enum KernelsCommand {
    /// Find defects in a Y4M or H.264 file (and a WAV file).
    #[command(after_help = DETECT_EXAMPLES)]
    Detect(DetectArgs),
    /// Measure every kernel and write a calibration file.
    #[command(after_help = BENCH_EXAMPLES)]
    Bench(BenchArgs),
}

#[derive(Debug, Args)]
pub struct DetectArgs {
    /// Video: .y4m or .h264/.264.
    pub video: PathBuf,
    /// Audio: a WAV file (any rate and channel count).
    #[arg(long)]
    pub audio: Option<PathBuf>,
    /// Frame rate (overrides the Y4M header; H.264 streams default to 25).
    #[arg(long)]
    pub fps: Option<f64>,
    /// Detectors to run, comma-separated (black, freeze, block_corruption, silence, av_sync).
    #[arg(long, value_delimiter = ',')]
    pub detectors: Vec<String>,
    /// TOML file with detector thresholds (see docs/kernels.md).
    #[arg(long)]
    pub params: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Analysis frame size WIDTHxHEIGHT.
    #[arg(long, default_value = "1920x1080")]
    pub size: String,
    /// Frames per second of the sample stream.
    #[arg(long, default_value_t = 25.0)]
    pub fps: f64,
    /// Frames measured after warm-up.
    #[arg(long, default_value_t = 300)]
    pub frames: usize,
    /// Warm-up frames (run, not recorded).
    #[arg(long, default_value_t = 25)]
    pub warmup: usize,
    /// Photograph the sample stream is made from.
    #[arg(long, default_value = "astronaut")]
    pub photo: String,
    /// Write the calibration (TOML) here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Add the measured size to this calibration file's sizes before writing --out.
    #[arg(long)]
    pub merge: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

const VALIDATE_EXAMPLES: &str = "\
Examples:
  archsim validate                                  the default run (a few seconds)
  archsim validate --format json                    the same checks as JSON
  archsim validate --seed 7 --replications 20       other random streams, more replications
  archsim validate --customers 1000000              longer runs: narrower intervals

Each check prints the exact value, the mean of the replications and its confidence
interval (Student t over replications); a check passes when the interval holds the
exact value. Exit code 1 when any check fails.";

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Seed of the random streams.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Independent replications per model (at least 2).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(2..=10_000))]
    pub replications: u32,
    /// Customers measured per replication.
    #[arg(long, default_value_t = 200_000, value_parser = clap::value_parser!(u64).range(100..=1_000_000_000))]
    pub customers: u64,
    /// Confidence level of the intervals, in percent.
    #[arg(long, default_value_t = 99.9)]
    pub confidence: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

const RUN_EXAMPLES: &str = "\
Examples:
  archsim run                                        the embedded classroom scenario
  archsim run scenarios/prime-video.toml             thousands of streams, the 2023 quotas
  archsim run scenarios/prime-video.toml --format json > run.json
  archsim run scenarios/low-traffic.toml --usage-out usage/   one usage file per layout
  archsim run scenarios/prime-video.toml --out reports/prime-video --force
  archsim run scenarios/prime-video-small.toml --kernels real --seed 3
  archsim run scenarios/prime-video-day.toml         a day of 10,000 streams (fast fidelity)
  archsim run scenarios/prime-video.toml --fidelity full   every stream, event by event (~1 min)

For each layout it prints the cost of the simulated period and per 730-hour month, cost
per stream-hour, line items by service, end-to-end latency (capture to end of analysis),
throttles and retries per service, peak Lambda concurrency and instances, the saving
against the first layout, and where the serverless layouts start to throttle.";

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario file (TOML); without one, the embedded classroom scenario runs.
    pub scenario: Option<PathBuf>,
    /// Run the real detectors on the sample stream, or draw service times only.
    #[arg(long, value_enum)]
    pub kernels: Option<KernelsArg>,
    /// Calibration: builtin, measure, or a calibration file.
    #[arg(long, value_name = "builtin|measure|FILE")]
    pub calibration: Option<String>,
    /// Seed of every random stream (overrides the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write each layout's usage file (`LAYOUT.usage.toml`) into this folder (a new
    /// or empty one; --force replaces it whole).
    #[arg(long, value_name = "DIR")]
    pub usage_out: Option<PathBuf>,
    /// Write the report folder (summary.json, CSVs, charts, report.html) here.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace an existing --out (and --usage-out) folder.
    #[arg(long)]
    pub force: bool,
    /// Skip the search for the stream count where throttling starts.
    #[arg(long)]
    pub no_onset: bool,
    /// Also print cost by service, latency percentiles, throttles, retries and peaks.
    #[arg(long)]
    pub details: bool,
    /// Run even when the work estimate is past the bound (README: Limits).
    #[arg(long)]
    pub allow_large: bool,
    /// full: every stream, event by event (the default); fast: a cohort of the
    /// streams for a warm-up and a window, scaled up (README: Fidelity; the shipped
    /// Prime Video scenarios ask for it). Overrides the scenario's `fidelity`.
    #[arg(long, value_enum)]
    pub fidelity: Option<FidelityArg>,
    /// Streams the fast mode simulates (default 500): more is slower and closer to
    /// the full run (bench/fidelity.sh measures how close).
    #[arg(long, value_name = "STREAMS", value_parser = clap::value_parser!(u32).range(1..))]
    pub cohort: Option<u32>,
    #[command(flatten)]
    pub scale: ScaleArgs,
}

const SWEEP_EXAMPLES: &str = "\
Examples:
  archsim sweep scenarios/low-traffic.toml --vary workload.streams=1..100:log:12 --out reports/sweep-low-traffic
  archsim sweep scenarios/prime-video.toml --vary workload.streams=1..10000:log:25 --duration 2min --out sweep/
  archsim sweep scenarios/prime-video.toml --vary workload.streams=100,1000 \\
      --vary layouts.monolith.ec2.instance_type=c5.2xlarge,c6g.2xlarge --layouts distributed,monolith

--vary PATH=LO..HI:log:N (N log-spaced values), PATH=LO..HI:lin:N, or PATH=A,B,C. PATH is a
dotted path into the scenario file; `layouts.NAME.` selects a layout by name. Each point
runs with sampled kernels. With one numeric --vary, every crossover between two layouts
is found by bisection to within 1% and printed. Writes results.csv, sweep.svg/.png and
whatif.html (one slider per --vary; the setting lives in the URL hash, e.g. #workload.streams=10).";

#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// What to vary: PATH=LO..HI:log:N, PATH=LO..HI:lin:N or PATH=A,B,C (repeatable).
    #[arg(long = "vary", required = true, value_name = "SPEC")]
    pub vary: Vec<String>,
    /// Simulated period of each point (default: the scenario's, at most 10 min for a
    /// constant workload).
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<String>,
    /// Only these layouts (comma-separated names).
    #[arg(long, value_delimiter = ',')]
    pub layouts: Option<Vec<String>>,
    /// Write results.csv, the chart and whatif.html here.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace files in an existing --out folder.
    #[arg(long)]
    pub force: bool,
    /// Run even when the work estimate is past the bound (README: Limits).
    #[arg(long)]
    pub allow_large: bool,
    #[command(flatten)]
    pub scale: ScaleArgs,
}

const EXPLAIN_EXAMPLES: &str = "\
Examples:
  archsim explain scenarios/prime-video.toml > case.md
  archsim explain                                   the classroom scenario
  archsim explain scenarios/prime-video.toml --duration 5min --no-onset

Prints Markdown: each layout's bill of one stream-second, item by item (quantity x unit
price), which items disappear in the monolith and why, the CPU work left in both, and
where the serverless layouts meet their quota wall.";

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Scenario file (TOML); without one, the embedded classroom scenario.
    pub scenario: Option<PathBuf>,
    /// Simulated period (default: the scenario's, at most 10 min for a constant workload).
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<String>,
    /// Skip the search for where throttling starts.
    #[arg(long)]
    pub no_onset: bool,
    /// Run even when the work estimate is past the bound (README: Limits).
    #[arg(long)]
    pub allow_large: bool,
}

const SENSITIVITY_EXAMPLES: &str = "\
Examples:
  archsim sensitivity scenarios/prime-video.toml --out reports/sensitivity
  archsim sensitivity scenarios/prime-video.toml --of fargate --against distributed

Every assumption in the scenario's [assumptions] table with `low` and `high` values is
set to each end in turn (the others at their values); the saving of --of against
--against is printed and drawn as a tornado chart (tornado.svg/.png).";

#[derive(Debug, Args)]
pub struct SensitivityArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// The layout whose saving is measured (default: the first monolith).
    #[arg(long)]
    pub of: Option<String>,
    /// The layout it is measured against (default: the first layout).
    #[arg(long)]
    pub against: Option<String>,
    /// Simulated period of each run (default: the scenario's, at most 10 min for a
    /// constant workload).
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<String>,
    /// Write sensitivity.csv and the tornado chart here.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace files in an existing --out folder.
    #[arg(long)]
    pub force: bool,
    /// Run even when the work estimate is past the bound (README: Limits).
    #[arg(long)]
    pub allow_large: bool,
    #[command(flatten)]
    pub scale: ScaleArgs,
}

/// How faithfully `run` simulates the streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FidelityArg {
    /// A cohort of the streams with every quota cut to its share, scaled up.
    Fast,
    /// Every stream, event by event.
    Full,
}

/// Which kernels run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KernelsArg {
    /// Real for small scenarios, sampled for large ones.
    Auto,
    /// The detectors run on the sample stream's frames.
    Real,
    /// Service times from the calibration only.
    Sampled,
}

const PRICE_EXAMPLES: &str = "\
Examples:
  archsim price scenarios/usage-example.toml
  archsim price usage.toml --format json
  archsim price usage.toml --catalog my-negotiated-rates.toml

The usage file (TOML) lists metered quantities per resource: [[lambda]], [[step_functions]],
[[s3]], [[ec2]], [[fargate]]; see README.md for every field.";

#[derive(Debug, Args)]
pub struct PriceArgs {
    /// Usage file (TOML) to price.
    pub usage: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Print the catalog: every rate and quota with its source and date.
    #[command(
        after_help = "Examples:\n  archsim catalog show\n  archsim catalog show --format json\n  archsim catalog show --catalog my.toml"
    )]
    Show {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for people.
    Table,
    /// JSON for tools.
    Json,
}
