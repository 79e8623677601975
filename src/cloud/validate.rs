//! The service models checked against exact queueing results, like the engine in
//! `sim::validate`: an EC2 instance's cores under Poisson work are an M/M/c queue
//! (Erlang C), and a Lambda function whose throttled calls are dropped is an
//! M/M/c/c loss system (Erlang B). `archsim validate` adds these checks.

use rand::Rng;
use rand_distr::Exp1;

use super::ec2::{Ec2Config, Ec2Fleet, Ec2Scaling};
use super::lambda::{AccountConfig, LambdaAccount, LambdaConfig, ScalingRule};
use crate::pricing::Catalog;
use crate::sim::validate::{
    check, erlang_b, erlang_c, mmc_wait_times_mu, t_quantile, Check, ValidateOptions,
};
use crate::sim::{rng_stream, seconds, Dist, Dur, RunningStats, Time};

const MEAN_NS: f64 = 1_000_000.0; // mean work 1 ms

fn exp_ns<R: Rng + ?Sized>(rng: &mut R, mean: f64) -> Time {
    let x: f64 = rng.sample(Exp1);
    (x * mean).round() as Time
}

/// Runs both model checks; returns them with the number of calls made.
pub fn run(opts: &ValidateOptions) -> (Vec<Check>, u64) {
    let catalog = Catalog::builtin();
    let t = t_quantile(opts.confidence, opts.replications);
    let reps = opts.replications.max(2);
    let n = opts.customers.max(2);
    let mut calls = 0u64;
    let mut out = Vec::new();

    // EC2: one c5.xlarge (4 vCPU) at rho = 0.8 is M/M/4.
    let (mut pw, mut wq) = (RunningStats::default(), RunningStats::default());
    for r in 0..reps {
        let mut rng = rng_stream(opts.seed, "validate-cloud", (1u64 << 32) | r as u64);
        let mut fleet = Ec2Fleet::new(
            &catalog,
            Ec2Config {
                instance_type: "c5.xlarge".into(),
                scaling: Ec2Scaling::Fixed { instances: 1 },
                // Four whole servers, as M/M/4 has.
                reserve_vcpu: Some(0.0),
                ..Ec2Config::default()
            },
        )
        .expect("c5.xlarge is in the builtin catalog");
        let lambda_rate = 3.2 / MEAN_NS; // per ns
        let mut now: Time = 0;
        let (mut waited, mut wait_sum, mut measured) = (0u64, 0f64, 0u64);
        for k in 0..opts.warmup + n {
            now += exp_ns(&mut rng, 1.0 / lambda_rate);
            let (start, _) = fleet.run(now, exp_ns(&mut rng, MEAN_NS));
            if k >= opts.warmup {
                measured += 1;
                wait_sum += (start - now) as f64;
                if start > now {
                    waited += 1;
                }
            }
            calls += 1;
        }
        pw.push(waited as f64 / measured as f64);
        wq.push(wait_sum / measured as f64 / MEAN_NS);
    }
    let name = "EC2 c5.xlarge cores, rho = 0.8";
    out.push(check(
        name,
        "P(wait)",
        "Erlang C (M/M/4)",
        erlang_c(4, 3.2),
        &pw,
        t,
    ));
    out.push(check(
        name,
        "Wq x mu",
        "Erlang C (M/M/4)",
        mmc_wait_times_mu(4, 3.2),
        &wq,
        t,
    ));

    // Lambda: concurrency limit 10, offered load 8, throttled calls dropped: M/M/10/10.
    let mut blocked = RunningStats::default();
    for r in 0..reps {
        let mut rng = rng_stream(opts.seed, "validate-cloud", (2u64 << 32) | r as u64);
        let mut account = LambdaAccount::new(
            &catalog,
            &AccountConfig {
                concurrency_limit: Some(10),
                scaling: ScalingRule::Unlimited,
                date: "2025-11-01".into(),
            },
        );
        let f = account
            .add_function(LambdaConfig {
                memory_mb: 1769, // exactly one vCPU: duration = CPU time
                cold_start: Dist::fixed(0),
                keep_alive: Dur(seconds(3600)),
                ..LambdaConfig::default()
            })
            .expect("valid settings");
        let rate = 8.0 / MEAN_NS;
        let mut now: Time = 0;
        let (mut refused, mut measured) = (0u64, 0u64);
        for k in 0..opts.warmup + n {
            now += exp_ns(&mut rng, 1.0 / rate);
            let cpu = exp_ns(&mut rng, MEAN_NS);
            let ok = account.invoke(f, now, cpu, 0, &mut rng).is_ok();
            if k >= opts.warmup {
                measured += 1;
                if !ok {
                    refused += 1;
                }
            }
            calls += 1;
        }
        blocked.push(refused as f64 / measured as f64);
    }
    out.push(check(
        "Lambda, concurrency limit 10, A = 8",
        "P(throttled)",
        "Erlang B (M/M/10/10)",
        erlang_b(10, 8.0),
        &blocked,
        t,
    ));
    (out, calls)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_models_agree_with_queueing_theory() {
        let (checks, calls) = run(&ValidateOptions {
            seed: 3,
            replications: 8,
            customers: 80_000,
            warmup: 8_000,
            confidence: 0.999,
        });
        assert_eq!(checks.len(), 3);
        assert!(calls > 0);
        for c in &checks {
            assert!(c.passed, "{c:?}");
            assert!(c.half_width < 0.15 * c.exact, "interval too wide: {c:?}");
        }
    }
}
