//! Turns a scenario run into the report's plain data.

use std::collections::BTreeSet;

use super::data::{
    Assumption, Estimate, FoundDefect, LayoutEstimates, LayoutSummary, Percentiles, RunReport,
    TimelinePoint,
};
use crate::layouts::{layout_assumptions, LayoutRun};
use crate::pricing::{price_month, Catalog};
use crate::run::ScenarioRun;
use crate::sim::Histogram;

/// Percentiles of a nanosecond histogram, in milliseconds.
pub fn percentiles_ms(h: &Histogram) -> Percentiles {
    let ms = |ns: u64| ns as f64 / 1e6;
    if h.is_empty() {
        return Percentiles::default();
    }
    Percentiles {
        p50: ms(h.quantile(0.50)),
        p95: ms(h.quantile(0.95)),
        p99: ms(h.quantile(0.99)),
        max: ms(h.max()),
    }
}

/// Points of the latency CDF (ms, fraction), 200 quantiles and the maximum.
pub fn cdf_ms(h: &Histogram) -> Vec<(f64, f64)> {
    if h.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<(f64, f64)> = (1..200)
        .map(|i| {
            let q = i as f64 / 200.0;
            (h.quantile(q) as f64 / 1e6, q)
        })
        .collect();
    out.push((h.max() as f64 / 1e6, 1.0));
    out
}

/// The period's cost per 1,000 requests of a request source, whose jobs are one
/// item each (so the items offered are the requests that arrived, served or not).
pub fn usd_per_1000_requests(l: &LayoutRun) -> f64 {
    if l.items.offered == 0 {
        return 0.0;
    }
    l.bill.total_usd / l.items.offered as f64 * 1000.0
}

/// One layout's summary; the month is priced from its usage with `catalog`.
pub fn layout_summary(
    l: &LayoutRun,
    onset: Option<&crate::layouts::onset::Onset>,
    catalog: &Catalog,
) -> LayoutSummary {
    let month = price_month(&l.usage, l.period_hours, catalog).month;
    LayoutSummary {
        name: l.name.clone(),
        kind: l.kind.to_string(),
        bill: l.bill.clone(),
        period_hours: l.period_hours,
        monthly_usd: month.total_usd,
        usd_per_stream_hour: if l.stream_hours > 0.0 {
            l.bill.total_usd / l.stream_hours
        } else {
            0.0
        },
        requests: None,
        usd_per_1000_requests: None,
        latency_ms: percentiles_ms(&l.latency),
        latency_cdf: cdf_ms(&l.latency),
        throttles: l.throttles.clone(),
        retries: l.retries.clone(),
        frames_analyzed: l.frames_analyzed(),
        peak_lambda_concurrency: l.peak_lambda_concurrency as u64,
        peak_instances: l.peak_instances as u64,
        timeline: l
            .timeline
            .iter()
            .map(|p| TimelinePoint {
                time_s: p.time_s,
                active_streams: p.active_streams as f64,
                lambda_concurrency: p.lambda_concurrency as f64,
                throttles_per_s: p.throttles_per_s,
                instances: p.instances as f64,
            })
            .collect(),
        usage: l.usage.clone(),
        stream_hours: l.stream_hours,
        notify_latency_ms: percentiles_ms(&l.notify_latency),
        frames_captured: l.frames_captured,
        frames_by_detector: l.frames_by_detector.clone(),
        executions: l.executions,
        throttling_starts_at_streams: onset.and_then(|o| o.streams),
        throttling_service: onset.and_then(|o| o.service.clone()),
        throttling_starts_at_share: onset.and_then(|o| o.share_of_load),
        defects: l
            .defects
            .iter()
            .map(|d| FoundDefect {
                stream: d.stream,
                defect: d.defect.clone(),
            })
            .collect(),
        monthly_bill: Some(month),
        onset_searched_up_to: onset.map(|o| o.searched_up_to),
        drain_s: (l.sim_end as f64 / 1e9 - l.period_hours * 3600.0).max(0.0),
        lambda_concurrency_quota: None,
        capacity: l.capacity(),
        items: l.items,
        with_quotas_raised: None,
        replicated: None,
    }
}

