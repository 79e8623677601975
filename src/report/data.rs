//! Plain result types the report reads. The `run`, `sweep` and `sensitivity` commands
//! fill them from the simulation; the report never looks further than these.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use crate::analysis::Estimate;
use crate::pricing::{Bill, LineItem, Service, Usage};

pub use crate::pricing::HOURS_PER_MONTH;

/// Latency percentiles of one layout, in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

/// One bucket of a layout's timeline.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct TimelinePoint {
    /// Start of the bucket, seconds since the start of the simulation.
    pub time_s: f64,
    pub active_streams: f64,
    /// Concurrent Lambda executions (peak in the bucket).
    pub lambda_concurrency: f64,
    /// Throttled requests per second, all services.
    pub throttles_per_s: f64,
    /// Running EC2 instances or Fargate tasks.
    pub instances: f64,
}

/// Everything the report shows about one layout.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LayoutSummary {
    /// The layout's name in the scenario (`distributed`, `monolith`, ...).
    pub name: String,
    /// The layout's kind (`distributed`, `monolith`, `cloned-monolith`, ...).
    pub kind: String,
    /// The bill of the simulated period.
    pub bill: Bill,
    /// Length of the simulated period, hours.
    pub period_hours: f64,
    /// The cost of the month: the period's usage projected to 730 hours, then priced
    /// (`monthly_bill`'s total).
    pub monthly_usd: f64,
    /// Cost of the period per stream-hour (0 for a request source).
    pub usd_per_stream_hour: f64,
    /// Requests that arrived in the period (a request source only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<u64>,
    /// Cost of the period per 1,000 requests (a request source only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usd_per_1000_requests: Option<f64>,
    pub latency_ms: Percentiles,
    /// Points of the latency CDF: (milliseconds, fraction of frames at or below).
    pub latency_cdf: Vec<(f64, f64)>,
    /// Throttled requests by service or cause.
    pub throttles: BTreeMap<String, u64>,
    /// Retries by service or cause.
    pub retries: BTreeMap<String, u64>,
    pub frames_analyzed: u64,
    pub peak_lambda_concurrency: u64,
    pub peak_instances: u64,
    pub timeline: Vec<TimelinePoint>,
    /// The metered usage, in the usage-file shape (`archsim price` reprices it).
    #[serde(default, deserialize_with = "usage_from_any")]
    pub usage: Usage,
    /// Stream-hours of the simulated period.
    #[serde(default)]
    pub stream_hours: f64,
    /// Capture of a frame with a defect to its notification, ms.
    #[serde(default)]
    pub notify_latency_ms: Percentiles,
    /// Frames captured while streams were active.
    #[serde(default)]
    pub frames_captured: u64,
    /// Frames analysed by each detector.
    #[serde(default)]
    pub frames_by_detector: BTreeMap<String, u64>,
    /// Step Functions executions (or pipeline runs), one per chunk.
    #[serde(default)]
    pub executions: u64,
    /// Smallest stream count found throttled by the onset search, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttling_starts_at_streams: Option<u32>,
    /// The service that throttles first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttling_service: Option<String>,
    /// `throttling_starts_at_streams` as a share of the scenario's stream count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttling_starts_at_share: Option<f64>,
    /// Defects the real detectors found (empty with sampled kernels).
    #[serde(default)]
    pub defects: Vec<FoundDefect>,
    /// The bill of the month: the period's usage projected to 730 hours, priced with
    /// the monthly tiers and free tiers applied once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_bill: Option<Bill>,
    /// Largest stream count the onset search tried (when it ran).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onset_searched_up_to: Option<u32>,
    /// Seconds the last work finished after the end of the period (a backlog drains).
    #[serde(default)]
    pub drain_s: f64,
    /// The Lambda concurrency quota in force (serverless layouts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lambda_concurrency_quota: Option<u64>,
    /// Whether it carries its load: offered vs served items, the binding quota.
    #[serde(default)]
    pub capacity: crate::layouts::Capacity,
    /// Every item offered, by what became of it.
    #[serde(default)]
    pub items: crate::layouts::ItemCounts,
    /// An overloaded layout rerun with its soft quotas raised to carry the load (the
    /// figures above are what the period really bills under the quotas).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_quotas_raised: Option<RaisedQuotas>,
    /// With `--replications`: each headline figure over all replications (the other
    /// fields are the first replication's, run with the scenario's seed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicated: Option<LayoutEstimates>,
}

