//! "The case explained": the bill of one stream-second in each layout, item by item,
//! what disappears in the monolith and why, the CPU work that remains in both, where
//! the distributed layout meets its quota wall and the assumptions underneath, as
//! Markdown ready for slides.
//!
//! The integrator fills an [`ExplainInput`] after running the layouts and calls
//! [`explain_markdown`]. Every amount comes from [`pricing::price`]: each layout's
//! metered usage is priced once and every line item divided by the stream-seconds
//! it served. That is the same as pricing a usage scaled to one stream-second for
//! every flat rate, keeps whole counts whole (a fraction of a state transition is
//! not a [`Count`](crate::pricing::usage::Count)), and applies volume tiers and the
//! free tier as the run's own bill did, so the figures add up to that bill. The
//! "per 1,000 streams-month" figure is priced apart, from the usage projected to
//! 1,000 streams for 730 hours ([`pricing::price_projected`]), so the monthly volume
//! tiers apply to that month's volume.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::data::{Assumption, HOURS_PER_MONTH};
use super::money::{percent, significant, usd_sig};
use crate::pricing::{self, Catalog, LineItem, Service, Usage};

/// Significant digits of quantities and amounts; unit prices get more so a catalog
/// rate reads as published (`$0.0000166667`).
const DIGITS: usize = 4;
const PRICE_DIGITS: usize = 6;

/// One simulated layout, as the explanation needs it.
#[derive(Debug, Clone)]
pub struct ExplainLayout {
    pub name: String,
    pub kind: String,
    /// Everything metered in the run.
    pub usage: Usage,
    /// Stream-seconds the run served (streams × seconds each).
    pub stream_seconds: f64,
    /// CPU seconds per stream-second, by kernel (`h264_decode`, `black`, ...).
    pub cpu_seconds_per_stream_second: BTreeMap<String, f64>,
    /// Step Functions executions (chunks) per stream-second, if any.
    pub executions_per_stream_second: Option<f64>,
}

/// Where a layout met a quota.
#[derive(Debug, Clone)]
pub struct QuotaWall {
    pub layout: String,
    /// Concurrent streams at which the quota binds.
    pub streams: u32,
    /// The scenario's stream count (the load the onset is a share of).
    pub load_streams: u32,
    /// Which quota, e.g. `Step Functions StateTransition refill 1,500/s (2023)`.
    pub quota: String,
    pub detail: String,
}

/// Everything the explanation reads.
#[derive(Debug, Clone)]
pub struct ExplainInput {
    pub scenario: String,
    pub catalog: Catalog,
    pub layouts: Vec<ExplainLayout>,
    pub walls: Vec<QuotaWall>,
    pub assumptions: Vec<Assumption>,
}

/// The post's scaling wall was "at around 5% of the expected load": where this wall
/// stands against the scenario's load, and the load (or the demand per stream) that
/// would put it at 5%.
fn about_five_percent(w: &QuotaWall, layouts: &[ExplainLayout]) -> String {
    let share = w.streams as f64 / w.load_streams as f64;
    let factor = share / 0.05;
    let mut text = format!(
        "  - that is {:.0}% of the scenario's {} streams; the post's \"about 5% of the expected load\" would be {} streams of this shape",
        100.0 * share,
        significant(w.load_streams as f64, DIGITS),
        significant(w.streams as f64 / 0.05, DIGITS),
    );
    let transitions = layouts.iter().find(|l| l.name == w.layout).and_then(|l| {
        let t: u64 = l
            .usage
            .step_functions
            .iter()
            .filter_map(|s| s.state_transitions.map(|c| c.0))
            .sum();
        (t > 0 && l.stream_seconds > 0.0).then(|| t as f64 / l.stream_seconds)
    });
    match transitions {
        Some(tps) => {
            let _ = write!(
                text,
                ", or {} streams with {} transitions per stream-second instead of {}",
                significant(w.load_streams as f64, DIGITS),
                significant(tps * factor, DIGITS),
                significant(tps, DIGITS)
            );
        }
        None => {
            let _ = write!(
                text,
                ", or {} streams each asking {}× as much of the quota",
                significant(w.load_streams as f64, DIGITS),
                significant(factor, DIGITS)
            );
        }
    }
    text.push('.');
    text
}

