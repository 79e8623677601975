//! Every pricing rule against values worked out by hand from the catalog's rates.

use archsim::pricing::{bill, price, Catalog, Service, Usage};

fn priced(toml: &str) -> archsim::pricing::Bill {
    let catalog = Catalog::builtin();
    let usage = Usage::parse("test.toml", toml, &catalog).expect("valid usage");
    price(&usage, &catalog)
}

fn close(a: f64, b: f64) {
    assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{a} != {b}");
}

fn item(b: &archsim::pricing::Bill, resource: &str, item: &str) -> (f64, f64) {
    let i = b
        .items
        .iter()
        .find(|i| i.resource == resource && i.item == item)
        .unwrap_or_else(|| panic!("no item {resource}/{item} in {:#?}", b.items));
    (i.quantity, i.usd)
}

#[test]
fn lambda_aws_worked_example_without_free_tier() {
    // 3M invocations × 1 s × 512 MB = 1.5M GB-s. AWS's example leaves the logs out.
    let b = priced(
        r#"
[[lambda]]
name = "f"
architecture = "x86_64"
memory_mb = 512
invocations = 3000000
avg_billed_duration_ms = 1000.0
log_bytes_per_invocation = 0
"#,
    );
    close(item(&b, "f", "requests").1, 3.0 * 0.20);
    close(item(&b, "f", "duration").0, 1_500_000.0);
    close(item(&b, "f", "duration").1, 1_500_000.0 * 0.0000166667);
    close(b.total_usd, 0.60 + 25.00005);
}

#[test]
fn lambda_free_tier_applies_only_when_asked() {
    let body = r#"
[[lambda]]
name = "f"
architecture = "x86_64"
memory_mb = 512
invocations = 3000000
avg_billed_duration_ms = 1000.0
log_bytes_per_invocation = 0
"#;
    let with = priced(&format!("free_tier = true\n{body}"));
    // AWS's worked example: (3M - 1M) requests × $0.20/M + (1.5M - 400k) GB-s × rate.
    close(with.total_usd, 2.0 * 0.20 + 1_100_000.0 * 0.0000166667);
    assert!((with.total_usd - 18.73).abs() < 0.005, "{}", with.total_usd);
    let without = priced(body);
    close(
        without.total_usd - with.total_usd,
        0.20 + 400_000.0 * 0.0000166667,
    );
}

#[test]
fn lambda_free_tier_is_capped_by_usage() {
    // 1,000 requests of 100 ms at 128 MB: everything is free, nothing goes negative.
    let b = priced(
        r#"
free_tier = true
[[lambda]]
name = "f"
architecture = "arm64"
memory_mb = 128
invocations = 1000
avg_billed_duration_ms = 100.0
"#,
    );
    close(b.service_total(Service::Lambda), 0.0);
}

#[test]
fn lambda_duration_tiers_cross_inside_one_usage_and_per_architecture() {
    // x86_64: 5e9 + 2e9 GB-s crosses the 6e9 boundary in the second function.
    // arm64: 7e9 GB-s stays below its own 7.5e9 boundary.
    let b = priced(
        r#"
[[lambda]]
name = "a"
architecture = "x86_64"
memory_mb = 1024
invocations = 5000000
avg_billed_duration_ms = 1000000.0
[[lambda]]
name = "b"
architecture = "x86_64"
memory_mb = 2048
invocations = 1000000
avg_billed_duration_ms = 1000000.0
[[lambda]]
name = "c"
architecture = "arm64"
memory_mb = 1024
invocations = 7000000
avg_billed_duration_ms = 1000000.0
"#,
    );
    close(item(&b, "a", "duration").1, 5e9 * 0.0000166667);
    close(item(&b, "b", "duration").0, 1e9);
    close(item(&b, "b", "duration").1, 1e9 * 0.0000166667);
    close(item(&b, "b", "duration tier 2").1, 1e9 * 0.000015);
    close(item(&b, "c", "duration").1, 7e9 * 0.0000133334);
    assert!(b
        .items
        .iter()
        .all(|i| !(i.resource == "c" && i.item.contains("tier"))));
}

