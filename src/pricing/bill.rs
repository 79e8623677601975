//! The pricing engine: `Usage` × `Catalog` → `Bill`. The only code in archsim that
//! multiplies a quantity by a price.

use serde::{Deserialize, Serialize};

use super::catalog::{Architecture, Catalog};
use super::service::Service;
use super::usage::{QueueType, Usage, Workflow};

/// Bytes in the GB that CloudWatch Logs and NAT gateways bill (2^30).
const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// One priced line of a bill.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LineItem {
    /// The service billed; serialized as its label (`lambda`, `step_functions`, ...).
    pub service: Service,
    /// The resource's name in the usage, or `free tier` for a credit.
    pub resource: String,
    /// What is charged: requests, duration, transitions, ...
    pub item: String,
    pub quantity: f64,
    pub unit: String,
    /// Unrounded amount; credits are negative.
    pub usd: f64,
}

/// A priced usage.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Bill {
    pub currency: String,
    /// Sum of the items, unrounded.
    pub total_usd: f64,
    pub items: Vec<LineItem>,
}

impl Bill {
    /// Sum of the items of one service.
    pub fn service_total(&self, service: Service) -> f64 {
        self.items
            .iter()
            .filter(|i| i.service == service)
            .map(|i| i.usd)
            .sum()
    }

    /// Services present in the bill, in [`Service`] order.
    pub fn services(&self) -> Vec<Service> {
        Service::ALL.into_iter().filter(|s| self.has(*s)).collect()
    }

    /// Whether any item bills `service`.
    pub fn has(&self, service: Service) -> bool {
        self.items.iter().any(|i| i.service == service)
    }
}

/// Hours in the average month (8,760 h / 12), the month every monthly figure means.
pub const HOURS_PER_MONTH: f64 = 730.0;

/// A period's bill and the bill of the month it projects to.
#[derive(Debug, Clone, PartialEq)]
pub struct MonthlyBill {
    /// The simulated period's usage, priced as it is.
    pub period: Bill,
    /// The period's usage projected to a 730-hour month, then priced: volume tiers
    /// and free tiers apply once, to the month.
    pub month: Bill,
}

/// Prices a period of `period_hours` and the month it projects to. Every monthly
/// figure comes from here: scaling the period's bill instead would apply the
/// monthly tiers and free tiers to a period's volume.
pub fn price_month(usage: &Usage, period_hours: f64, catalog: &Catalog) -> MonthlyBill {
    let factor = if period_hours > 0.0 {
        HOURS_PER_MONTH / period_hours
    } else {
        0.0
    };
    MonthlyBill {
        period: price(usage, catalog),
        month: price_projected(usage, factor, catalog),
    }
}

/// Prices `usage` scaled by `factor` ([`Usage::projected`]), e.g. to a month of
/// 1,000 streams; an empty bill when `factor` is not positive.
pub fn price_projected(usage: &Usage, factor: f64, catalog: &Catalog) -> Bill {
    if factor.is_finite() && factor > 0.0 {
        price(&usage.projected(factor), catalog)
    } else {
        Bill {
            currency: catalog.currency.clone(),
            total_usd: 0.0,
            items: Vec::new(),
        }
    }
}

/// Billed duration of one Lambda invocation: rounded up to the catalog's increment.
pub fn lambda_billed_ms(catalog: &Catalog, duration_ns: u64) -> u64 {
    round_up(
        duration_ns.div_ceil(1_000_000),
        catalog.lambda.duration_rounding_ms,
    )
}

/// Billed duration of one Express execution: rounded up to the catalog's increment.
pub fn express_billed_ms(catalog: &Catalog, duration_ms: f64) -> f64 {
    let inc = catalog.step_functions.express_duration_increment_ms as f64;
    (duration_ms / inc).ceil() * inc
}

/// Billed memory of an Express workflow: rounded up to the catalog's chunk.
pub fn express_billed_mb(catalog: &Catalog, memory_mb: u64) -> u64 {
    round_up(
        memory_mb,
        catalog.step_functions.express_memory_chunk_mb as u64,
    )
}

/// Billed seconds of one EC2 instance that ran for `running_ns`: per second, with the
/// catalog's minimum.
pub fn ec2_billed_seconds(catalog: &Catalog, running_ns: u64) -> u64 {
    running_ns
        .div_ceil(1_000_000_000)
        .max(catalog.ec2.minimum_billed_seconds)
}

/// Billed seconds of one Fargate task that ran for `running_ns`.
pub fn fargate_billed_seconds(catalog: &Catalog, running_ns: u64) -> u64 {
    running_ns
        .div_ceil(1_000_000_000)
        .max(catalog.fargate.minimum_billed_seconds)
}

/// Whether the INIT phase of a cold start is billed on `date` (ISO `YYYY-MM-DD`).
pub fn init_is_billed(catalog: &Catalog, date: &str) -> bool {
    date >= catalog.lambda.init_billed_since.as_str()
}

fn round_up(v: u64, inc: u64) -> u64 {
    v.div_ceil(inc.max(1)) * inc.max(1)
}

