//! One scenario, every layout: load the calibration, generate the sample stream for
//! the real kernels, simulate each layout (in parallel, results in scenario order),
//! find where the serverless layouts start to throttle.

use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;

use crate::kernels::calibration::{measure, MeasureOptions};
use crate::kernels::{Calibration, CostModel};
use crate::layouts::onset::{self, Onset};
use crate::layouts::{simulate, LayoutRun, RealSample, RunContext};
use crate::scenario::{KernelsChoice, Resolved};

/// Analysed frames (streams × seconds × frames per second) up to which `auto` runs the
/// real detectors.
pub const REAL_KERNELS_MAX_FRAMES: f64 = 50_000.0;

/// How to run a scenario.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Overrides the scenario's `kernels`.
    pub kernels: Option<KernelsChoice>,
    /// Overrides the scenario's `calibration`.
    pub calibration: Option<String>,
    /// Skip the throttle-onset search.
    pub skip_onset: bool,
}

/// Whether the detectors really ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KernelsMode {
    Real,
    Sampled,
}

impl KernelsMode {
    pub fn as_str(self) -> &'static str {
        match self {
            KernelsMode::Real => "real",
            KernelsMode::Sampled => "sampled",
        }
    }
}

/// Everything a scenario run produced.
pub struct ScenarioRun {
    pub resolved: Resolved,
    pub kernels: KernelsMode,
    /// Where the calibration came from.
    pub calibration: String,
    pub layouts: Vec<LayoutRun>,
    /// Throttling onset of each serverless layout.
    pub onsets: Vec<Onset>,
    /// Injected defects of the sample clip (ground truth), when the real kernels ran.
    pub truth: Vec<crate::frames::Defect>,
}

/// Picks real or sampled kernels.
pub fn kernels_mode(r: &Resolved, choice: KernelsChoice) -> KernelsMode {
    match choice {
        KernelsChoice::Real => KernelsMode::Real,
        KernelsChoice::Sampled => KernelsMode::Sampled,
        KernelsChoice::Auto => {
            let w = &r.scenario.workload;
            let frames = *w.streams.get_ref() as f64 * r.duration as f64 / 1e9
                * w.frames_per_second.get_ref().0;
            if frames <= REAL_KERNELS_MAX_FRAMES {
                KernelsMode::Real
            } else {
                KernelsMode::Sampled
            }
        }
    }
}

/// Loads the calibration the scenario (or the override) names.
pub fn calibration(
    r: &Resolved,
    choice: &str,
    scenario_dir: Option<&Path>,
) -> crate::Result<(Calibration, String)> {
    match choice {
        "builtin" => Ok((
            Calibration::builtin(),
            "builtin (calibration/default.toml)".into(),
        )),
        "measure" => {
            let fps = r.scenario.workload.source_fps.0;
            let cal = measure(r.frame_size, fps, &MeasureOptions::default())?;
            Ok((cal, format!("measured now at {}", r.frame_size)))
        }
        path => {
            let p = match scenario_dir {
                Some(d) if Path::new(path).is_relative() => d.join(path),
                _ => Path::new(path).to_path_buf(),
            };
            Ok((Calibration::load(&p)?, p.display().to_string()))
        }
    }
}

/// Runs every layout of the scenario. `progress` gets the fraction done (0..=1).
pub fn run(
    r: Resolved,
    opts: &RunOptions,
    scenario_dir: Option<&Path>,
    progress: Option<&(dyn Fn(f64) + Sync)>,
) -> crate::Result<ScenarioRun> {
    let mode = kernels_mode(&r, opts.kernels.unwrap_or(r.scenario.kernels));
    let choice = opts
        .calibration
        .clone()
        .unwrap_or_else(|| r.scenario.calibration.clone());
    let (cal, cal_note) = calibration(&r, &choice, scenario_dir)?;
    let cost = cal.cost_model(r.frame_size);
    let sample = match mode {
        KernelsMode::Real => Some(RealSample::generate(&r)?),
        KernelsMode::Sampled => None,
    };
    let n = r.scenario.layouts.len().max(1) as f64;
    let done: Vec<std::sync::atomic::AtomicU64> = (0..r.scenario.layouts.len())
        .map(|_| Default::default())
        .collect();
    let report = |i: usize, f: f64| {
        if let Some(p) = progress {
            done[i].store((f * 1e6) as u64, std::sync::atomic::Ordering::Relaxed);
            let total: u64 = done
                .iter()
                .map(|d| d.load(std::sync::atomic::Ordering::Relaxed))
                .sum();
            p(total as f64 / 1e6 / n);
        }
    };
    let cost_ref: &dyn CostModel = &cost;
    let layouts: Vec<crate::Result<LayoutRun>> = r
        .scenario
        .layouts
        .par_iter()
        .enumerate()
        .map(|(i, spec)| {
            let cb = |f: f64| report(i, f);
            let ctx = RunContext {
                resolved: &r,
                cost: cost_ref,
                real: sample.as_ref(),
                progress: Some(&cb),
                streams_override: None,
                duration_override: None,
            };
            simulate(&ctx, spec)
        })
        .collect();
    let layouts = layouts.into_iter().collect::<crate::Result<Vec<_>>>()?;

    let mut onsets = Vec::new();
    if !opts.skip_onset {
        let max_streams = *r.scenario.workload.streams.get_ref();
        let found: Vec<crate::Result<Onset>> = r
            .scenario
            .layouts
            .par_iter()
            .filter(|spec| crate::layouts::of(spec).family() == crate::layouts::Family::Serverless)
            .map(|spec| {
                let ctx = RunContext {
                    resolved: &r,
                    cost: cost_ref,
                    real: None,
                    progress: None,
                    streams_override: None,
                    duration_override: None,
                };
                onset::find(&ctx, spec, max_streams)
            })
            .collect();
        onsets = found.into_iter().collect::<crate::Result<Vec<_>>>()?;
    }
    Ok(ScenarioRun {
        truth: sample.map(|s| s.clip.truth).unwrap_or_default(),
        resolved: r,
        kernels: mode,
        calibration: cal_note,
        layouts,
        onsets,
    })
}
