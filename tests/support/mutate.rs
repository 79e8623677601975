//! The fuzz harness's core, shared by `tests/fuzz.rs` (a small count in `cargo test`)
//! and `examples/fuzz_inputs.rs` (10^6 inputs, or mutants written out for
//! `bench/fuzz_binary.sh`): deterministic mutations of the shipped TOML files, run
//! through the library's parse-and-validate path, classified by outcome.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::{Duration, Instant};

use archsim::kernels::Calibration;
use archsim::pricing::{Catalog, Usage};
use archsim::scenario::Scenario;

/// One kind of input file and the shipped files it is made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    Scenario,
    Usage,
    Catalog,
    Calibration,
}

impl Target {
    pub const ALL: [Target; 4] = [
        Target::Scenario,
        Target::Usage,
        Target::Catalog,
        Target::Calibration,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Target::Scenario => "scenario",
            Target::Usage => "usage",
            Target::Catalog => "catalog",
            Target::Calibration => "calibration",
        }
    }

    /// The shipped files mutated for this target, relative to the repository.
    pub fn seeds(self) -> &'static [&'static str] {
        match self {
            Target::Scenario => &[
                "scenarios/prime-video.toml",
                "scenarios/prime-video-small.toml",
                "scenarios/low-traffic.toml",
            ],
            Target::Usage => &["scenarios/usage-example.toml"],
            Target::Catalog => &["catalogs/aws-us-east-1.toml"],
            Target::Calibration => &["calibration/default.toml"],
        }
    }
}

/// splitmix64: a tiny portable generator, so a seed gives the same mutants anywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Numbers that break naive code: zero, negatives, huge, non-finite, type limits.
const EXTREMES: &[&str] = &[
    "0",
    "-1",
    "1e308",
    "-1e308",
    "nan",
    "inf",
    "-inf",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551615",
    "4294967296",
    "1e15",
    "1e9",
    "0.0",
    "1e-300",
    "2",
    "1000000000",
];

/// Replacements of a whole value: other types.
const SWAPS: &[&str] = &[
    "\"x\"",
    "[]",
    "{}",
    "true",
    "[1, 2]",
    "\"\"",
    "1970-01-01",
    "{ a = 1 }",
];

/// Mutates `text` by one to three edits: delete, duplicate or swap lines, an extreme
/// number, a value of another type, truncation, byte flips.
pub fn mutate(text: &str, rng: &mut Rng) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    for _ in 0..1 + rng.below(3) {
        bytes = edit(bytes, rng);
    }
    bytes
}

fn lines(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect()
}

fn join(lines: Vec<Vec<u8>>) -> Vec<u8> {
    lines.join(&b'\n')
}

fn edit(bytes: Vec<u8>, rng: &mut Rng) -> Vec<u8> {
    match rng.below(8) {
        0 => {
            let mut l = lines(&bytes);
            let i = rng.below(l.len());
            l.remove(i);
            join(l)
        }
        1 => {
            let mut l = lines(&bytes);
            let i = rng.below(l.len());
            let line = l[i].clone();
            l.insert(i, line);
            join(l)
        }
        2 => {
            let mut l = lines(&bytes);
            let (i, j) = (rng.below(l.len()), rng.below(l.len()));
            l.swap(i, j);
            join(l)
        }
        3 | 4 => replace_value(bytes, rng, true),
        5 => replace_value(bytes, rng, false),
        6 => {
            let at = rng.below(bytes.len() + 1);
            bytes[..at].to_vec()
        }
        _ => {
            let mut b = bytes;
            for _ in 0..1 + rng.below(4) {
                if !b.is_empty() {
                    let i = rng.below(b.len());
                    b[i] = rng.next() as u8;
                }
            }
            b
        }
    }
}

