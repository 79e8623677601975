//! Running the built binary from a test: `archsim ARGS` in the crate's folder, its
//! output on success, its message on an input error (exit 2). Shared by the CLI tests;
//! each uses some of it.

#![allow(dead_code)]

use std::process::{Command, Output};

pub fn archsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_archsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

/// Runs `archsim ARGS` and returns stdout, failing on a non-zero exit.
pub fn ok(args: &[&str]) -> Vec<u8> {
    let out = archsim(args);
    assert!(
        out.status.success(),
        "archsim {args:?} exited {:?}:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Runs `archsim ARGS`, expects exit 2 (an input error) and returns stderr.
pub fn input_error(args: &[&str]) -> String {
    let out = archsim(args);
    assert_eq!(
        out.status.code(),
        Some(2),
        "archsim {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}
