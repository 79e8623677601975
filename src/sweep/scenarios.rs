//! Grids of whole scenarios: every point is the scenario file with some values
//! replaced, run with sampled kernels; crossovers between layouts found by bisection;
//! one-at-a-time sensitivity of a saving to each labelled assumption.

use std::path::Path;

use toml::Value;

use super::{apply, crossovers_on, grid, run_grid, value_label, VarySpec};

use crate::analysis::Estimate;
use crate::error::Result;
use crate::report::data::{Crossover, Sensitivity, SensitivityBar, SweepData, SweepSeries};
use crate::run::{run, RunOptions};
use crate::scenario::{KernelsChoice, Scenario};
use crate::sim::Time;

/// How variants are run.
#[derive(Debug, Clone, Default)]
pub struct VariantOptions {
    /// Simulated period of each variant (default: the scenario's).
    pub duration: Option<Time>,
    /// Only these layouts (default: all).
    pub layouts: Option<Vec<String>>,
    /// Run variants past the work bound.
    pub allow_large: bool,
    /// Which replication (0: the scenario's own seed; see
    /// [`crate::analysis::replication_seed`]).
    pub replication: u32,
}

/// What one variant cost, per layout in scenario order.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VariantCost {
    pub layout: String,
    pub monthly_usd: f64,
    pub usd_per_stream_hour: f64,
    /// Per 1,000 requests, for a request source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usd_per_1000_requests: Option<f64>,
    pub throttles: u64,
    pub p50_ms: f64,
}

impl VariantCost {
    /// Per 1,000 requests for a request source, else per stream-hour.
    pub fn usd_per_unit(&self) -> f64 {
        self.usd_per_1000_requests
            .unwrap_or(self.usd_per_stream_hour)
    }
}

/// The scenario `base` (parsed TOML of `file`) with `assignments` applied, run.
pub fn run_variant(
    base: &toml::Table,
    file: &str,
    dir: Option<&Path>,
    assignments: &[(String, Value)],
    opts: &VariantOptions,
) -> Result<Vec<VariantCost>> {
    let resolved = resolve_variant(base, file, dir, assignments, opts)?;
    let options = RunOptions {
        kernels: Some(KernelsChoice::Sampled),
        calibration: None,
        skip_onset: true,
        allow_large: opts.allow_large,
        fidelity: None,
        cohort: None,
    };
    let result = run(resolved, &options, dir, None)?;
    let catalog = &result.resolved.catalog;
    Ok(result
        .layouts
        .iter()
        .map(|l| VariantCost {
            layout: l.name.clone(),
            monthly_usd: crate::pricing::price_month(&l.usage, l.period_hours, catalog)
                .month
                .total_usd,
            usd_per_stream_hour: if l.stream_hours > 0.0 {
                l.bill.total_usd / l.stream_hours
            } else {
                0.0
            },
            usd_per_1000_requests: result
                .resolved
                .arrivals
                .is_some()
                .then(|| crate::report::from_run::usd_per_1000_requests(l)),
            throttles: l.total_throttles(),
            p50_ms: if l.latency.is_empty() {
                0.0
            } else {
                l.latency.quantile(0.5) as f64 / 1e6
            },
        })
        .collect())
}

/// The variant of `base` with `assignments` applied, checked and resolved as it will
/// run. Its errors name the real file, the values assigned and the position of the
/// varied value in that file ("low-traffic.toml:20:11: with workload.streams = 1.5: …").
pub fn resolve_variant(
    base: &toml::Table,
    file: &str,
    dir: Option<&Path>,
    assignments: &[(String, Value)],
    opts: &VariantOptions,
) -> Result<crate::scenario::Resolved> {
    let mut doc = base.clone();
    for (path, value) in assignments {
        apply(&mut doc, path, value.clone())?;
    }
    let text = toml::to_string(&doc).map_err(|e| crate::Error::Other(format!("{file}: {e}")))?;
    let mut resolved =
        Scenario::parse(file, &text, dir).map_err(|e| variant_error(e, base, file, assignments))?;
    if let Some(d) = opts.duration {
        resolved.duration = d;
    }
    resolved.scenario.seed =
        crate::analysis::replication_seed(resolved.scenario.seed, opts.replication);
    if let Some(keep) = &opts.layouts {
        resolved.scenario.layouts.retain(|l| keep.contains(&l.name));
    }
    Ok(resolved)
}