fn tier_label(base: &str, tier: usize) -> String {
    if tier == 0 {
        base.to_string()
    } else {
        format!("{base} tier {}", tier + 1)
    }
}

/// Prices `usage` with `catalog`.
pub fn price(usage: &Usage, catalog: &Catalog) -> Bill {
    let mut items = Vec::new();
    let mut push =
        |service: Service, resource: &str, item: &str, quantity: f64, unit: &str, usd: f64| {
            items.push(LineItem {
                service,
                resource: resource.into(),
                item: item.into(),
                quantity,
                unit: unit.into(),
                usd,
            });
        };

    // Lambda: requests, then duration tiered per architecture across all functions.
    let l = &catalog.lambda;
    let mut lambda_requests = 0.0;
    let mut gb_s_by_arch = [0.0_f64; 2];
    for f in &usage.lambda {
        let inv = f.invocations.0 as f64;
        lambda_requests += inv;
        push(
            Service::Lambda,
            &f.name,
            "requests",
            inv,
            "requests",
            inv * l.requests.unit_usd(),
        );
        let seconds = inv * f.avg_billed_duration_ms.0 / 1000.0;
        let gb_s = seconds * f.memory_mb.0 as f64 / 1024.0;
        let arch = f.architecture;
        let slot = arch as usize;
        for (tier, qty, usd) in catalog
            .lambda_duration(arch)
            .split(gb_s_by_arch[slot], gb_s)
        {
            push(
                Service::Lambda,
                &f.name,
                &tier_label("duration", tier),
                qty,
                "GB-s",
                usd,
            );
        }
        gb_s_by_arch[slot] += gb_s;
        let extra_gb = (f
            .ephemeral_storage_mb
            .0
            .saturating_sub(l.ephemeral_included_mb)) as f64
            / 1024.0;
        if extra_gb > 0.0 {
            let q = extra_gb * seconds;
            push(
                Service::Lambda,
                &f.name,
                "ephemeral storage",
                q,
                "GB-s",
                q * l.ephemeral_storage.unit_usd(),
            );
        }
    }
    if usage.free_tier && !usage.lambda.is_empty() {
        let free_req = lambda_requests.min(l.free_tier.requests);
        if free_req > 0.0 {
            push(
                Service::Lambda,
                "free tier",
                "requests credit",
                -free_req,
                "requests",
                -free_req * l.requests.unit_usd(),
            );
        }
        // The free GB-s are shared by both architectures; they are credited at each
        // architecture's first-tier rate, x86_64 first.
        let mut free_left = l.free_tier.gb_seconds;
        for arch in [Architecture::X86_64, Architecture::Arm64] {
            let used = gb_s_by_arch[arch as usize].min(free_left);
            if used > 0.0 {
                let rate = catalog.lambda_duration(arch).tiers[0].usd;
                let label = format!("duration credit ({})", arch.as_str());
                push(
                    Service::Lambda,
                    "free tier",
                    &label,
                    -used,
                    "GB-s",
                    -used * rate,
                );
                free_left -= used;
            }
        }
    }

    // Step Functions.
    let sf = &catalog.step_functions;
    let mut standard_transitions = 0.0;
    let mut express_gb_s = 0.0;
    for m in &usage.step_functions {
        match m.workflow.get_ref() {
            Workflow::Standard => {
                let t = m.state_transitions.map_or(0, |c| c.0) as f64;
                standard_transitions += t;
                push(
                    Service::StepFunctions,
                    &m.name,
                    "state transitions",
                    t,
                    "transitions",
                    t * sf.standard_transitions.unit_usd(),
                );
            }
            Workflow::Express => {
                let req = m.requests.map_or(0, |c| c.0) as f64;
                push(
                    Service::StepFunctions,
                    &m.name,
                    "requests",
                    req,
                    "requests",
                    req * sf.express_requests.unit_usd(),
                );
                // A mean of billed durations is billed as it is; a mean duration is
                // rounded up to the increment.
                let billed_ms = match (m.avg_billed_duration_ms, m.avg_duration_ms) {
                    (Some(b), _) => b.0,
                    (None, d) => express_billed_ms(catalog, d.map_or(0.0, |d| d.0)),
                };
                let billed_mb = express_billed_mb(catalog, m.memory_mb.map_or(0, |c| c.0)) as f64;
                let gb_s = req * billed_ms / 1000.0 * billed_mb / 1024.0;
                for (tier, qty, usd) in sf.express_duration.split(express_gb_s, gb_s) {
                    push(
                        Service::StepFunctions,
                        &m.name,
                        &tier_label("duration", tier),
                        qty,
                        "GB-s",
                        usd,
                    );
                }
                express_gb_s += gb_s;
            }
        }
    }
    if usage.free_tier {
        let free = standard_transitions.min(sf.standard_free_transitions.value as f64);
        if free > 0.0 {
            push(
                Service::StepFunctions,
                "free tier",
                "transitions credit",
                -free,
                "transitions",
                -free * sf.standard_transitions.unit_usd(),
            );
        }
    }

    // S3 Standard.
    let s3 = &catalog.s3;
    for b in &usage.s3 {
        let t1 = b.tier1_requests.0 as f64;
        let t2 = b.tier2_requests.0 as f64;
        let st = b.storage_gb_months.0;
        push(
            Service::S3,
            &b.name,
            "tier-1 requests",
            t1,
            "requests",
            t1 * s3.tier1_requests.unit_usd(),
        );
        push(
            Service::S3,
            &b.name,
            "tier-2 requests",
            t2,
            "requests",
            t2 * s3.tier2_requests.unit_usd(),
        );
        if st > 0.0 {
            push(
                Service::S3,
                &b.name,
                "storage",
                st,
                "GB-months",
                st * s3.storage.unit_usd(),
            );
        }
    }

    // SQS: requests by queue type; the monthly free requests credited Standard first.
    let q = &catalog.sqs;
    let mut sqs_requests = [0.0_f64; 2];
    for m in &usage.sqs {
        let n = m.requests.0 as f64;
        let (slot, rate) = match m.queue {
            QueueType::Standard => (0, &q.standard_requests),
            QueueType::Fifo => (1, &q.fifo_requests),
        };
        sqs_requests[slot] += n;
        let item = format!("{} requests", m.queue.as_str());
        push(
            Service::Sqs,
            &m.name,
            &item,
            n,
            "requests",
            n * rate.unit_usd(),
        );
    }
    if usage.free_tier && !usage.sqs.is_empty() {
        let mut free_left = q.free_requests.value as f64;
        for (slot, kind, rate) in [
            (0, QueueType::Standard, &q.standard_requests),
            (1, QueueType::Fifo, &q.fifo_requests),
        ] {
            let used = sqs_requests[slot].min(free_left);
            if used > 0.0 {
                let label = format!("requests credit ({})", kind.as_str());
                push(
                    Service::Sqs,
                    "free tier",
                    &label,
                    -used,
                    "requests",
                    -used * rate.unit_usd(),
                );
                free_left -= used;
            }
        }
    }

    // CloudWatch Logs: what every Lambda invocation logs, ingested.
    let logs = &catalog.cloudwatch_logs;
    for f in &usage.lambda {
        let bytes_each = f
            .log_bytes_per_invocation
            .map_or(logs.lambda_bytes_per_invocation.value, |c| c.0);
        let gb = f.invocations.0 as f64 * bytes_each as f64 / GIB;
        if gb > 0.0 {
            push(
                Service::CloudWatchLogs,
                &f.name,
                "log ingestion",
                gb,
                "GB",
                gb * logs.ingestion.unit_usd(),
            );
        }
    }

    // NAT gateway: bytes processed, only where the usage says traffic crosses one.
    for n in &usage.nat_gateway {
        let gb = n.processed_gb.0;
        push(
            Service::NatGateway,
            &n.name,
            "data processing",
            gb,
            "GB",
            gb * catalog.nat_gateway.data_processing.unit_usd(),
        );
    }

    // EC2: instance-hours at the on-demand rate, less any savings-plan discount.
    for e in &usage.ec2 {
        let Ok(it) = catalog.instance(e.instance_type.get_ref()) else {
            continue; // Usage::check rejects unknown types before pricing.
        };
        let h = e.instance_hours.0;
        let d = e.savings_plan_discount.0;
        let item = if d > 0.0 {
            format!(
                "{} instance-hours (savings plan -{:.0}%)",
                e.instance_type.get_ref(),
                d * 100.0
            )
        } else {
            format!("{} instance-hours", e.instance_type.get_ref())
        };
        push(
            Service::Ec2,
            &e.name,
            &item,
            h,
            "hours",
            h * it.usd_per_hour * (1.0 - d),
        );
    }

    // EBS: one gp3 root volume per instance, for as long as the instance runs.
    let ebs = &catalog.ebs;
    for e in &usage.ec2 {
        let size = e.root_volume_gb.map_or(ebs.root_volume_gb.value, |g| g.0);
        let gb_months = e.instance_hours.0 * size / ebs.hours_per_month.value;
        if gb_months > 0.0 {
            push(
                Service::Ebs,
                &e.name,
                "gp3 root volumes",
                gb_months,
                "GB-months",
                gb_months * ebs.gp3_storage.unit_usd(),
            );
        }
    }

    // Fargate.
    for f in &usage.fargate {
        let r = catalog.fargate_rate(f.architecture);
        push(
            Service::Fargate,
            &f.name,
            "vCPU-hours",
            f.vcpu_hours.0,
            "vCPU-hours",
            f.vcpu_hours.0 * r.usd_per_vcpu_hour,
        );
        push(
            Service::Fargate,
            &f.name,
            "GB-hours",
            f.gb_hours.0,
            "GB-hours",
            f.gb_hours.0 * r.usd_per_gb_hour,
        );
    }

    let total_usd = items.iter().map(|i| i.usd).sum();
    Bill {
        currency: catalog.currency.clone(),
        total_usd,
        items,
    }
}
