//! ECS tasks on Fargate: a service of identical tasks whose vCPUs are servers, work
//! scheduled first come first served onto the earliest free vCPU, a launch delay
//! before a new task serves, a fixed task count or a target-tracking autoscaler,
//! and per-second billing of vCPU and memory with the catalog's minimum. The same
//! core as [`Ec2Fleet`](super::Ec2Fleet); only the shape of a machine and the bill
//! differ.

use serde::{Deserialize, Serialize};

use super::ec2::Ec2Scaling;
use super::fleet::{fleet_counters, initial_machines, scaling_assumptions, Fleet};
use super::Assumption;
use crate::pricing::bill::fargate_billed_seconds;
use crate::pricing::usage::{FargateUsage, NonNegative};
use crate::pricing::{Architecture, Catalog, Usage};
use crate::sim::{Dur, Histogram, Time, NS_PER_SEC};

/// The task sizes Fargate offers (Linux, whole vCPUs): (vCPU, least GB, most GB,
/// step GB). Published: Amazon ECS Developer Guide, "Task CPU and memory" for
/// Fargate (8 and 16 vCPU need platform 1.4.0). The 0.25 and 0.5 vCPU sizes are not
/// modelled.
const TASK_SIZES: [(u32, f64, f64, f64); 5] = [
    (1, 2.0, 8.0, 1.0),
    (2, 4.0, 16.0, 1.0),
    (4, 8.0, 30.0, 1.0),
    (8, 16.0, 60.0, 4.0),
    (16, 32.0, 120.0, 8.0),
];

/// Settings of one Fargate service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FargateConfig {
    pub name: String,
    pub architecture: Architecture,
    /// vCPUs of one task: 1, 2, 4, 8 or 16.
    pub task_vcpu: u32,
    /// Memory of one task, GB, within the range Fargate allows for `task_vcpu`.
    pub task_memory_gb: f64,
    /// From task start request to serving (image pull, network interface,
    /// container start). Assumption.
    pub launch_delay: Dur,
    /// Task count: `instances` of a fixed fleet are tasks here.
    pub scaling: Ec2Scaling,
    /// Whether the tasks present at time 0 are already serving.
    pub initial_ready: bool,
}

impl Default for FargateConfig {
    fn default() -> Self {
        FargateConfig {
            name: "fargate".into(),
            architecture: Architecture::X86_64,
            task_vcpu: 4,
            task_memory_gb: 8.0,
            launch_delay: Dur(60 * NS_PER_SEC),
            scaling: Ec2Scaling::Fixed { instances: 1 },
            initial_ready: true,
        }
    }
}

impl FargateConfig {
    /// Rejects what Fargate cannot run: a task size it does not offer, memory out
    /// of the size's range or off its step, an impossible scaling rule.
    pub fn check(&self) -> Result<(), String> {
        self.initial_tasks().map(|_| ())
    }

    /// Checks the config and returns the number of tasks at time 0.
    fn initial_tasks(&self) -> Result<u32, String> {
        let what = format!("fargate `{}`", self.name);
        let Some(&(_, lo, hi, step)) = TASK_SIZES.iter().find(|s| s.0 == self.task_vcpu) else {
            return Err(format!(
                "{what}: task_vcpu must be 1, 2, 4, 8 or 16 (the Fargate task sizes), got {}",
                self.task_vcpu
            ));
        };
        let gb = self.task_memory_gb;
        let steps = (gb - lo) / step;
        if !(gb.is_finite() && (lo..=hi).contains(&gb) && (steps - steps.round()).abs() < 1e-9) {
            return Err(format!(
                "{what}: a {}-vCPU task takes {lo} to {hi} GB of memory in steps of {step} GB, got {gb}",
                self.task_vcpu
            ));
        }
        initial_machines(&what, "task", &self.scaling)
    }

    pub fn assumptions(&self) -> Vec<Assumption> {
        let mut v = vec![Assumption::new(
            "fargate.launch_delay",
            self.launch_delay,
            "Fargate task start request to serving (image pull, network interface, container start): not published, about a minute (U); billed from the start request",
        )];
        v.extend(scaling_assumptions("fargate", &self.scaling));
        v
    }
}

