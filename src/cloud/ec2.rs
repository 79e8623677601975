//! EC2 instances (ECS on EC2): a fleet of one catalog instance type whose vCPUs are
//! servers, work scheduled first come first served onto the earliest free core,
//! per-second billing with the catalog's 60 s minimum, a launch delay before a new
//! instance serves, and a fixed fleet or a target-tracking autoscaler.

use serde::{Deserialize, Serialize};

use super::fleet::{fleet_counters, initial_machines, scaling_assumptions, Fleet};
use super::Assumption;
use crate::pricing::bill::ec2_billed_seconds;
use crate::pricing::usage::{Ec2Usage, Fraction, NonNegative};
use crate::pricing::{Catalog, Usage};
use crate::sim::{Dur, Histogram, Time, NS_PER_SEC};

/// How many instances run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Ec2Scaling {
    /// Always `instances`.
    Fixed { instances: u32 },
    /// Target tracking on average CPU: each `tick` sets the fleet to
    /// ⌈instances × utilization ÷ target⌉ within [min, max], at most once per
    /// `cooldown`.
    TargetTracking {
        target_cpu: f64,
        cooldown: Dur,
        min: u32,
        max: u32,
        initial: u32,
    },
}

/// Settings of one fleet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Ec2Config {
    pub name: String,
    /// A catalog instance type, e.g. `c5.2xlarge`.
    pub instance_type: String,
    /// From launch request to serving (boot, ECS agent, container). Assumption.
    pub launch_delay: Dur,
    pub scaling: Ec2Scaling,
    /// Whether the instances present at time 0 are already serving.
    pub initial_ready: bool,
    /// Savings-plan discount passed to pricing (0 = on demand).
    pub savings_plan_discount: f64,
    /// vCPUs of each instance kept by the ECS agent, the container runtime and the
    /// OS, on which no work is scheduled; `None`: [`default_reserve_vcpu`].
    /// Assumption.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserve_vcpu: Option<f64>,
}

/// vCPUs the agent and the OS keep on an instance of `vcpu` vCPUs when the scenario
/// sets none. ECS publishes no CPU reserve (an instance registers 1,024 CPU units per
/// vCPU, and `ECS_RESERVED_MEMORY` reserves memory only); this is the progression the
/// EKS-optimised AMI reserves for the kubelet and container runtime (6% of the first
/// vCPU, 1% of the second, 0.5% of the third and fourth, 0.25% of each above; as in
/// eksctl's `nodebootstrap/reserved.go`), taken as the analogue: 0.09 vCPU of a
/// c5.2xlarge (U).
pub fn default_reserve_vcpu(vcpu: u32) -> f64 {
    let v = vcpu as f64;
    let band = |lo: f64, hi: f64, share: f64| (v.min(hi) - lo).max(0.0) * share;
    band(0.0, 1.0, 0.06)
        + band(1.0, 2.0, 0.01)
        + band(2.0, 4.0, 0.005)
        + band(4.0, f64::MAX, 0.0025)
}

/// The reserve of an instance of `vcpu` vCPUs: `set`, else the default; an error
/// unless it leaves the work some of the instance.
pub fn reserve_of(set: Option<f64>, vcpu: u32) -> Result<f64, String> {
    let r = set.unwrap_or_else(|| default_reserve_vcpu(vcpu));
    if r.is_finite() && r >= 0.0 && r < vcpu as f64 {
        Ok(r)
    } else {
        Err(format!(
            "reserve_vcpu must be at least 0 and below the instance's {vcpu} vCPUs, got {r}"
        ))
    }
}

impl Default for Ec2Config {
    fn default() -> Self {
        Ec2Config {
            name: "monolith".into(),
            instance_type: "c5.2xlarge".into(),
            launch_delay: Dur(120 * NS_PER_SEC),
            scaling: Ec2Scaling::Fixed { instances: 1 },
            initial_ready: true,
            savings_plan_discount: 0.0,
            reserve_vcpu: None,
        }
    }
}

