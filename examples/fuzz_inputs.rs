//! The full fuzz run (issue 12): `cargo run --release --example fuzz_inputs -- --count
//! 1000000 [--seed 1]` runs mutants of the shipped TOML files through the library's
//! parse-and-validate path and prints the outcome classes (exit 1 on any failure).
//! `--write DIR --count N` instead writes N mutants as files for bench/fuzz_binary.sh.

#[path = "../tests/support/mutate.rs"]
mod mutate;

use std::path::{Path, PathBuf};

fn main() -> std::process::ExitCode {
    let mut count = 10_000u64;
    let mut seed = 1u64;
    let mut write: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_default();
        match a.as_str() {
            "--count" => count = value().parse().expect("--count N"),
            "--seed" => seed = value().parse().expect("--seed N"),
            "--write" => write = Some(PathBuf::from(value())),
            other => {
                eprintln!("unknown argument {other}; expected --count N, --seed N, --write DIR");
                return std::process::ExitCode::from(2);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if let Some(dir) = write {
        std::fs::create_dir_all(&dir).expect("the mutants folder");
        let texts = mutate::seed_texts(root);
        for i in 0..count {
            let (target, file, bytes) = mutate::input(seed, i, &texts);
            let origin = Path::new(file)
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy();
            std::fs::write(
                dir.join(format!("{i:06}.{}.{origin}.toml", target.name())),
                bytes,
            )
            .expect("a mutant written");
        }
        println!("wrote {count} mutants to {}", dir.display());
        return std::process::ExitCode::SUCCESS;
    }
    let started = std::time::Instant::now();
    let tally = mutate::run(seed, 0..count, root);
    print!("{}", tally.report());
    println!("seed {seed}, {:.1} s", started.elapsed().as_secs_f64());
    if tally.failed() == 0 {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