/// One layout's bill of one stream-second.
struct PerStreamSecond<'a> {
    layout: &'a ExplainLayout,
    /// Line items with quantity and amount per stream-second; empty lines dropped.
    items: Vec<LineItem>,
    total: f64,
    /// A month of 1,000 streams: the usage projected to 1,000 × 730 stream-hours and
    /// priced, so volume tiers apply to that month's volume.
    per_1000_month: f64,
}

impl PerStreamSecond<'_> {
    /// Runs on instances (EC2 or Fargate) rather than on Lambda.
    fn on_instances(&self) -> bool {
        let u = &self.layout.usage;
        !(u.ec2.is_empty() && u.fargate.is_empty())
    }

    fn service_total(&self, service: Service) -> f64 {
        self.items
            .iter()
            .filter(|i| i.service == service)
            .map(|i| i.usd)
            .sum()
    }

    fn has(&self, service: Service) -> bool {
        self.items.iter().any(|i| i.service == service)
    }
}

/// Prices `layout`'s usage and divides every item by its stream-seconds; `None`
/// when it served none.
fn per_stream_second<'a>(
    layout: &'a ExplainLayout,
    catalog: &Catalog,
) -> Option<PerStreamSecond<'a>> {
    let ss = layout.stream_seconds;
    if !(ss.is_finite() && ss > 0.0) {
        return None;
    }
    let bill = pricing::price(&layout.usage, catalog);
    let items: Vec<LineItem> = bill
        .items
        .into_iter()
        .filter(|i| i.quantity != 0.0 || i.usd != 0.0)
        .map(|i| LineItem {
            quantity: i.quantity / ss,
            usd: i.usd / ss,
            ..i
        })
        .collect();
    let total = items.iter().map(|i| i.usd).sum();
    let month_ss = 1000.0 * HOURS_PER_MONTH * 3600.0;
    let per_1000_month = pricing::price_projected(&layout.usage, month_ss / ss, catalog).total_usd;
    Some(PerStreamSecond {
        layout,
        items,
        total,
        per_1000_month,
    })
}

/// "quantity unit × $unit-price = $amount"; a Standard workflow's transitions as
/// executions × transitions per execution when the executions are known.
fn item_line(item: &LineItem, executions: Option<f64>) -> String {
    let unit_price = if item.quantity != 0.0 {
        item.usd / item.quantity
    } else {
        0.0
    };
    let standard = item.service == Service::StepFunctions && item.unit == "transitions";
    let quantity = match executions {
        Some(e) if standard && e > 0.0 && item.quantity > 0.0 => format!(
            "{} Standard executions × {} transitions",
            significant(e, DIGITS),
            significant(item.quantity / e, DIGITS)
        ),
        _ => format!("{} {}", significant(item.quantity, DIGITS), item.unit),
    };
    format!(
        "{quantity} × {} = **{}**",
        usd_sig(unit_price, PRICE_DIGITS),
        usd_sig(item.usd, DIGITS)
    )
}

/// Why a service's cost disappears when the pipeline runs as one process.
fn why_it_disappears(service: Service) -> &'static str {
    match service {
        Service::StepFunctions => "orchestration moved inside the process: the monolith calls its converter and detectors as functions, so no state transition is paid",
        Service::S3 => "frames passed in memory: no frame is written to S3 (Tier-1 PUT) for each detector to read back (Tier-2 GET)",
        Service::Lambda => "replaced by instance-hours: the same CPU work runs on vCPUs paid by the second, with no per-request fee and no per-invocation rounding",
        _ => "not present in the instance layouts",
    }
}

fn write_totals(out: &mut String, b: &PerStreamSecond) {
    let usd_per_stream_second = b.total;
    let per_hour = usd_per_stream_second * 3600.0;
    let per_1000_month = b.per_1000_month;
    let _ = writeln!(
        out,
        "**Subtotal: {} per stream-second, {} per stream-hour, {} per 1,000 streams-month ({} h).**",
        usd_sig(usd_per_stream_second, DIGITS),
        usd_sig(per_hour, DIGITS),
        usd_sig(per_1000_month, DIGITS),
        significant(HOURS_PER_MONTH, DIGITS)
    );
}