#[test]
fn lambda_third_tier_and_ephemeral_storage() {
    // 20e9 GB-s x86_64: 6e9 at tier 1, 9e9 at tier 2, 5e9 at tier 3.
    // Ephemeral 2048 MB: 1.5 GB above the included 512 MB × 20e9 seconds... at 1 GB memory.
    let b = priced(
        r#"
[[lambda]]
name = "big"
architecture = "x86_64"
memory_mb = 1024
invocations = 20000000
avg_billed_duration_ms = 1000000.0
ephemeral_storage_mb = 2048
"#,
    );
    close(item(&b, "big", "duration").1, 6e9 * 0.0000166667);
    close(item(&b, "big", "duration tier 2").1, 9e9 * 0.000015);
    close(item(&b, "big", "duration tier 3").1, 5e9 * 0.0000133334);
    close(item(&b, "big", "ephemeral storage").0, 1.5 * 20e9);
    close(
        item(&b, "big", "ephemeral storage").1,
        1.5 * 20e9 * 0.0000000309,
    );
}

#[test]
fn lambda_billing_rounds_up_to_one_millisecond() {
    let c = Catalog::builtin();
    assert_eq!(bill::lambda_billed_ms(&c, 1_000_000), 1);
    assert_eq!(bill::lambda_billed_ms(&c, 1_000_001), 2);
    assert_eq!(bill::lambda_billed_ms(&c, 99_999_999), 100);
    assert_eq!(bill::lambda_billed_ms(&c, 1), 1);
}

#[test]
fn express_rounds_to_100_ms_and_64_mb() {
    let c = Catalog::builtin();
    assert_eq!(bill::express_billed_ms(&c, 11300.0), 11300.0);
    assert_eq!(bill::express_billed_ms(&c, 11300.5), 11400.0);
    assert_eq!(bill::express_billed_ms(&c, 1.0), 100.0);
    assert_eq!(bill::express_billed_mb(&c, 64), 64);
    assert_eq!(bill::express_billed_mb(&c, 65), 128);
    // 1,000 requests × 11.4 s × 128/1024 GB = 1,425 GB-s at the first tier.
    let b = priced(
        r#"
[[step_functions]]
name = "x"
workflow = "express"
requests = 1000
avg_duration_ms = 11301.0
memory_mb = 100
"#,
    );
    close(item(&b, "x", "requests").1, 1000.0 * 1e-6);
    close(item(&b, "x", "duration").0, 1425.0);
    close(item(&b, "x", "duration").1, 1425.0 * 0.00001667);
}

/// A mean of billed durations (what a simulation meters: each execution already
/// rounded up) is billed as it is; rounding it again would bill 500 ms for
/// executions of 400 ms and one of 1,300 ms.
#[test]
fn express_mean_billed_duration_is_not_rounded_again() {
    let b = priced(
        r#"
[[step_functions]]
name = "x"
workflow = "express"
requests = 1800
avg_billed_duration_ms = 400.5
memory_mb = 64
"#,
    );
    // 1,800 × 0.4005 s × 1/16 GB = 45.05625 GB-s.
    close(item(&b, "x", "duration").0, 45.05625);
    let catalog = Catalog::builtin();
    let both = Usage::parse(
        "u.toml",
        "[[step_functions]]\nname = \"x\"\nworkflow = \"express\"\nrequests = 1\navg_duration_ms = 1.0\navg_billed_duration_ms = 100.0\nmemory_mb = 64\n",
        &catalog,
    )
    .unwrap_err()
    .to_string();
    assert!(
        both.contains("u.toml:3:12") && both.contains("not both"),
        "{both}"
    );
    let neither = Usage::parse(
        "u.toml",
        "[[step_functions]]\nname = \"x\"\nworkflow = \"express\"\nrequests = 1\nmemory_mb = 64\n",
        &catalog,
    )
    .unwrap_err()
    .to_string();
    assert!(neither.contains("avg_billed_duration_ms"), "{neither}");
}