/// Replaces the value after an `=` on a random line (or a number in an array) with an
/// extreme number (`numeric`) or a value of another type.
fn replace_value(bytes: Vec<u8>, rng: &mut Rng, numeric: bool) -> Vec<u8> {
    let mut l = lines(&bytes);
    let candidates: Vec<usize> = (0..l.len()).filter(|&i| l[i].contains(&b'=')).collect();
    if candidates.is_empty() {
        return bytes;
    }
    let i = candidates[rng.below(candidates.len())];
    let line = String::from_utf8_lossy(&l[i]).into_owned();
    let pick = if numeric {
        EXTREMES[rng.below(EXTREMES.len())]
    } else {
        SWAPS[rng.below(SWAPS.len())]
    };
    // A number inside the line (inline tables, arrays) or the whole value.
    let digits: Vec<(usize, usize)> = number_spans(&line);
    let new = if numeric && !digits.is_empty() && rng.below(2) == 0 {
        let (a, b) = digits[rng.below(digits.len())];
        format!("{}{pick}{}", &line[..a], &line[b..])
    } else {
        let eq = line.find('=').unwrap_or(0);
        format!("{}= {pick}", &line[..eq])
    };
    l[i] = new.into_bytes();
    join(l)
}

fn number_spans(line: &str) -> Vec<(usize, usize)> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit()
            && (i == 0 || !b[i - 1].is_ascii_alphanumeric() && b[i - 1] != b'_' && b[i - 1] != b'.')
        {
            let start = i;
            while i < b.len()
                && (b[i].is_ascii_digit() || b[i] == b'.' || b[i] == b'e' || b[i] == b'_')
            {
                i += 1;
            }
            if i >= b.len() || !b[i].is_ascii_alphabetic() {
                out.push((start, i));
            }
        } else {
            i += 1;
        }
    }
    out
}

/// How one input ended.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Accepted.
    Accepted,
    /// An input error with a position and a message (exit code 2).
    Positioned,
    /// Failures: an input error without line, an empty message, another error,
    /// a panic, or an input that took longer than the hang limit.
    MissingPosition(String),
    EmptyMessage(String),
    OtherError(String),
    Panic(String),
    Hang(String),
}

impl Outcome {
    pub fn class(&self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Positioned => "error with position",
            Outcome::MissingPosition(_) => "MISSING POSITION",
            Outcome::EmptyMessage(_) => "EMPTY MESSAGE",
            Outcome::OtherError(_) => "OTHER ERROR",
            Outcome::Panic(_) => "PANIC",
            Outcome::Hang(_) => "HANG",
        }
    }
    pub fn is_failure(&self) -> bool {
        !matches!(self, Outcome::Accepted | Outcome::Positioned)
    }
}

/// One input longer than this in-process is reported as a hang.
pub const HANG_LIMIT: Duration = Duration::from_secs(5);

/// The builtin catalog, parsed once.
fn catalog() -> &'static Catalog {
    static C: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();
    C.get_or_init(Catalog::builtin)
}

/// Runs `bytes` as a `target` file named `file` through parse and validate (for a
/// scenario, also the work check done before a run), and classifies the result.
pub fn check(target: Target, file: &str, bytes: Vec<u8>, dir: &Path) -> Outcome {
    let started = Instant::now();
    let result = catch_unwind(AssertUnwindSafe(|| -> archsim::Result<()> {
        let text = archsim::error::text_from_bytes(file, bytes)?;
        match target {
            Target::Scenario => {
                let r = Scenario::parse(file, &text, Some(dir))?;
                archsim::scenario::bounds::check_work(&r, r.duration, false, false)?;
                // The calibration it names, as a run loads it (not `measure`: that runs
                // the kernels).
                if r.scenario.calibration != "measure" {
                    archsim::run::scenario_calibration(&r, None, Some(dir))?;
                }
            }
            Target::Usage => {
                Usage::parse(file, &text, catalog())?;
            }
            Target::Catalog => {
                Catalog::parse(file, &text)?;
            }
            Target::Calibration => {
                Calibration::parse(file, &text)?;
            }
        }
        Ok(())
    }));
    let took = started.elapsed();
    let outcome = match result {
        Err(p) => Outcome::Panic(
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default(),
        ),
        Ok(Ok(())) => Outcome::Accepted,
        Ok(Err(archsim::Error::Input(e))) => {
            if e.message.trim().is_empty() {
                Outcome::EmptyMessage(e.to_string())
            } else if e.line.is_none() {
                Outcome::MissingPosition(e.to_string())
            } else {
                Outcome::Positioned
            }
        }
        Ok(Err(other)) => Outcome::OtherError(other.to_string()),
    };
    if took > HANG_LIMIT {
        return Outcome::Hang(format!("{took:?}"));
    }
    outcome
}

