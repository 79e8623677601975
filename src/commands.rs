//! Each subcommand: resolve options, call the library, print. No simulation or
//! pricing logic lives here.

use anyhow::Result;

use archsim::pricing::{self, Catalog, Usage};
use archsim::report;

use crate::cli::{CatalogCommand, Cli, Command, Format, ValidateArgs};

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let catalog = match &cli.catalog {
        Some(path) => Catalog::load(path)?,
        None => Catalog::builtin(),
    };
    match cli.command {
        Command::Price(args) => {
            let usage = Usage::load(&args.usage, &catalog)?;
            let catalog = resolve_usage_catalog(&usage, catalog, cli.catalog.is_some())?;
            let bill = pricing::price(&usage, &catalog);
            match args.format {
                Format::Table => println!("{}", report::bill::bill_table(&bill)),
                Format::Json => println!("{}", serde_json::to_string_pretty(&bill)?),
            }
        }
        Command::Catalog(CatalogCommand::Show { format }) => match format {
            Format::Table => print!("{}", report::catalog::catalog_text(&catalog)),
            Format::Json => println!("{}", serde_json::to_string_pretty(&catalog)?),
        },
        Command::Validate(args) => validate(&args)?,
    }
    Ok(())
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
    let v = archsim::sim::validate::run(&opts);
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

/// A usage file may name its catalog; it must be the one in use.
fn resolve_usage_catalog(usage: &Usage, catalog: Catalog, explicit: bool) -> Result<Catalog> {
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
                anyhow::Error::new(archsim::InputError::new(
                    "usage file",
                    format!("unknown catalog `{id}`: the embedded one is `aws-us-east-1`; pass another with --catalog FILE"),
                ))
            })
        }
        _ => Ok(catalog),
    }
}
