//! The engine checked against exact queueing results: M/M/1 and M/M/c mean wait and
//! probability of waiting (Erlang C), M/M/c/c blocking (Erlang B), M/D/1 mean wait
//! (Pollaczek–Khinchine), and Little's law and utilization on every run.
//!
//! Each check runs `replications` independent replications (one random stream each)
//! and compares the exact value with the Student-t confidence interval of the
//! replication means. `archsim validate` prints the result.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Discrete, DiscreteCDF, Poisson, StudentsT};

use super::mmc::{simulate, QueueModel, QueueResult, Service};
use super::{millis, rng_stream, RunningStats};

/// How long and how sure.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ValidateOptions {
    pub seed: u64,
    /// Independent replications per model (>= 2).
    pub replications: u32,
    /// Customers measured per replication.
    pub customers: u64,
    /// Customers discarded first in each replication.
    pub warmup: u64,
    /// Two-sided confidence level of the intervals.
    pub confidence: f64,
}

impl Default for ValidateOptions {
    fn default() -> Self {
        ValidateOptions {
            seed: 1,
            replications: 10,
            customers: 200_000,
            warmup: 20_000,
            confidence: 0.999,
        }
    }
}

/// One comparison of a simulated quantity with its exact value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// The model, e.g. `M/M/4, rho = 0.8`.
    pub model: String,
    /// What is compared, e.g. `P(wait)`.
    pub quantity: String,
    /// Where the exact value comes from.
    pub theory: String,
    pub exact: f64,
    /// Mean over replications.
    pub simulated: f64,
    /// Half-width of the confidence interval.
    pub half_width: f64,
    pub low: f64,
    pub high: f64,
    pub passed: bool,
}

/// Every check of one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Validation {
    pub options: ValidateOptions,
    pub checks: Vec<Check>,
    /// Events the engine processed in all.
    pub events: u64,
    pub passed: bool,
}

/// Erlang B: probability that an arrival to M/M/c/c with offered load `a` Erlangs
/// is blocked, from the Poisson distribution (statrs): pmf(c) / cdf(c).
pub fn erlang_b(c: u32, a: f64) -> f64 {
    match Poisson::new(a) {
        Ok(p) => p.pmf(c as u64) / p.cdf(c as u64),
        Err(_) => {
            if c == 0 {
                1.0
            } else {
                0.0
            }
        }
    }
}

/// Erlang C: probability that an arrival to M/M/c with offered load `a` (< c) waits.
pub fn erlang_c(c: u32, a: f64) -> f64 {
    let b = erlang_b(c, a);
    let rho = a / c as f64;
    b / (1.0 - rho * (1.0 - b))
}

/// Mean wait in queue × μ of M/M/c: C(c, a) / (c − a).
pub fn mmc_wait_times_mu(c: u32, a: f64) -> f64 {
    erlang_c(c, a) / (c as f64 - a)
}

/// Mean wait in queue × μ of M/D/1 (Pollaczek–Khinchine with zero service variance):
/// ρ / (2 (1 − ρ)).
pub fn md1_wait_times_mu(rho: f64) -> f64 {
    rho / (2.0 * (1.0 - rho))
}

struct Case {
    label: String,
    model: QueueModel,
}

/// Two-sided Student-t quantile for `replications` replications at `confidence`.
pub fn t_quantile(confidence: f64, replications: u32) -> f64 {
    let df = (replications.max(2) - 1) as f64;
    StudentsT::new(0.0, 1.0, df)
        .map(|t| t.inverse_cdf(0.5 + confidence.clamp(0.5, 0.999_999) / 2.0))
        .unwrap_or(f64::INFINITY)
}

/// Compares `exact` with the Student-t interval (`t` x standard error) of the
/// replication means in `s`.
pub fn check(
    model: &str,
    quantity: &str,
    theory: &str,
    exact: f64,
    s: &RunningStats,
    t: f64,
) -> Check {
    let hw = t * s.std_error();
    let (low, high) = (s.mean() - hw, s.mean() + hw);
    Check {
        model: model.into(),
        quantity: quantity.into(),
        theory: theory.into(),
        exact,
        simulated: s.mean(),
        half_width: hw,
        low,
        high,
        passed: exact >= low && exact <= high,
    }
}

