//! A time-ordered executor of Step Functions state machines.
//!
//! [`Sfn::execute`](super::Sfn::execute) runs one execution depth first, so the
//! other models see calls out of time order (a later state of one execution before
//! an earlier state of the next). `SfnRunner` runs many executions at once on the
//! engine's event queue: every transition, every Task call and every retry happens
//! at its own time, in global time order, so the Lambda, S3 and quota models are
//! called in nondecreasing time — as they require for exact answers.
//!
//! The layout drives it from its own event loop: before handling an event at time
//! `T` it calls `run_until(T, ..)`; it starts executions with `start(machine, T)`;
//! at the end `run_until(Time::MAX, ..)`. Finished executions are returned.

use rand::Rng;

use super::step_functions::{Execution, Retrier, Sfn, State, StateMachine, TaskCall, TaskOutcome};
use super::Throttled;
use crate::pricing::Usage;
use crate::sim::{secs, EventQueue, Time};

/// A state machine registered with the runner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MachineId(pub usize);

/// An execution started by the runner (sequential from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExecId(pub u64);

/// A finished execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finished {
    pub id: ExecId,
    pub machine: MachineId,
    pub execution: Execution,
}

enum Node {
    Task {
        name: String,
        resource: String,
        retry: Option<Retrier>,
    },
    Map {
        items: u32,
        limit: u32,
        body: usize,
    },
    Parallel {
        branches: Vec<usize>,
    },
    Choice {
        next: usize,
    },
    Pass,
    Wait(Time),
    Succeed,
    Fail,
}

struct Compiled {
    seqs: Vec<Vec<Node>>,
}

fn compile_seq(states: &[State], map_limit: u32, out: &mut Vec<Vec<Node>>) -> usize {
    let id = out.len();
    out.push(Vec::new());
    let mut nodes = Vec::with_capacity(states.len());
    for s in states {
        nodes.push(match s {
            State::Task {
                name,
                resource,
                retry,
            } => Node::Task {
                name: name.clone(),
                resource: resource.clone(),
                retry: retry.clone(),
            },
            State::Map {
                items,
                max_concurrency,
                iterator,
                ..
            } => Node::Map {
                items: *items,
                limit: if *max_concurrency == 0 {
                    map_limit
                } else {
                    (*max_concurrency).min(map_limit)
                }
                .max(1),
                body: compile_seq(iterator, map_limit, out),
            },
            State::Parallel { branches, .. } => Node::Parallel {
                branches: branches
                    .iter()
                    .map(|b| compile_seq(b, map_limit, out))
                    .collect(),
            },
            State::Choice { next, .. } => Node::Choice {
                next: compile_seq(next, map_limit, out),
            },
            State::Pass { .. } => Node::Pass,
            State::Wait { duration, .. } => Node::Wait(duration.0),
            State::Succeed { .. } => Node::Succeed,
            State::Fail { .. } => Node::Fail,
        });
    }
    out[id] = nodes;
    id
}

struct Thread {
    exec: usize,
    gen: u32,
    /// (sequence, position) frames: a Choice pushes its branch.
    frames: Vec<(usize, usize)>,
    item: Option<u32>,
    join: Option<usize>,
    attempt: u32,
}

struct Join {
    parent: usize,
    remaining: u32,
    end: Time,
    /// Map: next item to start, items, body sequence.
    map: Option<(u32, u32, usize)>,
}

struct Exec {
    gen: u32,
    live: bool,
    id: u64,
    machine: usize,
    start: Time,
    transitions: u64,
}

enum Ev {
    /// Transition into the state at the thread's position (or finish the sequence).
    Step(usize),
    /// The state starts.
    Enter(usize),
    /// A Task attempt ended.
    TaskEnd(usize, bool),
    /// Transition into a Task again for a retry.
    Retry(usize),
}

/// Runs executions of registered state machines on one [`Sfn`] (its quotas and
/// meter), in time order.
pub struct SfnRunner {
    sfn: Sfn,
    machines: Vec<Compiled>,
    queue: EventQueue<Ev>,
    threads: Vec<Thread>,
    free_threads: Vec<usize>,
    joins: Vec<Join>,
    free_joins: Vec<usize>,
    execs: Vec<Exec>,
    free_execs: Vec<usize>,
    next_id: u64,
    live: usize,
    finished: Vec<Finished>,
}

