//! The one Step Functions executor: a resumable cursor machine with no clock and no
//! random numbers of its own. A driver — the discrete-event simulation, or `asl count`
//! with instant tasks — polls it for [`Action`]s and answers each one later:
//!
//! - [`Action::Enter`] / [`Action::StartChild`]: one billed transition; the state runs
//!   once the driver calls [`Execution::granted`] (so a token bucket can gate it);
//! - [`Action::Invoke`]: an opaque call the driver completes with
//!   [`Execution::task_done`], a result or an error name (a throttle becomes
//!   `Lambda.TooManyRequestsException`, and Retry and Catch apply); the call's input
//!   stays on the execution ([`Execution::task_input`], [`Execution::take_task_input`]),
//!   so a driver that never reads it (a throttled attempt) never touches it;
//! - [`Action::Wait`]: a Wait state or a retry interval; with `full_jitter` the driver
//!   waits a uniform draw in `[0, ns]` from its own seeded stream ([`jittered`]), then
//!   calls [`Execution::waited`];
//! - [`Action::Choose`]: a Choice whose variable is not in the data; the driver picks a
//!   branch (e.g. by the scenario's weights) with [`Execution::chose`];
//! - [`Action::Done`]: the outcome.
//!
//! Cursors are the threads of control: the top level, each Parallel branch, each Map
//! iteration. Answers for a cursor that was cancelled (a sibling failed) are ignored.

use std::sync::{Arc, LazyLock};

use super::machine::*;
use super::parse::function_name;
use super::path::{Ctx, Path};
use super::value::{Obj, Val};

/// Field names the executor writes into results (shared, not allocated per task).
static PAYLOAD: LazyLock<Arc<str>> = LazyLock::new(|| "Payload".into());
static STATUS_CODE: LazyLock<Arc<str>> = LazyLock::new(|| "StatusCode".into());
static ERROR: LazyLock<Arc<str>> = LazyLock::new(|| "Error".into());
static CAUSE: LazyLock<Arc<str>> = LazyLock::new(|| "Cause".into());

/// Index of a cursor in one execution.
pub type CursorId = u32;

/// Which workflow a transition is billed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Workflow {
    /// The execution the driver started (its type is the driver's: Standard or Express).
    Parent,
    /// A Distributed Map's child execution, billed as its own type.
    Child(ExecutionType),
}

/// What a Task asks the driver to do.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskCall {
    Lambda { function: Arc<str> },
    S3Get,
    S3Put,
}

/// A failed task: the ASL error name (`Lambda.TooManyRequestsException`,
/// `States.Timeout`, …) and a cause.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskError {
    pub error: String,
    pub cause: String,
}

