//! Each subcommand: resolve options, call the library, print. No simulation or
//! pricing logic lives here.

use anyhow::Result;

use archsim::pricing::{self, Catalog, Usage};
use archsim::report;

use crate::cli::{
    AslCommand, AslCountArgs, CalibrateCommand, CatalogCommand, Cli, Command, Format,
    FramesCommand, KernelsCommand, LambdaLogsArgs, ValidateArgs,
};

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    run_with(cli, None)
}

/// Runs the command line; `merged` holds the unit results of its shards (`merge`).
fn run_with(cli: Cli, merged: Option<archsim::analysis::Merged>) -> Result<()> {
    let catalog = match &cli.catalog {
        Some(path) => Catalog::load(path)?,
        None => Catalog::builtin(),
    };
    match cli.command {
        Command::Price(args) => {
            let usage = Usage::load(&args.usage, &catalog)?;
            let catalog =
                resolve_usage_catalog(&usage, &args.usage, catalog, cli.catalog.is_some())?;
            let bill = pricing::price(&usage, &catalog);
            if !bill.total_usd.is_finite() {
                anyhow::bail!(archsim::InputError::new(
                    args.usage.display().to_string(),
                    "the quantities overflow the bill (the total is not a finite number): check the largest values"
                ));
            }
            match args.format {
                Format::Table => println!("{}", report::bill::bill_table(&bill)),
                Format::Json => println!("{}", serde_json::to_string_pretty(&bill)?),
            }
        }
        Command::Catalog(CatalogCommand::Show { format }) => match format {
            Format::Table => print!("{}", report::catalog::catalog_text(&catalog)),
            Format::Json => println!("{}", serde_json::to_string_pretty(&catalog)?),
        },
        Command::Frames(FramesCommand::Generate(a)) => {
            let size =
                archsim::frames::FrameSize::parse(&a.size, "--size").map_err(anyhow::Error::new)?;
            let spec = archsim::frames::generate::GenerateSpec {
                photo: a.photo,
                size,
                fps: a.fps,
                seconds: a.seconds,
                defects: a.defects,
                seed: a.seed,
            };
            let written = lib(archsim::frames::generate::write_clip(&spec, &a.out, a.h264))?;
            for p in written {
                println!("wrote {}", p.display());
            }
        }
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "archsim", &mut std::io::stdout());
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd).render(&mut std::io::stdout())?;
        }
        Command::Validate(args) => validate(&args)?,
        Command::Calibrate(CalibrateCommand::LambdaLogs(args)) => lambda_logs(&args, &catalog)?,
        Command::Run(args) => run_scenario(args, cli.catalog.is_some(), merged)?,
        Command::Sweep(args) => crate::analyses::sweep_cmd(args, merged)?,
        Command::Explain(args) => crate::analyses::explain_cmd(args)?,
        Command::Sensitivity(args) => crate::analyses::sensitivity_cmd(args, merged)?,
        Command::Merge(args) => merge(args)?,
        Command::Asl(AslCommand::Count(args)) => asl_count(&args)?,
        Command::Frames(FramesCommand::Photos) => {
            print!("{}", archsim::frames::generate::PHOTO_SOURCES);
        }
        Command::Kernels(KernelsCommand::Detect(a)) => {
            let detectors = archsim::kernels::detect::parse_detectors(&a.detectors)
                .map_err(anyhow::Error::new)?;
            let params = match &a.params {
                Some(p) => lib(archsim::kernels::DetectorParams::load(p))?,
                None => archsim::kernels::DetectorParams::default(),
            };
            let report = lib(archsim::kernels::detect::detect_files(
                &a.video,
                a.audio.as_deref(),
                a.fps,
                &detectors,
                &params,
            ))?;
            match a.format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
                Format::Table => print!("{}", archsim::kernels::detect::report_table(&report)),
            }
        }
        Command::Kernels(KernelsCommand::Bench(a)) => {
            let size =
                archsim::frames::FrameSize::parse(&a.size, "--size").map_err(anyhow::Error::new)?;
            if !(a.fps.is_finite() && a.fps >= 1.0 && a.fps <= 240.0) {
                anyhow::bail!(archsim::InputError::new(
                    "--fps",
                    format!("{} is not a frame rate from 1 to 240", a.fps)
                ));
            }
            if a.frames == 0 {
                anyhow::bail!(archsim::InputError::new(
                    "--frames",
                    "measure at least one frame"
                ));
            }
            let base = match &a.merge {
                Some(p) => Some(lib(archsim::kernels::Calibration::load(p))?),
                None => None,
            };
            let opts = archsim::kernels::MeasureOptions {
                frames: a.frames,
                warmup: a.warmup,
                photo: a.photo,
                ..Default::default()
            };
            let measured = lib(archsim::kernels::calibration::measure(size, a.fps, &opts))?;
            match a.format {
                Format::Table => print!(
                    "{}",
                    archsim::kernels::calibration::summary_table(&measured)
                ),
                Format::Json => {
                    let rows: Vec<_> = measured.sizes.iter().map(|s| s.summary()).collect();
                    println!("{}", serde_json::to_string_pretty(&rows)?)
                }
            }
            let mut cal = measured;
            if let Some(mut b) = base {
                b.merge(cal);
                cal = b;
            }
            if let Some(out) = &a.out {
                lib(cal.save(out))?;
                eprintln!("wrote {}", out.display());
            }
        }
    }
    Ok(())
}

