//! Where every item went and what held work back: the accounting each layout reports,
//! and the capacity verdict computed from it (one function, [`capacity`]).

use serde::{Deserialize, Serialize};

/// Every item a layout was offered (a frame, or a request), by what became of it.
/// `analysed + late + dropped == offered`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemCounts {
    /// Items that arrived within the period.
    pub offered: u64,
    /// Started and finished within the period.
    pub analysed: u64,
    /// Started within the period, finished after it (the run drains work already
    /// started; nothing new starts after the end).
    pub late: u64,
    /// Never started: not within the overload policy's deadline of arriving, or not
    /// before the period ended.
    pub dropped: u64,
}

impl ItemCounts {
    /// Items served (analysed or late): the ones latency percentiles are over.
    pub fn served(&self) -> u64 {
        self.analysed + self.late
    }

    /// Whether every item is accounted for exactly once.
    pub fn balanced(&self) -> bool {
        self.analysed
            .checked_add(self.late)
            .and_then(|s| s.checked_add(self.dropped))
            == Some(self.offered)
    }

    /// Counts `n` items that arrived and were served from `start` to `end` (`None`:
    /// never started, dropped), in a period ending at `period_end`. Whether an item
    /// may still start is the caller's rule (the overload deadline, and nothing new
    /// after the end).
    pub fn record(
        &mut self,
        n: u64,
        served: Option<(crate::sim::Time, crate::sim::Time)>,
        period_end: crate::sim::Time,
    ) {
        self.offered += n;
        match served {
            None => self.dropped += n,
            Some((_, end)) if end > period_end => self.late += n,
            Some(_) => self.analysed += n,
        }
    }
}

/// What can hold a layout's work back: the binding candidates of the capacity
/// verdict, in a fixed order (reports and JSON list them so).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Gate {
    #[serde(rename = "step_functions.state_transitions")]
    StateTransitions,
    #[serde(rename = "step_functions.start_execution")]
    StartExecution,
    #[serde(rename = "lambda.concurrency")]
    LambdaConcurrency,
    /// Lambda's scaling rule: new execution environments a minute (2023) or every
    /// 10 s per function (since), a fixed rate, not a quota AWS raises.
    #[serde(rename = "lambda.scaling_rate")]
    LambdaScaling,
    #[serde(rename = "s3.prefix_rate")]
    S3PrefixRate,
    #[serde(rename = "ec2.vcpu_quota")]
    Ec2VcpuQuota,
    #[serde(rename = "fargate.vcpu_quota")]
    FargateVcpuQuota,
}

impl Gate {
    pub const ALL: [Gate; 7] = [
        Gate::StateTransitions,
        Gate::StartExecution,
        Gate::LambdaConcurrency,
        Gate::LambdaScaling,
        Gate::S3PrefixRate,
        Gate::Ec2VcpuQuota,
        Gate::FargateVcpuQuota,
    ];

    /// The binding name in the JSON (`"step_functions.state_transitions"`).
    pub fn name(self) -> &'static str {
        match self {
            Gate::StateTransitions => "step_functions.state_transitions",
            Gate::StartExecution => "step_functions.start_execution",
            Gate::LambdaConcurrency => "lambda.concurrency",
            Gate::LambdaScaling => "lambda.scaling_rate",
            Gate::S3PrefixRate => "s3.prefix_rate",
            Gate::Ec2VcpuQuota => "ec2.vcpu_quota",
            Gate::FargateVcpuQuota => "fargate.vcpu_quota",
        }
    }

    pub fn from_name(name: &str) -> Option<Gate> {
        Gate::ALL.into_iter().find(|g| g.name() == name)
    }

    /// In words, for tables and the report: "the state-transition quota".
    pub fn phrase(self) -> &'static str {
        match self {
            Gate::StateTransitions => "the state-transition quota",
            Gate::StartExecution => "the StartExecution quota",
            Gate::LambdaConcurrency => "the Lambda concurrency quota",
            Gate::LambdaScaling => "Lambda's scaling rate for new execution environments",
            Gate::S3PrefixRate => "the S3 per-prefix request rate",
            Gate::Ec2VcpuQuota => "the EC2 vCPU quota",
            Gate::FargateVcpuQuota => "the Fargate vCPU quota",
        }
    }

    /// Whether AWS raises it on request (a soft quota), so `quotas_raised` lifts it.
    /// The S3 per-prefix rate is not raised (more prefixes are the remedy), nor is
    /// Lambda's scaling rate.
    pub fn is_soft(self) -> bool {
        !matches!(self, Gate::S3PrefixRate | Gate::LambdaScaling)
    }
}