impl SfnRunner {
    pub fn new(sfn: Sfn) -> Self {
        SfnRunner {
            sfn,
            machines: Vec::new(),
            queue: EventQueue::new(),
            threads: Vec::new(),
            free_threads: Vec::new(),
            joins: Vec::new(),
            free_joins: Vec::new(),
            execs: Vec::new(),
            free_execs: Vec::new(),
            next_id: 0,
            live: 0,
            finished: Vec::new(),
        }
    }

    /// Registers a state machine.
    pub fn add_machine(&mut self, sm: &StateMachine) -> MachineId {
        let mut seqs = Vec::new();
        compile_seq(&sm.states, self.sfn.map_limit(), &mut seqs);
        self.machines.push(Compiled { seqs });
        MachineId(self.machines.len() - 1)
    }

    /// The model underneath (stats, config).
    pub fn sfn(&self) -> &Sfn {
        &self.sfn
    }

    /// Executions started and not finished.
    pub fn in_flight(&self) -> usize {
        self.live
    }

    /// Time of the next internal event.
    pub fn next_time(&self) -> Option<Time> {
        self.queue.peek_time()
    }

    /// StartExecution of `machine` at `now` (not before the last processed time):
    /// refused when the StartExecution bucket is empty; the caller retries.
    pub fn start(&mut self, machine: MachineId, now: Time) -> Result<ExecId, Throttled> {
        let now = now.max(self.queue.now());
        self.sfn.start_execution(now)?;
        let id = self.next_id;
        self.next_id += 1;
        let slot = match self.free_execs.pop() {
            Some(s) => s,
            None => {
                self.execs.push(Exec {
                    gen: 0,
                    live: false,
                    id: 0,
                    machine: 0,
                    start: 0,
                    transitions: 0,
                });
                self.execs.len() - 1
            }
        };
        let e = &mut self.execs[slot];
        e.gen = e.gen.wrapping_add(1);
        e.live = true;
        e.id = id;
        e.machine = machine.0;
        e.start = now;
        e.transitions = 0;
        let gen = e.gen;
        self.live += 1;
        let th = self.spawn(slot, gen, 0, None, None);
        self.queue.push(now, Ev::Step(th));
        Ok(ExecId(id))
    }

    fn spawn(
        &mut self,
        exec: usize,
        gen: u32,
        seq: usize,
        item: Option<u32>,
        join: Option<usize>,
    ) -> usize {
        match self.free_threads.pop() {
            Some(i) => {
                // Reuse the slot's frame buffer: no allocation per iteration.
                let t = &mut self.threads[i];
                t.exec = exec;
                t.gen = gen;
                t.frames.clear();
                t.frames.push((seq, 0));
                t.item = item;
                t.join = join;
                t.attempt = 1;
                i
            }
            None => {
                self.threads.push(Thread {
                    exec,
                    gen,
                    frames: vec![(seq, 0)],
                    item,
                    join,
                    attempt: 1,
                });
                self.threads.len() - 1
            }
        }
    }

    fn new_join(&mut self, j: Join) -> usize {
        match self.free_joins.pop() {
            Some(i) => {
                self.joins[i] = j;
                i
            }
            None => {
                self.joins.push(j);
                self.joins.len() - 1
            }
        }
    }

    fn alive(&self, th: usize) -> bool {
        let t = &self.threads[th];
        let e = &self.execs[t.exec];
        e.live && e.gen == t.gen
    }

    /// Frees a thread of a dead execution, and its suspended ancestors once their
    /// children are all gone.
    fn drop_thread(&mut self, th: usize) {
        let join = self.threads[th].join;
        self.threads[th].frames.clear();
        self.free_threads.push(th);
        if let Some(j) = join {
            let jn = &mut self.joins[j];
            jn.remaining -= 1;
            if let Some(m) = jn.map.as_mut() {
                m.0 = m.1; // start no more items
            }
            if jn.remaining == 0 {
                let parent = jn.parent;
                self.free_joins.push(j);
                self.drop_thread(parent);
            }
        }
    }

    fn end_exec(&mut self, slot: usize, end: Time, succeeded: bool) {
        let e = &mut self.execs[slot];
        e.live = false;
        let fin = Finished {
            id: ExecId(e.id),
            machine: MachineId(e.machine),
            execution: Execution {
                start: e.start,
                end,
                succeeded,
                transitions: e.transitions,
            },
        };
        let start = e.start;
        self.free_execs.push(slot);
        self.live -= 1;
        self.sfn.finish(start, end, succeeded);
        self.finished.push(fin);
    }

