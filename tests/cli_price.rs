//! `archsim price` and `archsim catalog` end to end, through the built binary.

use std::path::PathBuf;
use std::process::{Command, Output};

fn archsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_archsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

fn temp_usage(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("archsim-cli-price-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const LAMBDA_OK: &str = "[[lambda]]\nname = \"f\"\narchitecture = \"x86_64\"\nmemory_mb = 512\ninvocations = 10\navg_billed_duration_ms = 5.0\n";

/// Runs `price` on `text` and checks exit code 2 and `file:line:col: ...expect...`.
fn bad(name: &str, text: &str, line: usize, col: usize, expect: &str) {
    let path = temp_usage(name, text);
    let out = archsim(&["price", path.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{name}: {err}");
    let at = format!("{}:{line}:{col}:", path.display());
    assert!(err.contains(&at), "{name}: expected `{at}` in:\n{err}");
    assert!(
        err.contains(expect),
        "{name}: expected `{expect}` in:\n{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn prices_the_shipped_example() {
    let out = archsim(&["price", "scenarios/usage-example.toml"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    for want in [
        "detector",
        "orchestration",
        "frames",
        "c5.2xlarge",
        "total",
        "$248.20",
    ] {
        assert!(text.contains(want), "missing {want}:\n{text}");
    }
}

#[test]
fn json_bill_has_the_contract_shape_and_sums() {
    let out = archsim(&["price", "scenarios/usage-example.toml", "--format", "json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["currency"], "USD");
    let items = v["items"].as_array().unwrap();
    let sum: f64 = items.iter().map(|i| i["usd"].as_f64().unwrap()).sum();
    assert!((sum - v["total_usd"].as_f64().unwrap()).abs() < 1e-9);
    for i in items {
        for key in ["service", "resource", "item", "quantity", "unit", "usd"] {
            assert!(!i[key].is_null(), "{key} missing in {i}");
        }
        let s = i["service"].as_str().unwrap();
        assert!(archsim::pricing::Service::from_label(s).is_some(), "{s}");
    }
    let ec2 = items.iter().find(|i| i["service"] == "ec2").unwrap();
    assert!((ec2["usd"].as_f64().unwrap() - 730.0 * 0.34).abs() < 1e-9);
}

#[test]
fn help_shows_examples() {
    for args in [&["--help"][..], &["price", "--help"][..]] {
        let out = archsim(args);
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("Examples:") && text.contains("archsim price"),
            "{text}"
        );
    }
}

#[test]
fn catalog_show_in_both_formats() {
    let out = archsim(&["catalog", "show"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("c7g.4xlarge") && text.contains("https://aws.amazon.com/lambda/pricing/")
    );
    let out = archsim(&["catalog", "show", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ec2"]["instances"]["c5.2xlarge"]["usd_per_hour"], 0.34);
}

#[test]
fn user_catalog_changes_the_price() {
    let text = archsim::pricing::catalog::AWS_US_EAST_1
        .replace("usd_per_hour = 0.34,", "usd_per_hour = 0.17,");
    let cat = temp_usage("negotiated.toml", &text);
    let out = archsim(&[
        "price",
        "scenarios/usage-example.toml",
        "--catalog",
        cat.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ec2 = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["service"] == "ec2")
        .unwrap()
        .clone();
    assert!((ec2["usd"].as_f64().unwrap() - 730.0 * 0.17).abs() < 1e-9);
}

#[test]
fn bad_input_syntax() {
    bad(
        "syntax.toml",
        "[[lambda]]\nname = \"f\"\nmemory_mb = = 3\n",
        3,
        13,
        "invalid",
    );
}

#[test]
fn bad_input_unknown_field_suggests_nearest() {
    let text = LAMBDA_OK.replace("memory_mb = 512", "memry_mb = 512");
    bad("unknown.toml", &text, 4, 1, "did you mean `memory_mb`?");
}

#[test]
fn bad_input_missing_field() {
    let text = LAMBDA_OK.replace("invocations = 10\n", "");
    bad("missing.toml", &text, 1, 1, "missing field `invocations`");
}

#[test]
fn bad_input_negative_and_non_finite() {
    bad(
        "neg.toml",
        &LAMBDA_OK.replace("invocations = 10", "invocations = -10"),
        5,
        15,
        "whole number >= 0",
    );
    bad(
        "negf.toml",
        &LAMBDA_OK.replace("= 5.0", "= -5.0"),
        6,
        26,
        ">= 0",
    );
    bad(
        "nan.toml",
        &LAMBDA_OK.replace("= 5.0", "= nan"),
        6,
        26,
        "finite",
    );
    bad(
        "inf.toml",
        &LAMBDA_OK.replace("= 5.0", "= inf"),
        6,
        26,
        "finite",
    );
}

#[test]
fn bad_input_memory_out_of_range() {
    bad(
        "mem.toml",
        &LAMBDA_OK.replace("memory_mb = 512", "memory_mb = 64"),
        4,
        13,
        "between 128 and 10240",
    );
    bad(
        "mem2.toml",
        &LAMBDA_OK.replace("memory_mb = 512", "memory_mb = 20000"),
        4,
        13,
        "between 128 and 10240",
    );
}

#[test]
fn bad_input_unknown_instance_type_lists_known() {
    let text = "[[ec2]]\nname = \"m\"\ninstance_type = \"c5.3xlarge\"\ninstance_hours = 1.0\n";
    bad("inst.toml", text, 3, 17, "c5.2xlarge, c5.4xlarge");
}

#[test]
fn bad_input_unknown_architecture_and_workflow() {
    bad(
        "arch.toml",
        &LAMBDA_OK.replace("\"x86_64\"", "\"x86\""),
        3,
        16,
        "unknown variant `x86`",
    );
    let sf = "[[step_functions]]\nname = \"o\"\nworkflow = \"standrd\"\nstate_transitions = 1\n";
    bad("wf.toml", sf, 3, 12, "did you mean `standard`?");
    let sf = "[[step_functions]]\nname = \"o\"\nworkflow = \"express\"\nstate_transitions = 1\n";
    bad("wf2.toml", sf, 3, 12, "needs `requests`");
}

#[test]
fn bad_input_discount_outside_0_1() {
    let text = "[[ec2]]\nname = \"m\"\ninstance_type = \"c5.large\"\ninstance_hours = 1.0\nsavings_plan_discount = 1.5\n";
    bad("disc.toml", text, 5, 25, "between 0 and 1");
}

#[test]
fn missing_file_is_an_input_error() {
    let out = archsim(&["price", "no/such/usage.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/usage.toml"));
}

#[test]
fn bad_input_in_the_new_sections() {
    let sqs = "[[sqs]]\nname = \"q\"\nqueue = \"fifoo\"\nrequests = 1\n";
    bad("sqs.toml", sqs, 3, 9, "did you mean `fifo`?");
    let sqs = "[[sqs]]\nname = \"q\"\nqueue = \"standard\"\nrequests = -4\n";
    bad("sqs2.toml", sqs, 4, 12, "whole number >= 0");
    let nat = "[[nat_gateway]]\nname = \"n\"\nprocessed_gb = -1.0\n";
    bad("nat.toml", nat, 3, 16, ">= 0");
    let logs = format!("{LAMBDA_OK}log_bytes_per_invocation = 1.5\n");
    bad("logs.toml", &logs, 7, 28, "whole number >= 0");
}
