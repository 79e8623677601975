//! The core the instance models share (EC2 instances, Fargate tasks): machines of a
//! fixed number of vCPUs whose cores are servers, work scheduled first come first
//! served onto the earliest free core, a launch delay before a new machine serves,
//! and a fixed count or a target-tracking autoscaler. Billing is left to the model:
//! it passes its per-machine rule (per second, catalog minimum) to
//! [`Fleet::billed_seconds`].

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::ec2::Ec2Scaling;
use super::Assumption;
use crate::sim::{Time, NS_PER_SEC};

/// The counters a model keeps about its fleet; the core reports events to them.
pub(crate) trait FleetCounters: Default {
    /// A job of `cpu_ns` started after waiting `wait` ns.
    fn job(&mut self, cpu_ns: Time, wait: Time);
    /// A machine was launched; `live` machines now run.
    fn launched(&mut self, live: u32);
    fn terminated(&mut self);
    /// CPU work done so far, ns.
    fn cpu_ns(&self) -> u128;
}

/// Implements [`FleetCounters`] for a stats struct with fields `jobs`, `cpu_ns`,
/// `launches`, `terminations`, `wait` and the named peak field.
macro_rules! fleet_counters {
    ($stats:ty, $peak:ident) => {
        impl $crate::cloud::fleet::FleetCounters for $stats {
            fn job(&mut self, cpu_ns: $crate::sim::Time, wait: $crate::sim::Time) {
                self.jobs += 1;
                self.cpu_ns += cpu_ns as u128;
                self.wait.record(wait);
            }
            fn launched(&mut self, live: u32) {
                self.launches += 1;
                self.$peak = self.$peak.max(live);
            }
            fn terminated(&mut self) {
                self.terminations += 1;
            }
            fn cpu_ns(&self) -> u128 {
                self.cpu_ns
            }
        }
    };
}
pub(crate) use fleet_counters;

/// Checks `scaling` and returns the number of machines at time 0. `what` names the
/// model in errors (``ec2 `monolith` ``), `unit` one machine (`instance`, `task`).
pub(crate) fn initial_machines(
    what: &str,
    unit: &str,
    scaling: &Ec2Scaling,
) -> Result<u32, String> {
    let initial = match scaling {
        Ec2Scaling::Fixed { instances } => *instances,
        Ec2Scaling::TargetTracking {
            target_cpu,
            min,
            max,
            initial,
            ..
        } => {
            if !(target_cpu.is_finite() && *target_cpu > 0.0 && *target_cpu <= 1.0) {
                return Err(format!(
                    "{what}: target_cpu must be in (0, 1], got {target_cpu}"
                ));
            }
            if *min == 0 || min > max {
                return Err(format!(
                    "{what}: needs 1 <= min <= max, got min {min}, max {max}"
                ));
            }
            (*initial).clamp(*min, *max)
        }
    };
    if initial == 0 {
        return Err(format!("{what}: needs at least one {unit}"));
    }
    Ok(initial)
}

/// The autoscaler's assumptions, named under `prefix` (`ec2`, `fargate`).
pub(crate) fn scaling_assumptions(prefix: &str, scaling: &Ec2Scaling) -> Vec<Assumption> {
    let Ec2Scaling::TargetTracking {
        target_cpu,
        cooldown,
        ..
    } = scaling
    else {
        return Vec::new();
    };
    vec![
        Assumption::new(
            &format!("{prefix}.target_cpu"),
            target_cpu,
            "autoscaler target (a design choice, U)",
        ),
        Assumption::new(
            &format!("{prefix}.cooldown"),
            cooldown,
            "autoscaler cooldown (AWS default 300 s, U)",
        ),
    ]
}

#[derive(Debug, Clone)]
struct Machine {
    launched: Time,
    /// When it starts serving (launch + delay, or 0 for a ready initial machine).
    ready: Time,
    terminated: Option<Time>,
    busy_until: Time,
}

/// Machines of `cores` vCPUs each, with their scheduler and autoscaler.
pub(crate) struct Fleet<S> {
    cores: u32,
    launch_delay: Time,
    scaling: Ec2Scaling,
    machines: Vec<Machine>,
    /// (free at, machine, core) of every core of a live machine.
    free: BinaryHeap<Reverse<(Time, u32, u32)>>,
    last_tick: Time,
    window_work: u128,
    last_scale: Option<Time>,
    stats: S,
}

impl<S: FleetCounters> Fleet<S> {
    /// `initial` machines launched at time 0, serving at once if `initial_ready`,
    /// else after `launch_delay` (see [`initial_machines`]).
    pub fn new(
        cores: u32,
        launch_delay: Time,
        initial_ready: bool,
        scaling: Ec2Scaling,
        initial: u32,
    ) -> Fleet<S> {
        let mut fleet = Fleet {
            cores,
            launch_delay,
            scaling,
            machines: Vec::new(),
            free: BinaryHeap::new(),
            last_tick: 0,
            window_work: 0,
            last_scale: None,
            stats: S::default(),
        };
        let ready = if initial_ready { 0 } else { launch_delay };
        for _ in 0..initial {
            fleet.launch(0, ready);
        }
        fleet
    }