    /// Moves a thread past its current state and steps it at `t`.
    fn advance(&mut self, th: usize, t: Time) {
        let thr = &mut self.threads[th];
        if let Some(f) = thr.frames.last_mut() {
            f.1 += 1;
        }
        thr.attempt = 1;
        self.queue.push(t, Ev::Step(th));
    }

    /// The thread's sequence ended at `t` (end of its last state, or a Succeed).
    fn finish_thread(&mut self, th: usize, t: Time) {
        let exec = self.threads[th].exec;
        let join = self.threads[th].join;
        self.threads[th].frames.clear();
        self.free_threads.push(th);
        let Some(j) = join else {
            self.end_exec(exec, t, true);
            return;
        };
        let gen = self.threads[th].gen;
        let jn = &mut self.joins[j];
        jn.remaining -= 1;
        jn.end = jn.end.max(t);
        let mut spawn_item = None;
        if let Some(m) = jn.map.as_mut() {
            if m.0 < m.1 {
                spawn_item = Some((m.0, m.2));
                m.0 += 1;
            }
        }
        if let Some((item, body)) = spawn_item {
            let c = self.spawn(exec, gen, body, Some(item), Some(j));
            self.queue.push(t, Ev::Step(c));
        }
        let jn = &self.joins[j];
        if jn.remaining == 0 {
            let (parent, end) = (jn.parent, jn.end);
            self.free_joins.push(j);
            self.advance(parent, end);
        }
    }

    /// Processes every internal event at or before `until`, calling `task` for each
    /// Task attempt at its start time; returns the executions that finished.
    pub fn run_until<R: Rng + ?Sized>(
        &mut self,
        until: Time,
        rng: &mut R,
        task: &mut dyn FnMut(&TaskCall, &mut R) -> TaskOutcome,
    ) -> Vec<Finished> {
        while self.queue.peek_time().is_some_and(|t| t <= until) {
            let Some((t, ev)) = self.queue.pop() else {
                break;
            };
            let th = match ev {
                Ev::Step(th) | Ev::Enter(th) | Ev::TaskEnd(th, _) | Ev::Retry(th) => th,
            };
            if !self.alive(th) {
                self.drop_thread(th);
                continue;
            }
            match ev {
                Ev::Step(th) => self.step(th, t, rng),
                Ev::Retry(th) => {
                    let t2 = self.sfn.transition(t, rng);
                    let e = self.threads[th].exec;
                    self.execs[e].transitions += 1;
                    self.queue.push(t2, Ev::Enter(th));
                }
                Ev::Enter(th) => self.enter(th, t, rng, task),
                Ev::TaskEnd(th, ok) => {
                    if ok {
                        self.advance(th, t);
                    } else {
                        let m = self.execs[self.threads[th].exec].machine;
                        let (s, p) = *self.threads[th].frames.last().expect("a live frame");
                        let retry = match &self.machines[m].seqs[s][p] {
                            Node::Task { retry, .. } => retry.clone(),
                            _ => None,
                        };
                        let attempt = self.threads[th].attempt;
                        match retry {
                            Some(r) if attempt <= r.max_attempts => {
                                let wait = r.interval.0 as f64
                                    * r.backoff_rate.max(1.0).powi(attempt as i32 - 1);
                                self.threads[th].attempt += 1;
                                self.sfn.note_task_retry();
                                self.queue
                                    .push(t.saturating_add(secs(wait / 1e9)), Ev::Retry(th));
                            }
                            _ => {
                                let e = self.threads[th].exec;
                                self.end_exec(e, t, false);
                                self.drop_thread(th);
                            }
                        }
                    }
                }
            }
        }
        std::mem::take(&mut self.finished)
    }

    fn step<R: Rng + ?Sized>(&mut self, th: usize, t: Time, rng: &mut R) {
        let m = self.execs[self.threads[th].exec].machine;
        loop {
            let Some(&(s, p)) = self.threads[th].frames.last() else {
                self.finish_thread(th, t);
                return;
            };
            if p < self.machines[m].seqs[s].len() {
                break;
            }
            // End of a Choice branch: back to the enclosing sequence.
            self.threads[th].frames.pop();
            match self.threads[th].frames.last_mut() {
                Some(f) => f.1 += 1,
                None => {
                    self.finish_thread(th, t);
                    return;
                }
            }
        }
        let t2 = self.sfn.transition(t, rng);
        let e = self.threads[th].exec;
        self.execs[e].transitions += 1;
        self.queue.push(t2, Ev::Enter(th));
    }