/// Counts of outcomes by target and class, and the first few failures.
#[derive(Debug, Default)]
pub struct Tally {
    pub counts: BTreeMap<(&'static str, &'static str), u64>,
    pub failures: Vec<(String, Outcome)>,
    pub inputs: u64,
}

impl Tally {
    pub fn add(&mut self, target: Target, label: String, o: Outcome) {
        self.inputs += 1;
        *self.counts.entry((target.name(), o.class())).or_default() += 1;
        if o.is_failure() && self.failures.len() < 20 {
            self.failures.push((label, o));
        }
    }

    pub fn merge(&mut self, other: Tally) {
        self.inputs += other.inputs;
        for (k, v) in other.counts {
            *self.counts.entry(k).or_default() += v;
        }
        for f in other.failures {
            if self.failures.len() < 20 {
                self.failures.push(f);
            }
        }
    }

    pub fn failed(&self) -> u64 {
        self.counts
            .iter()
            .filter(|((_, c), _)| c.chars().all(|ch| !ch.is_lowercase()))
            .map(|(_, n)| n)
            .sum()
    }

    pub fn report(&self) -> String {
        let mut s = format!("{} inputs\n", self.inputs);
        for ((t, c), n) in &self.counts {
            s.push_str(&format!("  {t:<12} {c:<20} {n}\n"));
        }
        s.push_str(&format!("failures: {}\n", self.failed()));
        for (label, o) in &self.failures {
            s.push_str(&format!("  {label}: {o:?}\n"));
        }
        s
    }
}

/// The `i`th input of a run with `seed`: its target, shipped file and mutated bytes.
pub fn input(
    seed: u64,
    i: u64,
    texts: &[(Target, &'static str, String)],
) -> (Target, &'static str, Vec<u8>) {
    let mut rng = Rng::new(seed.wrapping_mul(0x100_0000_01b3) ^ i);
    let (target, file, text) = &texts[rng.below(texts.len())];
    (*target, file, mutate(text, &mut rng))
}

/// The shipped files, read from the repository at `root`.
pub fn seed_texts(root: &Path) -> Vec<(Target, &'static str, String)> {
    Target::ALL
        .iter()
        .flat_map(|t| t.seeds().iter().map(move |f| (*t, *f)))
        .map(|(t, f)| {
            (
                t,
                f,
                std::fs::read_to_string(root.join(f)).expect("a shipped file"),
            )
        })
        .collect()
}

/// Runs inputs `range` in parallel (rayon), results tallied in input order.
pub fn run(seed: u64, range: std::ops::Range<u64>, root: &Path) -> Tally {
    use rayon::prelude::*;
    let texts = seed_texts(root);
    let scenarios = root.join("scenarios");
    let chunks: Vec<std::ops::Range<u64>> = (range.start..range.end)
        .step_by(1000)
        .map(|s| s..(s + 1000).min(range.end))
        .collect();
    let tallies: Vec<Tally> = chunks
        .par_iter()
        .map(|c| {
            let mut t = Tally::default();
            for i in c.clone() {
                let (target, file, bytes) = input(seed, i, &texts);
                let o = check(target, file, bytes, &scenarios);
                t.add(target, format!("input {i} (seed {seed}, {file})"), o);
            }
            t
        })
        .collect();
    let mut all = Tally::default();
    for t in tallies {
        all.merge(t);
    }
    all
}
