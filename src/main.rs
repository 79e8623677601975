//! The archsim binary: glue between the command line and the library. Maps input
//! mistakes to exit code 2 and other failures to 1.

mod analyses;
mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Die quietly when the reader of our output goes away (`archsim … | head`),
    // as command-line tools do, instead of panicking on a broken pipe.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let input = err
                .downcast_ref::<archsim::Error>()
                .is_some_and(archsim::Error::is_input)
                || err.downcast_ref::<archsim::InputError>().is_some();
            eprintln!("error: {err:#}");
            ExitCode::from(if input { 2 } else { 1 })
        }
    }
}