/// The explanation as Markdown.
pub fn explain_markdown(input: &ExplainInput) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# The case explained: {}\n", input.scenario);
    let bills: Vec<Option<PerStreamSecond>> = input
        .layouts
        .iter()
        .map(|l| per_stream_second(l, &input.catalog))
        .collect();

    // Summary.
    if !input.layouts.is_empty() {
        let _ = writeln!(
            out,
            "| layout | kind | per stream-second | per stream-hour | per 1,000 streams-month |"
        );
        let _ = writeln!(out, "|---|---|---:|---:|---:|");
        for (l, b) in input.layouts.iter().zip(&bills) {
            match b {
                Some(b) => {
                    let hour = b.total * 3600.0;
                    let _ = writeln!(
                        out,
                        "| {} | {} | {} | {} | {} |",
                        l.name,
                        l.kind,
                        usd_sig(b.total, DIGITS),
                        usd_sig(hour, DIGITS),
                        usd_sig(b.per_1000_month, DIGITS)
                    );
                }
                None => {
                    let _ = writeln!(out, "| {} | {} | — | — | — |", l.name, l.kind);
                }
            }
        }
        out.push('\n');
    }

    // One stream-second, item by item.
    let _ = writeln!(out, "## The bill of one stream-second\n");
    if input.layouts.is_empty() {
        let _ = writeln!(out, "No layout was run.\n");
    }
    for (l, b) in input.layouts.iter().zip(&bills) {
        let _ = writeln!(out, "### {} ({})\n", l.name, l.kind);
        let Some(b) = b else {
            let _ = writeln!(
                out,
                "No stream-seconds were served, so there is no per-stream-second bill.\n"
            );
            continue;
        };
        if b.items.is_empty() {
            let _ = writeln!(out, "Nothing was metered.\n");
        }
        for i in &b.items {
            let _ = writeln!(
                out,
                "- {} `{}` {}: {}",
                i.service,
                i.resource,
                i.item,
                item_line(i, l.executions_per_stream_second)
            );
        }
        if !b.items.is_empty() {
            out.push('\n');
        }
        write_totals(&mut out, b);
        out.push('\n');
    }

    write_disappears(&mut out, &bills);
    write_cpu(&mut out, &input.layouts);

    // Quota walls.
    let _ = writeln!(
        out,
        "## Where the distributed layout meets its quota wall\n"
    );
    if input.walls.is_empty() {
        let _ = writeln!(out, "No layout met a quota in the simulated range.\n");
    }
    for w in &input.walls {
        let detail = if w.detail.is_empty() {
            String::new()
        } else {
            format!(": {}", w.detail)
        };
        let _ = writeln!(
            out,
            "- **{}** meets its wall at **{} streams**, quota {}{detail}",
            w.layout,
            significant(w.streams as f64, DIGITS),
            w.quota
        );
        if w.load_streams > 0 {
            let _ = writeln!(out, "{}", about_five_percent(w, &input.layouts));
        }
    }
    if !input.walls.is_empty() {
        out.push('\n');
    }

    // Assumptions.
    let _ = writeln!(out, "## Assumptions this rests on\n");
    if input.assumptions.is_empty() {
        let _ = writeln!(out, "None recorded.");
    }
    for a in &input.assumptions {
        let range = match (&a.low, &a.high) {
            (Some(lo), Some(hi)) => format!(" (plausible {lo} to {hi})"),
            (Some(lo), None) => format!(" (at least {lo})"),
            (None, Some(hi)) => format!(" (at most {hi})"),
            (None, None) => String::new(),
        };
        let within = if a.layouts.is_empty() {
            String::new()
        } else {
            format!(" in {}", a.layouts.join(", "))
        };
        let _ = writeln!(
            out,
            "- `{}`{within} = {}{range}: {}",
            a.name, a.value, a.source
        );
    }
    out
}

