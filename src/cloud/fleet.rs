//! The core the instance models share (EC2 instances, Fargate tasks): machines of a
//! fixed number of vCPUs whose cores are servers, work scheduled first come first
//! served onto the earliest free core, a launch delay before a new machine serves,
//! and a fixed count or a target-tracking autoscaler. Billing is left to the model:
//! it passes its per-machine rule (per second, catalog minimum) to
//! [`Fleet::billed_seconds`].

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
    /// `live` machines are all that ever ran (launches the quota undid).
    fn reset_peak(&mut self, live: u32);
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
            fn reset_peak(&mut self, live: u32) {
                self.$peak = live;
                self.launches = live as u64;
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
    /// When each core is next free.
    cores_free: Vec<Time>,
    /// Streams pinned to it.
    streams: u32,
}

impl Machine {
    /// Its earliest free core: (free at, core).
    fn earliest_core(&self) -> (Time, usize) {
        self.cores_free
            .iter()
            .enumerate()
            .map(|(c, &t)| (t, c))
            .min()
            .unwrap_or((Time::MAX, 0))
    }
}

/// Streams pinned to machines: each stream's decode is sequential and runs on the
/// machine that holds the stream, and its frames go to that machine's cores.
#[derive(Debug, Clone, Default)]
struct Pinning {
    /// The machine each stream is on.
    machine: Vec<Option<u32>>,
    /// When each stream's decoder is next free.
    decode_free: Vec<Time>,
    /// Streams one machine takes before the next is used (bin-packing with headroom).
    per_machine: u32,
    /// Streams holding a place (on a live machine, or on a terminated one until their
    /// next frame moves them).
    placed: u32,
}

impl Pinning {
    /// Machines the placed streams need at `per_machine` each.
    fn machines_needed(&self) -> u32 {
        self.placed.div_ceil(self.per_machine.max(1))
    }
}

/// What a layout drives of a fleet, whatever its machines' bill: streams pinned to
/// machines, frames run on their stream's machine, the autoscaler under a quota.
pub trait Machines {
    /// Pins `streams` streams, `per_machine` to a machine before the next is used.
    fn pin_streams(&mut self, streams: u32, per_machine: u32);
    /// `stream` has ended (for now): it gives up its place on its machine.
    fn release(&mut self, stream: u32);
    /// Places, if `stream` has no machine yet, every stream below `active` that has
    /// none, in index order (see [`Fleet::place_new`]).
    fn place_new(&mut self, now: Time, stream: u32, active: u32);
    /// When work of `stream` submitted at `now` would start (`None`: no machine).
    fn start_for(&mut self, now: Time, stream: u32) -> Option<Time>;
    /// Runs a frame of `stream`: (start, end), or `None` when no machine serves.
    fn run_for(
        &mut self,
        now: Time,
        stream: u32,
        decode_ns: Time,
        rest_ns: Time,
    ) -> Option<(Time, Time)>;
    /// When unpinned work (a request) submitted at `now` would start on the earliest
    /// free core of any live machine (`None`: no machine).
    fn start_any(&self, now: Time) -> Option<Time>;
    /// Runs unpinned work of `cpu_ns` there: (start, end), or `None` with no machine.
    fn run_any(&mut self, now: Time, cpu_ns: Time) -> Option<(Time, Time)>;
    /// The autoscaler's evaluation; returns the machines live afterwards.
    fn tick(&mut self, now: Time) -> u32;
    /// Caps the fleet at `max` machines (the vCPU quota).
    fn set_max_machines(&mut self, max: u32);
    /// Whether the quota held the fleet below what it wanted.
    fn capped(&self) -> bool;
    fn live(&self) -> u32;
    /// vCPUs of one machine (what counts against the vCPU quota).
    fn cores(&self) -> u32;
    /// vCPUs of one machine left to the work once the agent and OS reserve is kept.
    fn usable_cores(&self) -> f64;
}

