//! `archsim sweep`, `explain` and `sensitivity`: glue between the command line and
//! the library's scenario grids and reports.

use std::path::Path;

use anyhow::Result;

use archsim::analysis::shard::{run_part, scenario_fingerprint};
use archsim::analysis::{replicate, Merged, Plan, Shard, Work};
use archsim::report::charts;
use archsim::report::money::usd;
use archsim::report::output::OutputDir;
use archsim::report::term;
use archsim::scenario::Scenario;
use archsim::sim::{Dur, Time};
use archsim::sweep::scenarios::{
    cost_samples, default_variant_duration, finish_sweep, SensitivityPlan, SweepPlan, VariantCost,
    VariantOptions,
};
use archsim::sweep::{value_label, VarySpec};

use crate::cli::{ExplainArgs, ScaleArgs, SensitivityArgs, SweepArgs};

/// The replication plan of the flags (`None`: one run, as without them).
pub fn plan_of(scale: &ScaleArgs) -> Result<Option<Plan>> {
    Plan::from_flags(
        scale.replications,
        scale.precision.as_deref(),
        scale.max_replications,
    )
    .map_err(anyhow::Error::new)
}

/// Where a command's work units come from: `merged` parts, this machine's shard
/// (`--shard`, results to the part file `--out`), or all of them here.
pub fn work_of(
    scale: &ScaleArgs,
    plan: Option<&Plan>,
    out: &Option<std::path::PathBuf>,
    force: bool,
    merged: Option<Merged>,
) -> Result<Work> {
    if let Some(m) = merged {
        return Ok(Work::Merged(m));
    }
    let Some(text) = &scale.shard else {
        if scale.shards.is_some() {
            anyhow::bail!(archsim::InputError::new(
                "--shards",
                "goes with --shard auto"
            ));
        }
        return Ok(Work::All);
    };
    let shard = Shard::parse(text, scale.shards, |v| std::env::var(v).ok())?;
    if plan.is_some_and(|p| p.precision.is_some()) {
        anyhow::bail!(archsim::InputError::new(
            "--precision",
            "decides the number of replications as results come in, which shards cannot share: shard a fixed --replications N instead"
        ));
    }
    let Some(out) = out.clone() else {
        anyhow::bail!(archsim::InputError::new(
            "--shard",
            "needs --out PART.json: the part file this shard writes (then `archsim merge PARTS... --out DIR`)"
        ));
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    Ok(Work::Shard {
        shard,
        args: archsim::analysis::shard::canonical_args(&args),
        out,
        force,
    })
}

/// The results of a job's `total` units from this machine's shard (written to its
/// part: `None`) or from merged parts (checked against the inputs here now);
/// `Work::All` is the caller's.
pub fn distributed_units<R>(
    work: Work,
    total: usize,
    label: &str,
    fingerprint: impl Fn(&[String]) -> Result<String>,
    unit: impl Fn(usize) -> archsim::Result<R> + Sync + Send,
) -> Result<Option<Vec<R>>>
where
    R: serde::Serialize + serde::de::DeserializeOwned + Send,
{
    match work {
        Work::All => anyhow::bail!("internal: all units run here, none from shards"),
        Work::Shard {
            shard,
            args,
            out,
            force,
        } => {
            let hash = fingerprint(&args)?;
            let ran = lib(run_part(
                shard, &args, &out, force, hash, total, label, unit,
            ))?;
            eprintln!(
                "wrote shard {}/{} ({ran} of {total} units) to {}",
                shard.index,
                shard.count,
                out.display()
            );
            Ok(None)
        }
        Work::Merged(m) => {
            lib(m.check_inputs(&fingerprint(&m.args)?))?;
            let results: Vec<R> = lib(m.results())?;
            if results.len() != total {
                anyhow::bail!(archsim::InputError::new(
                    "merge",
                    format!(
                        "the parts hold {} units, the command line makes {total}",
                        results.len()
                    )
                ));
            }
            Ok(Some(results))
        }
    }
}

/// The replication plan, where the units come from, and the output folder (none
/// for a shard, whose `--out` is its part file) of a sweep or sensitivity.
fn plan_work_dir(
    scale: &ScaleArgs,
    out: &Option<std::path::PathBuf>,
    force: bool,
    merged: Option<Merged>,
) -> Result<(Option<Plan>, Work, Option<OutputDir>)> {
    let plan = plan_of(scale)?;
    let work = work_of(scale, plan.as_ref(), out, force, merged)?;
    let dir = if work.is_shard() {
        None
    } else {
        out_dir(out, force)?
    };
    Ok((plan, work, dir))
}

/// Runs the `jobs` × replications units of a sweep or sensitivity the way `work`
/// says (unit `j·N + k` is job j's replication k). Results: job → replication →
/// costs; `None` when a shard wrote its part.
fn variant_units(
    work: Work,
    plan: Option<Plan>,
    jobs: usize,
    label: &str,
    fingerprint: impl Fn(&[String]) -> Result<String>,
    unit: impl Fn(usize, u32) -> archsim::Result<Vec<VariantCost>> + Sync + Send,
) -> Result<Option<Vec<Vec<Vec<VariantCost>>>>> {
    let plan = plan.unwrap_or(Plan::single());
    if let Work::All = work {
        return Ok(Some(lib(replicate(
            &plan,
            jobs,
            label,
            unit,
            cost_samples,
        ))?));
    }
    let n = plan.replications as usize;
    let flat = distributed_units(work, jobs * n, label, fingerprint, |u| {
        unit(u / n, (u % n) as u32)
    })?;
    Ok(flat.map(|flat| {
        let mut it = flat.into_iter();
        (0..jobs).map(|_| it.by_ref().take(n).collect()).collect()
    }))
}

/// With `--precision`: the widest cost interval over every job, as a multiple of
/// the target (at most 1 when it was reached).
fn precision_reached(plan: Option<&Plan>, results: &[Vec<Vec<VariantCost>>]) -> Option<f64> {
    let p = plan?.precision?;
    Some(
        results
            .iter()
            .map(|r| archsim::analysis::replications::worst_ratio(cost_samples(r), p))
            .fold(0.0, f64::max),
    )
}

/// `mean ± half-width` in dollars, the half-width as a share of the mean.
fn usd_pm(e: &archsim::analysis::Estimate) -> String {
    archsim::report::summary::plus_minus_share(e, usd)
}

fn lib<T>(r: archsim::Result<T>) -> Result<T> {
    r.map_err(anyhow::Error::new)
}

/// A crossing's value as people read it: whole numbers from 10 up (stream counts),
/// two or three decimals below (request rates like 0.21 a second).
fn crossing_value(x: f64) -> String {
    if x >= 10.0 {
        format!("{x:.0}")
    } else if x >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

/// Parses a `--duration` flag.
fn duration_flag(text: &Option<String>) -> Result<Option<Time>> {
    match text {
        None => Ok(None),
        Some(t) => {
            let d = Dur::parse(t)
                .map_err(|m| anyhow::Error::new(archsim::InputError::new("--duration", m)))?;
            Ok(Some(lib(archsim::scenario::bounds::check_duration_flag(
                d.0,
                "--duration",
                t,
            ))?))
        }
    }
}

/// The simulated period of each variant: `--duration`, or the scenario's (at most
/// 10 minutes for a constant workload).
fn variant_duration(flag: &Option<String>, text: &str, file: &str) -> Result<Option<Time>> {
    match duration_flag(flag)? {
        Some(d) => Ok(Some(d)),
        None => lib(default_variant_duration(text, file)),
    }
}

/// Reads a scenario file's text and checks it (errors with line and column).
fn scenario_text(path: &Path) -> Result<(String, String)> {
    let text = lib(archsim::error::read_text(path))?;
    let file = path.display().to_string();
    lib(Scenario::parse(&file, &text, path.parent()))?;
    Ok((text, file))
}

fn out_dir(out: &Option<std::path::PathBuf>, force: bool) -> Result<Option<OutputDir>> {
    out.as_ref()
        .map(|d| lib(OutputDir::create(d, force)))
        .transpose()
}

/// `archsim sweep` (`merged`: the results of its shards).
pub fn sweep_cmd(a: SweepArgs, merged: Option<Merged>) -> Result<()> {
    let specs = a
        .vary
        .iter()
        .map(|v| VarySpec::parse(v).map_err(anyhow::Error::new))
        .collect::<Result<Vec<_>>>()?;
    let (text, file) = scenario_text(&a.scenario)?;
    let (plan, work, dir) = plan_work_dir(&a.scale, &a.out, a.force, merged)?;
    let duration = variant_duration(&a.duration, &text, &file)?;
    let opts = VariantOptions {
        duration,
        layouts: a.layouts.clone(),
        allow_large: a.allow_large,
        replication: 0,
    };
    let parent = a.scenario.parent();
    let n = plan.map_or(1, |p| p.replications);
    let sweep_plan = lib(SweepPlan::new(&text, &file, parent, &specs, &opts, n))?;
    let fingerprint = |args: &[String]| {
        let r = lib(Scenario::parse(&file, &text, parent))?;
        lib(scenario_fingerprint(args, &r, None, parent))
    };
    let Some(results) = variant_units(
        work,
        plan,
        sweep_plan.points.len(),
        "sweep",
        fingerprint,
        |j, k| sweep_plan.run_unit(&file, parent, j, k, &opts),
    )?
    else {
        return Ok(());
    };
    let worst = precision_reached(plan.as_ref(), &results);
    let outcome = lib(finish_sweep(
        &sweep_plan,
        &file,
        parent,
        &specs,
        &opts,
        results,
    ))?;
    let estimates = outcome.estimates.as_ref();

    let mut csv = csv::Writer::from_writer(Vec::new());
    // A request source quotes its cost per 1,000 requests instead of per stream-hour.
    let per_request = outcome
        .points
        .first()
        .and_then(|p| p.costs.first())
        .is_some_and(|c| c.usd_per_1000_requests.is_some());
    let unit = if per_request {
        "usd_per_1000_requests"
    } else {
        "usd_per_stream_hour"
    };
    let mut header: Vec<String> = specs.iter().map(|s| s.path.clone()).collect();
    header.extend(
        [
            "layout",
            "usd_per_month",
            unit,
            "throttles",
            "latency_p50_ms",
        ]
        .map(String::from),
    );
    if estimates.is_some() {
        header.extend([
            "usd_per_month_ci95_lo".to_string(),
            "usd_per_month_ci95_hi".to_string(),
            format!("{unit}_ci95_lo"),
            format!("{unit}_ci95_hi"),
            "replications".to_string(),
        ]);
    }
    csv.write_record(&header)?;
    let mut head: Vec<String> = specs.iter().map(|s| s.path.clone()).collect();
    if let Some(p) = outcome.points.first() {
        head.extend(p.costs.iter().map(|c| c.layout.clone()));
    }
    let mut table = term::table(head);
    for (pi, p) in outcome.points.iter().enumerate() {
        let values: Vec<String> = p.assignments.iter().map(|(_, v)| value_label(v)).collect();
        let mut row = values.clone();
        for (li, c) in p.costs.iter().enumerate() {
            let mut rec = values.clone();
            rec.extend([
                c.layout.clone(),
                format!("{:.6}", c.monthly_usd),
                format!("{:.6}", c.usd_per_unit()),
                c.throttles.to_string(),
                format!("{:.3}", c.p50_ms),
            ]);
            match estimates.map(|e| &e[pi][li]) {
                Some(e) => {
                    let (m, h) = (e.monthly_usd, e.usd_per_unit);
                    rec.extend([
                        format!("{:.6}", m.ci95[0]),
                        format!("{:.6}", m.ci95[1]),
                        format!("{:.6}", h.ci95[0]),
                        format!("{:.6}", h.ci95[1]),
                        m.n.to_string(),
                    ]);
                    row.push(usd_pm(&m));
                }
                None => row.push(usd(c.monthly_usd)),
            }
            csv.write_record(&rec)?;
        }
        table.add_row(row);
    }
    term::keep_words(&mut table);
    println!("Cost a month of each layout at each point\n{table}");
    let first = estimates.and_then(|e| e.first()).and_then(|e| e.first());
    if let (Some(p), Some(e)) = (&plan, first) {
        let note = archsim::analysis::replications::note(p, e.monthly_usd.n, worst);
        print!("{}", term::paragraph(&note, 2));
    }
    if let Some(data) = &outcome.data {
        if data.crossovers.is_empty() {
            println!("No crossover in the range: one layout stays cheaper throughout.");
        }
        for c in &data.crossovers {
            // Which of the two is cheaper past the crossing, from the last sample.
            let (a, b) = c.label.split_once(" = ").unwrap_or((&c.label, ""));
            let last = |name: &str| {
                data.series
                    .iter()
                    .find(|s| s.layout == name)
                    .and_then(|s| s.points.last())
                    .map(|p| p.1)
            };
            let cheaper = match (last(a), last(b)) {
                (Some(x), Some(y)) if x < y => a,
                _ => b,
            };
            print!(
                "{}",
                term::paragraph(
                    &format!(
                        "Crossover: {a} and {b} cost the same at {} ≈ {} ({} a month each); above it {cheaper} is cheaper.",
                        data.parameter,
                        crossing_value(c.x),
                        usd(c.usd_per_month)
                    ),
                    2
                )
            );
        }
    }
    if let Some(dir) = dir {
        dir.write("results.csv", &csv.into_inner()?)?;
        let paths: Vec<String> = specs.iter().map(|s| s.path.clone()).collect();
        let page = archsim::report::whatif::WhatIf::from_points(&file, &paths, &outcome.points);
        dir.write(
            "whatif.html",
            archsim::report::whatif::render(&page).as_bytes(),
        )?;
        if let Some(data) = &outcome.data {
            let chart = charts::sweep(data);
            dir.write("sweep.svg", lib(chart.svg())?.as_bytes())?;
            dir.write("sweep.png", &lib(chart.png())?)?;
        }
        eprintln!("wrote {}", lib(dir.commit())?.display());
    }
    Ok(())
}

/// `archsim explain`.
pub fn explain_cmd(a: ExplainArgs) -> Result<()> {
    let (mut resolved, dir) = match &a.scenario {
        Some(path) => (
            lib(Scenario::load(path))?,
            path.parent().map(Path::to_path_buf),
        ),
        None => (Scenario::classroom(), None),
    };
    if resolved.arrivals.is_some() {
        return lib(Err(archsim::InputError::at_path(
            &resolved.file,
            &resolved.text,
            "workload.requests",
            "`archsim explain` walks through the bill of one stream-second; this scenario's source is requests: use `archsim run --details` for its cost by service",
        )
        .into()));
    }
    let duration = variant_duration(&a.duration, &resolved.text, &resolved.file)?;
    if let Some(d) = duration {
        resolved.duration = d;
    }
    let opts = archsim::run::RunOptions {
        kernels: Some(archsim::scenario::KernelsChoice::Sampled),
        calibration: None,
        skip_onset: a.no_onset,
        allow_large: a.allow_large,
        fidelity: None,
        cohort: None,
    };
    let run = lib(archsim::run::run(resolved, &opts, dir.as_deref(), None))?;
    let input = archsim::report::from_run::explain_input(&run);
    print!("{}", archsim::report::explain::explain_markdown(&input));
    Ok(())
}

/// `archsim sensitivity` (`merged`: the results of its shards).
pub fn sensitivity_cmd(a: SensitivityArgs, merged: Option<Merged>) -> Result<()> {
    let (text, file) = scenario_text(&a.scenario)?;
    let resolved = lib(Scenario::parse(&file, &text, a.scenario.parent()))?;
    let layouts = &resolved.scenario.layouts;
    let against = a.against.clone().unwrap_or_else(|| layouts[0].name.clone());
    let of = match &a.of {
        Some(o) => o.clone(),
        None => layouts
            .iter()
            .find(|l| l.kind.get_ref() == "monolith")
            .map(|l| l.name.clone())
            .ok_or_else(|| {
                anyhow::Error::new(archsim::InputError::new(
                    &file,
                    "no monolith layout: name the layout to measure with --of",
                ))
            })?,
    };
    for name in [&of, &against] {
        if !layouts.iter().any(|l| &l.name == name) {
            let names: Vec<&str> = layouts.iter().map(|l| l.name.as_str()).collect();
            anyhow::bail!(archsim::InputError::new(
                &file,
                format!(
                    "no layout named `{name}`; the scenario has: {}",
                    names.join(", ")
                )
            ));
        }
    }
    let (plan, work, dir) = plan_work_dir(&a.scale, &a.out, a.force, merged)?;
    let duration = variant_duration(&a.duration, &text, &file)?;
    let opts = VariantOptions {
        duration,
        layouts: None,
        allow_large: a.allow_large,
        replication: 0,
    };
    let parent = a.scenario.parent();
    let n = plan.map_or(1, |p| p.replications);
    let sens = lib(SensitivityPlan::new(
        &text, &file, parent, &of, &against, &opts, n,
    ))?;
    let fingerprint = |args: &[String]| lib(scenario_fingerprint(args, &resolved, None, parent));
    let Some(results) = variant_units(
        work,
        plan,
        sens.jobs.len(),
        "sensitivity",
        fingerprint,
        |j, k| sens.run_unit(&file, parent, j, k),
    )?
    else {
        return Ok(());
    };
    let worst = precision_reached(plan.as_ref(), &results);
    let (s, estimates) = sens.finish(&results);
    if s.bars.is_empty() {
        print!(
            "{}",
            term::paragraph(
                &format!("No assumption in {file} has both `low` and `high`: nothing to vary."),
                2
            )
        );
    }
    let mut table = term::table([
        "assumption",
        "low",
        "saving at low",
        "high",
        "saving at high",
        "swing",
    ]);
    let mut csv = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<&str> = vec![
        "assumption",
        "low",
        "saving_at_low_pct",
        "high",
        "saving_at_high_pct",
    ];
    if estimates.is_some() {
        header.extend([
            "saving_at_low_ci95_lo",
            "saving_at_low_ci95_hi",
            "saving_at_high_ci95_lo",
            "saving_at_high_ci95_hi",
            "replications",
        ]);
    }
    csv.write_record(&header)?;
    let mut bars: Vec<(usize, &archsim::report::data::SensitivityBar)> =
        s.bars.iter().enumerate().collect();
    bars.sort_by(|(_, x), (_, y)| {
        (y.high_saving_pct - y.low_saving_pct)
            .abs()
            .total_cmp(&(x.high_saving_pct - x.low_saving_pct).abs())
    });
    let pct = |v: f64, e: Option<&archsim::analysis::Estimate>| match e {
        Some(e) => format!("{v:.1}% ± {:.1}", e.half_width()),
        None => format!("{v:.1}%"),
    };
    for (i, b) in bars {
        let (lo, hi) = match &estimates {
            Some(e) => (Some(&e.bars[i].0), Some(&e.bars[i].1)),
            None => (None, None),
        };
        table.add_row(vec![
            b.assumption.clone(),
            b.low_value.clone(),
            pct(b.low_saving_pct, lo),
            b.high_value.clone(),
            pct(b.high_saving_pct, hi),
            format!("{:.1} points", (b.high_saving_pct - b.low_saving_pct).abs()),
        ]);
        let mut rec = vec![
            b.assumption.clone(),
            b.low_value.clone(),
            format!("{:.4}", b.low_saving_pct),
            b.high_value.clone(),
            format!("{:.4}", b.high_saving_pct),
        ];
        if let (Some(lo), Some(hi)) = (lo, hi) {
            rec.extend([lo.ci95[0], lo.ci95[1], hi.ci95[0], hi.ci95[1]].map(|v| format!("{v:.4}")));
            rec.push(lo.n.to_string());
        }
        csv.write_record(&rec)?;
    }
    println!(
        "Saving of {} — baseline {}",
        s.comparison,
        pct(
            s.baseline_saving_pct,
            estimates.as_ref().map(|e| &e.baseline)
        )
    );
    if let (Some(p), Some(e)) = (&plan, &estimates) {
        let note = archsim::analysis::replications::note(p, e.baseline.n, worst);
        print!("{}", term::paragraph(&note, 2));
    }
    term::keep_words(&mut table);
    println!("{table}");
    if let Some(dir) = dir {
        dir.write("sensitivity.csv", &csv.into_inner()?)?;
        let chart = charts::tornado(&s);
        dir.write("tornado.svg", lib(chart.svg())?.as_bytes())?;
        dir.write("tornado.png", &lib(chart.png())?)?;
        eprintln!("wrote {}", lib(dir.commit())?.display());
    }
    Ok(())
}