#[test]
fn express_duration_tiers_cross_inside_one_usage() {
    // Two workflows of 2,000 GB-h (7.2e6 GB-s) each: the first crosses out of the
    // 1,000 GB-h tier, the second crosses out of the next 4,000 GB-h.
    // 7.2e6 GB-s = 1e6 requests × 112.5 s × 0.0625 GB... use 1e6 × 115.2 s × 64 MB.
    let b = priced(
        r#"
[[step_functions]]
name = "a"
workflow = "express"
requests = 1000000
avg_duration_ms = 115200.0
memory_mb = 64
[[step_functions]]
name = "b"
workflow = "express"
requests = 2000000
avg_duration_ms = 115200.0
memory_mb = 64
"#,
    );
    // a: 7.2e6 GB-s = 3.6e6 at tier 1 + 3.6e6 at tier 2.
    close(item(&b, "a", "duration").1, 3.6e6 * 0.00001667);
    close(item(&b, "a", "duration tier 2").1, 3.6e6 * 0.00000833);
    // b: 14.4e6 GB-s = 10.8e6 left in tier 2 (up to 18e6) + 3.6e6 at tier 3.
    close(item(&b, "b", "duration tier 2").1, 10.8e6 * 0.00000833);
    close(item(&b, "b", "duration tier 3").1, 3.6e6 * 0.00000456);
}

#[test]
fn standard_transitions_and_their_free_tier() {
    let body = r#"
[[step_functions]]
name = "o"
workflow = "standard"
state_transitions = 10000
"#;
    close(priced(body).total_usd, 10000.0 * 0.000025);
    close(
        priced(&format!("free_tier = true\n{body}")).total_usd,
        6000.0 * 0.000025,
    );
    let small = "free_tier = true\n[[step_functions]]\nname = \"o\"\nworkflow = \"standard\"\nstate_transitions = 3000\n";
    close(priced(small).total_usd, 0.0);
}

#[test]
fn s3_requests_and_storage() {
    let b = priced(
        r#"
[[s3]]
name = "frames"
tier1_requests = 30090
tier2_requests = 500000
storage_gb_months = 2.5
"#,
    );
    close(
        item(&b, "frames", "tier-1 requests").1,
        30090.0 * 0.005 / 1000.0,
    );
    close(
        item(&b, "frames", "tier-2 requests").1,
        500000.0 * 0.0004 / 1000.0,
    );
    close(item(&b, "frames", "storage").1, 2.5 * 0.023);
}

#[test]
fn ec2_hours_discount_and_60_second_minimum() {
    let b = priced(
        r#"
[[ec2]]
name = "m"
instance_type = "c5.2xlarge"
instance_hours = 730.0
savings_plan_discount = 0.3
[[ec2]]
name = "g"
instance_type = "c6g.xlarge"
instance_hours = 10.0
"#,
    );
    close(
        item(&b, "m", "c5.2xlarge instance-hours (savings plan -30%)").1,
        730.0 * 0.34 * 0.7,
    );
    close(item(&b, "g", "c6g.xlarge instance-hours").1, 10.0 * 0.136);
    let c = Catalog::builtin();
    assert_eq!(bill::ec2_billed_seconds(&c, 30_000_000_000), 60);
    assert_eq!(bill::ec2_billed_seconds(&c, 60_000_000_000), 60);
    assert_eq!(bill::ec2_billed_seconds(&c, 61_200_000_000), 62);
    assert_eq!(bill::fargate_billed_seconds(&c, 1), 60);
}

#[test]
fn fargate_by_architecture() {
    let b = priced(
        r#"
[[fargate]]
name = "x"
architecture = "x86_64"
vcpu_hours = 10.0
gb_hours = 20.0
[[fargate]]
name = "a"
architecture = "arm64"
vcpu_hours = 10.0
gb_hours = 20.0
"#,
    );
    close(
        b.service_total(Service::Fargate),
        10.0 * 0.04048 + 20.0 * 0.004445 + 10.0 * 0.03238 + 20.0 * 0.00356,
    );
}

