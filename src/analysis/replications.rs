//! Independent replications of a piece of work and the 95% confidence intervals of
//! what they measure (Student t). Replication seeds are derived from the scenario's
//! seed and the replication index alone, so any replication can be rerun, on any
//! machine, in any order, and give the same figures.

use serde::{Deserialize, Serialize};

use crate::error::{InputError, Result};
use crate::sim::rng::splitmix64;
use crate::sim::stats::RunningStats;
use crate::sim::validate::t_quantile;

/// Most replications one job may ask for.
pub const MAX_REPLICATIONS: u32 = 10_000;

/// Replications `--precision` starts from when `--replications` is not given.
pub const PRECISION_START: u32 = 3;

/// `--max-replications` when it is not given.
pub const DEFAULT_MAX_REPLICATIONS: u32 = 30;

/// The seed of replication `index` (0-based): replication 0 runs with the scenario's
/// own seed (a plain run reproduces it); the others with a SplitMix64 mix of the seed
/// and the index.
pub fn replication_seed(seed: u64, index: u32) -> u64 {
    if index == 0 {
        seed
    } else {
        splitmix64(splitmix64(seed) ^ splitmix64(index as u64))
    }
}

/// A figure measured over replications: its mean and 95% confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub mean: f64,
    /// Lower and upper end of the 95% confidence interval of the mean.
    pub ci95: [f64; 2],
    /// Replications it is measured over.
    pub n: u32,
}

impl Estimate {
    /// The mean and Student-t 95% interval of `samples` (at least two).
    pub fn of(samples: &[f64]) -> Estimate {
        let mut s = RunningStats::default();
        for x in samples {
            s.push(*x);
        }
        let n = samples.len() as u32;
        let half = if n >= 2 {
            t_quantile(0.95, n) * s.std_error()
        } else {
            0.0
        };
        Estimate {
            mean: s.mean(),
            ci95: [s.mean() - half, s.mean() + half],
            n,
        }
    }

    /// Half the width of the interval: the `x` of "mean ± x".
    pub fn half_width(&self) -> f64 {
        (self.ci95[1] - self.ci95[0]) / 2.0
    }

    /// Whether the half-width is within `fraction` of the mean's magnitude (an exact
    /// zero counts as precise).
    pub fn within(&self, fraction: f64) -> bool {
        self.half_width() <= fraction * self.mean.abs()
    }
}

/// How many replications to run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    /// Replications to start with (all of them without `precision`).
    pub replications: u32,
    /// Target half-width of every cost interval, as a fraction of its mean.
    pub precision: Option<f64>,
    /// Most replications `precision` may add up to.
    pub max_replications: u32,
}

impl Plan {
    /// One replication: a plain run.
    pub fn single() -> Plan {
        Plan {
            replications: 1,
            precision: None,
            max_replications: 1,
        }
    }

    /// The plan of `--replications`, `--precision` and `--max-replications`; `None`
    /// when none asks for replications (the run is a single one, as before).
    pub fn from_flags(
        replications: Option<u32>,
        precision: Option<&str>,
        max_replications: Option<u32>,
    ) -> std::result::Result<Option<Plan>, InputError> {
        let precision = precision.map(parse_precision).transpose()?;
        if replications.is_none() && precision.is_none() {
            if max_replications.is_some() {
                return Err(InputError::new(
                    "--max-replications",
                    "caps --precision: give --precision too (e.g. --precision 1%)",
                ));
            }
            return Ok(None);
        }
        let start = replications.unwrap_or(PRECISION_START);
        if !(2..=MAX_REPLICATIONS).contains(&start) {
            return Err(InputError::new(
                "--replications",
                format!("expected 2 to {MAX_REPLICATIONS} replications (an interval needs two), got {start}"),
            ));
        }
        let max = max_replications.unwrap_or(DEFAULT_MAX_REPLICATIONS.max(start));
        if !(start..=MAX_REPLICATIONS).contains(&max) {
            return Err(InputError::new(
                "--max-replications",
                format!("expected {start} (the replications to start with) to {MAX_REPLICATIONS}, got {max}"),
            ));
        }
        Ok(Some(Plan {
            replications: start,
            precision,
            max_replications: max,
        }))
    }