/// The figures of `raised`, the rerun of a layout with its quotas raised.
pub fn raised_summary(raised: &LayoutRun, catalog: &Catalog) -> super::data::RaisedQuotas {
    let month = price_month(&raised.usage, raised.period_hours, catalog).month;
    super::data::RaisedQuotas {
        bill: raised.bill.clone(),
        monthly_usd: month.total_usd,
        usd_per_stream_hour: if raised.stream_hours > 0.0 {
            raised.bill.total_usd / raised.stream_hours
        } else {
            0.0
        },
        usd_per_1000_requests: None,
        monthly_bill: month,
        capacity: raised.capacity(),
        latency_ms: percentiles_ms(&raised.latency),
        peak_instances: raised.peak_instances as u64,
    }
}

/// The catalog's assumed quantities (confidence U) that priced these layouts' usage:
/// the CloudWatch Logs bytes of each Lambda invocation and the EBS root volume of each
/// EC2 instance, each with the layouts whose bill has that line.
fn billed_catalog_assumptions(layouts: &[LayoutRun], catalog: &Catalog) -> Vec<Assumption> {
    let names = |uses: &dyn Fn(&LayoutRun) -> bool| -> Vec<String> {
        layouts
            .iter()
            .filter(|l| uses(l))
            .map(|l| l.name.clone())
            .collect()
    };
    let logs = &catalog.cloudwatch_logs.lambda_bytes_per_invocation;
    let ebs = &catalog.ebs.root_volume_gb;
    let lines = [
        (
            "cloudwatch_logs.lambda_bytes_per_invocation",
            format!("{} bytes", logs.value),
            (&logs.source, &logs.confidence),
            names(&|l| {
                l.usage
                    .lambda
                    .iter()
                    .any(|f| f.log_bytes_per_invocation.is_none())
            }),
        ),
        (
            "ebs.root_volume_gb",
            format!("{} GB per instance", ebs.value),
            (&ebs.source, &ebs.confidence),
            names(&|l| l.usage.ec2.iter().any(|e| e.root_volume_gb.is_none())),
        ),
    ];
    lines
        .into_iter()
        .filter(|(.., used_by)| !used_by.is_empty())
        .map(|(name, value, (source, confidence), used_by)| Assumption {
            name: name.into(),
            value,
            source: format!(
                "{source} (catalog, confidence {})",
                confidence.as_deref().unwrap_or("not given")
            ),
            low: None,
            high: None,
            layouts: used_by,
        })
        .collect()
}