/// Maps an error in a variant's (re-serialised) text to the real file: the position
/// of the first varied value as written there, the assignments in the message.
fn variant_error(
    e: crate::Error,
    base: &toml::Table,
    file: &str,
    assignments: &[(String, Value)],
) -> crate::Error {
    let crate::Error::Input(i) = e else { return e };
    if assignments.is_empty() || i.file != file {
        return crate::Error::Input(i);
    }
    let Ok(real) = crate::error::read_text(Path::new(file)) else {
        return crate::Error::Input(i);
    };
    let with: Vec<String> = assignments
        .iter()
        .map(|(p, v)| format!("{p} = {}", value_label(v)))
        .collect();
    let path = file_path_of(base, &assignments[0].0);
    crate::InputError::at_path(
        file,
        &real,
        &path,
        format!("with {}: {}", with.join(", "), i.message),
    )
    .into()
}

/// A sweep path (`layouts.NAME.ec2.instance_type`) as a path into the file
/// (`layouts[1].ec2.instance_type`).
fn file_path_of(base: &toml::Table, path: &str) -> String {
    if let Some(rest) = path.strip_prefix("layouts.") {
        let (name, tail) = rest.split_once('.').unwrap_or((rest, ""));
        let index = base.get("layouts").and_then(Value::as_array).and_then(|a| {
            a.iter()
                .position(|l| l.get("name").and_then(Value::as_str) == Some(name))
        });
        if let Some(i) = index {
            return if tail.is_empty() {
                format!("layouts[{i}]")
            } else {
                format!("layouts[{i}].{tail}")
            };
        }
    }
    path.to_string()
}

/// Checks `--layouts` names against the scenario's layouts.
fn check_layout_names(base: &toml::Table, opts: &VariantOptions) -> Result<()> {
    let Some(keep) = &opts.layouts else {
        return Ok(());
    };
    let names: Vec<&str> = base
        .get("layouts")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|l| l.get("name").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    for k in keep {
        if !names.contains(&k.as_str()) {
            let hint = crate::error::nearest(k, &names)
                .map(|n| format!(" (did you mean `{n}`?)"))
                .unwrap_or_default();
            return Err(crate::InputError::new(
                "--layouts",
                format!(
                    "no layout named `{k}`{hint}; the scenario has: {}",
                    names.join(", ")
                ),
            )
            .into());
        }
    }
    if keep.is_empty() {
        return Err(crate::InputError::new("--layouts", "name at least one layout").into());
    }
    Ok(())
}

/// The default period of a variant: the scenario's, but at most 10 minutes when the
/// workload is constant (the cost per month of a constant load does not depend on it).
pub fn default_variant_duration(text: &str, file: &str) -> Result<Option<Time>> {
    let r = Scenario::parse(file, text, None);
    Ok(match r {
        Ok(r) if r.constant_load() => Some(r.duration.min(600 * crate::sim::NS_PER_SEC)),
        _ => None,
    })
}

/// One point of a sweep: its values and what each layout cost.
#[derive(Debug, Clone)]
pub struct SweepPoint {
    pub assignments: Vec<(String, Value)>,
    pub costs: Vec<VariantCost>,
}

/// A sweep's points, its chart data and the crossovers found.
pub struct SweepOutcome {
    /// Each point; with replications its costs are the means.
    pub points: Vec<SweepPoint>,
    /// Present when exactly one numeric parameter is varied.
    pub data: Option<SweepData>,
    /// With replications: each point's figures over them, layout by layout.
    pub estimates: Option<Vec<Vec<CostEstimate>>>,
}