impl<S: FleetCounters> Machines for Fleet<S> {
    fn pin_streams(&mut self, streams: u32, per_machine: u32) {
        Fleet::pin_streams(self, streams, per_machine)
    }
    fn release(&mut self, stream: u32) {
        Fleet::release(self, stream)
    }
    fn place_new(&mut self, now: Time, stream: u32, active: u32) {
        Fleet::place_new(self, now, stream, active)
    }
    fn start_for(&mut self, now: Time, stream: u32) -> Option<Time> {
        Fleet::start_for(self, now, stream)
    }
    fn run_for(
        &mut self,
        now: Time,
        stream: u32,
        decode_ns: Time,
        rest_ns: Time,
    ) -> Option<(Time, Time)> {
        Fleet::run_for(self, now, stream, decode_ns, rest_ns)
    }
    fn start_any(&self, now: Time) -> Option<Time> {
        self.earliest_free().map(|(free, ..)| now.max(free))
    }
    fn run_any(&mut self, now: Time, cpu_ns: Time) -> Option<(Time, Time)> {
        self.earliest_free().map(|_| self.run(now, cpu_ns))
    }
    fn tick(&mut self, now: Time) -> u32 {
        Fleet::tick(self, now)
    }
    fn set_max_machines(&mut self, max: u32) {
        Fleet::set_max_machines(self, max)
    }
    fn capped(&self) -> bool {
        Fleet::capped(self)
    }
    fn live(&self) -> u32 {
        Fleet::live(self)
    }
    fn cores(&self) -> u32 {
        Fleet::cores(self)
    }
    fn usable_cores(&self) -> f64 {
        Fleet::usable_cores(self)
    }
}

