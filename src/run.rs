//! One scenario, every layout: load the calibration, generate the sample stream for
//! the real kernels, simulate each layout (in parallel, results in scenario order),
//! find where the serverless layouts start to throttle.

use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;

use crate::kernels::calibration::{measure, MeasureOptions};
use crate::kernels::{Calibration, CostModel};
use crate::layouts::cohort::{Cohort, Fidelity, FidelityInfo, COHORT_STREAMS};
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
    /// Run even past the work bound (`scenario::bounds::check_work`).
    pub allow_large: bool,
    /// Overrides the scenario's `fidelity` (default: fast, see `layouts::cohort`).
    pub fidelity: Option<Fidelity>,
    /// Streams the fast mode simulates (default [`COHORT_STREAMS`]).
    pub cohort: Option<u32>,
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
    /// Which fidelity ran (a cohort of the streams, or all of them).
    pub fidelity: FidelityInfo,
    /// Where the calibration came from.
    pub calibration: String,
    pub layouts: Vec<LayoutRun>,
    /// Each overloaded layout rerun with every soft quota raised (`quotas_raised`),
    /// aligned with `layouts`; `None` where the layout keeps up or cannot lift its
    /// quotas.
    pub raised: Vec<Option<LayoutRun>>,
    /// Throttling onset of each serverless layout.
    pub onsets: Vec<Onset>,
    /// Injected defects of the sample clip (ground truth), when the real kernels ran.
    pub truth: Vec<crate::frames::Defect>,
}