/// `archsim merge`: checks the parts, then replays their command line with the
/// merged results in place of the runs and `--out` the merge's own.
fn merge(args: crate::cli::MergeArgs) -> Result<()> {
    let paths: Vec<&std::path::Path> = args.parts.iter().map(|p| p.as_path()).collect();
    let merged = lib(archsim::analysis::shard::read_parts(&paths))?;
    let argv = std::iter::once("archsim".to_string()).chain(merged.args.iter().cloned());
    let mut cli = <Cli as clap::Parser>::try_parse_from(argv).map_err(|e| {
        anyhow::Error::new(archsim::InputError::new(
            "merge",
            format!("the parts' command line does not parse here: {e}"),
        ))
    })?;
    match &mut cli.command {
        Command::Run(a) => (a.out, a.force) = (args.out, args.force),
        Command::Sweep(a) => (a.out, a.force) = (args.out, args.force),
        Command::Sensitivity(a) => (a.out, a.force) = (args.out, args.force),
        _ => anyhow::bail!(archsim::InputError::new(
            "merge",
            "the parts are not of `run`, `sweep` or `sensitivity`"
        )),
    }
    run_with(cli, Some(merged))
}

/// A usage file may name its catalog; it must be the one in use.
fn resolve_usage_catalog(
    usage: &Usage,
    usage_file: &std::path::Path,
    catalog: Catalog,
    explicit: bool,
) -> Result<Catalog> {
    match &usage.catalog {
        Some(id) if *id != catalog.id => {
            if explicit {
                anyhow::bail!(archsim::InputError::new(
                    "--catalog",
                    format!(
                        "the usage file names catalog `{id}` but --catalog loaded `{}`",
                        catalog.id
                    )
                ));
            }
            Catalog::by_id(id).ok_or_else(|| {
                anyhow::Error::new(archsim::InputError::at_path(
                    usage_file.display().to_string(),
                    &std::fs::read_to_string(usage_file).unwrap_or_default(),
                    "catalog",
                    format!("unknown catalog `{id}`: the embedded one is `aws-us-east-1`; pass another with --catalog FILE"),
                ))
            })
        }
        _ => Ok(catalog),
    }
}

/// Converts a library result, unwrapping input errors so they print once (the
/// `archsim::Error::Input` wrapper would print its message and its source).
fn lib<T>(r: archsim::Result<T>) -> Result<T> {
    r.map_err(|e| match e {
        archsim::Error::Input(input) => anyhow::Error::new(input),
        other => anyhow::Error::new(other),
    })
}

/// `archsim validate`: the engine against queueing theory; fails when a check does.
fn validate(args: &ValidateArgs) -> Result<()> {
    if !(args.confidence.is_finite() && args.confidence > 50.0 && args.confidence < 100.0) {
        anyhow::bail!(archsim::InputError::new(
            "--confidence",
            format!(
                "expected a percentage between 50 and 100 (e.g. 99.9), got {}",
                args.confidence
            )
        ));
    }
    let opts = archsim::sim::validate::ValidateOptions {
        seed: args.seed,
        replications: args.replications,
        customers: args.customers,
        warmup: (args.customers / 10).max(1),
        confidence: (args.confidence * 1e6).round() / 1e8,
    };
    let started = std::time::Instant::now();
    let mut v = archsim::sim::validate::run(&opts);
    let (model_checks, model_events) = archsim::cloud::validate::run(&opts);
    v.extend(model_checks, model_events);
    let elapsed = started.elapsed().as_secs_f64();
    match args.format {
        Format::Table => {
            print!("{}", v.table());
            println!(
                "{:.2} s, {:.1} million events/s on this machine.",
                elapsed,
                v.events as f64 / elapsed.max(1e-9) / 1e6
            );
        }
        Format::Json => println!("{}", serde_json::to_string_pretty(&v)?),
    }
    if !v.passed {
        let failed = v.checks.iter().filter(|c| !c.passed).count();
        anyhow::bail!("{failed} validation check(s) failed");
    }
    Ok(())
}