/// A layout's figures with every soft quota raised so that none binds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RaisedQuotas {
    /// The bill of the simulated period.
    pub bill: Bill,
    pub monthly_usd: f64,
    pub usd_per_stream_hour: f64,
    /// Per 1,000 requests (a request source only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usd_per_1000_requests: Option<f64>,
    pub monthly_bill: Bill,
    pub capacity: crate::layouts::Capacity,
    pub latency_ms: Percentiles,
    pub peak_instances: u64,
}

impl RaisedQuotas {
    /// Per 1,000 requests for a request source, else per stream-hour.
    pub fn usd_per_unit(&self) -> f64 {
        self.usd_per_1000_requests
            .unwrap_or(self.usd_per_stream_hour)
    }
}

/// One layout's headline figures over replications: mean and 95% interval each.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct LayoutEstimates {
    pub monthly_usd: Estimate,
    pub usd_per_stream_hour: Estimate,
    /// Per 1,000 requests (a request source only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usd_per_1000_requests: Option<Estimate>,
    /// Saving against the first layout, percent (absent for the first layout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saving_pct: Option<Estimate>,
    pub latency_p50_ms: Estimate,
    pub latency_p95_ms: Estimate,
    pub latency_p99_ms: Estimate,
    pub throttles: Estimate,
}

/// Reads a usage written by any serde format (a report's JSON, a part file): its
/// fields keep TOML positions, which only the TOML reader gives, so it goes through
/// TOML text.
fn usage_from_any<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Usage, D::Error> {
    use serde::de::Error;
    let value = toml::Value::deserialize(d)?;
    let text = toml::to_string(&value).map_err(D::Error::custom)?;
    toml::from_str(&text).map_err(D::Error::custom)
}

/// A defect found in one stream.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FoundDefect {
    pub stream: u32,
    #[serde(flatten)]
    pub defect: crate::frames::Defect,
}

/// What one item of these layouts is, in the plural: `requests` when they are priced
/// per 1,000 requests (a request source), else `frames`. Charts and pages label items
/// with it so that a request workload never speaks of frames.
pub fn items_word(layouts: &[LayoutSummary]) -> &'static str {
    match layouts.first().and_then(|l| l.usd_per_1000_requests) {
        Some(_) => "requests",
        None => "frames",
    }
}

/// The singular of [`items_word`]: `request` or `frame`.
pub fn item_word(layouts: &[LayoutSummary]) -> &'static str {
    match items_word(layouts) {
        "requests" => "request",
        _ => "frame",
    }
}

impl LayoutSummary {
    /// The monthly cost the saving compares: with quotas raised to carry the load
    /// when the layout was overloaded by them (AWS raises soft quotas on request),
    /// else its own.
    pub fn carried_monthly_usd(&self) -> f64 {
        self.with_quotas_raised
            .as_ref()
            .map_or(self.monthly_usd, |r| r.monthly_usd)
    }

    /// The cost per unit of work the table shows: per 1,000 requests for a request
    /// source, else per stream-hour.
    pub fn usd_per_unit(&self) -> f64 {
        self.usd_per_1000_requests
            .unwrap_or(self.usd_per_stream_hour)
    }

    /// The cost per unit that goes with [`Self::carried_monthly_usd`].
    pub fn carried_usd_per_unit(&self) -> f64 {
        self.with_quotas_raised
            .as_ref()
            .map_or(self.usd_per_unit(), RaisedQuotas::usd_per_unit)
    }

    /// Total throttled requests.
    pub fn total_throttles(&self) -> u64 {
        self.throttles.values().sum()
    }

    /// Total retries.
    pub fn total_retries(&self) -> u64 {
        self.retries.values().sum()
    }

    /// Cost of the period.
    pub fn period_usd(&self) -> f64 {
        self.bill.total_usd
    }