impl TaskError {
    pub fn new(error: &str, cause: &str) -> Self {
        TaskError {
            error: error.into(),
            cause: cause.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Succeeded(Val),
    Failed { error: String, cause: String },
}

/// A request from the execution to its driver.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// State `state` is entered (one transition; `retry` for a retried attempt).
    Enter {
        cursor: CursorId,
        state: StateId,
        retry: bool,
        workflow: Workflow,
    },
    /// Distributed Map `state` starts a child execution (one transition billed to
    /// `workflow`, the Map's own).
    StartChild {
        cursor: CursorId,
        state: StateId,
        child: ExecutionType,
        workflow: Workflow,
    },
    Invoke {
        cursor: CursorId,
        state: StateId,
        call: TaskCall,
        timeout_ns: Option<u64>,
    },
    Wait {
        cursor: CursorId,
        ns: u64,
        full_jitter: bool,
    },
    Choose {
        cursor: CursorId,
        state: StateId,
        /// The rules, then `Default` if there is one: answer with 0..branches.
        branches: u32,
        /// The path that is not in the data.
        variable: Arc<str>,
    },
    Done(Outcome),
}

/// The wait of an [`Action::Wait`] for a uniform draw `u` in `[0, 1)` (FULL jitter:
/// AWS waits a random time between 0 and the computed interval).
pub fn jittered(ns: u64, full_jitter: bool, u: f64) -> u64 {
    if full_jitter {
        (ns as f64 * u.clamp(0.0, 1.0)) as u64
    } else {
        ns
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// A child execution waiting for its start to be granted.
    Start,
    Enter,
    Task,
    Wait,
    RetryWait,
    Choice,
    Children(u32),
    Finished,
}

#[derive(Debug)]
struct Cursor {
    state: StateId,
    /// The current state's raw input.
    input: Val,
    phase: Phase,
    /// (frame, slot) of the Map or Parallel this cursor runs in.
    parent: Option<(u32, u32)>,
    workflow: Workflow,
    /// Retries used per retrier of the current state.
    retries: Vec<u32>,
    /// The call and input of the current state's Task in flight or last attempt (a
    /// driver whose functions echo the input takes it), and whether the next attempt
    /// (a Retry) sends them again: Parameters is rendered from the raw input, the
    /// execution input and the state's name, none of which a retry changes, so a
    /// retried attempt needs no rendering (throttled Lambda tasks are retried
    /// millions of times in an overloaded run).
    sent: Option<(TaskCall, Val)>,
    resend: bool,
    alive: bool,
}

/// A Map or Parallel in progress.
#[derive(Debug)]
struct Frame {
    owner: CursorId,
    /// The Map's effective input (for `ItemSelector`), or the Parallel's.
    effective: Val,
    items: Vec<Val>,
    next_item: usize,
    in_flight: u32,
    remaining: usize,
    results: Vec<Val>,
    children: Vec<CursorId>,
    alive: bool,
}

/// One execution of a machine.
#[derive(Debug)]
pub struct Execution {
    machine: Arc<Machine>,
    input: Val,
    cursors: Vec<Cursor>,
    frames: Vec<Frame>,
    pending: Vec<Action>,
    done: bool,
}

type Failure = (String, String);

fn runtime(msg: String) -> Failure {
    (RUNTIME.to_string(), msg)
}

impl Execution {
    /// Starts an execution: the first poll asks to enter `StartAt`.
    pub fn start(machine: &Arc<Machine>, input: Val) -> Execution {
        let mut e = Execution {
            machine: machine.clone(),
            input: input.clone(),
            // Room for the top level and one Task's request: most executions of an
            // overloaded run wait at their first Task, and their memory is what the
            // run's working set is made of.
            cursors: Vec::with_capacity(2),
            frames: Vec::new(),
            pending: Vec::with_capacity(2),
            done: false,
        };
        e.spawn(machine.start, input, None, Workflow::Parent, None);
        e
    }

    /// Appends everything the execution wants now to `out`.
    /// Requests of cursors cancelled meanwhile (a sibling failed) are dropped.
    pub fn poll(&mut self, out: &mut Vec<Action>) {
        let cursors = &self.cursors;
        out.extend(self.pending.drain(..).filter(|a| match a {
            Action::Enter { cursor, .. }
            | Action::StartChild { cursor, .. }
            | Action::Invoke { cursor, .. }
            | Action::Wait { cursor, .. }
            | Action::Choose { cursor, .. } => cursors[*cursor as usize].alive,
            Action::Done(_) => true,
        }));
    }

    /// True once [`Action::Done`] has been emitted.
    pub fn is_done(&self) -> bool {
        self.done
    }

    pub fn machine(&self) -> &Arc<Machine> {
        &self.machine
    }

    fn live(&self, c: CursorId, phase: Phase) -> bool {
        !self.done
            && self
                .cursors
                .get(c as usize)
                .is_some_and(|k| k.alive && k.phase == phase)
    }

    /// Cursor `c` asks for the transition into its state (`retry` for a retried
    /// attempt).
    fn ask_to_enter(&mut self, c: CursorId, retry: bool) {
        let k = &mut self.cursors[c as usize];
        k.phase = Phase::Enter;
        let (state, workflow) = (k.state, k.workflow);
        self.pending.push(Action::Enter {
            cursor: c,
            state,
            retry,
            workflow,
        });
    }

    /// The transition requested by `Enter` or `StartChild` may proceed.
    pub fn granted(&mut self, c: CursorId) {
        if self.live(c, Phase::Start) {
            self.ask_to_enter(c, false);
        } else if self.live(c, Phase::Enter) {
            self.run(c);
        }
    }

    /// The task of cursor `c` finished.
    pub fn task_done(&mut self, c: CursorId, r: Result<Val, TaskError>) {
        if !self.live(c, Phase::Task) {
            return;
        }
        match r {
            Ok(v) => {
                let m = self.machine.clone();
                let def = m.state(self.cursors[c as usize].state);
                let result = match def.kind {
                    Kind::Task {
                        call: CallKind::LambdaInvoke,
                        ..
                    } => Val::Obj(Arc::new(Obj::from_sorted(vec![
                        (PAYLOAD.clone(), v),
                        (STATUS_CODE.clone(), Val::from(200u64)),
                    ]))),
                    _ => v,
                };
                self.complete(c, result);
            }
            Err(e) => self.fail(c, e.error, e.cause),
        }
    }

    /// The input of cursor `c`'s Task in flight (`Null` if there is none).
    pub fn task_input(&self, c: CursorId) -> &Val {
        static NULL: Val = Val::Null;
        self.cursors
            .get(c as usize)
            .and_then(|k| k.sent.as_ref())
            .map_or(&NULL, |(_, input)| input)
    }

    /// The input of cursor `c`'s Task in flight, taken (`Null` if there is none): a
    /// driver whose simulated functions return what they are given needs no copy.
    pub fn take_task_input(&mut self, c: CursorId) -> Val {
        self.cursors
            .get_mut(c as usize)
            .and_then(|k| k.sent.take())
            .map(|(_, input)| input)
            .unwrap_or_default()
    }

    /// Whether a failure `error` of cursor `c`'s Task now would be retried by the
    /// state's `Retry` (a driver that redrives what the machine would give up on asks).
    pub fn can_retry(&self, c: CursorId, error: &str) -> bool {
        let Some(k) = self.cursors.get(c as usize) else {
            return false;
        };
        let def = self.machine.state(k.state);
        def.retry
            .iter()
            .position(|r| matches(&r.errors, error))
            .is_some_and(|i| k.retries.get(i).copied().unwrap_or(0) < def.retry[i].max_attempts)
    }

    /// A Wait state or a retry interval of cursor `c` has elapsed.
    pub fn waited(&mut self, c: CursorId) {
        if self.live(c, Phase::RetryWait) {
            self.ask_to_enter(c, true);
        } else if self.live(c, Phase::Wait) {
            let m = self.machine.clone();
            let def = m.state(self.cursors[c as usize].state);
            match self.pass_through(c) {
                Ok(out) => self.advance(c, def.next, out),
                Err(f) => self.fail(c, f.0, f.1),
            }
        }
    }

    /// The driver's answer to [`Action::Choose`]: rule `branch`, or `Default` when
    /// `branch` is the number of rules.
    pub fn chose(&mut self, c: CursorId, branch: u32) {
        if !self.live(c, Phase::Choice) {
            return;
        }
        let m = self.machine.clone();
        let def = m.state(self.cursors[c as usize].state);
        let Kind::Choice { rules, default } = &def.kind else {
            return;
        };
        let target = match rules.get(branch as usize) {
            Some((_, t)) => Some(*t),
            None if branch as usize == rules.len() => *default,
            None => None,
        };
        match target {
            Some(t) => self.choice_to(c, t),
            None => {
                let n = rules.len() + default.is_some() as usize;
                self.fail(
                    c,
                    RUNTIME.into(),
                    format!("the driver chose branch {branch} of {n}"),
                )
            }
        }
    }

    fn spawn(
        &mut self,
        state: StateId,
        input: Val,
        parent: Option<(u32, u32)>,
        workflow: Workflow,
        child_start: Option<ExecutionType>,
    ) -> CursorId {
        let c = self.cursors.len() as CursorId;
        self.cursors.push(Cursor {
            state,
            input,
            phase: if child_start.is_some() {
                Phase::Start
            } else {
                Phase::Enter
            },
            parent,
            workflow: match child_start {
                Some(t) => Workflow::Child(t),
                None => workflow,
            },
            retries: Vec::new(),
            sent: None,
            resend: false,
            alive: true,
        });
        self.pending.push(match child_start {
            Some(child) => Action::StartChild {
                cursor: c,
                state: parent.map_or(state, |(f, _)| {
                    self.cursors[self.frames[f as usize].owner as usize].state
                }),
                child,
                workflow,
            },
            None => Action::Enter {
                cursor: c,
                state,
                retry: false,
                workflow,
            },
        });
        c
    }

    /// The context object for the state cursor `c` is in.
    fn ctx<'a>(input: &'a Val, def: &'a StateDef) -> Ctx<'a> {
        Ctx {
            execution_input: input,
            state_name: &def.name,
            item: None,
        }
    }

    /// InputPath then Parameters.
    fn effective(&self, c: CursorId, def: &StateDef) -> Result<Val, Failure> {
        let raw = &self.cursors[c as usize].input;
        let ctx = Self::ctx(&self.input, def);
        let filtered = input_path(&def.input_path, raw, &ctx)?;
        match &def.parameters {
            Some(t) => t.render(&filtered, &ctx).map_err(runtime),
            None => Ok(filtered),
        }
    }

    /// InputPath then OutputPath (Wait, Succeed, Choice).
    fn pass_through(&self, c: CursorId) -> Result<Val, Failure> {
        let def = self.machine.state(self.cursors[c as usize].state);
        let raw = &self.cursors[c as usize].input;
        let ctx = Self::ctx(&self.input, def);
        let filtered = input_path(&def.input_path, raw, &ctx)?;
        output_path(&def.output_path, filtered)
    }

    fn run(&mut self, c: CursorId) {
        let m = self.machine.clone();
        let def = m.state(self.cursors[c as usize].state);
        if let Err(f) = self.run_state(c, def) {
            self.fail(c, f.0, f.1);
        }
    }

    fn run_state(&mut self, c: CursorId, def: &StateDef) -> Result<(), Failure> {
        let state = self.cursors[c as usize].state;
        match &def.kind {
            Kind::Task {
                call,
                function,
                timeout_ns,
            } => {
                let k = &mut self.cursors[c as usize];
                let resend = std::mem::take(&mut k.resend);
                let sent = match k.sent.take() {
                    Some(sent) if resend => sent,
                    _ => task_request(self.effective(c, def)?, call, function)?,
                };
                let call = sent.0.clone();
                let k = &mut self.cursors[c as usize];
                k.phase = Phase::Task;
                k.sent = Some(sent);
                self.pending.push(Action::Invoke {
                    cursor: c,
                    state,
                    call,
                    timeout_ns: *timeout_ns,
                });
            }
            Kind::Pass { result } => {
                let r = match result {
                    Some(v) => v.clone(),
                    None => self.effective(c, def)?,
                };
                self.complete(c, r);
            }
            Kind::Wait(w) => {
                let ns = match w {
                    WaitFor::Ns(ns) => *ns,
                    WaitFor::SecondsPath(p) => {
                        let raw = &self.cursors[c as usize].input;
                        let ctx = Self::ctx(&self.input, def);
                        let filtered = input_path(&def.input_path, raw, &ctx)?;
                        let v = get(p, &filtered, &ctx)?;
                        let s = v.as_u64().ok_or_else(|| {
                            runtime(format!(
                                "SecondsPath `{}`: expected a whole number of seconds, got {v}",
                                p.text
                            ))
                        })?;
                        s.saturating_mul(1_000_000_000)
                    }
                };
                self.cursors[c as usize].phase = Phase::Wait;
                self.pending.push(Action::Wait {
                    cursor: c,
                    ns,
                    full_jitter: false,
                });
            }
            Kind::Choice { rules, default } => {
                let raw = &self.cursors[c as usize].input;
                let ctx = Self::ctx(&self.input, def);
                let filtered = input_path(&def.input_path, raw, &ctx)?;
                let mut target = None;
                for (rule, next) in rules {
                    match rule.eval(&filtered, &ctx) {
                        Ok(true) => {
                            target = Some(*next);
                            break;
                        }
                        Ok(false) => {}
                        Err(Missing(var)) => {
                            let variable = find_path_text(rule, var);
                            self.cursors[c as usize].phase = Phase::Choice;
                            self.pending.push(Action::Choose {
                                cursor: c,
                                state,
                                branches: (rules.len() + default.is_some() as usize) as u32,
                                variable,
                            });
                            return Ok(());
                        }
                    }
                }
                match target.or(*default) {
                    Some(t) => self.choice_to(c, t),
                    None => {
                        return Err((
                            "States.NoChoiceMatched".into(),
                            format!(
                                "no choice rule of \"{}\" matched and it has no Default",
                                def.name
                            ),
                        ))
                    }
                }
            }
            Kind::Parallel { branches } => {
                let eff = self.effective(c, def)?;
                let f = self.new_frame(c, eff.clone(), Vec::new(), branches.len());
                let workflow = self.cursors[c as usize].workflow;
                for (i, b) in branches.iter().enumerate() {
                    let child = self.spawn(*b, eff.clone(), Some((f, i as u32)), workflow, None);
                    self.frames[f as usize].children.push(child);
                }
                self.frames[f as usize].in_flight = branches.len() as u32;
            }
            Kind::Map { items_path, .. } => {
                let eff = {
                    // InputPath only: a Map's Parameters is its item selector.
                    let raw = &self.cursors[c as usize].input;
                    let ctx = Self::ctx(&self.input, def);
                    input_path(&def.input_path, raw, &ctx)?
                };
                let items = match items_path {
                    IoPath::Path(p) => {
                        p.get(&eff, &Self::ctx(&self.input, def)).ok_or_else(|| {
                            runtime(format!("ItemsPath `{}` is not in the data", p.text))
                        })?
                    }
                    _ => eff.clone(),
                };
                let Val::Arr(items) = items else {
                    return Err(runtime(format!(
                        "the Map's items must be an array, got {items}"
                    )));
                };
                let items = Arc::unwrap_or_clone(items);
                if items.is_empty() {
                    self.complete(c, Val::array(Vec::new()));
                    return Ok(());
                }
                let n = items.len();
                let f = self.new_frame(c, eff, items, n);
                if let Err(e) = self.fill_map(f) {
                    self.cancel_frame(f);
                    return Err(e);
                }
            }
            Kind::Succeed => {
                let out = self.pass_through(c)?;
                self.finish(c, Ok(out));
            }
            Kind::Fail { error, cause } => self.finish(c, Err((error.clone(), cause.clone()))),
        }
        Ok(())
    }

    fn new_frame(&mut self, owner: CursorId, effective: Val, items: Vec<Val>, n: usize) -> u32 {
        let f = self.frames.len() as u32;
        self.frames.push(Frame {
            owner,
            effective,
            items,
            next_item: 0,
            in_flight: 0,
            remaining: n,
            results: vec![Val::Null; n],
            children: Vec::new(),
            alive: true,
        });
        self.cursors[owner as usize].phase = Phase::Children(f);
        f
    }

    /// Starts Map iterations until `MaxConcurrency` are in flight.
    fn fill_map(&mut self, f: u32) -> Result<(), Failure> {
        let m = self.machine.clone();
        let owner = self.frames[f as usize].owner;
        let def = m.state(self.cursors[owner as usize].state);
        let Kind::Map {
            start,
            item_selector,
            max_concurrency,
            distributed,
            ..
        } = &def.kind
        else {
            return Ok(());
        };
        let workflow = self.cursors[owner as usize].workflow;
        loop {
            let fr = &mut self.frames[f as usize];
            if fr.in_flight >= *max_concurrency || fr.next_item >= fr.items.len() {
                return Ok(());
            }
            let i = fr.next_item;
            fr.next_item += 1;
            fr.in_flight += 1;
            let input = match item_selector {
                Some(t) => {
                    let ctx = Ctx {
                        execution_input: &self.input,
                        state_name: &def.name,
                        item: Some((i, &fr.items[i])),
                    };
                    t.render(&fr.effective, &ctx).map_err(runtime)?
                }
                None => std::mem::take(&mut fr.items[i]),
            };
            let child = self.spawn(*start, input, Some((f, i as u32)), workflow, *distributed);
            self.frames[f as usize].children.push(child);
        }
    }

    /// The state of cursor `c` produced `result`: ResultSelector, ResultPath,
    /// OutputPath, then the next state.
    fn complete(&mut self, c: CursorId, result: Val) {
        let m = self.machine.clone();
        let def = m.state(self.cursors[c as usize].state);
        let raw = std::mem::take(&mut self.cursors[c as usize].input);
        let out = (|| {
            let result = match &def.result_selector {
                Some(t) => t
                    .render(&result, &Self::ctx(&self.input, def))
                    .map_err(runtime)?,
                None => result,
            };
            let combined = merge(&def.result_path, raw, result)?;
            output_path(&def.output_path, combined)
        })();
        match out {
            Ok(v) => self.advance(c, def.next, v),
            Err(f) => self.finish(c, Err(f)),
        }
    }

    fn choice_to(&mut self, c: CursorId, target: StateId) {
        match self.pass_through(c) {
            Ok(out) => self.advance(c, Some(target), out),
            Err(f) => self.fail(c, f.0, f.1),
        }
    }

    fn advance(&mut self, c: CursorId, next: Option<StateId>, output: Val) {
        match next {
            Some(n) => {
                let k = &mut self.cursors[c as usize];
                k.state = n;
                k.input = output;
                k.retries.clear();
                k.sent = None;
                k.resend = false;
                k.phase = Phase::Enter;
                let workflow = k.workflow;
                self.pending.push(Action::Enter {
                    cursor: c,
                    state: n,
                    retry: false,
                    workflow,
                });
            }
            None => self.finish(c, Ok(output)),
        }
    }

    /// The state of cursor `c` failed: its first matching retrier (while attempts are
    /// left), else its first matching catcher, else the cursor fails.
    fn fail(&mut self, c: CursorId, error: String, cause: String) {
        let m = self.machine.clone();
        let def = m.state(self.cursors[c as usize].state);
        if let Some(i) = def.retry.iter().position(|r| matches(&r.errors, &error)) {
            let r = &def.retry[i];
            let k = &mut self.cursors[c as usize];
            k.retries.resize(def.retry.len(), 0);
            let used = k.retries[i];
            if used < r.max_attempts {
                k.retries[i] += 1;
                // A failed Task is sent again as it was; a state whose input could
                // not be rendered is rendered again.
                k.resend = k.phase == Phase::Task && k.sent.is_some();
                k.phase = Phase::RetryWait;
                self.pending.push(Action::Wait {
                    cursor: c,
                    ns: r.delay_ns(used),
                    full_jitter: r.full_jitter,
                });
                return;
            }
        }
        if let Some(catcher) = def.catch.iter().find(|k| matches(&k.errors, &error)) {
            let raw = std::mem::take(&mut self.cursors[c as usize].input);
            let caught = Val::Obj(Arc::new(Obj::from_sorted(vec![
                (CAUSE.clone(), Val::str(&cause)),
                (ERROR.clone(), Val::str(&error)),
            ])));
            match merge(&catcher.result_path, raw, caught) {
                Ok(out) => self.advance(c, Some(catcher.next), out),
                Err(f) => self.finish(c, Err(f)),
            }
            return;
        }
        self.finish(c, Err((error, cause)));
    }

    fn finish(&mut self, c: CursorId, r: Result<Val, Failure>) {
        let k = &mut self.cursors[c as usize];
        k.phase = Phase::Finished;
        match k.parent {
            None => {
                self.done = true;
                self.pending.push(Action::Done(match r {
                    Ok(v) => Outcome::Succeeded(v),
                    Err((error, cause)) => Outcome::Failed { error, cause },
                }));
            }
            Some((f, slot)) => self.child_finished(f, slot, r),
        }
    }

    fn child_finished(&mut self, f: u32, slot: u32, r: Result<Val, Failure>) {
        if !self.frames[f as usize].alive {
            return;
        }
        let owner = self.frames[f as usize].owner;
        match r {
            Ok(v) => {
                let fr = &mut self.frames[f as usize];
                fr.results[slot as usize] = v;
                fr.in_flight -= 1;
                fr.remaining -= 1;
                if fr.remaining == 0 {
                    fr.alive = false;
                    let results = std::mem::take(&mut fr.results);
                    self.complete(owner, Val::array(results));
                } else if let Err(e) = self.fill_map(f) {
                    self.cancel_frame(f);
                    self.fail(owner, e.0, e.1);
                }
            }
            Err((error, cause)) => {
                self.cancel_frame(f);
                self.fail(owner, error, cause);
            }
        }
    }

    /// Stops every iteration or branch still running in frame `f` (and theirs).
    fn cancel_frame(&mut self, f: u32) {
        self.frames[f as usize].alive = false;
        let children = std::mem::take(&mut self.frames[f as usize].children);
        for &ch in &children {
            let k = &mut self.cursors[ch as usize];
            if k.alive && k.phase != Phase::Finished {
                k.alive = false;
                if let Phase::Children(g) = k.phase {
                    self.cancel_frame(g);
                }
            }
        }
        self.frames[f as usize].children = children;
    }
}

/// What a Task of kind `call` sends for its effective input `eff`: the function
/// (named by `lambda:invoke`'s `FunctionName`, or the state's ARN) and its input.
fn task_request(
    eff: Val,
    call: &CallKind,
    function: &Arc<str>,
) -> Result<(TaskCall, Val), Failure> {
    Ok(match call {
        CallKind::LambdaInvoke => {
            let Val::Obj(o) = eff else {
                return Err(runtime("lambda:invoke Parameters must be an object".into()));
            };
            let name: Arc<str> = match o.get("FunctionName") {
                // A bare name (the common case) is shared, not copied.
                Some(Val::Str(s)) if function_name(s).len() == s.len() => s.clone(),
                Some(Val::Str(s)) => function_name(s).into(),
                other => {
                    return Err(runtime(format!(
                        "lambda:invoke FunctionName must be a string, got {}",
                        other.cloned().unwrap_or(Val::Null)
                    )))
                }
            };
            let payload = o.get("Payload").cloned().unwrap_or_else(Val::object);
            (TaskCall::Lambda { function: name }, payload)
        }
        CallKind::LambdaArn => (
            TaskCall::Lambda {
                function: function.clone(),
            },
            eff,
        ),
        CallKind::S3Get => (TaskCall::S3Get, eff),
        CallKind::S3Put => (TaskCall::S3Put, eff),
    })
}

/// The shared text of the path `var` inside `rule` (so `Choose` carries no allocation).
fn find_path_text(rule: &Rule, var: &str) -> Arc<str> {
    fn walk(rule: &Rule, var: &str) -> Option<Arc<str>> {
        match rule {
            Rule::And(rs) | Rule::Or(rs) => rs.iter().find_map(|r| walk(r, var)),
            Rule::Not(r) => walk(r, var),
            Rule::Test { variable, test } => {
                if &*variable.text == var {
                    return Some(variable.text.clone());
                }
                match test {
                    Test::Str(_, Operand::Path(p))
                    | Test::Num(_, Operand::Path(p))
                    | Test::Bool(Operand::Path(p))
                        if &*p.text == var =>
                    {
                        Some(p.text.clone())
                    }
                    _ => None,
                }
            }
        }
    }
    walk(rule, var).unwrap_or_else(|| var.into())
}

fn get(p: &Path, data: &Val, ctx: &Ctx) -> Result<Val, Failure> {
    p.get(data, ctx)
        .ok_or_else(|| runtime(format!("the JSONPath `{}` is not in the data", p.text)))
}

fn input_path(p: &IoPath, raw: &Val, ctx: &Ctx) -> Result<Val, Failure> {
    match p {
        IoPath::Identity => Ok(raw.clone()),
        IoPath::Null => Ok(Val::object()),
        IoPath::Path(p) => get(p, raw, ctx).map_err(|(e, c)| (e, format!("InputPath: {c}"))),
    }
}

fn output_path(p: &IoPath, v: Val) -> Result<Val, Failure> {
    match p {
        IoPath::Identity => Ok(v),
        IoPath::Null => Ok(Val::object()),
        IoPath::Path(p) => p.walk(&v).cloned().ok_or_else(|| {
            runtime(format!(
                "OutputPath: the JSONPath `{}` is not in the data",
                p.text
            ))
        }),
    }
}

/// ResultPath: where `result` goes in the state's raw input.
fn merge(p: &IoPath, mut raw: Val, result: Val) -> Result<Val, Failure> {
    match p {
        IoPath::Identity => Ok(result),
        IoPath::Null => Ok(raw),
        IoPath::Path(p) => {
            p.set(&mut raw, result).map_err(runtime)?;
            Ok(raw)
        }
    }
}