impl Ec2Config {
    pub fn assumptions(&self) -> Vec<Assumption> {
        let mut v = vec![Assumption::new(
            "ec2.launch_delay",
            self.launch_delay,
            "ECS container instance start to serving, about 1-3 min (reference/aws.md §4, U); billed from the launch request",
        )];
        v.extend(scaling_assumptions("ec2", &self.scaling));
        v
    }
}

/// Counters of a fleet.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Ec2Stats {
    pub jobs: u64,
    pub cpu_ns: u128,
    pub launches: u64,
    pub terminations: u64,
    pub peak_instances: u32,
    /// Wait from `run` to start, ns.
    #[serde(skip)]
    pub wait: Histogram,
}

fleet_counters!(Ec2Stats, peak_instances);

/// A fleet of instances of one type.
pub struct Ec2Fleet {
    catalog: Catalog,
    cfg: Ec2Config,
    fleet: Fleet<Ec2Stats>,
}

impl Ec2Fleet {
    pub fn new(catalog: &Catalog, cfg: Ec2Config) -> Result<Ec2Fleet, String> {
        let it = catalog.instance(&cfg.instance_type)?;
        let initial = initial_machines(&format!("ec2 `{}`", cfg.name), "instance", &cfg.scaling)?;
        if !(0.0..=1.0).contains(&cfg.savings_plan_discount) {
            return Err(format!(
                "ec2 `{}`: savings_plan_discount must be in 0..=1",
                cfg.name
            ));
        }
        let reserve = reserve_of(cfg.reserve_vcpu, it.vcpu)
            .map_err(|m| format!("ec2 `{}`: {m}", cfg.name))?;
        let mut fleet = Fleet::new(
            it.vcpu,
            cfg.launch_delay.0,
            cfg.initial_ready,
            cfg.scaling.clone(),
            initial,
        );
        fleet.set_reserve(reserve);
        Ok(Ec2Fleet {
            catalog: catalog.clone(),
            cfg,
            fleet,
        })
    }

    /// Instances launched and not terminated (launching ones included).
    pub fn live_instances(&self) -> u32 {
        self.fleet.live()
    }

    /// vCPUs (cores) of one instance.
    pub fn vcpu(&self) -> u32 {
        self.fleet.cores()
    }
    pub fn config(&self) -> &Ec2Config {
        &self.cfg
    }
    pub fn stats(&self) -> &Ec2Stats {
        self.fleet.stats()
    }

    /// Schedules `cpu_ns` of single-threaded work submitted at `now` onto the
    /// earliest free core of a serving instance: returns (start, end).
    pub fn run(&mut self, now: Time, cpu_ns: Time) -> (Time, Time) {
        self.fleet.run(now, cpu_ns)
    }

    /// The autoscaler's periodic evaluation at `now` (call it every minute or so).
    /// Returns the number of live instances afterwards. A fixed fleet ignores it.
    pub fn tick(&mut self, now: Time) -> u32 {
        self.fleet.tick(now)
    }

    /// The scheduler and autoscaler, as a layout drives them.
    pub fn machines(&mut self) -> &mut dyn super::fleet::Machines {
        &mut self.fleet
    }

    /// Billed seconds of every instance if the fleet stops at `until`.
    pub fn billed_seconds(&self, until: Time) -> u64 {
        self.fleet
            .billed_seconds(until, |ns| ec2_billed_seconds(&self.catalog, ns))
    }

    /// CPU work ÷ core-time paid for, if the fleet stops at `until`.
    pub fn utilization(&self, until: Time) -> f64 {
        self.fleet
            .utilization(until, |ns| ec2_billed_seconds(&self.catalog, ns))
    }