/// One layout's figures at one point over replications.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostEstimate {
    pub monthly_usd: Estimate,
    /// Per stream-hour, or per 1,000 requests for a request source.
    pub usd_per_unit: Estimate,
    /// Whether the source is requests (the unit is 1,000 requests).
    pub per_request: bool,
    pub throttles: Estimate,
    pub p50_ms: Estimate,
}

impl CostEstimate {
    /// The estimates of layout `i` over `reps` (each a variant's costs).
    pub fn of(reps: &[Vec<VariantCost>], i: usize) -> CostEstimate {
        let f = |g: &dyn Fn(&VariantCost) -> f64| {
            Estimate::of(&reps.iter().map(|r| g(&r[i])).collect::<Vec<_>>())
        };
        CostEstimate {
            monthly_usd: f(&|c| c.monthly_usd),
            usd_per_unit: f(&|c| c.usd_per_unit()),
            per_request: !reps.is_empty()
                && reps.iter().all(|r| r[i].usd_per_1000_requests.is_some()),
            throttles: f(&|c| c.throttles as f64),
            p50_ms: f(&|c| c.p50_ms),
        }
    }

    /// The variant cost the means make (throttles rounded).
    fn mean_cost(&self, layout: &str) -> VariantCost {
        VariantCost {
            layout: layout.to_string(),
            monthly_usd: self.monthly_usd.mean,
            usd_per_stream_hour: if self.per_request {
                0.0
            } else {
                self.usd_per_unit.mean
            },
            usd_per_1000_requests: self.per_request.then_some(self.usd_per_unit.mean),
            throttles: self.throttles.mean.round() as u64,
            p50_ms: self.p50_ms.mean,
        }
    }
}

/// The samples of each cost figure (monthly, per unit, every layout) over
/// replications, for `--precision`.
pub fn cost_samples(reps: &[Vec<VariantCost>]) -> Vec<Vec<f64>> {
    let layouts = reps.first().map_or(0, Vec::len);
    (0..layouts)
        .flat_map(|i| {
            [
                reps.iter().map(|r| r[i].monthly_usd).collect(),
                reps.iter().map(|r| r[i].usd_per_unit()).collect(),
            ]
        })
        .collect()
}

/// A sweep checked and laid out as work units, ready to run.
pub struct SweepPlan {
    base: toml::Table,
    pub points: Vec<super::GridPoint>,
}

impl SweepPlan {
    /// Parses the scenario, checks `--layouts`, every variant of the grid and the
    /// work of the whole grid (times `replications`), before any long run.
    pub fn new(
        text: &str,
        file: &str,
        dir: Option<&Path>,
        specs: &[VarySpec],
        opts: &VariantOptions,
        replications: u32,
    ) -> Result<SweepPlan> {
        let base: toml::Table = toml::from_str(text)
            .map_err(|e| crate::Error::Input(crate::error::toml_error(file, text, &e)))?;
        check_layout_names(&base, opts)?;
        let points = grid(specs)?;
        let mut events = 0.0;
        for p in &points {
            let r = resolve_variant(&base, file, dir, &p.assignments, opts)?;
            events += crate::scenario::bounds::estimated_events(&r, r.duration);
        }
        events *= replications.max(1) as f64;
        let bound = crate::scenario::bounds::MAX_EVENTS;
        if events > bound && !opts.allow_large {
            return Err(crate::InputError::new(
                "--vary",
                format!(
                    "the grid's {} points would simulate about {events:.2e} events in all, more than the {bound:.0e} a run may take (several minutes): use fewer grid points, a shorter --duration, or pass --allow-large",
                    points.len()
                ),
            )
            .into());
        }
        Ok(SweepPlan { base, points })
    }

    /// Runs point `point` with replication `replication`.
    pub fn run_unit(
        &self,
        file: &str,
        dir: Option<&Path>,
        point: usize,
        replication: u32,
        opts: &VariantOptions,
    ) -> Result<Vec<VariantCost>> {
        let opts = VariantOptions {
            replication,
            ..opts.clone()
        };
        run_variant(
            &self.base,
            file,
            dir,
            &self.points[point].assignments,
            &opts,
        )
    }
}