/// The whole report of a run.
pub fn run_report(run: &ScenarioRun) -> RunReport {
    let r = &run.resolved;
    let s = &r.scenario;
    let onset_of = |name: &str| run.onsets.iter().find(|o| o.layout == name);
    let lambda_quota = |l: &LayoutRun| {
        (l.family == crate::layouts::Family::Serverless).then(|| {
            s.layouts
                .iter()
                .find(|spec| spec.name == l.name)
                .and_then(|spec| spec.account.as_ref())
                .and_then(|a| a.get_ref().concurrency_limit)
                .unwrap_or(r.catalog.quotas.lambda_concurrent_executions.value) as u64
        })
    };
    let layouts: Vec<LayoutSummary> = run
        .layouts
        .iter()
        .zip(&run.raised)
        .map(|(l, raised)| LayoutSummary {
            lambda_concurrency_quota: lambda_quota(l),
            with_quotas_raised: raised.as_ref().map(|x| super::data::RaisedQuotas {
                usd_per_1000_requests: r.arrivals.is_some().then(|| usd_per_1000_requests(x)),
                ..raised_summary(x, &r.catalog)
            }),
            requests: r.arrivals.is_some().then_some(l.items.offered),
            usd_per_1000_requests: r.arrivals.is_some().then(|| usd_per_1000_requests(l)),
            ..layout_summary(l, onset_of(&l.name), &r.catalog)
        })
        .collect();

    // Assumptions: the scenario's labelled ones first (with their ranges), then each
    // layout's effective service settings not already labelled, each setting once
    // with the layouts it applies to.
    let doc: toml::Table = toml::from_str(&r.text).unwrap_or_default();
    let mut assumptions: Vec<Assumption> = s
        .assumptions
        .iter()
        .map(|(path, a)| Assumption {
            name: path.clone(),
            value: crate::sweep::get(&doc, path)
                .map(crate::sweep::value_label)
                .unwrap_or_default(),
            source: a.note.clone(),
            low: a.low.as_ref().map(crate::sweep::value_label),
            high: a.high.as_ref().map(crate::sweep::value_label),
            layouts: Vec::new(),
        })
        .collect();
    let labelled: BTreeSet<String> = assumptions.iter().map(|a| a.name.clone()).collect();
    let mut per_layout: Vec<Assumption> = Vec::new();
    for spec in &s.layouts {
        let prefix = format!("layouts.{}.", spec.name);
        for a in layout_assumptions(spec) {
            if labelled.contains(&a.name) {
                continue;
            }
            let setting = a.name.strip_prefix(&prefix).unwrap_or(&a.name).to_string();
            match per_layout
                .iter_mut()
                .find(|g| g.name == setting && g.value == a.value && g.source == a.note)
            {
                Some(g) => g.layouts.push(spec.name.clone()),
                None => per_layout.push(Assumption {
                    name: setting,
                    value: a.value,
                    source: a.note,
                    low: None,
                    high: None,
                    layouts: vec![spec.name.clone()],
                }),
            }
        }
    }
    assumptions.extend(per_layout);
    assumptions.extend(billed_catalog_assumptions(&run.layouts, &r.catalog));
    if let Some(st) = r.pipeline.stages.iter().find(|st| st.audio_bytes > 0) {
        assumptions.push(Assumption {
            name: format!("stages.{}.audio_bytes", st.name),
            value: st.audio_bytes.to_string(),
            source: "the audio of one chunk handed on as one buffer (the post: \"frames or decrypted audio buffers\"; its size and format are not published): 48 kHz × 2 channels × 16-bit PCM × chunk_seconds (U); the audio detectors read it, not the frames; decoding and decrypting the audio is not counted".into(),
            low: None,
            high: None,
            layouts: Vec::new(),
        });
    }
    assumptions.push(Assumption {
        name: "calibration".into(),
        value: run.calibration.clone(),
        source: "kernel CPU times measured on real frames (archsim kernels bench); see the calibration file's machine and date".into(),
        low: None,
        high: None,
        layouts: Vec::new(),
    });

    let mut notes = vec![
        format!("Quota era: {} (Step Functions and Lambda quotas as documented then); billing date {}.", s.quota_era.as_str(), r.billing_date),
        format!(
            "Kernels: {} — {}.",
            run.kernels.as_str(),
            match run.kernels {
                crate::run::KernelsMode::Real => "the detectors ran on the sample stream's frames as the simulation consumed them",
                crate::run::KernelsMode::Sampled => "service times drawn from the calibration; detectors not run",
            }
        ),
    ];
    notes.push(if run.resolved.arrivals.is_some() {
        // Requests always run full (there are no streams to take a cohort of).
        "Fidelity: full — every request simulated event by event.".to_string()
    } else {
        run.fidelity.note()
    });
    for o in &run.onsets {
        notes.push(match o.streams {
            Some(n) => format!(
                "{}: throttling starts at about {} streams ({:.0}% of the load; {}), found by a search over stream counts ({} probes, each {} s measured after a {} s warm-up).",
                o.layout,
                n,
                100.0 * o.share_of_load.unwrap_or(0.0),
                o.service.as_deref().unwrap_or("?"),
                o.probes,
                crate::layouts::onset::PROBE / 1_000_000_000,
                crate::layouts::onset::WARMUP / 1_000_000_000
            ),
            None => format!("{}: no throttling up to {} streams.", o.layout, o.searched_up_to),
        });
    }
    RunReport {
        scenario: s.name.clone(),
        seed: s.seed,
        kernels: run.kernels.as_str().to_string(),
        fidelity: Some(run.fidelity.clone()),
        layouts,
        assumptions,
        notes,
        sweep: None,
        sensitivity: None,
    }
}