    fn enter<R: Rng + ?Sized>(
        &mut self,
        th: usize,
        t: Time,
        rng: &mut R,
        task: &mut dyn FnMut(&TaskCall, &mut R) -> TaskOutcome,
    ) {
        let exec = self.threads[th].exec;
        let gen = self.threads[th].gen;
        let m = self.execs[exec].machine;
        let (s, p) = *self.threads[th].frames.last().expect("a live frame");
        let item = self.threads[th].item;
        match &self.machines[m].seqs[s][p] {
            Node::Task { name, resource, .. } => {
                let call = TaskCall {
                    name,
                    resource,
                    start: t,
                    attempt: self.threads[th].attempt,
                    item,
                };
                let (end, ok) = match task(&call, rng) {
                    TaskOutcome::Done(e) => (e.max(t), true),
                    TaskOutcome::Failed(e) => (e.max(t), false),
                };
                self.queue.push(end, Ev::TaskEnd(th, ok));
            }
            &Node::Map { items, limit, body } => {
                if items == 0 {
                    self.advance(th, t);
                    return;
                }
                let first = limit.min(items);
                let j = self.new_join(Join {
                    parent: th,
                    remaining: items,
                    end: t,
                    map: Some((first, items, body)),
                });
                for i in 0..first {
                    let c = self.spawn(exec, gen, body, Some(i), Some(j));
                    self.queue.push(t, Ev::Step(c));
                }
            }
            Node::Parallel { branches } => {
                if branches.is_empty() {
                    self.advance(th, t);
                    return;
                }
                let branches = branches.clone();
                let j = self.new_join(Join {
                    parent: th,
                    remaining: branches.len() as u32,
                    end: t,
                    map: None,
                });
                for b in branches {
                    let c = self.spawn(exec, gen, b, item, Some(j));
                    self.queue.push(t, Ev::Step(c));
                }
            }
            &Node::Choice { next } => {
                self.threads[th].frames.push((next, 0));
                self.queue.push(t, Ev::Step(th));
            }
            Node::Pass => self.advance(th, t),
            &Node::Wait(d) => self.advance(th, t.saturating_add(d)),
            Node::Succeed => self.finish_thread(th, t),
            Node::Fail => {
                self.end_exec(exec, t, false);
                self.drop_thread(th);
            }
        }
    }

    /// Writes the state machine's billed quantities (see [`Sfn::meter`]).
    pub fn meter(&self, usage: &mut Usage) {
        self.sfn.meter(usage);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::step_functions::{count_transitions, SfnConfig};
    use crate::cloud::QuotaEra;
    use crate::pricing::usage::Workflow;
    use crate::pricing::Catalog;
    use crate::sim::{millis, rng_stream, seconds, Dist};

    fn runner(quotas: QuotaEra) -> SfnRunner {
        SfnRunner::new(
            Sfn::new(
                &Catalog::builtin(),
                SfnConfig {
                    workflow: Workflow::Standard,
                    quotas,
                    transition_latency: Dist::fixed(millis(10)),
                    ..SfnConfig::default()
                },
            )
            .unwrap(),
        )
    }

    fn pipeline() -> StateMachine {
        StateMachine::new(
            "pipeline",
            vec![
                State::task("convert"),
                State::Map {
                    name: "frames".into(),
                    items: 5,
                    max_concurrency: 2,
                    iterator: vec![State::parallel(
                        "detectors",
                        vec![vec![State::task("x")], vec![State::task("y")]],
                    )],
                },
                State::Choice {
                    name: "defect?".into(),
                    next: vec![State::task_with_retry("notify", Retrier::default())],
                },
                State::Pass { name: "p".into() },
            ],
        )
    }

    #[test]
    fn agrees_with_depth_first_execute_and_count() {
        let sm = pipeline();
        let task = |c: &TaskCall, _: &mut crate::sim::Rng64| {
            if c.name == "notify" && c.attempt <= 2 {
                TaskOutcome::Failed(c.start + millis(5))
            } else {
                TaskOutcome::Done(c.start + millis(100))
            }
        };
        let mut r = runner(QuotaEra::Current);
        let m = r.add_machine(&sm);
        let mut rng = rng_stream(1, "t", 0);
        r.start(m, 0).unwrap();
        let done = r.run_until(Time::MAX, &mut rng, &mut { task });
        assert_eq!(done.len(), 1);
        let ex = done[0].execution;
        assert!(ex.succeeded);
        assert_eq!(ex.transitions, count_transitions(&sm, 2));

        let mut dfs = runner(QuotaEra::Current).sfn;
        let mut rng = rng_stream(1, "t", 0);
        let ex2 = dfs.execute(&sm, 0, &mut rng, &mut { task }).unwrap();
        assert_eq!(ex, ex2, "same times when nothing is contended");
        assert_eq!(r.in_flight(), 0);
    }

    #[test]
    fn task_calls_come_in_time_order() {
        let sm = pipeline();
        let mut r = runner(QuotaEra::Current);
        let m = r.add_machine(&sm);
        let mut rng = rng_stream(2, "t", 0);
        let mut calls = Vec::new();
        let mut finished = Vec::new();
        // 50 executions started 20 ms apart, interleaving in time.
        for k in 0..50u64 {
            let now = k * millis(20);
            finished.extend(r.run_until(now, &mut rng, &mut |c, _| {
                calls.push(c.start);
                TaskOutcome::Done(c.start + millis(300))
            }));
            r.start(m, now).unwrap();
        }
        finished.extend(r.run_until(Time::MAX, &mut rng, &mut |c, _| {
            calls.push(c.start);
            TaskOutcome::Done(c.start + millis(300))
        }));
        assert!(calls.windows(2).all(|w| w[0] <= w[1]), "nondecreasing");
        assert_eq!(finished.len(), 50);
        let per = count_transitions(&sm, 0);
        assert!(finished.iter().all(|f| f.execution.transitions == per));
        assert_eq!(r.sfn().stats().transitions, 50 * per);
        let ids: Vec<u64> = finished.iter().map(|f| f.id.0).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 50);
    }