/// Counters of a service.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FargateStats {
    pub jobs: u64,
    pub cpu_ns: u128,
    pub launches: u64,
    pub terminations: u64,
    pub peak_tasks: u32,
    /// Wait from `run` to start, ns.
    #[serde(skip)]
    pub wait: Histogram,
}

fleet_counters!(FargateStats, peak_tasks);

/// A Fargate service: tasks of one size.
pub struct FargateService {
    catalog: Catalog,
    cfg: FargateConfig,
    fleet: Fleet<FargateStats>,
}

impl FargateService {
    pub fn new(catalog: &Catalog, cfg: FargateConfig) -> Result<FargateService, String> {
        let initial = cfg.initial_tasks()?;
        let fleet = Fleet::new(
            cfg.task_vcpu,
            cfg.launch_delay.0,
            cfg.initial_ready,
            cfg.scaling.clone(),
            initial,
        );
        Ok(FargateService {
            catalog: catalog.clone(),
            cfg,
            fleet,
        })
    }

    /// Tasks started and not stopped (starting ones included).
    pub fn live_tasks(&self) -> u32 {
        self.fleet.live()
    }

    /// vCPUs of one task.
    pub fn vcpu(&self) -> u32 {
        self.fleet.cores()
    }
    pub fn config(&self) -> &FargateConfig {
        &self.cfg
    }
    pub fn stats(&self) -> &FargateStats {
        self.fleet.stats()
    }

    /// Schedules `cpu_ns` of single-threaded work submitted at `now` onto the
    /// earliest free vCPU of a serving task: returns (start, end).
    pub fn run(&mut self, now: Time, cpu_ns: Time) -> (Time, Time) {
        self.fleet.run(now, cpu_ns)
    }

    /// The autoscaler's periodic evaluation at `now` (call it every minute or so).
    /// Returns the number of live tasks afterwards. A fixed service ignores it.
    pub fn tick(&mut self, now: Time) -> u32 {
        self.fleet.tick(now)
    }

    /// The scheduler and autoscaler, as a layout drives them.
    pub fn machines(&mut self) -> &mut dyn super::fleet::Machines {
        &mut self.fleet
    }

    /// Billed seconds of every task if the service stops at `until`.
    pub fn billed_seconds(&self, until: Time) -> u64 {
        self.fleet
            .billed_seconds(until, |ns| fargate_billed_seconds(&self.catalog, ns))
    }

    /// CPU work ÷ vCPU-time paid for, if the service stops at `until`.
    pub fn utilization(&self, until: Time) -> f64 {
        self.fleet
            .utilization(until, |ns| fargate_billed_seconds(&self.catalog, ns))
    }

