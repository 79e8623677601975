//! `archsim validate` through the real binary.

use std::process::Command;

fn archsim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_archsim"))
        .args(args)
        .output()
        .expect("the binary runs")
}

#[test]
fn validate_json_lists_checks_and_exits_zero() {
    let out = archsim(&[
        "validate",
        "--customers",
        "5000",
        "--replications",
        "4",
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let checks = v["checks"].as_array().unwrap();
    assert_eq!(
        checks.len(),
        18,
        "15 engine checks and 3 service-model checks"
    );
    for c in checks {
        assert!(c["exact"].is_number() && c["simulated"].is_number());
        assert!(c["low"].as_f64().unwrap() <= c["high"].as_f64().unwrap());
    }
    assert_eq!(v["passed"], true);
    // Same seed, same bytes.
    let again = archsim(&[
        "validate",
        "--customers",
        "5000",
        "--replications",
        "4",
        "--format",
        "json",
    ]);
    assert_eq!(out.stdout, again.stdout);
}

#[test]
fn validate_table_shows_exact_and_interval() {
    let out = archsim(&["validate", "--customers", "2000", "--replications", "3"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("0.5964"), "{text}");
    assert!(text.contains("Erlang B") && text.contains("±"), "{text}");
}

#[test]
fn bad_confidence_is_an_input_error() {
    let out = archsim(&["validate", "--confidence", "120"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--confidence"));
    let out = archsim(&["validate", "--replications", "1"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_failing_check_exits_one() {
    // 50.01% intervals are so narrow that most checks miss the exact value: the
    // failure path of the command, end to end.
    let out = archsim(&[
        "validate",
        "--confidence",
        "50.01",
        "--customers",
        "2000",
        "--replications",
        "3",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("FAIL"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("validation check(s) failed"));
}