/// Runs the grid of `specs` over the scenario (in parallel, results in grid order)
/// and, for a single numeric parameter, finds every crossover between each pair of
/// layouts by bisection to within 1%.
pub fn sweep(
    text: &str,
    file: &str,
    dir: Option<&Path>,
    specs: &[VarySpec],
    opts: &VariantOptions,
) -> Result<SweepOutcome> {
    let plan = SweepPlan::new(text, file, dir, specs, opts, 1)?;
    let results = run_grid(&(0..plan.points.len()).collect::<Vec<_>>(), |&p| {
        plan.run_unit(file, dir, p, 0, opts)
    });
    let results = results
        .into_iter()
        .map(|r| r.map(|c| vec![c]))
        .collect::<Result<Vec<_>>>()?;
    finish_sweep(&plan, file, dir, specs, opts, results)
}

/// The outcome of a sweep from each point's results (one per replication, in
/// replication order): the points (means, with replications), the chart data and
/// the crossovers, found by bisection on the mean over the same replications.
pub fn finish_sweep(
    plan: &SweepPlan,
    file: &str,
    dir: Option<&Path>,
    specs: &[VarySpec],
    opts: &VariantOptions,
    results: Vec<Vec<Vec<VariantCost>>>,
) -> Result<SweepOutcome> {
    let base = &plan.base;
    let replications = results.first().map_or(1, Vec::len) as u32;
    let replicated = replications > 1;
    let mut out = Vec::new();
    let mut estimates = Vec::new();
    for (p, reps) in plan.points.iter().zip(results) {
        let costs = if replicated {
            let est: Vec<CostEstimate> = (0..reps[0].len())
                .map(|i| CostEstimate::of(&reps, i))
                .collect();
            let means = est
                .iter()
                .zip(&reps[0])
                .map(|(e, c)| e.mean_cost(&c.layout))
                .collect();
            estimates.push(est);
            means
        } else {
            reps.into_iter().next().unwrap_or_default()
        };
        out.push(SweepPoint {
            assignments: p.assignments.clone(),
            costs,
        });
    }
    let numeric = specs.len() == 1
        && specs[0]
            .values
            .iter()
            .all(|v| v.as_float().is_some() || v.as_integer().is_some());
    let data = if numeric && !out.is_empty() {
        let path = specs[0].path.clone();
        let integer = specs[0].values.iter().all(|v| v.as_integer().is_some());
        let xs: Vec<f64> = out.iter().map(|p| as_f64(&p.assignments[0].1)).collect();
        let layouts: Vec<String> = out[0].costs.iter().map(|c| c.layout.clone()).collect();
        let series: Vec<SweepSeries> = layouts
            .iter()
            .enumerate()
            .map(|(i, name)| SweepSeries {
                layout: name.clone(),
                points: out
                    .iter()
                    .map(|p| (as_f64(&p.assignments[0].1), p.costs[i].monthly_usd))
                    .collect(),
            })
            .collect();
        let mut crossovers = Vec::new();
        for a in 0..layouts.len() {
            for b in a + 1..layouts.len() {
                let pair = vec![layouts[a].clone(), layouts[b].clone()];
                let sampled: Vec<(f64, f64)> = out
                    .iter()
                    .map(|p| {
                        (
                            as_f64(&p.assignments[0].1),
                            p.costs[a].monthly_usd - p.costs[b].monthly_usd,
                        )
                    })
                    .collect();
                let pair_opts = VariantOptions {
                    layouts: Some(pair),
                    ..opts.clone()
                };
                let f = |x: f64| -> f64 {
                    if let Some((_, d)) = sampled.iter().find(|(sx, _)| (*sx - x).abs() < 1e-9) {
                        return *d;
                    }
                    let v = if integer {
                        Value::Integer(x.round() as i64)
                    } else {
                        Value::Float(x)
                    };
                    mean_difference(
                        base,
                        file,
                        dir,
                        &[(path.clone(), v)],
                        &pair_opts,
                        replications,
                    )
                };
                for x in crossovers_on(&xs, f, 0.01, 4) {
                    let x = if integer { x.round() } else { x };
                    let y = interpolate(&series[a].points, x);
                    crossovers.push(Crossover {
                        x,
                        usd_per_month: y,
                        label: format!("{} = {}", layouts[a], layouts[b]),
                    });
                }
            }
        }
        crossovers.sort_by(|p, q| p.x.total_cmp(&q.x));
        let x_label = if path == "workload.streams" {
            "concurrent streams".to_string()
        } else if path == "workload.requests.rate" {
            "requests per second".to_string()
        } else {
            path.clone()
        };
        Some(SweepData {
            parameter: path,
            x_label,
            series,
            crossovers,
        })
    } else {
        None
    };
    Ok(SweepOutcome {
        points: out,
        data,
        estimates: replicated.then_some(estimates),
    })
}