/// The report of replications (`reports[k]` run with replication `k`'s seed, all of
/// one scenario): the first replication's report with each layout's headline
/// figures over all of them, and `note` on how they were made.
pub fn replicated_report(mut reports: Vec<RunReport>, note: String) -> RunReport {
    let n_layouts = reports.first().map_or(0, |r| r.layouts.len());
    let estimates: Vec<LayoutEstimates> = (0..n_layouts)
        .map(|i| {
            let of = |f: &dyn Fn(&RunReport) -> f64| {
                Estimate::of(&reports.iter().map(f).collect::<Vec<_>>())
            };
            LayoutEstimates {
                monthly_usd: of(&|r| r.layouts[i].monthly_usd),
                usd_per_stream_hour: of(&|r| r.layouts[i].usd_per_stream_hour),
                usd_per_1000_requests: reports
                    .iter()
                    .all(|r| r.layouts[i].usd_per_1000_requests.is_some())
                    .then(|| of(&|r| r.layouts[i].usd_per_unit())),
                saving_pct: (i > 0 && reports.iter().all(|r| r.saving_vs_first_pct(i).is_some()))
                    .then(|| of(&|r| r.saving_vs_first_pct(i).unwrap_or(f64::NAN))),
                latency_p50_ms: of(&|r| r.layouts[i].latency_ms.p50),
                latency_p95_ms: of(&|r| r.layouts[i].latency_ms.p95),
                latency_p99_ms: of(&|r| r.layouts[i].latency_ms.p99),
                throttles: of(&|r| r.layouts[i].total_throttles() as f64),
            }
        })
        .collect();
    let mut first = reports.swap_remove(0);
    for (l, e) in first.layouts.iter_mut().zip(estimates) {
        l.replicated = Some(e);
    }
    first.notes.push(note);
    first
}

/// The input of `archsim explain` from a run: each layout's usage and stream-seconds,
/// CPU per stream-second by kernel, and the quota walls the onset search found.
pub fn explain_input(run: &ScenarioRun) -> crate::report::explain::ExplainInput {
    use crate::report::explain::{ExplainInput, ExplainLayout, QuotaWall};
    let r = &run.resolved;
    let layouts = run
        .layouts
        .iter()
        .map(|l| {
            let ss = l.stream_hours * 3600.0;
            let per = |v: f64| if ss > 0.0 { v / ss } else { 0.0 };
            ExplainLayout {
                name: l.name.clone(),
                kind: l.kind.to_string(),
                usage: l.usage.clone(),
                stream_seconds: ss,
                cpu_seconds_per_stream_second: l
                    .cpu_seconds_by_kernel
                    .iter()
                    .map(|(k, v)| (k.clone(), per(*v)))
                    .collect(),
                executions_per_stream_second: l.step_functions.then(|| per(l.executions as f64)),
            }
        })
        .collect();
    let q = &r.catalog.quotas;
    let walls = run
        .onsets
        .iter()
        .filter_map(|o| {
            let streams = o.streams?;
            use crate::pricing::Service;
            let service = o.service.clone().unwrap_or_default();
            let quota = match Service::from_label(&service) {
                Some(Service::StepFunctions) => {
                    let b = match r.scenario.quota_era {
                        crate::cloud::QuotaEra::Y2023 => &q.sfn_standard_2023,
                        crate::cloud::QuotaEra::Current => &q.sfn_standard_current,
                    };
                    format!(
                        "Step Functions Standard quotas ({}): StartExecution refill {}/s, StateTransition refill {}/s",
                        r.scenario.quota_era.as_str(),
                        b.start_execution_refill_per_s,
                        b.state_transition_refill_per_s.unwrap_or(0.0)
                    )
                }
                Some(Service::Lambda) => format!("Lambda concurrency ({} concurrent executions) and scaling rate", q.lambda_concurrent_executions.value),
                Some(Service::S3) => format!("S3 request rate per prefix ({} PUT/s, {} GET/s)", q.s3_per_prefix.put_per_s, q.s3_per_prefix.get_per_s),
                _ => service,
            };
            Some(QuotaWall {
                layout: o.layout.clone(),
                streams,
                load_streams: o.searched_up_to,
                quota,
                detail: format!(
                    "found by {} short runs at constant stream counts up to {}, each {} s measured after a {} s warm-up",
                    o.probes,
                    o.searched_up_to,
                    crate::layouts::onset::PROBE / 1_000_000_000,
                    crate::layouts::onset::WARMUP / 1_000_000_000
                ),
            })
        })
        .collect();
    ExplainInput {
        scenario: r.scenario.name.clone(),
        catalog: r.catalog.clone(),
        layouts,
        walls,
        assumptions: run_report(run).assumptions,
    }
}