    fn launch(&mut self, now: Time, ready: Time) {
        let id = self.machines.len() as u32;
        self.machines.push(Machine {
            launched: now,
            ready,
            terminated: None,
            busy_until: ready,
        });
        for c in 0..self.cores {
            self.free.push(Reverse((ready, id, c)));
        }
        let live = self.live();
        self.stats.launched(live);
    }

    /// Machines launched and not terminated (launching ones included).
    pub fn live(&self) -> u32 {
        self.machines
            .iter()
            .filter(|m| m.terminated.is_none())
            .count() as u32
    }

    /// vCPUs (cores) of one machine.
    pub fn cores(&self) -> u32 {
        self.cores
    }

    pub fn stats(&self) -> &S {
        &self.stats
    }

    /// Schedules `cpu_ns` of single-threaded work submitted at `now` onto the
    /// earliest free core of a serving machine: returns (start, end).
    pub fn run(&mut self, now: Time, cpu_ns: Time) -> (Time, Time) {
        while let Some(Reverse((free, m, core))) = self.free.pop() {
            if self.machines[m as usize].terminated.is_some() {
                continue; // drained core of a terminated machine
            }
            let start = now.max(free);
            let end = start.saturating_add(cpu_ns);
            self.free.push(Reverse((end, m, core)));
            let machine = &mut self.machines[m as usize];
            machine.busy_until = machine.busy_until.max(end);
            self.stats.job(cpu_ns, start - now);
            self.window_work += cpu_ns as u128;
            return (start, end);
        }
        // Unreachable while at least one machine lives (guaranteed by
        // `initial_machines` and `tick`); answer with the work starting now rather
        // than panic.
        (now, now.saturating_add(cpu_ns))
    }

    /// The autoscaler's periodic evaluation at `now`: returns the number of live
    /// machines afterwards. A fixed fleet ignores it.
    pub fn tick(&mut self, now: Time) -> u32 {
        let Ec2Scaling::TargetTracking {
            target_cpu,
            cooldown,
            min,
            max,
            ..
        } = self.scaling.clone()
        else {
            return self.live();
        };
        let from = self.last_tick;
        let window = now.saturating_sub(from);
        self.last_tick = now;
        let work = std::mem::take(&mut self.window_work);
        if window == 0 {
            return self.live();
        }
        // Capacity: core-time of live machines in the window (launching ones count
        // from when they serve).
        let mut capacity: u128 = 0;
        for m in &self.machines {
            if m.terminated.is_some() {
                continue;
            }
            let s = m.ready.max(from);
            if s < now {
                capacity += (now - s) as u128 * self.cores as u128;
            }
        }
        let live = self.live();
        let util = if capacity == 0 {
            if work > 0 {
                f64::INFINITY
            } else {
                0.0
            }
        } else {
            work as f64 / capacity as f64
        };
        let desired = if util.is_finite() {
            ((live as f64 * util / target_cpu).ceil() as u32).clamp(min, max)
        } else {
            live.clamp(min, max)
        };
        let cooled = self
            .last_scale
            .is_none_or(|t| now >= t.saturating_add(cooldown.0));
        if desired != live && cooled {
            if desired > live {
                for _ in live..desired {
                    self.launch(now, now.saturating_add(self.launch_delay));
                }
            } else {
                let mut to_stop = live - desired;
                for m in self.machines.iter_mut().rev() {
                    if to_stop == 0 {
                        break;
                    }
                    if m.terminated.is_none() {
                        m.terminated = Some(now.max(m.busy_until));
                        self.stats.terminated();
                        to_stop -= 1;
                    }
                }
            }
            self.last_scale = Some(now);
        }
        self.live()
    }

    /// Billed seconds of every machine if the fleet stops at `until` (machines still
    /// running are billed until then, or until their last work ends), each machine's
    /// running time billed by `rule` (ns → seconds).
    pub fn billed_seconds(&self, until: Time, rule: impl Fn(Time) -> u64) -> u64 {
        self.machines
            .iter()
            .map(|m| {
                let stop = m.terminated.unwrap_or(until.max(m.busy_until));
                rule(stop.saturating_sub(m.launched))
            })
            .sum()
    }

    /// CPU work ÷ core-time paid for, if the fleet stops at `until`.
    pub fn utilization(&self, until: Time, rule: impl Fn(Time) -> u64) -> f64 {
        let paid = self.billed_seconds(until, rule) as f64 * self.cores as f64 * NS_PER_SEC as f64;
        if paid == 0.0 {
            0.0
        } else {
            self.stats.cpu_ns() as f64 / paid
        }
    }
}