    #[test]
    fn a_failure_ends_the_execution_and_frees_its_threads() {
        let sm = StateMachine::new(
            "f",
            vec![
                State::map("m", 10, vec![State::task("t")]),
                State::task("never"),
            ],
        );
        let mut r = runner(QuotaEra::Current);
        let m = r.add_machine(&sm);
        let mut rng = rng_stream(3, "t", 0);
        r.start(m, 0).unwrap();
        let mut never = 0;
        let done = r.run_until(Time::MAX, &mut rng, &mut |c, _| {
            if c.name == "never" {
                never += 1;
            }
            if c.item == Some(3) {
                TaskOutcome::Failed(c.start + millis(1))
            } else {
                TaskOutcome::Done(c.start + seconds(1))
            }
        });
        assert_eq!(done.len(), 1);
        assert!(!done[0].execution.succeeded);
        assert_eq!(never, 0);
        assert_eq!(r.in_flight(), 0);
        assert_eq!(r.sfn().stats().failed_executions, 1);
        // Every thread and join was returned to the free lists.
        assert_eq!(r.free_threads.len(), r.threads.len());
        assert_eq!(r.free_joins.len(), r.joins.len());
    }

    #[test]
    fn transition_quota_delays_in_time_order_under_load() {
        // 2023 quotas: 5,000 bucket, 1,500/s. 1,000 executions of 12 transitions at
        // once need 12,000 tokens: the last wait for (12,000 - 5,000) / 1,500 s.
        let sm = StateMachine::new(
            "m",
            vec![
                State::map("m", 10, vec![State::Pass { name: "p".into() }]),
                State::Succeed { name: "s".into() },
            ],
        );
        let mut r = SfnRunner::new(
            Sfn::new(
                &Catalog::builtin(),
                SfnConfig {
                    quotas: QuotaEra::Y2023,
                    transition_latency: Dist::fixed(0),
                    ..SfnConfig::default()
                },
            )
            .unwrap(),
        );
        let m = r.add_machine(&sm);
        let mut rng = rng_stream(4, "t", 0);
        let mut started = 0;
        for _ in 0..1000 {
            if r.start(m, 0).is_ok() {
                started += 1;
            }
        }
        assert_eq!(started, 1000);
        let done = r.run_until(Time::MAX, &mut rng, &mut |c, _| TaskOutcome::Done(c.start));
        let last = done.iter().map(|f| f.execution.end).max().unwrap();
        let expect = (12_000u64 - 5_000) * 1_000_000_000 / 1_500;
        assert!(last.abs_diff(expect) <= 1_000, "{last} vs {expect}");
        assert!(r.sfn().stats().transition_throttles > 0);
    }
}