/// `archsim calibrate lambda-logs`: REPORT records to a stage calibration file,
/// written whole or not at all.
fn lambda_logs(args: &LambdaLogsArgs, catalog: &Catalog) -> Result<()> {
    use archsim::kernels::{stage_calibration, LogScan, StageCalibration, VcpuRule};
    if args.stage.trim().is_empty() || args.stage.chars().any(char::is_control) {
        anyhow::bail!(archsim::InputError::new(
            "--stage",
            "expected the stage's name, e.g. --stage thumbnail"
        ));
    }
    if !args.force && args.out.exists() {
        anyhow::bail!(archsim::InputError::new(
            args.out.display().to_string(),
            "exists: pass --force to replace it, or choose another --out"
        ));
    }
    let l = &catalog.lambda;
    let rule = VcpuRule {
        mb_per_vcpu: l.mb_per_vcpu,
        max_vcpu: l.max_vcpu,
        memory_min_mb: l.memory_min_mb,
        memory_max_mb: l.memory_max_mb,
    };
    let files: Vec<&std::path::Path> = args.files.iter().map(|p| p.as_path()).collect();
    let scan = lib(LogScan::read_files(&files, &rule))?;
    let cal = lib(StageCalibration::from_scan(&args.stage, &scan, &rule))?;
    let text = lib(cal.to_toml())?;
    lib(archsim::report::output::write_atomic(
        &args.out,
        text.as_bytes(),
    ))?;
    print!("{}", stage_calibration::summary_text(&scan, &cal));
    eprintln!("wrote {}", args.out.display());
    Ok(())
}

/// `archsim asl count`: one execution of the user's state machine with instant tasks.
fn asl_count(args: &AslCountArgs) -> Result<()> {
    use archsim::cloud::asl;
    let machine = std::sync::Arc::new(lib(asl::load(&args.machine))?);
    let input = match &args.input {
        Some(path) => {
            let text = lib(archsim::error::read_text(path))?;
            Some(asl::count::parse_input(&path.display().to_string(), &text)?)
        }
        None => None,
    };
    let mut fails = std::collections::BTreeMap::new();
    for spec in &args.fail {
        let (state, n) = asl::count::parse_fail(&machine, spec)?;
        fails.insert(state, n);
    }
    let report = asl::count(&machine, input.as_ref(), &fails)?;
    match args.format {
        Format::Table => print!("{}", report.table()),
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
    }
    Ok(())
}