/// Picks real or sampled kernels (a request source has no sample stream for the
/// real detectors: always sampled).
pub fn kernels_mode(r: &Resolved, choice: KernelsChoice) -> KernelsMode {
    if r.arrivals.is_some() {
        return KernelsMode::Sampled;
    }
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

/// A run-time input error without a position, mapped to the layout's `kind` in the
/// scenario file so every error names where it comes from.
fn layout_error(r: &Resolved, spec: &crate::scenario::LayoutSpec, e: crate::Error) -> crate::Error {
    match e {
        crate::Error::Input(i) if i.line.is_none() => crate::InputError::at_span(
            &r.file,
            &r.text,
            spec.kind.span(),
            format!("layout `{}`: {}", spec.name, i.message),
        )
        .into(),
        other => other,
    }
}

/// The sample generator names its flags (`--defects`, `--seconds`); from a scenario,
/// its errors point at `[workload.sample]` instead.
fn sample_error(r: &Resolved, e: crate::Error) -> crate::Error {
    match e {
        crate::Error::Input(i) if i.line.is_none() => {
            let field = match i.file.trim_start_matches('-') {
                "fps" => "workload.frames_per_second",
                "size" => "workload.frame_size",
                f @ ("defects" | "seconds" | "photo") => {
                    return crate::InputError::at_path(
                        &r.file,
                        &r.text,
                        &format!("workload.sample.{f}"),
                        format!("sample {f}: {}", i.message),
                    )
                    .into()
                }
                _ => "workload.sample",
            };
            crate::InputError::at_path(&r.file, &r.text, field, i.message).into()
        }
        other => other,
    }
}

/// The calibration a run uses: `flag` (`--calibration`) or the scenario's. One the
/// scenario names but that cannot be read is reported at the scenario's line.
pub fn scenario_calibration(
    r: &Resolved,
    flag: Option<&str>,
    scenario_dir: Option<&Path>,
) -> crate::Result<(Calibration, String)> {
    let choice = flag.unwrap_or(&r.scenario.calibration);
    calibration(r, choice, scenario_dir).map_err(|e| match e {
        crate::Error::Input(i) if i.line.is_none() && flag.is_none() => crate::InputError::at_path(
            &r.file,
            &r.text,
            "calibration",
            format!(
                "calibration `{choice}` (builtin, measure or a calibration file): {}: {}",
                i.file, i.message
            ),
        )
        .into(),
        other => other,
    })
}

/// Runs every layout of the scenario. `progress` gets the fraction done (0..=1).
pub fn run(
    r: Resolved,
    opts: &RunOptions,
    scenario_dir: Option<&Path>,
    progress: Option<&(dyn Fn(f64) + Sync)>,
) -> crate::Result<ScenarioRun> {
    let mode = kernels_mode(&r, opts.kernels.unwrap_or(r.scenario.kernels));
    // The fast mode runs a cohort of the streams (sampled kernels only: the real
    // detectors report each stream's defects), everything else on the scenario as is.
    let fidelity = opts.fidelity.or(r.scenario.fidelity).unwrap_or_default();
    // Requests are not streams: a cohort of them would be a thinner arrival process.
    let cohort = match (fidelity, mode) {
        (Fidelity::Fast, KernelsMode::Sampled) if r.arrivals.is_none() => {
            Cohort::choose(&r, opts.cohort.unwrap_or(COHORT_STREAMS))
        }
        _ => None,
    };
    let small = cohort.map(|c| c.resolved(&r));
    let sim: &Resolved = small.as_ref().unwrap_or(&r);
    let streams = *r.scenario.workload.streams.get_ref();
    let mut info = cohort.map_or_else(|| FidelityInfo::full(streams), |c| c.info());
    let whole = |run: LayoutRun| match cohort {
        Some(c) => c.scale_run(run, &r, r.duration),
        None => run,
    };
    // The fast mode's steady segments: each stretch of constant load run for a
    // warm-up and a window and projected to its length (streams only).
    let segments = match (fidelity, mode) {
        (Fidelity::Fast, KernelsMode::Sampled) => crate::layouts::segments::plan(sim, sim.duration),
        _ => None,
    };
    let simulate = |ctx: &RunContext, spec: &crate::scenario::LayoutSpec| match &segments {
        Some(segs) if crate::layouts::segments::applies(ctx, spec, segs) => {
            crate::layouts::segments::simulate_segments(ctx, spec, segs)
        }
        _ => simulate(ctx, spec),
    };
    let (cal, cal_note) = scenario_calibration(&r, opts.calibration.as_deref(), scenario_dir)?;
    let cost = cal.cost_model(r.frame_size);
    // Steady segments simulate only part of the period: the work check counts that.
    let span = segments.as_ref().map_or(sim.duration, |segs| {
        crate::layouts::segments::simulated_span(&RunContext::new(sim, &cost), segs, sim.duration)
    });
    crate::scenario::bounds::check_work(sim, span, mode == KernelsMode::Real, opts.allow_large)?;
    let sample = match mode {
        KernelsMode::Real => Some(RealSample::generate(&r).map_err(|e| sample_error(&r, e))?),
        KernelsMode::Sampled => None,
    };
    let n = sim.scenario.layouts.len().max(1) as f64;
    let done: Vec<std::sync::atomic::AtomicU64> = (0..sim.scenario.layouts.len())
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
    if let Some(segs) = segments.as_ref().filter(|segs| {
        let ctx = RunContext::new(sim, cost_ref);
        sim.scenario
            .layouts
            .iter()
            .any(|spec| crate::layouts::segments::applies(&ctx, spec, segs))
    }) {
        info = cohort
            .unwrap_or(Cohort {
                streams,
                of: streams,
            })
            .info();
        info.steady_segments = Some(crate::layouts::cohort::SteadySegments {
            stretches: segs.len(),
            warmup_s: crate::layouts::segments::WARMUP as f64 / 1e9,
            window_s: crate::layouts::segments::WINDOW as f64 / 1e9,
        });
    }
    // Each layout's runs are one task, its onset search (serverless layouts, streams
    // only) another beside it, so no layout waits for the slowest of another phase;
    // results are collected in scenario order and errors reported in the order the
    // phases had: every run's, then every rerun's, then every search's.
    let search_onsets = !opts.skip_onset && sim.arrivals.is_none();
    let max_streams = *sim.scenario.workload.streams.get_ref();
    type Runs = (crate::Result<LayoutRun>, crate::Result<Option<LayoutRun>>);
    let tasks: Vec<(Runs, Option<crate::Result<Onset>>)> = sim
        .scenario
        .layouts
        .par_iter()
        .enumerate()
        .map(|(i, spec)| {
            let runs = || -> Runs {
                let cb = |f: f64| report(i, f);
                let ctx = RunContext {
                    real: sample.as_ref(),
                    progress: Some(&cb),
                    ..RunContext::new(sim, cost_ref)
                };
                let run = simulate(&ctx, spec)
                    .map(whole)
                    .map_err(|e| layout_error(&r, spec, e));
                // The bill "with quotas raised to carry the load": AWS raises soft
                // quotas on request, so an overloaded layout is also billed as if
                // they did not bind.
                let raised = match &run {
                    Ok(run)
                        if crate::layouts::of(spec).lifts_quotas()
                            && run.capacity().binding.is_some_and(|g| g.is_soft()) =>
                    {
                        let ctx = RunContext {
                            quotas_raised: true,
                            ..RunContext::new(sim, cost_ref)
                        };
                        simulate(&ctx, spec)
                            .map(|run| Some(whole(run)))
                            .map_err(|e| layout_error(&r, spec, e))
                    }
                    _ => Ok(None),
                };
                (run, raised)
            };
            let serverless =
                crate::layouts::of(spec).family() == crate::layouts::Family::Serverless;
            let onset = || {
                (search_onsets && serverless).then(|| {
                    onset::find(&RunContext::new(sim, cost_ref), spec, max_streams)
                        .map(|o| match cohort {
                            Some(c) => c.scale_onset(o),
                            None => o,
                        })
                        .map_err(|e| layout_error(&r, spec, e))
                })
            };
            rayon::join(runs, onset)
        })
        .collect();
    let mut layouts = Vec::new();
    let mut raised = Vec::new();
    let mut found = Vec::new();
    for ((run, rerun), onset) in tasks {
        layouts.push(run);
        raised.push(rerun);
        found.extend(onset);
    }
    let layouts = layouts.into_iter().collect::<crate::Result<Vec<_>>>()?;
    let raised = raised.into_iter().collect::<crate::Result<Vec<_>>>()?;
    let onsets = found.into_iter().collect::<crate::Result<Vec<_>>>()?;
    Ok(ScenarioRun {
        truth: sample.map(|s| s.clip.truth).unwrap_or_default(),
        resolved: r,
        kernels: mode,
        fidelity: info,
        calibration: cal_note,
        layouts,
        raised,
        onsets,
    })
}
