//! The price catalog as text tables, each rate with its source and date.

use comfy_table::Table;

use crate::pricing::catalog::{Catalog, Rate, Sourced, TieredRate};

fn table(header: &[&str]) -> Table {
    super::term::table(header.iter().copied())
}

fn rate_row(t: &mut Table, name: &str, r: &Rate) {
    t.add_row(vec![
        name.to_string(),
        format!("${} per {} {}", r.usd, r.per, r.unit),
        format!(
            "{} ({}){}",
            r.source,
            r.as_of,
            confidence_note(r.confidence.as_deref())
        ),
    ]);
}

fn sourced_row<T>(t: &mut Table, name: &str, value: String, s: &Sourced<T>) {
    t.add_row(vec![
        name.to_string(),
        value,
        format!(
            "{} ({}){}",
            s.source,
            s.as_of,
            confidence_note(s.confidence.as_deref())
        ),
    ]);
}

/// Marks a figure that is an assumption rather than a published price.
fn confidence_note(c: Option<&str>) -> &'static str {
    if c == Some("U") {
        " [U: assumption]"
    } else {
        ""
    }
}

fn tiered_rows(t: &mut Table, name: &str, r: &TieredRate) {
    let mut lower = 0.0;
    for (i, tier) in r.tiers.iter().enumerate() {
        let range = match tier.up_to {
            Some(u) => format!("{lower:.0}..{u:.0} {}", r.unit),
            None => format!("above {lower:.0} {}", r.unit),
        };
        t.add_row(vec![
            format!("{name} tier {}", i + 1),
            format!("${} per {} ({range})", tier.usd, r.unit),
            format!("{} ({})", r.source, r.as_of),
        ]);
        lower = tier.up_to.unwrap_or(lower);
    }
}