/// The first layout's monthly cost less the second's, averaged over `replications`
/// (run in parallel); NaN when a run fails.
fn mean_difference(
    base: &toml::Table,
    file: &str,
    dir: Option<&Path>,
    assignments: &[(String, Value)],
    opts: &VariantOptions,
    replications: u32,
) -> f64 {
    use rayon::prelude::*;
    let diffs: Vec<f64> = (0..replications)
        .into_par_iter()
        .map(|k| {
            let o = VariantOptions {
                replication: k,
                ..opts.clone()
            };
            match run_variant(base, file, dir, assignments, &o) {
                Ok(c) if c.len() == 2 => c[0].monthly_usd - c[1].monthly_usd,
                _ => f64::NAN,
            }
        })
        .collect();
    diffs.iter().sum::<f64>() / diffs.len().max(1) as f64
}

fn as_f64(v: &Value) -> f64 {
    v.as_float()
        .or_else(|| v.as_integer().map(|i| i as f64))
        .unwrap_or(f64::NAN)
}

/// Linear interpolation of a sampled curve at `x`.
fn interpolate(points: &[(f64, f64)], x: f64) -> f64 {
    for w in points.windows(2) {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        if x >= x0 && x <= x1 && x1 > x0 {
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0);
        }
    }
    points.last().map_or(0.0, |p| p.1)
}

/// The saving (%) of layout `of` against layout `against` in a variant.
fn saving(costs: &[VariantCost], of: &str, against: &str) -> Option<f64> {
    let a = costs.iter().find(|c| c.layout == against)?.monthly_usd;
    let b = costs.iter().find(|c| c.layout == of)?.monthly_usd;
    (a > 0.0).then(|| (1.0 - b / a) * 100.0)
}

/// A sensitivity analysis checked and laid out as work units: job 0 the baseline,
/// then each ranged assumption at its low and at its high value.
pub struct SensitivityPlan {
    base: toml::Table,
    ranged: Vec<(String, Value, Value)>,
    pub jobs: Vec<Vec<(String, Value)>>,
    opts: VariantOptions,
    of: String,
    against: String,
}

/// Each saving over replications: the baseline, then (low, high) per bar.
#[derive(Debug, Clone, PartialEq)]
pub struct SensitivityEstimates {
    pub baseline: Estimate,
    pub bars: Vec<(Estimate, Estimate)>,
}