    /// Monthly cost of each service present in the bill, in [`Service`] order: the
    /// month's bill when there is one, else the period's service totals scaled so
    /// that they add up to `monthly_usd`.
    pub fn monthly_by_service(&self) -> Vec<(Service, f64)> {
        if let Some(month) = &self.monthly_bill {
            return month
                .services()
                .into_iter()
                .map(|s| (s, month.service_total(s)))
                .collect();
        }
        let total = self.bill.total_usd;
        let factor = if total != 0.0 {
            self.monthly_usd / total
        } else if self.period_hours > 0.0 {
            HOURS_PER_MONTH / self.period_hours
        } else {
            0.0
        };
        self.bill
            .services()
            .into_iter()
            .map(|s| (s, self.bill.service_total(s) * factor))
            .collect()
    }
}

/// One input of the model that is not a published fact, or is one worth showing.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Assumption {
    /// Dotted path in the scenario, e.g. `workload.fps`.
    pub name: String,
    pub value: String,
    /// Where the value comes from: a source, or the words of the assumption.
    pub source: String,
    /// Low end of the plausible range, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<String>,
    /// High end of the plausible range, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<String>,
    /// The layouts a per-layout setting applies to (empty: the whole scenario); the
    /// name is then the path inside each layout, e.g. `converter.memory_mb`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layouts: Vec<String>,
}

/// One line of a sweep chart: a layout's monthly cost at each swept value.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SweepSeries {
    pub layout: String,
    /// (swept value, USD per month).
    pub points: Vec<(f64, f64)>,
}

/// A point where two layouts cost the same.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Crossover {
    /// Swept value where the costs cross.
    pub x: f64,
    /// USD per month at the crossing.
    pub usd_per_month: f64,
    /// The two layouts, e.g. `distributed = monolith`.
    pub label: String,
}

/// Costs over a swept parameter.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SweepData {
    /// Dotted path of the swept parameter, e.g. `workload.streams`.
    pub parameter: String,
    /// Axis label with unit, e.g. `concurrent streams`.
    pub x_label: String,
    pub series: Vec<SweepSeries>,
    pub crossovers: Vec<Crossover>,
}

impl SweepData {
    /// A sweep from its series, with a crossover for each pair of layouts whose
    /// sampled costs cross, interpolated between the samples (see
    /// [`crate::sweep::crossings`]). Every series must be sampled at the same values.
    pub fn from_series(
        parameter: impl Into<String>,
        x_label: impl Into<String>,
        series: Vec<SweepSeries>,
    ) -> SweepData {
        let mut crossovers = Vec::new();
        for (i, a) in series.iter().enumerate() {
            for b in &series[i + 1..] {
                let xs: Vec<f64> = a.points.iter().map(|p| p.0).collect();
                let same_grid =
                    b.points.len() == xs.len() && b.points.iter().zip(&xs).all(|(p, x)| p.0 == *x);
                if !same_grid {
                    continue;
                }
                let ya: Vec<f64> = a.points.iter().map(|p| p.1).collect();
                let yb: Vec<f64> = b.points.iter().map(|p| p.1).collect();
                for (x, y) in crate::sweep::crossings(&xs, &ya, &yb) {
                    crossovers.push(Crossover {
                        x,
                        usd_per_month: y,
                        label: format!("{} = {}", a.layout, b.layout),
                    });
                }
            }
        }
        crossovers.sort_by(|p, q| p.x.total_cmp(&q.x));
        SweepData {
            parameter: parameter.into(),
            x_label: x_label.into(),
            series,
            crossovers,
        }
    }
}

/// The saving at both ends of one assumption's range.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SensitivityBar {
    /// Dotted path of the assumption.
    pub assumption: String,
    pub low_value: String,
    pub high_value: String,
    /// Saving (%) with the assumption at its low value.
    pub low_saving_pct: f64,
    /// Saving (%) with the assumption at its high value.
    pub high_saving_pct: f64,
}

/// How the saving of one layout over another moves with each assumption.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Sensitivity {
    /// What is compared, e.g. `monolith vs distributed`.
    pub comparison: String,
    /// Saving (%) with every assumption at its value.
    pub baseline_saving_pct: f64,
    pub bars: Vec<SensitivityBar>,
}

