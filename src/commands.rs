//! Each subcommand: resolve options, call the library, print. No simulation or
//! pricing logic lives here.

use anyhow::Result;

use archsim::pricing::{self, Catalog, Usage};
use archsim::report;

use crate::cli::{CatalogCommand, Cli, Command, Format};

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