impl SensitivityPlan {
    /// Parses the scenario and checks the work of every run (times `replications`).
    pub fn new(
        text: &str,
        file: &str,
        dir: Option<&Path>,
        of: &str,
        against: &str,
        opts: &VariantOptions,
        replications: u32,
    ) -> Result<SensitivityPlan> {
        let base: toml::Table = toml::from_str(text)
            .map_err(|e| crate::Error::Input(crate::error::toml_error(file, text, &e)))?;
        let resolved = Scenario::parse(file, text, dir)?;
        let bound = crate::scenario::bounds::MAX_EVENTS;
        let runs = (1 + 2 * resolved.scenario.assumptions.len()) * replications.max(1) as usize;
        let events = runs as f64
            * crate::scenario::bounds::estimated_events(
                &resolved,
                opts.duration.unwrap_or(resolved.duration),
            );
        if events > bound && !opts.allow_large {
            return Err(crate::InputError::at_span(
                file,
                text,
                resolved.scenario.workload.streams.span(),
                format!("the {runs} runs would simulate about {events:.2e} events in all, more than the {bound:.0e} a run may take (several minutes): use a shorter --duration, or pass --allow-large"),
            )
            .into());
        }
        let opts = VariantOptions {
            layouts: Some(vec![against.to_string(), of.to_string()]),
            ..opts.clone()
        };
        let ranged: Vec<(String, Value, Value)> = resolved
            .scenario
            .assumptions
            .iter()
            .filter_map(|(path, a)| Some((path.clone(), a.low.clone()?, a.high.clone()?)))
            .collect();
        let mut jobs: Vec<Vec<(String, Value)>> = vec![Vec::new()];
        for (path, low, high) in &ranged {
            jobs.push(vec![(path.clone(), low.clone())]);
            jobs.push(vec![(path.clone(), high.clone())]);
        }
        Ok(SensitivityPlan {
            base,
            ranged,
            jobs,
            opts,
            of: of.to_string(),
            against: against.to_string(),
        })
    }

    /// Runs job `job` with replication `replication`.
    pub fn run_unit(
        &self,
        file: &str,
        dir: Option<&Path>,
        job: usize,
        replication: u32,
    ) -> Result<Vec<VariantCost>> {
        let opts = VariantOptions {
            replication,
            ..self.opts.clone()
        };
        run_variant(&self.base, file, dir, &self.jobs[job], &opts)
    }

    /// The savings from each job's results (one per replication): the means, and
    /// with more than one replication their intervals.
    pub fn finish(
        &self,
        results: &[Vec<Vec<VariantCost>>],
    ) -> (Sensitivity, Option<SensitivityEstimates>) {
        let pct = |c: &[VariantCost]| saving(c, &self.of, &self.against).unwrap_or(f64::NAN);
        let est = |reps: &[Vec<VariantCost>]| {
            Estimate::of(&reps.iter().map(|c| pct(c)).collect::<Vec<_>>())
        };
        let replicated = results.first().is_some_and(|r| r.len() > 1);
        let value = |reps: &[Vec<VariantCost>]| {
            if replicated {
                est(reps).mean
            } else {
                pct(&reps[0])
            }
        };
        let bars = self
            .ranged
            .iter()
            .enumerate()
            .map(|(i, (path, low, high))| SensitivityBar {
                assumption: path.clone(),
                low_value: value_label(low),
                high_value: value_label(high),
                low_saving_pct: value(&results[1 + 2 * i]),
                high_saving_pct: value(&results[2 + 2 * i]),
            })
            .collect();
        let s = Sensitivity {
            comparison: format!("{} vs {}", self.of, self.against),
            baseline_saving_pct: value(&results[0]),
            bars,
        };
        let estimates = replicated.then(|| SensitivityEstimates {
            baseline: est(&results[0]),
            bars: (0..self.ranged.len())
                .map(|i| (est(&results[1 + 2 * i]), est(&results[2 + 2 * i])))
                .collect(),
        });
        (s, estimates)
    }
}

/// Varies each labelled assumption with a low and a high value, one at a time, and
/// reports the saving of layout `of` against layout `against` at each end.
pub fn sensitivity(
    text: &str,
    file: &str,
    dir: Option<&Path>,
    of: &str,
    against: &str,
    opts: &VariantOptions,
) -> Result<Sensitivity> {
    let plan = SensitivityPlan::new(text, file, dir, of, against, opts, 1)?;
    let results = run_grid(&(0..plan.jobs.len()).collect::<Vec<_>>(), |&j| {
        plan.run_unit(file, dir, j, 0).map(|c| vec![c])
    });
    let results: Vec<Vec<Vec<VariantCost>>> = results.into_iter().collect::<Result<_>>()?;
    Ok(plan.finish(&results).0)
}