#[test]
fn init_billing_date_rule() {
    let c = Catalog::builtin();
    assert!(!bill::init_is_billed(&c, "2023-03-22"));
    assert!(bill::init_is_billed(&c, "2025-08-01"));
    assert!(bill::init_is_billed(&c, "2026-11-27"));
}

#[test]
fn usage_round_trips_through_toml() {
    let catalog = Catalog::builtin();
    let text = std::fs::read_to_string("scenarios/usage-example.toml").unwrap();
    let usage = Usage::parse("usage-example.toml", &text, &catalog).unwrap();
    let again = Usage::parse("again", &usage.to_toml(), &catalog).unwrap();
    assert_eq!(price(&usage, &catalog), price(&again, &catalog));
}

#[test]
fn sqs_requests_by_queue_type_and_the_free_million() {
    let body = r#"
[[sqs]]
name = "std"
queue = "standard"
requests = 700000
[[sqs]]
name = "fifo"
queue = "fifo"
requests = 2000000
"#;
    let b = priced(body);
    close(item(&b, "std", "standard requests").1, 0.7 * 0.40);
    close(item(&b, "fifo", "fifo requests").1, 2.0 * 0.50);
    // Free tier: 1M requests, the Standard ones first (700k), then 300k FIFO.
    let f = priced(&format!("free_tier = true\n{body}"));
    close(
        item(&f, "free tier", "requests credit (standard)").1,
        -0.7 * 0.40,
    );
    close(
        item(&f, "free tier", "requests credit (fifo)").1,
        -0.3 * 0.50,
    );
    close(f.service_total(Service::Sqs), 1.7 * 0.50);
}

#[test]
fn lambda_logs_ingested_from_invocations() {
    // 2^30 / 300 invocations would be 1 GB; 3,579,139 × 300 B = 1,073,741,700 B.
    let b = priced(
        r#"
[[lambda]]
name = "default"
architecture = "x86_64"
memory_mb = 128
invocations = 3579139
avg_billed_duration_ms = 1.0
[[lambda]]
name = "chatty"
architecture = "x86_64"
memory_mb = 128
invocations = 1048576
avg_billed_duration_ms = 1.0
log_bytes_per_invocation = 2048
[[lambda]]
name = "silent"
architecture = "x86_64"
memory_mb = 128
invocations = 1000
avg_billed_duration_ms = 1.0
log_bytes_per_invocation = 0
"#,
    );
    let gb = 3_579_139.0 * 300.0 / 1_073_741_824.0;
    close(item(&b, "default", "log ingestion").0, gb);
    close(item(&b, "default", "log ingestion").1, gb * 0.50);
    // 1 Mi invocations × 2 KiB = exactly 2 GB.
    close(item(&b, "chatty", "log ingestion").0, 2.0);
    close(item(&b, "chatty", "log ingestion").1, 1.0);
    assert!(!b
        .items
        .iter()
        .any(|i| i.resource == "silent" && i.service == Service::CloudWatchLogs));
}

#[test]
fn ebs_root_volumes_follow_instance_hours() {
    let b = priced(
        r#"
[[ec2]]
name = "default"
instance_type = "c5.large"
instance_hours = 1460.0
[[ec2]]
name = "big"
instance_type = "c5.large"
instance_hours = 73.0
root_volume_gb = 100.0
"#,
    );
    // Two instances for a 730 h month with 30 GB each = 60 GB-months × $0.08.
    close(item(&b, "default", "gp3 root volumes").0, 60.0);
    close(item(&b, "default", "gp3 root volumes").1, 4.80);
    // 73 h is a tenth of a month: 100 GB × 0.1 = 10 GB-months.
    close(item(&b, "big", "gp3 root volumes").1, 10.0 * 0.08);
}

#[test]
fn nat_processing_only_when_the_usage_says_so() {
    let none = priced(
        r#"
[[s3]]
name = "frames"
tier2_requests = 1000
"#,
    );
    assert!(!none.has(Service::NatGateway));
    let b = priced(
        r#"
[[nat_gateway]]
name = "vpc"
processed_gb = 200.0
"#,
    );
    close(item(&b, "vpc", "data processing").1, 200.0 * 0.045);
}