/// The services the serverless layouts pay for and no instance layout does.
fn write_disappears(out: &mut String, bills: &[Option<PerStreamSecond>]) {
    let _ = writeln!(out, "## What disappears in the monolith\n");
    let priced: Vec<&PerStreamSecond> = bills.iter().flatten().collect();
    let instances: Vec<&&PerStreamSecond> = priced.iter().filter(|b| b.on_instances()).collect();
    let serverless: Vec<&&PerStreamSecond> = priced.iter().filter(|b| !b.on_instances()).collect();
    if instances.is_empty() || serverless.is_empty() {
        let _ = writeln!(
            out,
            "It takes a serverless layout and one on instances (EC2 or Fargate) to compare; this run has {} and {}.\n",
            serverless.len(),
            instances.len()
        );
        return;
    }
    let names = |v: &[&&PerStreamSecond]| -> String {
        v.iter()
            .map(|b| b.layout.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let instance_names = names(&instances);
    for s in &serverless {
        let gone: Vec<Service> = Service::ALL
            .into_iter()
            .filter(|svc| s.has(*svc) && !instances.iter().any(|b| b.has(*svc)))
            .collect();
        let _ = writeln!(out, "### {} → {}\n", s.layout.name, instance_names);
        if gone.is_empty() {
            let _ = writeln!(
                out,
                "Every service it pays for is in the instance layouts' bills too.\n"
            );
            continue;
        }
        let mut gone_total = 0.0;
        for svc in &gone {
            let amount = s.service_total(*svc);
            gone_total += amount;
            let parts: Vec<String> = s
                .items
                .iter()
                .filter(|i| i.service == *svc)
                .map(|i| format!("{} {}", i.item, usd_sig(i.usd, DIGITS)))
                .collect();
            let _ = writeln!(
                out,
                "- **{svc}**: {} per stream-second ({}). Why: {}.",
                usd_sig(amount, DIGITS),
                parts.join(", "),
                why_it_disappears(*svc)
            );
        }
        let share = if s.total != 0.0 {
            format!(" ({} of its bill)", percent(gone_total / s.total * 100.0))
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "\nIn all {} of {} per stream-second disappears{share}; in their place {} per stream-second.\n",
            usd_sig(gone_total, DIGITS),
            usd_sig(s.total, DIGITS),
            instances
                .iter()
                .map(|b| format!("{} pays {}", b.layout.name, usd_sig(b.total, DIGITS)))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

/// The kernels' CPU seconds per stream-second, side by side.
fn write_cpu(out: &mut String, layouts: &[ExplainLayout]) {
    let _ = writeln!(out, "## The CPU work that remains in both\n");
    let kernels: BTreeSet<&str> = layouts
        .iter()
        .flat_map(|l| l.cpu_seconds_per_stream_second.keys().map(String::as_str))
        .collect();
    if kernels.is_empty() {
        let _ = writeln!(out, "No CPU work was recorded.\n");
        return;
    }
    let cpu = |l: &ExplainLayout, k: &str| l.cpu_seconds_per_stream_second.get(k).copied();
    let _ = writeln!(
        out,
        "CPU seconds per stream-second, by kernel:\n\n| kernel | {} |\n|---|{}",
        layouts
            .iter()
            .map(|l| l.name.as_str())
            .collect::<Vec<_>>()
            .join(" | "),
        "---:|".repeat(layouts.len())
    );
    for k in &kernels {
        let cells: Vec<String> = layouts
            .iter()
            .map(|l| cpu(l, k).map_or("—".into(), |v| significant(v, DIGITS)))
            .collect();
        let _ = writeln!(out, "| {k} | {} |", cells.join(" | "));
    }
    let totals: Vec<f64> = layouts
        .iter()
        .map(|l| l.cpu_seconds_per_stream_second.values().sum())
        .collect();
    let _ = writeln!(
        out,
        "| **total** | {} |\n",
        totals
            .iter()
            .map(|t| format!("**{}**", significant(*t, DIGITS)))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let in_all: Vec<&str> = kernels
        .iter()
        .copied()
        .filter(|k| layouts.iter().all(|l| cpu(l, k).is_some()))
        .collect();
    if !in_all.is_empty() && layouts.len() > 1 {
        let _ = writeln!(out, "Every layout runs {}.\n", in_all.join(", "));
    }
    // Each layout against the one that works least.
    let Some(least) = (0..layouts.len()).min_by(|a, b| totals[*a].total_cmp(&totals[*b])) else {
        return;
    };
    let base = &layouts[least];
    for (l, total) in layouts.iter().zip(&totals) {
        let extra = total - totals[least];
        if std::ptr::eq(l, base) || extra <= 0.0 {
            continue;
        }
        let parts: Vec<String> = kernels
            .iter()
            .filter_map(|k| {
                let d = cpu(l, k).unwrap_or(0.0) - cpu(base, k).unwrap_or(0.0);
                (d > 0.0).then(|| {
                    let only = if cpu(base, k).is_none() {
                        format!(", which {} does not run", base.name)
                    } else {
                        String::new()
                    };
                    format!("{k} +{} s{only}", significant(d, DIGITS))
                })
            })
            .collect();
        let share = if totals[least] > 0.0 {
            format!(" (+{})", percent(extra / totals[least] * 100.0))
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "- **{}** does {} CPU-s per stream-second more than **{}**{share}: {}.",
            l.name,
            significant(extra, DIGITS),
            base.name,
            parts.join("; ")
        );
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::usage::{
        Count, Ec2Usage, Fraction, LambdaMemoryMb, LambdaUsage, NonNegative, S3Usage,
        StepFunctionsUsage,
    };
    use crate::pricing::Architecture;

    fn input() -> ExplainInput {
        // Distributed: 100 stream-seconds, 50 executions of 48 transitions.
        let distributed = Usage {
            step_functions: vec![StepFunctionsUsage::standard("pipeline", 2_400)],
            lambda: vec![LambdaUsage {
                name: "converter".into(),
                architecture: Architecture::X86_64,
                memory_mb: LambdaMemoryMb(1024),
                invocations: Count(100),
                avg_billed_duration_ms: NonNegative(500.0),
                ephemeral_storage_mb: Default::default(),
                log_bytes_per_invocation: Some(Count(0)),
            }],
            s3: vec![S3Usage {
                name: "frames".into(),
                tier1_requests: Count(1_000),
                tier2_requests: Count(5_000),
                storage_gb_months: NonNegative(0.0),
            }],
            ..Usage::default()
        };
        // Monolith: one c5.2xlarge for an hour serving 40 streams.
        let monolith = Usage {
            ec2: vec![Ec2Usage {
                name: "monolith".into(),
                instance_type: toml::Spanned::new(0..0, "c5.2xlarge".into()),
                instance_hours: NonNegative(1.0),
                savings_plan_discount: Fraction(0.0),
                root_volume_gb: Some(NonNegative(0.0)),
            }],
            ..Usage::default()
        };
        let cpu = |v: &[(&str, f64)]| v.iter().map(|(k, s)| (k.to_string(), *s)).collect();
        ExplainInput {
            scenario: "prime-video-small".into(),
            catalog: Catalog::builtin(),
            layouts: vec![
                ExplainLayout {
                    name: "distributed".into(),
                    kind: "distributed".into(),
                    usage: distributed,
                    stream_seconds: 100.0,
                    cpu_seconds_per_stream_second: cpu(&[
                        ("h264_decode", 0.02),
                        ("jpeg_encode", 0.01),
                        ("jpeg_decode", 0.015),
                        ("black", 0.005),
                    ]),
                    executions_per_stream_second: Some(0.5),
                },
                ExplainLayout {
                    name: "monolith".into(),
                    kind: "monolith".into(),
                    usage: monolith,
                    stream_seconds: 40.0 * 3600.0,
                    cpu_seconds_per_stream_second: cpu(&[("h264_decode", 0.02), ("black", 0.005)]),
                    executions_per_stream_second: None,
                },
            ],
            walls: vec![QuotaWall {
                layout: "distributed".into(),
                streams: 1_200,
                load_streams: 2_000,
                quota: "Step Functions StateTransition refill 1,500/s (2023)".into(),
                detail: "24 transitions per stream-second".into(),
            }],
            assumptions: vec![Assumption {
                name: "workload.chunk_seconds".into(),
                value: "2".into(),
                source: "not published".into(),
                low: Some("1".into()),
                high: Some("5".into()),
                layouts: Vec::new(),
            }],
        }
    }

    #[test]
    fn per_stream_second_bill_is_priced_item_by_item() {
        let md = explain_markdown(&input());
        // Per stream-second, by hand from the catalog:
        // 24 transitions × $0.000025 = $0.0006 (0.5 executions × 48 transitions);
        // 1 request × $0.0000002; 0.5 GB-s × $0.0000166667 = $0.00000833335;
        // 10 PUTs × $0.000005 = $0.00005; 50 GETs × $0.0000004 = $0.00002.
        for want in [
            "- step_functions `pipeline` state transitions: 0.5 Standard executions × 48 transitions × $0.000025 = **$0.0006**",
            "- lambda `converter` requests: 1 requests × $0.0000002 = **$0.0000002**",
            "- lambda `converter` duration: 0.5 GB-s × $0.0000166667 = **$0.000008333**",
            "- s3 `frames` tier-1 requests: 10 requests × $0.000005 = **$0.00005**",
            "- s3 `frames` tier-2 requests: 50 requests × $0.0000004 = **$0.00002**",
            // 1 h ÷ 144,000 stream-seconds × $0.34 = $0.00000236111.
            "- ec2 `monolith` c5.2xlarge instance-hours: 0.000006944 hours × $0.34 = **$0.000002361**",
        ] {
            assert!(md.contains(want), "missing {want:?} in\n{md}");
        }
        // Subtotal: 0.0006 + 0.0000002 + 0.00000833335 + 0.00005 + 0.00002
        // = $0.00067853335 per stream-second, × 3,600 = $2.44 per stream-hour,
        // × 730 × 1,000 = $1,783,185.64 per 1,000 streams-month.
        assert!(
            md.contains("**Subtotal: $0.0006785 per stream-second, $2.44 per stream-hour, $1,783,185.64 per 1,000 streams-month (730 h).**"),
            "{md}"
        );
        // Monolith: $0.00000236111 × 3,600 = $0.0085 per stream-hour; × 730,000 = $6,205.
        assert!(
            md.contains("**Subtotal: $0.000002361 per stream-second, $0.0085 per stream-hour, $6,205.00 per 1,000 streams-month (730 h).**"),
            "{md}"
        );
        assert!(md.contains("| distributed | distributed | $0.0006785 | $2.44 | $1,783,185.64 |"));
    }

    #[test]
    fn names_what_disappears_the_cpu_left_and_the_wall() {
        let md = explain_markdown(&input());
        let gone = md
            .split("## What disappears in the monolith")
            .nth(1)
            .and_then(|s| s.split("\n## ").next())
            .unwrap();
        assert!(gone.contains("### distributed → monolith"), "{gone}");
        assert!(
            gone.contains("- **step_functions**: $0.0006 per stream-second (state transitions $0.0006). Why: orchestration moved inside the process"),
            "{gone}"
        );
        // S3: $0.00005 + $0.00002.
        assert!(
            gone.contains("- **s3**: $0.00007 per stream-second (tier-1 requests $0.00005, tier-2 requests $0.00002). Why: frames passed in memory"),
            "{gone}"
        );
        // Lambda: $0.0000002 + $0.00000833335.
        assert!(
            gone.contains("- **lambda**: $0.000008533 per stream-second"),
            "{gone}"
        );
        assert!(!gone.contains("**ec2**"), "{gone}");
        // All of it: the distributed bill has nothing the monolith pays too.
        assert!(
            gone.contains("In all $0.0006785 of $0.0006785 per stream-second disappears (100.0% of its bill); in their place monolith pays $0.000002361 per stream-second."),
            "{gone}"
        );

        assert!(md.contains("| jpeg_encode | 0.01 | — |"), "{md}");
        assert!(md.contains("| **total** | **0.05** | **0.025** |"), "{md}");
        assert!(
            md.contains("Every layout runs black, h264_decode.\n\n- **distributed**"),
            "{md}"
        );
        assert!(
            md.contains("- **distributed** does 0.025 CPU-s per stream-second more than **monolith** (+100.0%): jpeg_decode +0.015 s, which monolith does not run; jpeg_encode +0.01 s, which monolith does not run."),
            "{md}"
        );

        assert!(md.contains(
            "- **distributed** meets its wall at **1,200 streams**, quota Step Functions StateTransition refill 1,500/s (2023): 24 transitions per stream-second"
        ), "{md}");
        // 1,200 of 2,000 streams is 60%; 5% would be 1,200 / 0.05 = 24,000 streams, or
        // 60 / 5 = 12 × the 24 transitions per stream-second at 2,000.
        assert!(md.contains(
            "  - that is 60% of the scenario's 2,000 streams; the post's \"about 5% of the expected load\" would be 24,000 streams of this shape, or 2,000 streams with 288 transitions per stream-second instead of 24."
        ), "{md}");
        assert!(md.contains("- `workload.chunk_seconds` = 2 (plausible 1 to 5): not published"));
    }

    #[test]
    fn output_is_deterministic_and_survives_empty_runs() {
        let a = explain_markdown(&input());
        assert_eq!(a, explain_markdown(&input()));
        let mut empty = input();
        empty.layouts[0].stream_seconds = 0.0;
        empty.layouts[1].usage = Usage::default();
        empty.walls.clear();
        let md = explain_markdown(&empty);
        assert!(md.contains("No stream-seconds were served"), "{md}");
        assert!(md.contains("Nothing was metered."), "{md}");
        assert!(md.contains("No layout met a quota"), "{md}");
        assert!(!md.contains("NaN") && !md.contains("inf"), "{md}");
    }
}