/// Every rate and quota of `c`.
pub fn catalog_text(c: &Catalog) -> String {
    let mut out = super::term::paragraph(
        &format!(
            "{} — {} ({}, {})",
            c.id, c.description, c.region, c.currency
        ),
        2,
    );
    out.push('\n');

    let mut t = table(&["Lambda", "rate", "source (as of)"]);
    rate_row(&mut t, "requests", &c.lambda.requests);
    tiered_rows(&mut t, "duration x86_64", &c.lambda.duration.x86_64);
    tiered_rows(&mut t, "duration arm64", &c.lambda.duration.arm64);
    rate_row(&mut t, "ephemeral storage", &c.lambda.ephemeral_storage);
    t.add_row(vec![
        "free tier".into(),
        format!(
            "{} requests + {} GB-s a month",
            c.lambda.free_tier.requests, c.lambda.free_tier.gb_seconds
        ),
        format!(
            "{} ({})",
            c.lambda.free_tier.source, c.lambda.free_tier.as_of
        ),
    ]);
    t.add_row(vec![
        "billing".into(),
        format!(
            "duration rounded up to {} ms",
            c.lambda.duration_rounding_ms
        ),
        c.lambda.duration_rounding_source.clone(),
    ]);
    t.add_row(vec![
        "INIT phase".into(),
        format!("billed since {}", c.lambda.init_billed_since),
        c.lambda.init_billed_source.clone(),
    ]);
    t.add_row(vec![
        "CPU".into(),
        format!(
            "{} MB = 1 vCPU, at most {} vCPU; memory {}..{} MB",
            c.lambda.mb_per_vcpu, c.lambda.max_vcpu, c.lambda.memory_min_mb, c.lambda.memory_max_mb
        ),
        c.lambda.cpu_source.clone(),
    ]);
    super::term::keep_words(&mut t);
    out += &format!("{t}\n\n");

    let mut t = table(&["Step Functions", "rate", "source (as of)"]);
    let sf = &c.step_functions;
    rate_row(&mut t, "standard transitions", &sf.standard_transitions);
    t.add_row(vec![
        "standard free tier".into(),
        format!("{} transitions a month", sf.standard_free_transitions.value),
        format!(
            "{} ({})",
            sf.standard_free_transitions.source, sf.standard_free_transitions.as_of
        ),
    ]);
    rate_row(&mut t, "express requests", &sf.express_requests);
    tiered_rows(&mut t, "express duration", &sf.express_duration);
    t.add_row(vec![
        "express billing".into(),
        format!(
            "{} MB chunks, {} ms increments",
            sf.express_memory_chunk_mb, sf.express_duration_increment_ms
        ),
        sf.express_rounding_source.clone(),
    ]);
    super::term::keep_words(&mut t);
    out += &format!("{t}\n\n");

    let mut t = table(&["S3 Standard", "rate", "source (as of)"]);
    rate_row(&mut t, "tier-1 requests", &c.s3.tier1_requests);
    rate_row(&mut t, "tier-2 requests", &c.s3.tier2_requests);
    rate_row(&mut t, "storage", &c.s3.storage);
    super::term::keep_words(&mut t);
    out += &format!("{t}\n\n");

    let q = &c.sqs;
    let mut t = table(&["SQS", "rate", "source (as of)"]);
    rate_row(&mut t, "standard requests", &q.standard_requests);
    rate_row(&mut t, "fifo requests", &q.fifo_requests);
    sourced_row(
        &mut t,
        "free tier",
        format!("{} requests a month", q.free_requests.value),
        &q.free_requests,
    );
    sourced_row(
        &mut t,
        "billing chunk",
        format!("{} bytes per request", q.chunk_bytes.value),
        &q.chunk_bytes,
    );
    sourced_row(
        &mut t,
        "largest message",
        format!("{} bytes", q.max_message_bytes.value),
        &q.max_message_bytes,
    );
    sourced_row(
        &mut t,
        "largest batch",
        format!("{} messages", q.max_batch.value),
        &q.max_batch,
    );
    sourced_row(
        &mut t,
        "longest long poll",
        format!("{} s", q.max_wait_seconds.value),
        &q.max_wait_seconds,
    );
    out += &format!("{t}\n\n");

    let l = &c.cloudwatch_logs;
    let mut t = table(&["CloudWatch Logs", "rate", "source (as of)"]);
    rate_row(&mut t, "ingestion", &l.ingestion);
    sourced_row(
        &mut t,
        "Lambda log per invocation",
        format!("{} bytes", l.lambda_bytes_per_invocation.value),
        &l.lambda_bytes_per_invocation,
    );
    out += &format!("{t}\n\n");

    let e = &c.ebs;
    let mut t = table(&["EBS", "rate", "source (as of)"]);
    rate_row(&mut t, "gp3 storage", &e.gp3_storage);
    sourced_row(
        &mut t,
        "root volume per instance",
        format!("{} GB", e.root_volume_gb.value),
        &e.root_volume_gb,
    );
    sourced_row(
        &mut t,
        "month",
        format!("{} hours", e.hours_per_month.value),
        &e.hours_per_month,
    );
    out += &format!("{t}\n\n");

    let mut t = table(&["NAT gateway", "rate", "source (as of)"]);
    rate_row(&mut t, "data processing", &c.nat_gateway.data_processing);
    out += &format!("{t}\n\n");

    let mut t = table(&[
        "EC2 instance",
        "vCPU",
        "GiB",
        "arch",
        "$/hour",
        "source (as of)",
    ]);
    for (name, i) in &c.ec2.instances {
        t.add_row(vec![
            name.clone(),
            i.vcpu.to_string(),
            i.memory_gib.to_string(),
            i.architecture.as_str().to_string(),
            i.usd_per_hour.to_string(),
            format!("{} ({})", i.source, i.as_of),
        ]);
    }
    super::term::keep_words(&mut t);
    out += &format!(
        "{t}\n{}\n",
        super::term::paragraph(
            &format!("{}; {}", c.ec2.billing_source, c.ec2.savings_plan_note),
            0
        )
    );

    let mut t = table(&["Fargate", "$/vCPU-hour", "$/GB-hour", "source (as of)"]);
    for (name, r) in [("x86_64", &c.fargate.x86_64), ("arm64", &c.fargate.arm64)] {
        t.add_row(vec![
            name.to_string(),
            r.usd_per_vcpu_hour.to_string(),
            r.usd_per_gb_hour.to_string(),
            format!("{} ({})", r.source, r.as_of),
        ]);
    }
    super::term::keep_words(&mut t);
    out += &format!("{t}\n\n");

    let q = &c.quotas;
    let mut t = table(&["Quota", "value", "source (as of)"]);
    t.add_row(vec![
        "Lambda concurrent executions".into(),
        q.lambda_concurrent_executions.value.to_string(),
        format!(
            "{} ({})",
            q.lambda_concurrent_executions.source, q.lambda_concurrent_executions.as_of
        ),
    ]);
    t.add_row(vec![
        "Lambda scaling (2023)".into(),
        format!(
            "burst {}, then +{}/min",
            q.lambda_scaling_2023.initial_burst, q.lambda_scaling_2023.per_minute
        ),
        q.lambda_scaling_2023.source.clone(),
    ]);
    t.add_row(vec![
        "Lambda scaling (current)".into(),
        format!(
            "+{} every {} s per function",
            q.lambda_scaling_current.increment, q.lambda_scaling_current.every_s
        ),
        q.lambda_scaling_current.source.clone(),
    ]);
    for (name, b) in [
        ("SFN Standard (2023)", &q.sfn_standard_2023),
        ("SFN Standard (current)", &q.sfn_standard_current),
        ("SFN Express", &q.sfn_express),
    ] {
        let st = match (b.state_transition_bucket, b.state_transition_refill_per_s) {
            (Some(cap), Some(r)) => format!("; StateTransition bucket {cap}, refill {r}/s"),
            _ => "; state transitions unlimited".into(),
        };
        t.add_row(vec![
            name.into(),
            format!(
                "StartExecution bucket {}, refill {}/s{st}",
                b.start_execution_bucket, b.start_execution_refill_per_s
            ),
            format!("{} ({})", b.source, b.as_of),
        ]);
    }
    t.add_row(vec![
        "S3 per prefix".into(),
        format!(
            "{} PUT/s, {} GET/s",
            q.s3_per_prefix.put_per_s, q.s3_per_prefix.get_per_s
        ),
        q.s3_per_prefix.source.clone(),
    ]);
    for (name, v) in [
        (
            "EC2 On-Demand Standard vCPUs",
            &q.ec2_on_demand_standard_vcpus,
        ),
        ("Fargate On-Demand vCPUs", &q.fargate_on_demand_vcpus),
    ] {
        t.add_row(vec![
            name.into(),
            format!("{} vCPUs", v.value),
            format!(
                "{} ({}, confidence {})",
                v.source,
                v.as_of,
                v.confidence.as_deref().unwrap_or("?")
            ),
        ]);
    }
    super::term::keep_words(&mut t);
    out += &format!("{t}\n");
    out
}