/// How much one gate held work back over a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateWait {
    /// Requests or items refused or held back by it.
    pub waits: u64,
    /// Time they spent held back, ns.
    pub wait_ns: u128,
}

/// Every gate's waits, in [`Gate::ALL`] order, and the items a second each gate
/// could carry at most where the layout knows it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct GateWaits {
    waits: [GateWait; Gate::ALL.len()],
    capacity: [Option<f64>; Gate::ALL.len()],
}

impl GateWaits {
    /// Counts one hold-back of `wait_ns` at `gate`.
    pub fn add(&mut self, gate: Gate, wait_ns: u64) {
        self.add_many(gate, 1, wait_ns as u128);
    }

    /// Counts `waits` hold-backs totalling `wait_ns` at `gate`.
    pub fn add_many(&mut self, gate: Gate, waits: u64, wait_ns: u128) {
        let g = &mut self.waits[gate as usize];
        g.waits += waits;
        g.wait_ns += wait_ns;
    }

    /// The weighted sum of gate waits, Σ wᵢ·gᵢ (weights may be negative: a steady
    /// window is a long run less its warm-up; each total kept at zero or above), with
    /// the first part's capacities times `capacity_scale` (a cohort's gates carry
    /// their share of the whole's).
    pub fn combined(parts: &[(&GateWaits, f64)], capacity_scale: f64) -> GateWaits {
        let mut out = GateWaits::default();
        for g in Gate::ALL {
            let sum = |get: &dyn Fn(GateWait) -> f64| -> f64 {
                parts
                    .iter()
                    .map(|(p, w)| get(p.get(g)) * w)
                    .sum::<f64>()
                    .max(0.0)
            };
            out.add_many(
                g,
                sum(&|w| w.waits as f64).round() as u64,
                sum(&|w| w.wait_ns as f64).round() as u128,
            );
            if let Some(c) = parts.first().and_then(|(p, _)| p.capacity(g)) {
                out.set_capacity(g, c * capacity_scale);
            }
        }
        out
    }

    pub fn get(&self, gate: Gate) -> GateWait {
        self.waits[gate as usize]
    }

    /// Records that `gate` carries at most `items_per_s` (its quota over what one
    /// item takes of it), so the narrowest gate can be named as the one that binds.
    pub fn set_capacity(&mut self, gate: Gate, items_per_s: f64) {
        if items_per_s.is_finite() && items_per_s >= 0.0 {
            self.capacity[gate as usize] = Some(items_per_s);
        }
    }

    pub fn capacity(&self, gate: Gate) -> Option<f64> {
        self.capacity[gate as usize]
    }

    /// The gate that binds: of those that held work back, the narrowest (fewest
    /// items a second) among those whose capacity is known — raising any other
    /// would not serve more — else the one that held work back most.
    pub fn binding(&self) -> Option<Gate> {
        let narrowest = self
            .iter()
            .filter(|(_, w)| w.waits > 0)
            .filter_map(|(g, _)| self.capacity(g).map(|c| (g, c)))
            .min_by(|(a, x), (b, y)| x.total_cmp(y).then(a.cmp(b)))
            .map(|(g, _)| g);
        narrowest.or_else(|| self.most())
    }