/// Runs every check.
pub fn run(opts: &ValidateOptions) -> Validation {
    let mu_ns = millis(1); // mean service 1 ms: times in units of 1/μ are ns / 1e6
    let unit = mu_ns as f64;
    let mk = |rate: f64, c: u32, service: Service, loss: bool| QueueModel {
        arrival_rate: rate,
        service_mean: mu_ns,
        servers: c,
        service,
        loss,
    };
    let cases = [
        Case {
            label: "M/M/1, rho = 0.8".into(),
            model: mk(800.0, 1, Service::Exponential, false),
        },
        Case {
            label: "M/M/4, rho = 0.8".into(),
            model: mk(3200.0, 4, Service::Exponential, false),
        },
        Case {
            label: "M/M/10/10, A = 8".into(),
            model: mk(8000.0, 10, Service::Exponential, true),
        },
        Case {
            label: "M/D/1, rho = 0.7".into(),
            model: mk(700.0, 1, Service::Deterministic, false),
        },
    ];
    let t = t_quantile(opts.confidence, opts.replications);
    let mut checks = Vec::new();
    let mut events = 0;
    for (k, case) in cases.iter().enumerate() {
        let m = &case.model;
        let (mut wait, mut pwait, mut block, mut little, mut util) = (
            RunningStats::default(),
            RunningStats::default(),
            RunningStats::default(),
            RunningStats::default(),
            RunningStats::default(),
        );
        for r in 0..opts.replications.max(2) {
            let mut rng = rng_stream(opts.seed, "validate", (k as u64) << 32 | r as u64);
            let res: QueueResult = simulate(m, opts.customers.max(2), opts.warmup, &mut rng);
            events += res.events;
            wait.push(res.mean_wait / unit);
            pwait.push(res.p_wait());
            block.push(res.p_block());
            let lw = res.little_lw();
            little.push(if lw > 0.0 {
                res.mean_in_system / lw
            } else {
                0.0
            });
            util.push(res.utilization);
        }
        let a = m.offered_load();
        let c = m.servers;
        let name = case.label.as_str();
        match (m.loss, m.service) {
            (true, _) => {
                let b = erlang_b(c, a);
                checks.push(check(name, "P(blocked)", "Erlang B", b, &block, t));
                checks.push(check(
                    name,
                    "utilization",
                    "A(1 - B)/c",
                    a * (1.0 - b) / c as f64,
                    &util,
                    t,
                ));
            }
            (false, Service::Exponential) => {
                checks.push(check(
                    name,
                    "P(wait)",
                    "Erlang C",
                    erlang_c(c, a),
                    &pwait,
                    t,
                ));
                checks.push(check(
                    name,
                    "Wq x mu",
                    "Erlang C: C/(c - A)",
                    mmc_wait_times_mu(c, a),
                    &wait,
                    t,
                ));
                checks.push(check(name, "utilization", "rho", m.rho(), &util, t));
            }
            (false, Service::Deterministic) => {
                checks.push(check(
                    name,
                    "Wq x mu",
                    "Pollaczek-Khinchine",
                    md1_wait_times_mu(m.rho()),
                    &wait,
                    t,
                ));
                checks.push(check(
                    name,
                    "P(wait)",
                    "rho (PASTA, one server)",
                    m.rho(),
                    &pwait,
                    t,
                ));
                checks.push(check(name, "utilization", "rho", m.rho(), &util, t));
            }
        }
        checks.push(check(
            name,
            "L / (lambda W)",
            "Little's law",
            1.0,
            &little,
            t,
        ));
    }
    let passed = checks.iter().all(|c| c.passed);
    Validation {
        options: *opts,
        checks,
        events,
        passed,
    }
}

impl Validation {
    /// Adds checks made elsewhere (the service models) and their events.
    pub fn extend(&mut self, checks: Vec<Check>, events: u64) {
        self.checks.extend(checks);
        self.events += events;
        self.passed = self.checks.iter().all(|c| c.passed);
    }

