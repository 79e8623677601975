//! Command-line definitions (clap) and nothing else: `main.rs` resolves them into
//! validated options before anything runs.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const ABOUT: &str = "\
archsim: what a video-monitoring pipeline costs and how fast it answers, laid out as
serverless microservices (Step Functions + Lambda + S3) or as one process on EC2/ECS.";

const EXAMPLES: &str = "\
Examples:
  archsim price scenarios/usage-example.toml        price a usage file (a month of metered usage)
  archsim price usage.toml --format json            the same bill as JSON
  archsim catalog show                              every price and quota, with sources
  archsim validate                                  check the simulation engine against queueing theory";

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