    /// Writes instance-hours (per-instance billed seconds ÷ 3600) if the fleet
    /// stops at `until` (instances still running are billed until then, or until
    /// their last work ends).
    pub fn meter(&self, usage: &mut Usage, until: Time) {
        usage.ec2.push(Ec2Usage {
            name: self.cfg.name.clone(),
            instance_type: toml::Spanned::new(0..0, self.cfg.instance_type.clone()),
            instance_hours: NonNegative(self.billed_seconds(until) as f64 / 3600.0),
            savings_plan_discount: Fraction(self.cfg.savings_plan_discount),
            root_volume_gb: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{millis, seconds};

    fn fleet(scaling: Ec2Scaling) -> Ec2Fleet {
        Ec2Fleet::new(
            &Catalog::builtin(),
            Ec2Config {
                instance_type: "c5.large".into(), // 2 vCPU
                scaling,
                launch_delay: Dur(seconds(90)),
                reserve_vcpu: Some(0.0),
                ..Ec2Config::default()
            },
        )
        .unwrap()
    }

    /// Target tracking at 50% CPU, 60 s cooldown, 1 to 4 instances from `initial`.
    fn tracking(initial: u32) -> Ec2Scaling {
        Ec2Scaling::TargetTracking {
            target_cpu: 0.5,
            cooldown: Dur(seconds(60)),
            min: 1,
            max: 4,
            initial,
        }
    }

    #[test]
    fn work_goes_to_the_earliest_free_core() {
        let mut f = fleet(Ec2Scaling::Fixed { instances: 1 });
        assert_eq!(f.run(0, millis(10)), (0, millis(10)));
        assert_eq!(f.run(0, millis(10)), (0, millis(10)));
        assert_eq!(
            f.run(0, millis(10)),
            (millis(10), millis(20)),
            "both cores busy: waits"
        );
        assert_eq!(f.run(millis(50), millis(10)), (millis(50), millis(60)));
        assert_eq!(f.stats().jobs, 4);
        assert!(Ec2Fleet::new(
            &Catalog::builtin(),
            Ec2Config {
                instance_type: "c5.3xlarge".into(),
                ..Ec2Config::default()
            }
        )
        .is_err());
    }

    /// The EKS-AMI progression: 6% of the first vCPU, 1% of the second, 0.5% of the
    /// third and fourth, 0.25% of each above.
    #[test]
    fn the_default_reserve_follows_the_published_progression() {
        let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        close(default_reserve_vcpu(1), 0.06);
        close(default_reserve_vcpu(2), 0.07);
        close(default_reserve_vcpu(4), 0.08);
        close(default_reserve_vcpu(8), 0.09);
        close(default_reserve_vcpu(16), 0.11);
        assert!(reserve_of(Some(2.0), 2).is_err());
        assert!(reserve_of(Some(-0.1), 2).is_err());
        assert!(reserve_of(Some(f64::NAN), 2).is_err());
        assert_eq!(reserve_of(Some(0.5), 2), Ok(0.5));
    }

    /// An instance of N vCPUs runs at most N − reserve vCPUs of work: 30 jobs of 1 s
    /// of CPU on a c5.large keeping 0.5 vCPU finish after 30 ÷ 1.5 = 20 s, not the
    /// 15 s its two whole cores would take.
    #[test]
    fn no_work_runs_on_the_reserve() {
        let mut f = Ec2Fleet::new(
            &Catalog::builtin(),
            Ec2Config {
                instance_type: "c5.large".into(),
                reserve_vcpu: Some(0.5),
                ..Ec2Config::default()
            },
        )
        .unwrap();
        let last = (0..30).map(|_| f.run(0, seconds(1)).1).max().unwrap();
        // 15 jobs a core of ⌈1 s ÷ 0.75⌉ = 1,333,333,334 ns each.
        assert_eq!(last, 15 * 1_333_333_334);
        assert_eq!(f.machines().usable_cores(), 1.5);
        assert_eq!(f.stats().cpu_ns, 30 * seconds(1) as u128, "the work itself");
        let too_much = Ec2Config {
            instance_type: "c5.large".into(),
            reserve_vcpu: Some(2.0),
            ..Ec2Config::default()
        };
        let e = Ec2Fleet::new(&Catalog::builtin(), too_much).err().unwrap();
        assert!(e.contains("below the instance's 2 vCPUs"), "{e}");
    }

    #[test]
    fn per_second_billing_with_60s_minimum() {
        let f = fleet(Ec2Scaling::Fixed { instances: 2 });
        assert_eq!(f.billed_seconds(seconds(10)), 120, "60 s minimum each");
        assert_eq!(
            f.billed_seconds(seconds(100) + 1),
            2 * 101,
            "rounded up per second"
        );
        let mut usage = Usage::default();
        f.meter(&mut usage, seconds(3600));
        assert_eq!(usage.ec2[0].instance_hours, NonNegative(2.0));
        assert_eq!(usage.ec2[0].instance_type.get_ref(), "c5.large");
    }

    #[test]
    fn autoscaler_launches_with_delay_and_scales_in() {
        let mut f = fleet(tracking(1));
        // 60 s window, 2 cores: 120 core-s; 96 core-s of work = 80% -> 2 instances.
        for k in 0..96 {
            f.run(seconds(k * 60 / 96), seconds(1));
        }
        assert_eq!(f.tick(seconds(60)), 2);
        assert_eq!(f.stats().launches, 2);
        // The new instance serves only after the 90 s launch delay.
        let mut f2 = f;
        let mut starts = Vec::new();
        for _ in 0..4 {
            starts.push(f2.run(seconds(60), seconds(1000)).0);
        }
        starts.sort();
        assert_eq!(
            starts[3],
            seconds(150),
            "the new instance's first core at 60+90 s"
        );
        // Idle: scale back in after the cooldown, never below min.
        assert_eq!(
            f2.tick(seconds(100)),
            2,
            "inside the cooldown nothing changes"
        );
        let mut f3 = fleet(tracking(3));
        assert_eq!(f3.tick(seconds(60)), 1);
        assert_eq!(f3.stats().terminations, 2);
        assert_eq!(f3.stats().peak_instances, 3);
    }

    /// The vCPU cap is set again before every evaluation: a fleet that scaled out,
    /// in and out again keeps the machine it launched last (and the bill of the one
    /// it stopped); only machines over the cap at time 0 are never launched.
    #[test]
    fn the_cap_set_again_keeps_what_the_fleet_launched() {
        let mut f = fleet(tracking(1));
        let busy_minute = |f: &mut Ec2Fleet, from: u64| {
            // 96 core-s in 60 s on one instance's 2 cores: 80%, so 2 wanted.
            for k in 0..96 {
                f.run(seconds(from + k * 60 / 96), seconds(1));
            }
        };
        let evaluate = |f: &mut Ec2Fleet, at: u64| {
            f.machines().set_max_machines(2);
            f.tick(seconds(at))
        };
        busy_minute(&mut f, 0);
        assert_eq!(evaluate(&mut f, 60), 2);
        assert_eq!(evaluate(&mut f, 180), 1, "idle: scaled in");
        busy_minute(&mut f, 180);
        assert_eq!(evaluate(&mut f, 240), 2, "busy again: out again");
        assert_eq!(
            evaluate(&mut f, 250),
            2,
            "inside the cooldown, under the cap"
        );
        assert_eq!(f.stats().launches, 3);
        // Three instances on the bill: the first all along, the one stopped at 180 s,
        // the one launched at 240 s through its 90 s boot (to 330 s).
        assert_eq!(f.billed_seconds(seconds(300)), 300 + 120 + 90);
        // Over the cap at time 0: never launched.
        let mut g = fleet(Ec2Scaling::Fixed { instances: 3 });
        g.machines().set_max_machines(2);
        assert_eq!(g.live_instances(), 2);
    }
}