    /// (gate, waits) in the fixed order.
    pub fn iter(&self) -> impl Iterator<Item = (Gate, GateWait)> + '_ {
        Gate::ALL.into_iter().zip(self.waits.iter().copied())
    }

    /// The gate that held work back most: longest total wait, then most waits;
    /// `None` if none did.
    pub fn most(&self) -> Option<Gate> {
        self.iter()
            .filter(|(_, w)| w.waits > 0)
            .max_by(|(a, x), (b, y)| {
                (x.wait_ns, x.waits)
                    .cmp(&(y.wait_ns, y.waits))
                    .then(b.cmp(a)) // equal: the first in the fixed order
            })
            .map(|(g, _)| g)
    }
}

/// Whether a layout carries its load.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    #[default]
    KeepsUp,
    Overloaded,
}

/// A layout's capacity verdict, as the JSON carries it per layout.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Capacity {
    pub verdict: Verdict,
    pub offered_items_per_s: f64,
    pub served_items_per_s: f64,
    /// served ÷ offered (1 when nothing was offered).
    pub served_fraction: f64,
    /// The quota that held work back most, when the layout is overloaded.
    pub binding: Option<Gate>,
}

/// Share of offered items a layout may leave unserved and still keep up: the items
/// caught at the very end of the period, when nothing new starts.
pub const KEEPS_UP_SERVED: f64 = 0.999;

/// The verdict from a run's items and gates over a period of `period_s` seconds.
/// Overloaded when more than 0.1% of items went unserved, or when more items finished
/// after the period than arrive in `backlog_s` (the drop deadline, or 60 s under
/// `queue`): a backlog drained after the end, which a layout that keeps up never has.
pub fn capacity(items: &ItemCounts, gates: &GateWaits, period_s: f64, backlog_s: f64) -> Capacity {
    let per_s = |n: u64| {
        if period_s > 0.0 {
            n as f64 / period_s
        } else {
            0.0
        }
    };
    let offered = per_s(items.offered);
    let served = per_s(items.served());
    let fraction = if items.offered == 0 {
        1.0
    } else {
        items.served() as f64 / items.offered as f64
    };
    let backlog = items.late as f64 > offered * backlog_s;
    let overloaded = fraction < KEEPS_UP_SERVED || backlog;
    // Under a queue a backlog is served late, not dropped: what was served within
    // the period is the measure then.
    let (served, fraction) = if backlog {
        let f = if items.offered == 0 {
            1.0
        } else {
            items.analysed as f64 / items.offered as f64
        };
        (per_s(items.analysed), f)
    } else {
        (served, fraction)
    };
    Capacity {
        verdict: if overloaded {
            Verdict::Overloaded
        } else {
            Verdict::KeepsUp
        },
        offered_items_per_s: offered,
        served_items_per_s: served,
        served_fraction: fraction,
        binding: if overloaded { gates.binding() } else { None },
    }
}

impl Capacity {
    pub fn keeps_up(&self) -> bool {
        self.verdict == Verdict::KeepsUp
    }

    /// The served share in words: "19%", "0.3%", "99.5%".
    pub fn served_pct(&self) -> String {
        let p = self.served_fraction * 100.0;
        if p >= 10.0 {
            format!("{}%", (p.floor() as u64).min(99).max(10))
        } else if p >= 1.0 {
            format!("{:.1}%", (p * 10.0).floor() / 10.0)
        } else {
            format!("{:.2}%", (p * 100.0).floor() / 100.0)
        }
    }

    /// A table cell: "keeps up", "overloaded: 19% served".
    pub fn label(&self) -> String {
        match self.verdict {
            Verdict::KeepsUp => "keeps up".into(),
            Verdict::Overloaded => format!("overloaded: {} served", self.served_pct()),
        }
    }

