//! What a person sees in a terminal, through the built binary: piped output fits 100
//! columns, carries no colour codes, and the shell completions load.

use std::process::{Command, Output};

use unicode_width::UnicodeWidthStr;

const WIDTH: usize = 100;

fn archsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_archsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

/// Runs `args` with stdout piped and checks every line fits [`WIDTH`] columns.
fn fits(args: &[&str]) -> String {
    let o = archsim(args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = String::from_utf8(o.stdout).expect("UTF-8 output");
    assert!(!text.trim().is_empty(), "{args:?} printed nothing");
    for (n, line) in text.lines().enumerate() {
        assert!(
            line.width() <= WIDTH,
            "{args:?} line {} is {} columns wide:\n{line}\n\n{text}",
            n + 1,
            line.width()
        );
    }
    assert!(
        !text.contains('\x1b'),
        "{args:?}: colour codes in piped output"
    );
    text
}

#[test]
fn piped_tables_fit_100_columns() {
    let run = fits(&["run", "--details"]);
    // The verdict first, then the layouts as rows.
    let verdict = run.lines().nth(2).unwrap_or_default();
    assert!(verdict.contains(" is cheapest at $"), "{run}");
    assert!(run.contains("│ monolith "), "{run}");
    assert!(run.contains("Cost a month by service"), "{run}");
    fits(&["run", "--no-onset"]);
    fits(&["price", "scenarios/usage-example.toml"]);
    fits(&["catalog", "show"]);
    fits(&[
        "sweep",
        "scenarios/low-traffic.toml",
        "--vary",
        "workload.streams=1..30:log:3",
        "--vary",
        "workload.chunk_seconds=2,4",
        "--duration",
        "10min",
    ]);
    fits(&[
        "sensitivity",
        "scenarios/prime-video-small.toml",
        "--duration",
        "20s",
    ]);
}

#[test]
fn no_color_and_pipes_get_plain_text() {
    let o = Command::new(env!("CARGO_BIN_EXE_archsim"))
        .args(["run", "--no-onset"])
        .env("NO_COLOR", "1")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(!String::from_utf8_lossy(&o.stdout).contains('\x1b'));
}

#[test]
fn bash_completion_loads() {
    let bin = env!("CARGO_BIN_EXE_archsim");
    let o = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source <('{bin}' completions bash) && complete -p archsim"
        ))
        .output()
        .expect("bash runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let spec = String::from_utf8_lossy(&o.stdout);
    assert!(spec.contains("archsim"), "{spec}");
    for shell in ["zsh", "fish", "powershell"] {
        let o = archsim(&["completions", shell]);
        assert!(o.status.success() && !o.stdout.is_empty(), "{shell}");
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("sweep"),
            "{shell}"
        );
    }
}

#[test]
fn man_page_is_roff_naming_the_subcommands() {
    let o = archsim(&["man"]);
    assert!(o.status.success());
    let page = String::from_utf8(o.stdout).unwrap();
    assert!(
        page.starts_with(".ie") || page.contains(".TH archsim"),
        "{page}"
    );
    assert!(
        page.contains("completions") && page.contains("sweep"),
        "{page}"
    );
}