/// `archsim run`: simulate every layout of a scenario and print the comparison
/// (`merged`: the replications of its shards).
fn run_scenario(
    args: crate::cli::RunArgs,
    catalog_flag: bool,
    merged: Option<archsim::analysis::Merged>,
) -> Result<()> {
    use archsim::scenario::{KernelsChoice, Scenario};
    use std::io::IsTerminal;

    if catalog_flag {
        anyhow::bail!(archsim::InputError::new(
            "--catalog",
            "`run` takes its catalog from the scenario file (`catalog = \"FILE.toml\"`)"
        ));
    }
    let (mut resolved, dir) = match &args.scenario {
        Some(path) => (
            Scenario::load(path)?,
            path.parent().map(|p| p.to_path_buf()),
        ),
        None => (Scenario::classroom(), None),
    };
    if let Some(seed) = args.seed {
        resolved.scenario.seed = seed;
    }
    let opts = archsim::run::RunOptions {
        kernels: args.kernels.map(|k| match k {
            crate::cli::KernelsArg::Auto => KernelsChoice::Auto,
            crate::cli::KernelsArg::Real => KernelsChoice::Real,
            crate::cli::KernelsArg::Sampled => KernelsChoice::Sampled,
        }),
        calibration: args.calibration.clone(),
        skip_onset: args.no_onset,
        allow_large: args.allow_large,
        fidelity: args.fidelity.map(|f| match f {
            crate::cli::FidelityArg::Fast => archsim::layouts::cohort::Fidelity::Fast,
            crate::cli::FidelityArg::Full => archsim::layouts::cohort::Fidelity::Full,
        }),
        cohort: args.cohort,
    };
    let plan = crate::analyses::plan_of(&args.scale)?;
    let work = crate::analyses::work_of(&args.scale, plan.as_ref(), &args.out, args.force, merged)?;
    if work.is_shard() && args.usage_out.is_some() {
        anyhow::bail!(archsim::InputError::new(
            "--usage-out",
            "not with --shard: a shard writes only its part (the usage files are replication 1's: write them from a plain run)"
        ));
    }
    // Where the results go is checked (and locked) before the (possibly long) run.
    let out_dir = match &args.out {
        Some(dir) if !work.is_shard() => Some(lib(archsim::report::output::OutputDir::create(
            dir, args.force,
        ))?),
        _ => None,
    };
    let usage_dir = match &args.usage_out {
        Some(dir) => Some(lib(archsim::report::output::OutputDir::create(
            dir, args.force,
        ))?),
        None => None,
    };
    let report = match (plan, work) {
        (None, archsim::analysis::Work::All) => {
            let bar = archsim::sweep::fraction_bar("simulating");
            let tick = |f: f64| bar.set_position((f * 1000.0) as u64);
            let result = archsim::run::run(resolved, &opts, dir.as_deref(), Some(&tick));
            bar.finish_and_clear();
            archsim::report::from_run::run_report(&lib(result)?)
        }
        (plan, work) => match replicated_run(resolved, &opts, dir.as_deref(), plan, work)? {
            Some(report) => report,
            None => return Ok(()),
        },
    };

    if let Some(dir) = usage_dir {
        for l in &report.layouts {
            let name = format!("{}.usage.toml", archsim::report::export::slug(&l.name));
            lib(dir.write(&name, l.usage.to_toml().as_bytes()))?;
        }
        lib(dir.commit())?;
    }
    if let Some(dir) = out_dir {
        let written = lib(archsim::report::export::write_report_into(&dir, &report))?;
        let dest = lib(dir.commit())?;
        eprintln!("wrote {} files to {}", written.len(), dest.display());
    }
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Table => {
            let style = archsim::report::term::Style::for_output(std::io::stdout().is_terminal());
            print!(
                "{}",
                archsim::report::table::run_text(&report, style, args.details)
            )
        }
    }
    Ok(())
}

/// `run` with replications or shards: replication `k` runs with its own seed (the
/// onset search only in the first); all here, this shard's (written to its part:
/// `None`), or from merged parts. The report is the first replication's with every
/// layout's figures over all of them.
fn replicated_run(
    resolved: archsim::scenario::Resolved,
    opts: &archsim::run::RunOptions,
    dir: Option<&std::path::Path>,
    plan: Option<archsim::analysis::Plan>,
    work: archsim::analysis::Work,
) -> Result<Option<archsim::report::data::RunReport>> {
    use archsim::analysis::{replications, shard, Plan, Work};
    use archsim::report::data::RunReport;
    let replicated = plan.is_some();
    let plan = plan.unwrap_or(Plan::single());
    let seed = resolved.scenario.seed;
    let unit = |k: u32| -> archsim::Result<RunReport> {
        let mut r = resolved.clone();
        r.scenario.seed = replications::replication_seed(seed, k);
        let o = archsim::run::RunOptions {
            skip_onset: opts.skip_onset || k > 0,
            ..opts.clone()
        };
        let run = archsim::run::run(r, &o, dir, None)?;
        shard::through_part(&archsim::report::from_run::run_report(&run))
    };
    let costs = |reports: &[RunReport]| -> Vec<Vec<f64>> {
        let layouts = reports.first().map_or(0, |r| r.layouts.len());
        (0..layouts)
            .flat_map(|i| {
                [
                    reports.iter().map(|r| r.layouts[i].monthly_usd).collect(),
                    reports
                        .iter()
                        .map(|r| r.layouts[i].usd_per_unit())
                        .collect(),
                ]
            })
            .collect()
    };
    let fingerprint = |args: &[String]| {
        lib(shard::scenario_fingerprint(
            args,
            &resolved,
            opts.calibration.as_deref(),
            dir,
        ))
    };
    let mut reports: Vec<RunReport> = match work {
        Work::All => lib(archsim::analysis::replicate(
            &plan,
            1,
            "replications",
            |_, k| unit(k),
            costs,
        ))?
        .remove(0),
        work => match crate::analyses::distributed_units(
            work,
            plan.replications as usize,
            "replications",
            fingerprint,
            |u| unit(u as u32),
        )? {
            Some(reports) => reports,
            None => return Ok(None),
        },
    };
    if !replicated {
        return Ok(Some(reports.remove(0)));
    }
    let worst = plan
        .precision
        .map(|p| replications::worst_ratio(costs(&reports), p));
    let note = replications::note(&plan, reports.len() as u32, worst);
    Ok(Some(archsim::report::from_run::replicated_report(
        reports, note,
    )))
}