    /// How many replications to have after a round that reached `n` with `worst` the
    /// largest ratio of a cost interval's half-width to its target; `None` when done.
    /// The count grows as the half-width shrinks, with 1/√n.
    pub fn next_count(&self, n: u32, worst: f64) -> Option<u32> {
        let p = self.precision?;
        if worst <= 1.0 || n >= self.max_replications || !(p > 0.0) {
            return None;
        }
        let want = (n as f64 * worst * worst).ceil();
        let want = if want.is_finite() {
            want as u32
        } else {
            u32::MAX
        };
        Some(want.clamp(n + 1, self.max_replications))
    }
}

/// `1%`, `0.5%` or `0.01`: a fraction in (0, 1).
fn parse_precision(text: &str) -> std::result::Result<f64, InputError> {
    let t = text.trim();
    let (number, scale) = match t.strip_suffix('%') {
        Some(n) => (n.trim(), 100.0),
        None => (t, 1.0),
    };
    number
        .parse::<f64>()
        .ok()
        .map(|v| v / scale)
        .filter(|f| f.is_finite() && *f > 0.0 && *f < 1.0)
        .ok_or_else(|| {
            InputError::at_span(
                "--precision",
                text,
                0..text.len(),
                format!("expected a half-width relative to the mean, as a percentage above 0 and below 100 (e.g. 1%), got `{text}`"),
            )
        })
}

/// The largest ratio, over `figures` (each a list of samples over replications), of
/// an interval's half-width to `fraction` of its mean; 0 when all are exact.
pub fn worst_ratio(figures: impl IntoIterator<Item = Vec<f64>>, fraction: f64) -> f64 {
    figures
        .into_iter()
        .map(|xs| {
            let e = Estimate::of(&xs);
            let target = fraction * e.mean.abs();
            if e.half_width() == 0.0 {
                0.0
            } else if target > 0.0 {
                e.half_width() / target
            } else {
                f64::INFINITY
            }
        })
        .fold(0.0, f64::max)
}

/// Runs `jobs` × replications of `run(job, replication)`, all of one round in
/// parallel (results in job and replication order), adding rounds while the plan's
/// precision is not met. `costs` lists, for one job's results, the samples of each
/// cost figure that must meet the precision. Returns each job's results, one per
/// replication, all jobs with the same count.
pub fn replicate<R, F, C>(
    plan: &Plan,
    jobs: usize,
    label: &str,
    run: F,
    costs: C,
) -> Result<Vec<Vec<R>>>
where
    R: Send,
    F: Fn(usize, u32) -> Result<R> + Sync + Send,
    C: Fn(&[R]) -> Vec<Vec<f64>>,
{
    let mut done: Vec<Vec<R>> = (0..jobs).map(|_| Vec::new()).collect();
    let mut have = 0u32;
    let mut want = plan.replications;
    loop {
        let units: Vec<(usize, u32)> = (0..jobs)
            .flat_map(|j| (have..want).map(move |k| (j, k)))
            .collect();
        let results = crate::sweep::run_units(&units, label, |&(j, k)| run(j, k));
        for ((j, _), r) in units.iter().zip(results) {
            done[*j].push(r?);
        }
        have = want;
        let Some(p) = plan.precision else { break };
        let worst = done
            .iter()
            .map(|rs| worst_ratio(costs(rs), p))
            .fold(0.0, f64::max);
        match plan.next_count(have, worst) {
            Some(n) => want = n,
            None => break,
        }
    }
    Ok(done)
}

/// A note saying how the intervals were made, and whether `--precision` was met.
pub fn note(plan: &Plan, n: u32, worst: Option<f64>) -> String {
    let mut s = format!(
        "Replications: {n} independent seeds (the first is the scenario's seed); ± is the half-width of the 95% confidence interval of the mean (Student t, {} degrees of freedom), for cost as a share of the mean; other figures, the bill and the charts' detail are the first replication's.",
        n.saturating_sub(1)
    );
    if let (Some(p), Some(w)) = (plan.precision, worst) {
        if w <= 1.0 {
            s += &format!(" Every cost interval is within {} of its mean.", pct(p));
        } else {
            s += &format!(
                " Precision {} not reached within --max-replications {}: the widest cost interval is {} of its mean.",
                pct(p),
                plan.max_replications,
                pct(w * p)
            );
        }
    }
    s
}