/// A period's usage priced as its month: `period_hours` of `toml`.
fn month_of(toml: &str, period_hours: f64) -> archsim::pricing::MonthlyBill {
    let catalog = Catalog::builtin();
    let usage = Usage::parse("test.toml", toml, &catalog).expect("valid usage");
    archsim::pricing::price_month(&usage, period_hours, &catalog)
}

#[test]
fn month_first_crosses_the_lambda_tier_the_period_never_reaches() {
    // One hour: 1M invocations × 10 s × 1 GB = 10M GB-s, far below the 6B GB-s tier.
    // The month (× 730) is 7.3B GB-s: 6B at the first rate, 1.3B at the second.
    let m = month_of(
        r#"
[[lambda]]
name = "f"
architecture = "x86_64"
memory_mb = 1024
invocations = 1000000
avg_billed_duration_ms = 10000.0
log_bytes_per_invocation = 0
"#,
        1.0,
    );
    close(m.period.total_usd, 0.20 + 10_000_000.0 * 0.0000166667);
    close(item(&m.month, "f", "duration").0, 6_000_000_000.0);
    close(item(&m.month, "f", "duration tier 2").0, 1_300_000_000.0);
    let month = 730.0 * 0.20 + 6e9 * 0.0000166667 + 1.3e9 * 0.0000150000;
    close(m.month.total_usd, month);
    // Scaling the period's bill instead overstates the month by 1.3B × the rate gap.
    close(
        m.period.total_usd * 730.0 - m.month.total_usd,
        1.3e9 * (0.0000166667 - 0.0000150000),
    );
}

#[test]
fn month_first_uses_the_free_tiers_once_a_month() {
    // 15 minutes (× 2,920 to the month) with the free tiers on. The period alone is
    // all free, so scaling its bill would say the month costs nothing.
    let m = month_of(
        r#"
free_tier = true
[[lambda]]
name = "f"
architecture = "x86_64"
memory_mb = 128
invocations = 1000
avg_billed_duration_ms = 1.0
log_bytes_per_invocation = 0
[[step_functions]]
name = "o"
workflow = "standard"
state_transitions = 1000
[[sqs]]
name = "q"
queue = "standard"
requests = 1000
"#,
        0.25,
    );
    close(m.period.total_usd, 0.0);
    // Lambda: 2.92M requests − 1M free; 365 GB-s, all inside the 400,000 free.
    close(m.month.service_total(Service::Lambda), 1.92 * 0.20);
    // Step Functions: 2.92M transitions − 4,000 free.
    close(
        m.month.service_total(Service::StepFunctions),
        2_916_000.0 * 0.025 / 1000.0,
    );
    // SQS: 2.92M requests − 1M free.
    close(m.month.service_total(Service::Sqs), 1.92 * 0.40);
}

#[test]
fn projection_rounds_counts_and_keeps_per_unit_figures() {
    let catalog = Catalog::builtin();
    let usage = Usage::parse(
        "t.toml",
        r#"
[[lambda]]
name = "f"
architecture = "arm64"
memory_mb = 256
invocations = 3
avg_billed_duration_ms = 12.5
[[ec2]]
name = "m"
instance_type = "c5.large"
instance_hours = 0.5
root_volume_gb = 8.0
"#,
        &catalog,
    )
    .unwrap();
    let p = usage.projected(2.5);
    assert_eq!(p.lambda[0].invocations.0, 8); // 7.5 rounds half away from zero
    assert_eq!(p.lambda[0].avg_billed_duration_ms.0, 12.5);
    assert_eq!(p.lambda[0].memory_mb.0, 256);
    close(p.ec2[0].instance_hours.0, 1.25);
    assert_eq!(p.ec2[0].root_volume_gb.unwrap().0, 8.0);
    // A whole factor is exact: 15 minutes to 730 hours.
    assert_eq!(usage.projected(2920.0).lambda[0].invocations.0, 8760);
    // No period, no month.
    let m = archsim::pricing::price_month(&usage, 0.0, &catalog);
    assert!(m.month.items.is_empty() && m.month.total_usd == 0.0);
}