/// Everything a report shows: one run of a scenario over several layouts, and
/// optionally a sweep and a sensitivity analysis.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunReport {
    pub scenario: String,
    pub seed: u64,
    /// Which kernel costs were used: `measured (calibration.json)` or `mock`.
    pub kernels: String,
    /// Which fidelity ran and its validated error bound (absent: a report from
    /// before the fast mode, or not from `run`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fidelity: Option<crate::layouts::cohort::FidelityInfo>,
    pub layouts: Vec<LayoutSummary>,
    pub assumptions: Vec<Assumption>,
    pub notes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<SweepData>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitivity: Option<Sensitivity>,
}

impl RunReport {
    /// The label of the per-unit cost column: `per stream-hour` or, when the source
    /// is requests, `per 1,000 requests`.
    pub fn unit_label(&self) -> &'static str {
        match self.layouts.first().and_then(|l| l.usd_per_1000_requests) {
            Some(_) => crate::scenario::CostUnit::ThousandRequests.label(),
            None => crate::scenario::CostUnit::StreamHour.label(),
        }
    }

    /// What one item is, in the plural: `frames` for streams, `requests` for a
    /// request source (the same signal as [`RunReport::unit_label`]).
    pub fn items_word(&self) -> &'static str {
        items_word(&self.layouts)
    }

    /// Saving (%) of layout `i`'s monthly cost against the first layout's; `None` for
    /// the first layout or when the first costs nothing.
    pub fn saving_vs_first_pct(&self, i: usize) -> Option<f64> {
        let first = self.layouts.first()?.carried_monthly_usd();
        if i == 0 || first == 0.0 {
            return None;
        }
        let l = self.layouts.get(i)?;
        Some((1.0 - l.carried_monthly_usd() / first) * 100.0)
    }

    /// A made-up report with every part filled, for tests, demos and the docs. Its
    /// numbers are invented; they only look like the Prime Video case.
    pub fn example() -> RunReport {
        let distributed = example_layout(
            "distributed",
            "distributed",
            &[
                (
                    "lambda",
                    "detect-black",
                    "requests",
                    3_600_000.0,
                    "requests",
                    0.72,
                ),
                ("lambda", "detect-black", "duration", 540_000.0, "GB-s", 9.0),
                ("lambda", "convert", "duration", 1_440_000.0, "GB-s", 24.0),
                (
                    "step_functions",
                    "monitor",
                    "transitions",
                    10_800_000.0,
                    "transitions",
                    270.0,
                ),
                (
                    "s3",
                    "frames",
                    "tier-1 requests",
                    3_600_000.0,
                    "requests",
                    18.0,
                ),
                (
                    "s3",
                    "frames",
                    "tier-2 requests",
                    7_200_000.0,
                    "requests",
                    2.88,
                ),
            ],
            (180.0, 900.0, 2400.0, 6100.0),
            &[("lambda", 1200), ("step_functions", 340)],
            &[("lambda", 1150)],
            1000,
            0,
        );
        let monolith = example_layout(
            "monolith",
            "monolith",
            &[("ec2", "monitor", "instance-hours", 40.0, "hours", 13.6)],
            (95.0, 140.0, 210.0, 420.0),
            &[],
            &[],
            0,
            4,
        );
        let cloned = example_layout(
            "cloned-monolith",
            "cloned-monolith",
            &[
                ("ec2", "monitor", "instance-hours", 50.0, "hours", 17.0),
                ("fargate", "router", "vCPU-hours", 10.0, "vCPU-hours", 0.4),
            ],
            (90.0, 130.0, 190.0, 380.0),
            &[],
            &[],
            0,
            5,
        );
        let assumptions = vec![
            Assumption {
                name: "workload.streams".into(),
                value: "100".into(),
                source: "assumption: a mid-size fleet of monitored streams".into(),
                low: Some("10".into()),
                high: Some("1000".into()),
                layouts: Vec::new(),
            },
            Assumption {
                name: "workload.fps".into(),
                value: "1".into(),
                source: "Prime Video tech blog, 2023: frames sampled per second".into(),
                low: Some("0.5".into()),
                high: Some("5".into()),
                layouts: Vec::new(),
            },
            Assumption {
                name: "layouts.distributed.memory_mb".into(),
                value: "1024".into(),
                source: "assumption <& \"quoted\">".into(),
                low: Some("512".into()),
                high: Some("3008".into()),
                layouts: Vec::new(),
            },
            Assumption {
                name: "converter.cold_start".into(),
                value: "lognormal(250ms, 100ms)".into(),
                source: "default: not published; typical of a 1 GB function".into(),
                low: None,
                high: None,
                layouts: vec!["distributed".into(), "express".into()],
            },
        ];
        let sweep = SweepData {
            parameter: "workload.streams".into(),
            x_label: "concurrent streams".into(),
            series: vec![
                SweepSeries {
                    layout: "distributed".into(),
                    points: [1.0, 10.0, 100.0, 1000.0, 10000.0]
                        .iter()
                        .map(|&s| (s, 3.2 * s + 2.0))
                        .collect(),
                },
                SweepSeries {
                    layout: "monolith".into(),
                    points: [1.0, 10.0, 100.0, 1000.0, 10000.0]
                        .iter()
                        .map(|&s| (s, 25.0 + 0.25 * s))
                        .collect(),
                },
            ],
            crossovers: vec![Crossover {
                x: 7.8,
                usd_per_month: 26.95,
                label: "distributed = monolith".into(),
            }],
        };
        let sensitivity = Sensitivity {
            comparison: "monolith vs distributed".into(),
            baseline_saving_pct: 90.0,
            bars: vec![
                SensitivityBar {
                    assumption: "workload.streams".into(),
                    low_value: "10".into(),
                    high_value: "1000".into(),
                    low_saving_pct: 35.0,
                    high_saving_pct: 97.0,
                },
                SensitivityBar {
                    assumption: "workload.fps".into(),
                    low_value: "0.5".into(),
                    high_value: "5".into(),
                    low_saving_pct: 82.0,
                    high_saving_pct: 95.0,
                },
                SensitivityBar {
                    assumption: "layouts.distributed.memory_mb".into(),
                    low_value: "512".into(),
                    high_value: "3008".into(),
                    low_saving_pct: 88.0,
                    high_saving_pct: 92.5,
                },
            ],
        };
        RunReport {
            scenario: "prime-video.toml".into(),
            seed: 42,
            kernels: "mock".into(),
            fidelity: None,
            layouts: vec![distributed, monolith, cloned],
            assumptions,
            notes: vec!["Invented numbers for a demonstration.".into()],
            sweep: Some(sweep),
            sensitivity: Some(sensitivity),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn example_layout(
    name: &str,
    kind: &str,
    items: &[(&str, &str, &str, f64, &str, f64)],
    (p50, p95, p99, max): (f64, f64, f64, f64),
    throttles: &[(&str, u64)],
    retries: &[(&str, u64)],
    peak_lambda: u64,
    peak_instances: u64,
) -> LayoutSummary {
    let items: Vec<LineItem> = items
        .iter()
        .map(|&(service, resource, item, quantity, unit, usd)| LineItem {
            service: Service::from_label(service).expect("an example names a known service"),
            resource: resource.into(),
            item: item.into(),
            quantity,
            unit: unit.into(),
            usd,
        })
        .collect();
    let total_usd = items.iter().map(|i| i.usd).sum();
    let period_hours = 10.0;
    let monthly_usd = total_usd * HOURS_PER_MONTH / period_hours;
    let streams = 100.0;
    // A log-normal-ish CDF through the percentiles.
    let latency_cdf = vec![
        (p50 * 0.4, 0.0),
        (p50 * 0.7, 0.2),
        (p50, 0.5),
        ((p50 + p95) / 2.0, 0.8),
        (p95, 0.95),
        (p99, 0.99),
        (max, 1.0),
    ];
    let timeline = (0..60)
        .map(|i| {
            let t = i as f64 * 60.0;
            let ramp = (i as f64 / 10.0).min(1.0);
            let active = (streams * ramp).round();
            TimelinePoint {
                time_s: t,
                active_streams: active,
                lambda_concurrency: (peak_lambda as f64 * ramp).round(),
                throttles_per_s: if peak_lambda > 0 && (5..15).contains(&i) {
                    (15 - i) as f64 * 2.5
                } else {
                    0.0
                },
                instances: (peak_instances as f64 * ramp).ceil(),
            }
        })
        .collect();
    LayoutSummary {
        name: name.into(),
        kind: kind.into(),
        bill: Bill {
            currency: "USD".into(),
            total_usd,
            items,
        },
        period_hours,
        monthly_usd,
        usd_per_stream_hour: total_usd / (streams * period_hours),
        requests: None,
        usd_per_1000_requests: None,
        latency_ms: Percentiles { p50, p95, p99, max },
        latency_cdf,
        throttles: throttles.iter().map(|&(k, v)| (k.to_string(), v)).collect(),
        retries: retries.iter().map(|&(k, v)| (k.to_string(), v)).collect(),
        frames_analyzed: 3_600_000,
        peak_lambda_concurrency: peak_lambda,
        peak_instances,
        timeline,
        usage: Usage::default(),
        stream_hours: streams * period_hours,
        notify_latency_ms: Percentiles {
            p50: p50 * 1.1,
            p95: p95 * 1.1,
            p99: p99 * 1.1,
            max: max * 1.1,
        },
        frames_captured: 3_600_000,
        frames_by_detector: BTreeMap::new(),
        executions: 0,
        throttling_starts_at_streams: (peak_lambda > 0).then_some(850),
        throttling_service: (peak_lambda > 0).then(|| "step_functions".to_string()),
        throttling_starts_at_share: (peak_lambda > 0).then_some(850.0 / 20_000.0),
        defects: Vec::new(),
        monthly_bill: None,
        onset_searched_up_to: (peak_lambda > 0).then_some(20_000),
        drain_s: 2.0,
        lambda_concurrency_quota: (peak_lambda > 0).then_some(1000),
        capacity: crate::layouts::Capacity {
            verdict: crate::layouts::Verdict::KeepsUp,
            offered_items_per_s: 100.0,
            served_items_per_s: 100.0,
            served_fraction: 1.0,
            binding: None,
        },
        items: crate::layouts::ItemCounts {
            offered: 3_600_000,
            analysed: 3_600_000,
            late: 0,
            dropped: 0,
        },
        with_quotas_raised: None,
        replicated: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monthly_by_service_adds_up_to_monthly() {
        let r = RunReport::example();
        for l in &r.layouts {
            let sum: f64 = l.monthly_by_service().iter().map(|(_, v)| v).sum();
            assert!((sum - l.monthly_usd).abs() < 1e-6 * l.monthly_usd.max(1.0));
        }
        let services: Vec<_> = r.layouts[0]
            .monthly_by_service()
            .iter()
            .map(|(s, _)| *s)
            .collect();
        assert_eq!(
            services,
            [Service::Lambda, Service::StepFunctions, Service::S3]
        );
    }

    #[test]
    fn saving_is_against_the_first_layout() {
        let r = RunReport::example();
        assert_eq!(r.saving_vs_first_pct(0), None);
        let s = r.saving_vs_first_pct(1).unwrap();
        let want = (1.0 - r.layouts[1].monthly_usd / r.layouts[0].monthly_usd) * 100.0;
        assert!((s - want).abs() < 1e-9);
        assert!(s > 90.0, "{s}");
    }

    #[test]
    fn sweep_finds_crossovers_between_series() {
        let r = RunReport::example();
        let s = r.sweep.unwrap();
        let d = SweepData::from_series("workload.streams", "streams", s.series.clone());
        assert_eq!(d.crossovers.len(), 1, "{:?}", d.crossovers);
        let c = &d.crossovers[0];
        assert_eq!(c.label, "distributed = monolith");
        // Between the samples at 1 and 10 streams, where the two lines swap order.
        assert!(c.x > 1.0 && c.x < 10.0, "{c:?}");
        assert!(c.usd_per_month > 5.2 && c.usd_per_month < 34.0, "{c:?}");
    }

    #[test]
    fn json_round_trips() {
        let r = RunReport::example();
        let text = serde_json::to_string(&r).unwrap();
        let back: RunReport = serde_json::from_str(&text).unwrap();
        // serde_json may change the last bit of a float, so compare the rest.
        assert_eq!(back.layouts.len(), r.layouts.len());
        assert_eq!(back.layouts[0].bill.items, r.layouts[0].bill.items);
        assert_eq!(back.assumptions, r.assumptions);
        assert_eq!(back.sweep, r.sweep);
    }
}