fn pct(f: f64) -> String {
    format!("{}%", (f * 1e4).round() / 1e2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_fixed_by_index_and_distinct() {
        assert_eq!(replication_seed(42, 0), 42);
        let seeds: std::collections::BTreeSet<u64> =
            (0..1000).map(|k| replication_seed(42, k)).collect();
        assert_eq!(seeds.len(), 1000);
        assert_eq!(replication_seed(42, 7), replication_seed(42, 7));
        assert_ne!(replication_seed(42, 7), replication_seed(43, 7));
    }

    #[test]
    fn estimate_matches_the_t_interval_by_hand() {
        // mean 5, sample sd √(32/7), n 8: t(0.975, 7) = 2.364624.
        let e = Estimate::of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(e.mean, 5.0);
        assert_eq!(e.n, 8);
        let half = 2.364_624 * (32.0f64 / 7.0 / 8.0).sqrt();
        assert!((e.half_width() - half).abs() < 1e-5, "{e:?}");
        assert!(e.within(half / 5.0 + 1e-6) && !e.within(half / 5.0 - 1e-3));
        let zero = Estimate::of(&[3.0, 3.0]);
        assert_eq!(zero.ci95, [3.0, 3.0]);
        assert!(zero.within(0.0001));
    }

    #[test]
    fn flags_make_a_plan_or_a_positioned_error() {
        assert_eq!(Plan::from_flags(None, None, None).unwrap(), None);
        let p = Plan::from_flags(Some(5), None, None).unwrap().unwrap();
        assert_eq!(
            (p.replications, p.precision, p.max_replications),
            (5, None, 30)
        );
        let p = Plan::from_flags(None, Some("1%"), Some(12))
            .unwrap()
            .unwrap();
        assert_eq!(
            (p.replications, p.precision, p.max_replications),
            (3, Some(0.01), 12)
        );
        for (r, prec, max, flag) in [
            (Some(1), None, None, "--replications"),
            (None, Some("0%"), None, "--precision"),
            (None, Some("abc"), None, "--precision"),
            (None, Some("150%"), None, "--precision"),
            (Some(10), Some("1%"), Some(4), "--max-replications"),
            (None, None, Some(4), "--max-replications"),
        ] {
            let e = Plan::from_flags(r, prec, max).unwrap_err();
            assert_eq!(e.file, flag, "{e}");
        }
    }

    #[test]
    fn precision_adds_replications_until_met_or_capped() {
        let p = Plan::from_flags(Some(4), Some("1%"), Some(20))
            .unwrap()
            .unwrap();
        assert_eq!(p.next_count(4, 0.9), None);
        // Half-width twice the target: four times the replications.
        assert_eq!(p.next_count(4, 2.0), Some(16));
        assert_eq!(p.next_count(16, 5.0), Some(20));
        assert_eq!(p.next_count(20, 5.0), None);
        assert_eq!(p.next_count(4, 1.01), Some(5));
        let fixed = Plan::from_flags(Some(4), None, None).unwrap().unwrap();
        assert_eq!(fixed.next_count(4, 9.0), None);
    }

    #[test]
    fn replicate_runs_rounds_in_order() {
        // A noisy figure whose interval narrows only with more replications.
        let p = Plan::from_flags(Some(3), Some("5%"), Some(40))
            .unwrap()
            .unwrap();
        let noisy = |j: usize, k: u32| -> Result<(usize, u32, f64)> {
            let u = (replication_seed(j as u64, k) >> 11) as f64 / (1u64 << 53) as f64;
            Ok((j, k, 100.0 + 20.0 * (u - 0.5)))
        };
        let out = replicate(&p, 2, "test", noisy, |rs| {
            vec![rs.iter().map(|r| r.2).collect()]
        })
        .unwrap();
        assert_eq!(out.len(), 2);
        let n = out[0].len();
        assert!(n > 3 && n <= 40 && out[1].len() == n, "{n}");
        for (j, rs) in out.iter().enumerate() {
            for (k, r) in rs.iter().enumerate() {
                assert_eq!((r.0, r.1), (j, k as u32));
            }
            let e = Estimate::of(&rs.iter().map(|r| r.2).collect::<Vec<_>>());
            assert!(e.within(0.05) || n == 40, "{e:?}");
        }
        // The same plan gives the same results.
        let again = replicate(&p, 2, "test", noisy, |rs| {
            vec![rs.iter().map(|r| r.2).collect()]
        })
        .unwrap();
        assert_eq!(out, again);
    }
}