    /// Writes vCPU-hours and GB-hours (per-task billed seconds × task size ÷ 3600)
    /// if the service stops at `until` (tasks still running are billed until then,
    /// or until their last work ends).
    pub fn meter(&self, usage: &mut Usage, until: Time) {
        let seconds = self.billed_seconds(until) as f64;
        usage.fargate.push(FargateUsage {
            name: self.cfg.name.clone(),
            architecture: self.cfg.architecture,
            vcpu_hours: NonNegative(seconds * self.cfg.task_vcpu as f64 / 3600.0),
            gb_hours: NonNegative(seconds * self.cfg.task_memory_gb / 3600.0),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::price;
    use crate::sim::{millis, seconds};

    fn service(task_vcpu: u32, task_memory_gb: f64, scaling: Ec2Scaling) -> FargateService {
        FargateService::new(
            &Catalog::builtin(),
            FargateConfig {
                task_vcpu,
                task_memory_gb,
                scaling,
                launch_delay: Dur(seconds(30)),
                ..FargateConfig::default()
            },
        )
        .unwrap()
    }

    fn tracking(initial: u32, max: u32) -> Ec2Scaling {
        Ec2Scaling::TargetTracking {
            target_cpu: 0.5,
            cooldown: Dur(seconds(60)),
            min: 1,
            max,
            initial,
        }
    }

    #[test]
    fn check_rejects_sizes_fargate_does_not_offer() {
        let ok = FargateConfig::default();
        assert_eq!(ok.check(), Ok(()));
        let with = |vcpu: u32, gb: f64| FargateConfig {
            task_vcpu: vcpu,
            task_memory_gb: gb,
            ..FargateConfig::default()
        };
        for (vcpu, gb) in [(1, 2.0), (2, 16.0), (4, 30.0), (8, 20.0), (16, 120.0)] {
            assert_eq!(with(vcpu, gb).check(), Ok(()), "{vcpu} vCPU, {gb} GB");
        }
        for (vcpu, gb) in [
            (0, 8.0),
            (3, 8.0),
            (32, 64.0),
            (2, 3.0),
            (2, 17.0),
            (2, 4.5),
            (8, 18.0),
            (16, 36.0),
            (4, f64::NAN),
            (4, f64::INFINITY),
        ] {
            let err = with(vcpu, gb).check().unwrap_err();
            assert!(err.starts_with("fargate `fargate`:"), "{err}");
        }
        let no_tasks = FargateConfig {
            scaling: Ec2Scaling::Fixed { instances: 0 },
            ..FargateConfig::default()
        };
        assert_eq!(
            no_tasks.check().unwrap_err(),
            "fargate `fargate`: needs at least one task"
        );
        let bad_min = FargateConfig {
            scaling: Ec2Scaling::TargetTracking {
                target_cpu: 0.5,
                cooldown: Dur(0),
                min: 3,
                max: 2,
                initial: 2,
            },
            ..FargateConfig::default()
        };
        assert!(bad_min.check().unwrap_err().contains("min <= max"));
        assert!(FargateService::new(&Catalog::builtin(), bad_min).is_err());
        let names: Vec<String> = FargateConfig {
            scaling: tracking(1, 4),
            ..FargateConfig::default()
        }
        .assumptions()
        .into_iter()
        .map(|a| a.name)
        .collect();
        assert_eq!(
            names,
            [
                "fargate.launch_delay",
                "fargate.target_cpu",
                "fargate.cooldown"
            ]
        );
    }

    #[test]
    fn work_goes_fifo_to_the_earliest_free_vcpu() {
        let mut s = service(2, 4.0, Ec2Scaling::Fixed { instances: 1 });
        assert_eq!(s.vcpu(), 2);
        assert_eq!(s.run(0, millis(10)), (0, millis(10)));
        assert_eq!(s.run(0, millis(30)), (0, millis(30)));
        assert_eq!(
            s.run(millis(1), millis(10)),
            (millis(10), millis(20)),
            "both vCPUs busy: waits for the first to free"
        );
        assert_eq!(
            s.run(millis(2), millis(10)),
            (millis(20), millis(30)),
            "submitted later, starts later"
        );
        assert_eq!(s.run(millis(50), millis(10)), (millis(50), millis(60)));
        assert_eq!(s.stats().jobs, 5);
        assert_eq!(s.stats().cpu_ns, millis(70) as u128);
        assert_eq!(s.stats().wait.count(), 5);
    }

    #[test]
    fn a_task_not_ready_serves_after_the_launch_delay_and_is_billed_from_launch() {
        let mut s = FargateService::new(
            &Catalog::builtin(),
            FargateConfig {
                task_vcpu: 1,
                task_memory_gb: 2.0,
                initial_ready: false,
                launch_delay: Dur(seconds(45)),
                ..FargateConfig::default()
            },
        )
        .unwrap();
        assert_eq!(s.run(seconds(5), seconds(20)), (seconds(45), seconds(65)));
        assert_eq!(s.billed_seconds(seconds(10)), 65, "until its work ends");
        assert_eq!(s.billed_seconds(seconds(100) + 1), 101, "per second");
    }

    #[test]
    fn billing_minimum_and_meter_priced_at_catalog_rates() {
        let catalog = Catalog::builtin();
        let s = service(2, 4.0, Ec2Scaling::Fixed { instances: 2 });
        assert_eq!(
            s.billed_seconds(seconds(10)),
            2 * catalog.fargate.minimum_billed_seconds,
            "the catalog minimum for each task"
        );
        assert_eq!(s.billed_seconds(seconds(10)), 120);
        let mut usage = Usage::default();
        s.meter(&mut usage, seconds(3600));
        let f = &usage.fargate[0];
        assert_eq!(f.name, "fargate");
        assert_eq!(f.architecture, Architecture::X86_64);
        assert_eq!(f.vcpu_hours, NonNegative(4.0), "2 tasks × 1 h × 2 vCPU");
        assert_eq!(f.gb_hours, NonNegative(8.0), "2 tasks × 1 h × 4 GB");
        let bill = price(&usage, &catalog);
        // Worked by hand from aws.md: 4 × $0.04048 + 8 × $0.004445.
        assert!(
            (bill.total_usd - (0.16192 + 0.03556)).abs() < 1e-12,
            "{bill:?}"
        );
        let items: Vec<(&str, f64)> = bill
            .items
            .iter()
            .map(|i| (i.item.as_str(), i.quantity))
            .collect();
        assert_eq!(items, [("vCPU-hours", 4.0), ("GB-hours", 8.0)]);
        let arm = FargateService::new(
            &catalog,
            FargateConfig {
                architecture: Architecture::Arm64,
                task_vcpu: 1,
                task_memory_gb: 2.0,
                ..FargateConfig::default()
            },
        )
        .unwrap();
        let mut usage = Usage::default();
        arm.meter(&mut usage, seconds(7200));
        let bill = price(&usage, &catalog);
        // 2 vCPU-hours × $0.03238 + 4 GB-hours × $0.00356.
        assert!(
            (bill.total_usd - (0.06476 + 0.01424)).abs() < 1e-12,
            "{bill:?}"
        );
    }

    #[test]
    fn autoscaler_launches_with_delay() {
        let mut s = service(1, 2.0, tracking(1, 4));
        // 60 s window, 1 vCPU: 48 vCPU-s of work = 80% -> ⌈1 × 0.8 ÷ 0.5⌉ = 2 tasks.
        for k in 0..48 {
            s.run(seconds(k * 60 / 48), seconds(1));
        }
        assert_eq!(s.tick(seconds(60)), 2);
        assert_eq!(s.stats().launches, 2);
        assert_eq!(s.stats().peak_tasks, 2);
        let first = s.run(seconds(60), seconds(100));
        let second = s.run(seconds(60), seconds(100));
        assert_eq!(first.0, seconds(60), "the old task is free");
        assert_eq!(second.0, seconds(90), "the new task serves at 60 + 30 s");
        assert_eq!(
            s.tick(seconds(100)),
            2,
            "inside the cooldown nothing changes"
        );
    }

    #[test]
    fn scale_in_waits_for_work_and_hours_are_exact() {
        // Two 2-vCPU 5 GB tasks; three 200 s jobs at 900 s: two on task 0, one on
        // task 1 (busy until 1,100 s).
        let mut s = service(2, 5.0, tracking(2, 2));
        for _ in 0..3 {
            assert_eq!(s.run(seconds(900), seconds(200)).0, seconds(900));
        }
        // Window 0..1000 s: 600 vCPU-s of 4,000 = 15% -> ⌈2 × 0.15 ÷ 0.5⌉ = 1 task.
        assert_eq!(s.tick(seconds(1000)), 1);
        assert_eq!(s.stats().terminations, 1);
        assert_eq!(s.live_tasks(), 1);
        // Task 0 runs to the end (3,600 s); task 1 stops when its job ends, 1,100 s.
        assert_eq!(s.billed_seconds(seconds(3600)), 3600 + 1100);
        let mut usage = Usage::default();
        s.meter(&mut usage, seconds(3600));
        assert_eq!(usage.fargate[0].vcpu_hours, NonNegative(9400.0 / 3600.0));
        assert_eq!(usage.fargate[0].gb_hours, NonNegative(23500.0 / 3600.0));
        let u = s.utilization(seconds(3600));
        assert!((u - 600.0 / 9400.0).abs() < 1e-12, "{u}");
        // Idle after that: never below min.
        assert_eq!(s.tick(seconds(2000)), 1);
    }
}
