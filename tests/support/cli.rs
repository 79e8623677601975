//! Running the built binary from a test: `archsim ARGS` in the crate's folder, its
//! output on success, its message on an input error (exit 2). Shared by the CLI tests;
//! each uses some of it.

#![allow(dead_code)]

use std::process::{Command, Output};

pub fn archsim(args: &[&str]) -> Output {
    archsim_with_env(args, &[])
}

/// `archsim ARGS` with these environment variables set.
pub fn archsim_with_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_archsim"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

/// Runs `archsim ARGS` and returns stdout, failing on a non-zero exit.
pub fn ok(args: &[&str]) -> Vec<u8> {
    ok_with_env(args, &[])
}

/// As [`ok`], with these environment variables set.
pub fn ok_with_env(args: &[&str], env: &[(&str, &str)]) -> Vec<u8> {
    let out = archsim_with_env(args, env);
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

/// Every file of a folder, by name, with its bytes: two folders compared whole.
pub fn files(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}
