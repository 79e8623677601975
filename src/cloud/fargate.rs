//! ECS on Fargate: tasks of a fixed vCPU and memory shape, scheduled and autoscaled
//! like an EC2 fleet (each task's vCPUs are cores), billed per second with the
//! catalog's one-minute minimum as vCPU-hours and GB-hours.

use serde::{Deserialize, Serialize};

use super::ec2::{Ec2Config, Ec2Fleet, Ec2Scaling, Ec2Stats};
use super::Assumption;
use crate::pricing::bill::fargate_billed_seconds;
use crate::pricing::usage::{FargateUsage, NonNegative};
use crate::pricing::{Architecture, Catalog, Usage};
use crate::sim::{Dur, Time, NS_PER_SEC};

/// Settings of one Fargate service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FargateConfig {
    pub name: String,
    pub architecture: Architecture,
    /// vCPUs of one task.
    pub task_vcpu: u32,
    /// Memory of one task, GB.
    pub task_memory_gb: f64,
    /// From task start request to serving (image pull, start). Assumption.
    pub launch_delay: Dur,
    pub scaling: Ec2Scaling,
}

impl Default for FargateConfig {
    fn default() -> Self {
        FargateConfig {
            name: "monolith-fargate".into(),
            architecture: Architecture::X86_64,
            task_vcpu: 4,
            task_memory_gb: 8.0,
            launch_delay: Dur(60 * NS_PER_SEC),
            scaling: Ec2Scaling::Fixed { instances: 1 },
        }
    }
}

impl FargateConfig {
    pub fn assumptions(&self) -> Vec<Assumption> {
        vec![Assumption::new(
            "fargate.launch_delay",
            self.launch_delay,
            "task start to serving, about a minute (image pull and start; U); billed from the request",
        )]
    }
}

/// A Fargate service: tasks as the units of a fleet.
pub struct FargateService {
    cfg: FargateConfig,
    fleet: Ec2Fleet,
}

impl FargateService {
    pub fn new(catalog: &Catalog, cfg: FargateConfig) -> Result<FargateService, String> {
        if !(1..=16).contains(&cfg.task_vcpu) {
            return Err(format!(
                "fargate `{}`: task_vcpu must be in 1..=16, got {}",
                cfg.name, cfg.task_vcpu
            ));
        }
        if !(cfg.task_memory_gb.is_finite() && cfg.task_memory_gb > 0.0) {
            return Err(format!(
                "fargate `{}`: task_memory_gb must be > 0",
                cfg.name
            ));
        }
        let fleet = Ec2Fleet::with_vcpu(
            catalog,
            Ec2Config {
                name: cfg.name.clone(),
                instance_type: String::new(),
                launch_delay: cfg.launch_delay,
                scaling: cfg.scaling.clone(),
                initial_ready: true,
                savings_plan_discount: 0.0,
            },
            cfg.task_vcpu,
        )?;
        Ok(FargateService { cfg, fleet })
    }

    /// Schedules single-threaded work on the earliest free core: (start, end).
    pub fn run(&mut self, now: Time, cpu_ns: Time) -> (Time, Time) {
        self.fleet.run(now, cpu_ns)
    }
    /// The autoscaler's evaluation; returns live tasks.
    pub fn tick(&mut self, now: Time) -> u32 {
        self.fleet.tick(now)
    }
    pub fn live_tasks(&self) -> u32 {
        self.fleet.live_instances()
    }
    pub fn stats(&self) -> &Ec2Stats {
        self.fleet.stats()
    }
    pub fn config(&self) -> &FargateConfig {
        &self.cfg
    }
    /// Billed task-seconds if the service stops at `until`.
    pub fn billed_seconds(&self, until: Time) -> u64 {
        self.fleet.billed_seconds_by(until, fargate_billed_seconds)
    }

    /// Writes vCPU-hours and GB-hours if the service stops at `until`.
    pub fn meter(&self, usage: &mut Usage, until: Time) {
        let hours = self.billed_seconds(until) as f64 / 3600.0;
        usage.fargate.push(FargateUsage {
            name: self.cfg.name.clone(),
            architecture: self.cfg.architecture,
            vcpu_hours: NonNegative(hours * self.cfg.task_vcpu as f64),
            gb_hours: NonNegative(hours * self.cfg.task_memory_gb),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{millis, seconds};

    #[test]
    fn tasks_are_cores_and_billing_has_a_minute_minimum() {
        let catalog = Catalog::builtin();
        let mut f = FargateService::new(
            &catalog,
            FargateConfig {
                task_vcpu: 2,
                task_memory_gb: 4.0,
                scaling: Ec2Scaling::Fixed { instances: 3 },
                ..FargateConfig::default()
            },
        )
        .unwrap();
        // 6 cores: the seventh job waits.
        for _ in 0..6 {
            assert_eq!(f.run(0, millis(10)).0, 0);
        }
        assert_eq!(f.run(0, millis(10)).0, millis(10));
        assert_eq!(f.billed_seconds(seconds(5)), 3 * 60);
        let mut usage = Usage::default();
        f.meter(&mut usage, seconds(1800));
        let u = &usage.fargate[0];
        assert_eq!(u.vcpu_hours, NonNegative(3.0 * 0.5 * 2.0));
        assert_eq!(u.gb_hours, NonNegative(3.0 * 0.5 * 4.0));
        assert!(FargateService::new(
            &catalog,
            FargateConfig {
                task_vcpu: 0,
                ..FargateConfig::default()
            }
        )
        .is_err());
    }
}