    /// The sentence: "distributed keeps up with 19% of the load; the state-transition
    /// quota binds".
    pub fn sentence(&self, layout: &str) -> String {
        match (self.verdict, self.binding) {
            (Verdict::KeepsUp, _) => format!("{layout} keeps up"),
            (Verdict::Overloaded, Some(g)) => format!(
                "{layout} keeps up with {} of the load; {} binds",
                self.served_pct(),
                g.phrase()
            ),
            (Verdict::Overloaded, None) => {
                format!("{layout} keeps up with {} of the load", self.served_pct())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::NS_PER_SEC;

    #[test]
    fn items_are_counted_once_each() {
        let end = 10 * NS_PER_SEC;
        let mut c = ItemCounts::default();
        c.record(3, Some((0, NS_PER_SEC)), end);
        c.record(2, Some((end - 1, end + 5)), end);
        c.record(5, None, end);
        assert_eq!(
            c,
            ItemCounts {
                offered: 10,
                analysed: 3,
                late: 2,
                dropped: 5
            }
        );
        assert!(c.balanced());
        assert_eq!(c.served(), 5);
    }

    #[test]
    fn the_gate_that_waited_longest_binds() {
        let mut g = GateWaits::default();
        assert_eq!(g.most(), None);
        g.add(Gate::LambdaConcurrency, 5);
        g.add_many(Gate::StateTransitions, 2, 100);
        assert_eq!(g.most(), Some(Gate::StateTransitions));
        g.add_many(Gate::LambdaConcurrency, 1, 95);
        assert_eq!(
            g.most(),
            Some(Gate::StateTransitions),
            "equal waits: the first in order"
        );
        assert_eq!(g.get(Gate::LambdaConcurrency).waits, 2);
        let names: Vec<&str> = g.iter().map(|(g, _)| g.name()).collect();
        assert_eq!(names[0], "step_functions.state_transitions");
        assert_eq!(names[6], "fargate.vcpu_quota");
        assert!(Gate::ALL
            .iter()
            .all(|g| Gate::from_name(g.name()) == Some(*g)));
    }

    #[test]
    fn the_narrowest_gate_that_held_work_back_binds() {
        let mut g = GateWaits::default();
        // StartExecution waited longest, but transitions carry fewer items a second.
        g.add_many(Gate::StartExecution, 10, 1_000_000);
        g.add_many(Gate::StateTransitions, 10, 10);
        assert_eq!(
            g.binding(),
            Some(Gate::StartExecution),
            "no capacities: longest wait"
        );
        g.set_capacity(Gate::StartExecution, 1_200.0);
        g.set_capacity(Gate::StateTransitions, 750.0);
        g.set_capacity(Gate::LambdaConcurrency, 10.0); // narrower, but never waited
        assert_eq!(g.binding(), Some(Gate::StateTransitions));
        g.set_capacity(Gate::StateTransitions, f64::NAN); // ignored
        assert_eq!(g.capacity(Gate::StateTransitions), Some(750.0));
    }

    #[test]
    fn verdict_sentence_and_json() {
        let mut g = GateWaits::default();
        g.add(Gate::StateTransitions, 1_000);
        let items = ItemCounts {
            offered: 1000,
            analysed: 180,
            late: 10,
            dropped: 810,
        };
        let c = capacity(&items, &g, 10.0, 60.0);
        assert_eq!(c.verdict, Verdict::Overloaded);
        assert_eq!(c.offered_items_per_s, 100.0);
        assert_eq!(c.served_items_per_s, 19.0);
        assert_eq!(
            c.sentence("distributed"),
            "distributed keeps up with 19% of the load; the state-transition quota binds"
        );
        let json = serde_json::to_value(c).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"verdict": "overloaded", "offered_items_per_s": 100.0,
                "served_items_per_s": 19.0, "served_fraction": 0.19,
                "binding": "step_functions.state_transitions"})
        );
        // Keeping up: a few items caught by the end, no binding named.
        let ok = ItemCounts {
            offered: 10_000,
            analysed: 9_990,
            late: 8,
            dropped: 2,
        };
        let c = capacity(&ok, &g, 100.0, 60.0);
        assert!(c.keeps_up());
        assert_eq!(c.binding, None);
        assert_eq!(c.label(), "keeps up");
        // A queue drained after the period: overloaded, served within the period.
        let queued = ItemCounts {
            offered: 10_000,
            analysed: 3_000,
            late: 7_000,
            dropped: 0,
        };
        let c = capacity(&queued, &g, 100.0, 60.0);
        assert_eq!(c.verdict, Verdict::Overloaded);
        assert_eq!(c.served_fraction, 0.3);
        assert_eq!(c.label(), "overloaded: 30% served");
    }
}
