//! `archsim sweep`, `explain` and `sensitivity`: glue between the command line and
//! the library's scenario grids and reports.

use std::path::Path;

use anyhow::Result;

use archsim::report::charts;
use archsim::report::money::usd;
use archsim::report::output::OutputDir;
use archsim::report::term;
use archsim::scenario::Scenario;
use archsim::sim::{Dur, Time};
use archsim::sweep::scenarios::{default_variant_duration, sensitivity, sweep, VariantOptions};
use archsim::sweep::{value_label, VarySpec};

use crate::cli::{ExplainArgs, SensitivityArgs, SweepArgs};

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

/// `archsim sweep`.
pub fn sweep_cmd(a: SweepArgs) -> Result<()> {
    let specs = a
        .vary
        .iter()
        .map(|v| VarySpec::parse(v).map_err(anyhow::Error::new))
        .collect::<Result<Vec<_>>>()?;
    let (text, file) = scenario_text(&a.scenario)?;
    let dir = out_dir(&a.out, a.force)?;
    let duration = variant_duration(&a.duration, &text, &file)?;
    let opts = VariantOptions {
        duration,
        layouts: a.layouts.clone(),
        allow_large: a.allow_large,
    };
    let outcome = lib(sweep(&text, &file, a.scenario.parent(), &specs, &opts))?;

    let mut csv = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = specs.iter().map(|s| s.path.clone()).collect();
    header.extend(
        [
            "layout",
            "usd_per_month",
            "usd_per_stream_hour",
            "throttles",
            "latency_p50_ms",
        ]
        .map(String::from),
    );
    let per_request = outcome
        .points
        .first()
        .and_then(|p| p.costs.first())
        .is_some_and(|c| c.usd_per_1000_requests.is_some());
    if per_request {
        let at = header.len() - 3;
        header[at] = "usd_per_1000_requests".into();
    }
    csv.write_record(&header)?;
    let mut head: Vec<String> = specs.iter().map(|s| s.path.clone()).collect();
    if let Some(p) = outcome.points.first() {
        head.extend(p.costs.iter().map(|c| c.layout.clone()));
    }
    let mut table = term::table(head);
    for p in &outcome.points {
        let values: Vec<String> = p.assignments.iter().map(|(_, v)| value_label(v)).collect();
        let mut row = values.clone();
        for c in &p.costs {
            let mut rec = values.clone();
            rec.extend([
                c.layout.clone(),
                format!("{:.6}", c.monthly_usd),
                format!(
                    "{:.6}",
                    c.usd_per_1000_requests.unwrap_or(c.usd_per_stream_hour)
                ),
                c.throttles.to_string(),
                format!("{:.3}", c.p50_ms),
            ]);
            csv.write_record(&rec)?;
            row.push(usd(c.monthly_usd));
        }
        table.add_row(row);
    }
    term::keep_words(&mut table);
    println!("Cost a month of each layout at each point\n{table}");
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
    };
    let run = lib(archsim::run::run(resolved, &opts, dir.as_deref(), None))?;
    let input = archsim::report::from_run::explain_input(&run);
    print!("{}", archsim::report::explain::explain_markdown(&input));
    Ok(())
}

/// `archsim sensitivity`.
pub fn sensitivity_cmd(a: SensitivityArgs) -> Result<()> {
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
    let dir = out_dir(&a.out, a.force)?;
    let duration = variant_duration(&a.duration, &text, &file)?;
    let opts = VariantOptions {
        duration,
        layouts: None,
        allow_large: a.allow_large,
    };
    let s = lib(sensitivity(
        &text,
        &file,
        a.scenario.parent(),
        &of,
        &against,
        &opts,
    ))?;
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
    csv.write_record([
        "assumption",
        "low",
        "saving_at_low_pct",
        "high",
        "saving_at_high_pct",
    ])?;
    let mut bars = s.bars.clone();
    bars.sort_by(|x, y| {
        (y.high_saving_pct - y.low_saving_pct)
            .abs()
            .total_cmp(&(x.high_saving_pct - x.low_saving_pct).abs())
    });
    for b in &bars {
        table.add_row(vec![
            b.assumption.clone(),
            b.low_value.clone(),
            format!("{:.1}%", b.low_saving_pct),
            b.high_value.clone(),
            format!("{:.1}%", b.high_saving_pct),
            format!("{:.1} points", (b.high_saving_pct - b.low_saving_pct).abs()),
        ]);
        csv.write_record([
            b.assumption.clone(),
            b.low_value.clone(),
            format!("{:.4}", b.low_saving_pct),
            b.high_value.clone(),
            format!("{:.4}", b.high_saving_pct),
        ])?;
    }
    println!(
        "Saving of {} — baseline {:.1}%",
        s.comparison, s.baseline_saving_pct
    );
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