    /// A plain-text table: model, quantity, exact, simulated ± half-width, verdict.
    pub fn table(&self) -> String {
        let mut out = format!(
            "Engine validation: {} replications x {} customers (after {} warm-up) per model, seed {}, {:.1}% confidence intervals (Student t)\n\n",
            self.options.replications,
            self.options.customers,
            self.options.warmup,
            self.options.seed,
            self.options.confidence * 100.0
        );
        let rows: Vec<[String; 6]> = self
            .checks
            .iter()
            .map(|c| {
                [
                    c.model.clone(),
                    c.quantity.clone(),
                    format!("{:.4}", c.exact),
                    format!("{:.4} ± {:.4}", c.simulated, c.half_width),
                    c.theory.clone(),
                    if c.passed { "ok" } else { "FAIL" }.to_string(),
                ]
            })
            .collect();
        let head = [
            "model",
            "quantity",
            "exact",
            "simulated (interval)",
            "theory",
            "check",
        ];
        let mut w = head.map(|h| h.chars().count());
        for r in &rows {
            for (i, cell) in r.iter().enumerate() {
                w[i] = w[i].max(cell.chars().count());
            }
        }
        let line = |cells: [&str; 6]| {
            let mut s = String::new();
            for (i, c) in cells.iter().enumerate() {
                let pad = w[i] - c.chars().count();
                if i == 2 || i == 3 {
                    s.push_str(&" ".repeat(pad));
                    s.push_str(c);
                } else {
                    s.push_str(c);
                    s.push_str(&" ".repeat(pad));
                }
                s.push_str("  ");
            }
            s.trim_end().to_string() + "\n"
        };
        out.push_str(&line(head));
        for r in &rows {
            out.push_str(&line([&r[0], &r[1], &r[2], &r[3], &r[4], &r[5]]));
        }
        let failed = self.checks.iter().filter(|c| !c.passed).count();
        out.push_str(&format!(
            "\n{} of {} checks passed; {} events and service-model calls simulated.\n",
            self.checks.len() - failed,
            self.checks.len(),
            self.events
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_formulas_match_published_values() {
        // The figures: c = 4, rho = 0.8.
        assert!((erlang_c(4, 3.2) - 0.5964).abs() < 1e-4);
        assert!((mmc_wait_times_mu(4, 3.2) - 0.7455).abs() < 1e-4);
        // M/M/1: P(wait) = rho, Wq mu = rho/(1-rho).
        assert!((erlang_c(1, 0.8) - 0.8).abs() < 1e-12);
        assert!((mmc_wait_times_mu(1, 0.8) - 4.0).abs() < 1e-9);
        // Erlang B by the recursion B(k) = A B(k-1) / (k + A B(k-1)).
        let mut b = 1.0;
        for k in 1..=10 {
            b = 8.0 * b / (k as f64 + 8.0 * b);
        }
        assert!((erlang_b(10, 8.0) - b).abs() < 1e-12);
        assert!((b - 0.1217).abs() < 1e-4);
        assert!((md1_wait_times_mu(0.7) - 0.7 / 0.6).abs() < 1e-12);
    }

    #[test]
    fn engine_agrees_with_queueing_theory() {
        // Shorter than `archsim validate`: the intervals widen accordingly.
        let v = run(&ValidateOptions {
            seed: 11,
            replications: 8,
            customers: 40_000,
            warmup: 4_000,
            confidence: 0.999,
        });
        for c in &v.checks {
            assert!(c.passed, "{c:?}");
            // An interval that could not fail would be useless: each must be tight.
            assert!(
                c.half_width < 0.1 * c.exact.max(0.1),
                "interval too wide: {c:?}"
            );
        }
        assert_eq!(v.checks.len(), 4 + 4 + 3 + 4);
        assert!(v.passed);
        assert!(v.table().contains("Erlang C"));
    }

    #[test]
    fn a_wrong_engine_fails_the_check() {
        // The same runs compared with a wrong exact value must fail.
        let s = {
            let mut s = RunningStats::default();
            for x in [0.59, 0.60, 0.595, 0.598] {
                s.push(x);
            }
            s
        };
        let t = t_quantile(0.999, 4);
        assert!(check("m", "q", "th", 0.5964, &s, t).passed);
        assert!(!check("m", "q", "th", 0.65, &s, t).passed);
    }
}