/// Machines of `cores` vCPUs each, with their scheduler and autoscaler.
pub(crate) struct Fleet<S> {
    cores: u32,
    /// Share of each core the work gets (the rest is the ECS agent and OS reserve,
    /// spread over the cores): a job of c ns of CPU keeps a core c ÷ share ns.
    share: f64,
    launch_delay: Time,
    scaling: Ec2Scaling,
    machines: Vec<Machine>,
    last_tick: Time,
    window_work: u128,
    last_scale: Option<Time>,
    /// Most machines the account's quota lets run at once.
    max_machines: u32,
    /// Whether the last evaluation wanted more machines than the quota allows.
    capped: bool,
    pinning: Pinning,
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
            share: 1.0,
            launch_delay,
            scaling,
            machines: Vec::new(),
            last_tick: 0,
            window_work: 0,
            last_scale: None,
            max_machines: u32::MAX,
            capped: false,
            pinning: Pinning::default(),
            stats: S::default(),
        };
        let ready = if initial_ready { 0 } else { launch_delay };
        for _ in 0..initial {
            fleet.launch(0, ready);
        }
        fleet
    }

    fn launch(&mut self, now: Time, ready: Time) {
        self.machines.push(Machine {
            launched: now,
            ready,
            terminated: None,
            busy_until: ready,
            cores_free: vec![ready; self.cores as usize],
            streams: 0,
        });
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

    /// Keeps `reserve_vcpu` of each machine's vCPUs for the ECS agent, the container
    /// runtime and the OS: the work runs on the rest (checked by the model: at least
    /// 0 and below the machine's vCPUs).
    pub fn set_reserve(&mut self, reserve_vcpu: f64) {
        self.share = (self.cores as f64 - reserve_vcpu) / self.cores as f64;
    }

    /// vCPUs of one machine left to the work.
    pub fn usable_cores(&self) -> f64 {
        self.cores as f64 * self.share
    }

    pub fn stats(&self) -> &S {
        &self.stats
    }

    /// Caps the fleet at `max` machines (the account's vCPU quota ÷ vCPUs per
    /// machine): the autoscaler launches no more, and machines over it at time 0 are
    /// never launched (0 leaves the fleet with nothing to run on). Once the fleet has
    /// scaled, the machines it launched or stopped stay on the record (their bill),
    /// however often the cap is set again.
    pub fn set_max_machines(&mut self, max: u32) {
        self.max_machines = max;
        let as_started = self.last_scale.is_none()
            && self
                .machines
                .iter()
                .all(|m| m.launched == 0 && m.terminated.is_none());
        if as_started && self.machines.len() as u32 > max {
            self.machines.truncate(max as usize);
            self.stats.reset_peak(max);
            self.capped = true;
        }
    }

    /// Whether the quota held the fleet below what its autoscaler wanted (or below
    /// its initial size) at the last evaluation.
    pub fn capped(&self) -> bool {
        self.capped
    }

    /// Pins `streams` streams to machines from now on, `per_machine` to a machine
    /// before the next is used (at least 1).
    pub fn pin_streams(&mut self, streams: u32, per_machine: u32) {
        self.pinning = Pinning {
            machine: vec![None; streams as usize],
            decode_free: vec![0; streams as usize],
            per_machine: per_machine.max(1),
            placed: 0,
        };
    }

    /// `stream` ended: its machine takes another in its place, and a fleet that
    /// scales keeps no machine for it. A stream that starts again is placed afresh.
    pub fn release(&mut self, stream: u32) {
        let Some(slot) = self.pinning.machine.get_mut(stream as usize) else {
            return;
        };
        if let Some(m) = slot.take() {
            self.machines[m as usize].streams -= 1;
            self.pinning.placed -= 1;
        }
    }

    /// Places every stream below `active` that has no machine, in index order, when
    /// `stream` has none: the streams that started together are placed together.
    /// Placed one by one at their first frames they would go in the order of their
    /// phases, and each machine would hold streams whose chunks end at nearly the
    /// same instant (their per-chunk work colliding) — an artefact of starting them
    /// at one instant, which their random phases in index order do not have.
    pub fn place_new(&mut self, now: Time, stream: u32, active: u32) {
        let unplaced = |f: &Self, s: u32| f.pinning.machine.get(s as usize) == Some(&None);
        if !unplaced(self, stream) {
            return;
        }
        for s in 0..active.min(self.pinning.machine.len() as u32) {
            // With no machine serving yet, nothing can be placed: try again later.
            if unplaced(self, s) && self.machine_of(now, s).is_none() {
                return;
            }
        }
    }

    /// The machine a new stream goes to at `now`: the first serving machine with room
    /// (bin-packing), else the serving machine with fewest streams.
    fn place(&self, now: Time) -> Option<u32> {
        let serving = || {
            self.machines
                .iter()
                .enumerate()
                .filter(move |(_, m)| m.terminated.is_none() && m.ready <= now)
        };
        serving()
            .find(|(_, m)| m.streams < self.pinning.per_machine)
            .or_else(|| serving().min_by_key(|(i, m)| (m.streams, *i)))
            .map(|(i, _)| i as u32)
    }

    /// The machine holding `stream` at `now`, placing it if it has none or its
    /// machine was terminated; `None` when no machine serves yet.
    fn machine_of(&mut self, now: Time, stream: u32) -> Option<u32> {
        let s = stream as usize;
        if let Some(m) = self.pinning.machine[s] {
            if self.machines[m as usize].terminated.is_none() {
                return Some(m);
            }
            self.machines[m as usize].streams -= 1;
            self.pinning.placed -= 1;
        }
        let m = self.place(now);
        self.pinning.machine[s] = m;
        if let Some(m) = m {
            self.machines[m as usize].streams += 1;
            self.pinning.placed += 1;
        }
        m
    }

    /// When work of `stream` submitted at `now` would start: after the stream's
    /// previous decode, on the earliest free core of its machine; `None` when no
    /// machine serves.
    pub fn start_for(&mut self, now: Time, stream: u32) -> Option<Time> {
        let m = self.machine_of(now, stream)?;
        let (free, _) = self.machines[m as usize].earliest_core();
        Some(now.max(free).max(self.pinning.decode_free[stream as usize]))
    }

    /// Runs a frame of `stream` submitted at `now`: its decode (`decode_ns`,
    /// sequential per stream) then the rest of its work (`rest_ns`) on the earliest
    /// free core of the stream's machine. Returns (start, end), or `None` when no
    /// machine serves.
    pub fn run_for(
        &mut self,
        now: Time,
        stream: u32,
        decode_ns: Time,
        rest_ns: Time,
    ) -> Option<(Time, Time)> {
        let m = self.machine_of(now, stream)? as usize;
        let (free, core) = self.machines[m].earliest_core();
        let s = stream as usize;
        let start = now.max(free).max(self.pinning.decode_free[s]);
        let decode_wall = self.wall(decode_ns);
        self.pinning.decode_free[s] = start.saturating_add(decode_wall);
        let cpu = decode_ns.saturating_add(rest_ns);
        let end = start
            .saturating_add(decode_wall)
            .saturating_add(self.wall(rest_ns));
        self.occupy(m, core, now, start, end, cpu);
        Some((start, end))
    }

    /// How long `cpu_ns` of work keeps a core, at the share the reserve leaves.
    fn wall(&self, cpu_ns: Time) -> Time {
        super::lambda::cpu_time(cpu_ns, self.share)
    }

    /// A job of `cpu` ns of work holds `core` of machine `m` from `start` to `end`;
    /// the autoscaler sees the core busy all that time.
    fn occupy(&mut self, m: usize, core: usize, now: Time, start: Time, end: Time, cpu: Time) {
        let machine = &mut self.machines[m];
        machine.cores_free[core] = end;
        machine.busy_until = machine.busy_until.max(end);
        self.stats.job(cpu, start - now);
        self.window_work += (end - start) as u128;
    }

    /// Moves streams off machines holding more than their share to serving machines
    /// with room (each takes effect at the stream's next frame).
    fn rebalance(&mut self, now: Time) {
        let per = self.pinning.per_machine;
        for s in 0..self.pinning.machine.len() {
            let Some(m) = self.pinning.machine[s] else {
                continue;
            };
            if self.machines[m as usize].streams <= per {
                continue;
            }
            let room = self
                .machines
                .iter()
                .position(|x| x.terminated.is_none() && x.ready <= now && x.streams < per);
            let Some(to) = room else {
                return; // every serving machine is full
            };
            self.machines[m as usize].streams -= 1;
            self.machines[to].streams += 1;
            self.pinning.machine[s] = Some(to as u32);
        }
    }

    /// Schedules `cpu_ns` of single-threaded work submitted at `now` onto the
    /// earliest free core of a serving machine, any machine: returns (start, end).
    pub fn run(&mut self, now: Time, cpu_ns: Time) -> (Time, Time) {
        let Some((free, m, core)) = self.earliest_free() else {
            // Unreachable while at least one machine lives (guaranteed by
            // `initial_machines` and `tick`); answer with the work starting now
            // rather than panic.
            return (now, now.saturating_add(cpu_ns));
        };
        let start = now.max(free);
        let end = start.saturating_add(self.wall(cpu_ns));
        self.occupy(m, core, now, start, end, cpu_ns);
        (start, end)
    }

    /// The earliest free core of any live machine (launching ones included, free
    /// once they serve): (free at, machine, core).
    fn earliest_free(&self) -> Option<(Time, usize, usize)> {
        self.machines
            .iter()
            .enumerate()
            .filter(|(_, m)| m.terminated.is_none())
            .map(|(i, m)| {
                let (free, c) = m.earliest_core();
                (free, i, c)
            })
            .min()
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
            self.rebalance(now);
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
        let by_cpu = if util.is_finite() {
            (live as f64 * util / target_cpu).ceil() as u32
        } else {
            live
        };
        // Pinned streams hold their machines: the fleet keeps room for every placed
        // stream at the bin-packing share, as an ECS capacity provider launches an
        // instance for a task no instance has room for, and keeps it while it runs.
        let wanted = by_cpu.max(self.pinning.machines_needed()).clamp(min, max);
        let desired = wanted.min(self.max_machines);
        self.capped = wanted > desired;
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
        self.rebalance(now);
        self.live()
    }

    /// Billed seconds of every machine if the fleet stops at `until` (the period's
    /// end): a machine runs until it was terminated, or until `until`, or until its
    /// last work ends if that is later (work started within the period drains), each
    /// machine's running time billed by `rule` (ns → seconds). A termination stamped
    /// after that stop is not billed past it.
    pub fn billed_seconds(&self, until: Time, rule: impl Fn(Time) -> u64) -> u64 {
        self.machines
            .iter()
            .filter(|m| m.launched < until)
            .map(|m| {
                let stop = until.max(m.busy_until);
                let stop = m.terminated.map_or(stop, |t| t.min(stop));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{seconds, Dur};

    /// Machines of two cores, 90 s to launch, tracking 50% CPU from `initial` with a
    /// 60 s cooldown, 1 to 8 machines; the counters of an EC2 fleet.
    fn fleet(initial: u32) -> Fleet<super::super::ec2::Ec2Stats> {
        let scaling = Ec2Scaling::TargetTracking {
            target_cpu: 0.5,
            cooldown: Dur(seconds(60)),
            min: 1,
            max: 8,
            initial,
        };
        Fleet::new(2, seconds(90), true, scaling, initial)
    }

    fn streams_on(f: &Fleet<super::super::ec2::Ec2Stats>) -> Vec<u32> {
        f.machines
            .iter()
            .filter(|m| m.terminated.is_none())
            .map(|m| m.streams)
            .collect()
    }

    /// Six streams at two a machine need three machines however idle they are: the
    /// autoscaler's CPU target alone would keep one. The overflow waits on the one
    /// machine until the new ones serve, then moves to them; the fleet does not
    /// scale in below what its streams need.
    #[test]
    fn a_fleet_keeps_room_for_its_pinned_streams() {
        let mut f = fleet(1);
        f.pin_streams(6, 2);
        f.place_new(0, 0, 6);
        assert_eq!(
            streams_on(&f),
            vec![6],
            "no room yet: all on the one machine"
        );
        assert_eq!(f.tick(seconds(60)), 3, "room for 6 streams at 2 a machine");
        assert_eq!(
            streams_on(&f),
            vec![6, 0, 0],
            "the new machines launch for 90 s"
        );
        assert_eq!(f.tick(seconds(180)), 3);
        assert_eq!(streams_on(&f), vec![2, 2, 2], "moved once they serve");
        assert_eq!(f.tick(seconds(600)), 3, "idle, but its streams hold it");
        assert_eq!(f.stats().terminations, 0);
    }

    /// A stream that ends gives its place up, so the fleet scales in; one that starts
    /// again is placed afresh.
    #[test]
    fn an_ended_stream_frees_its_place() {
        let mut f = fleet(3);
        f.pin_streams(6, 2);
        f.place_new(0, 0, 6);
        assert_eq!(streams_on(&f), vec![2, 2, 2]);
        for s in 2..6 {
            f.release(s);
        }
        f.release(5); // twice is once
        assert_eq!(streams_on(&f), vec![2, 0, 0]);
        assert_eq!(f.tick(seconds(60)), 1, "two streams fit one machine");
        f.place_new(seconds(70), 3, 4);
        assert_eq!(streams_on(&f), vec![4], "back, on the one machine left");
        assert_eq!(f.tick(seconds(130)), 2);
    }

    /// Streams that start together are placed in index order, not in the order their
    /// first frames come: stream 3's frame placing first still puts streams 0 and 1
    /// on the first machine and 2 and 3 on the second.
    #[test]
    fn streams_starting_together_are_placed_in_index_order() {
        let mut f = fleet(2);
        f.pin_streams(4, 2);
        f.place_new(0, 3, 4);
        assert_eq!(f.pinning.machine, vec![Some(0), Some(0), Some(1), Some(1)]);
        assert_eq!(f.pinning.placed, 4);
        f.place_new(seconds(1), 0, 4); // placed already: nothing moves
        assert_eq!(f.pinning.machine, vec![Some(0), Some(0), Some(1), Some(1)]);
        // With no machine serving, nothing is placed and nothing is scanned again.
        let mut g = Fleet::<super::super::ec2::Ec2Stats>::new(
            2,
            seconds(90),
            false,
            Ec2Scaling::Fixed { instances: 1 },
            1,
        );
        g.pin_streams(4, 2);
        g.place_new(0, 3, 4);
        assert_eq!(g.pinning.placed, 0);
        g.place_new(seconds(90), 3, 4);
        assert_eq!(
            g.pinning.placed, 4,
            "overflow on the one machine: a fixed fleet"
        );
    }
}
