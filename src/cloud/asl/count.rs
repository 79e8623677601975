//! `archsim asl count`: one execution of a machine with instant tasks, driving the same
//! [`Execution`] the simulation drives, and the transitions it is billed.
//!
//! Tasks answer at once with what they were given (a simulated function returns its
//! input — an assumption; for `lambda:invoke` the executor wraps it as
//! `{"Payload": …, "StatusCode": 200}`), except that a Task named in the fail plan
//! fails its first N attempts with `Lambda.TooManyRequestsException`. Waits and retry
//! intervals take no time here.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use super::value::Val;

use super::exec::{Action, Execution, Outcome, TaskError, Workflow};
use super::machine::{ExecutionType, Kind, Machine, StateId};
use crate::error::InputError;

/// AWS's execution-history limit; a count past it is an endless loop.
pub const MAX_HISTORY_EVENTS: u64 = 25_000;

/// The error a throttled Lambda invocation fails with.
pub const THROTTLED: &str = "Lambda.TooManyRequestsException";

/// One state's row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StateCount {
    pub name: String,
    pub entered: u64,
    pub retries: u64,
    /// Billed transitions at this state: its entries and retries unless it runs in an
    /// Express child, plus the child executions it starts (a Distributed Map).
    #[serde(skip)]
    pub transitions: u64,
}

/// What one execution is billed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CountReport {
    /// Billed Standard transitions: the parent's states entered and retries (the
    /// parent taken as a Standard workflow), one per Distributed Map child started,
    /// and Standard children's own states and retries.
    pub transitions: u64,
    pub states_entered: u64,
    pub retries: u64,
    /// In first-entered order.
    pub states: Vec<StateCount>,
    /// Child executions started by Distributed Maps, by type.
    #[serde(skip)]
    pub children: BTreeMap<ExecutionType, u64>,
    /// Transitions (states entered + retries) inside children, by type: Standard
    /// children's are in `transitions`, Express children's are billed by duration.
    #[serde(skip)]
    pub child_transitions: BTreeMap<ExecutionType, u64>,
    #[serde(skip)]
    pub outcome: Outcome,
}

/// `STATE=N` from `--fail`: that Task fails its first N attempts.
pub fn parse_fail(machine: &Machine, spec: &str) -> Result<(StateId, u32), InputError> {
    let bad = |msg: String| InputError::new("--fail", msg);
    let (name, n) = spec
        .rsplit_once('=')
        .ok_or_else(|| bad(format!("`{spec}`: expected STATE=N, e.g. Convert=2")))?;
    let n: u32 = n.trim().parse().map_err(|_| {
        bad(format!(
            "`{spec}`: N must be a whole number of failed attempts"
        ))
    })?;
    let tasks: Vec<&str> = machine
        .states
        .iter()
        .filter(|s| matches!(s.kind, Kind::Task { .. }))
        .map(|s| s.name.as_str())
        .collect();
    let id = machine
        .state_id(name)
        .filter(|id| matches!(machine.state(*id).kind, Kind::Task { .. }))
        .ok_or_else(|| {
            let hint = crate::error::nearest(name, &tasks)
                .map(|t| format!("; did you mean \"{t}\"?"))
                .unwrap_or_default();
            bad(format!(
                "no Task state \"{name}\" in {}; its Task states are {}{hint}",
                machine.file,
                tasks
                    .iter()
                    .map(|t| format!("\"{t}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
    Ok((id, n))
}

/// Parses the execution input `text` (the content of `file`) as JSON.
pub fn parse_input(file: &str, text: &str) -> Result<Value, InputError> {
    serde_json::from_str(text).map_err(|e| {
        let line = e.line().max(1);
        let snippet = text.lines().nth(line - 1).map(str::to_string);
        InputError {
            file: file.to_string(),
            line: Some(line),
            column: Some(e.column().max(1)),
            message: format!("invalid JSON execution input: {e}"),
            snippet,
        }
    })
}

/// Runs one execution with instant tasks. Without `input` the execution gets `{}`, and
/// a Choice that needs a value from it is an error suggesting `--input`.
pub fn count(
    machine: &Arc<Machine>,
    input: Option<&Value>,
    fails: &BTreeMap<StateId, u32>,
) -> Result<CountReport, InputError> {
    let mut exec = Execution::start(machine, input.map_or_else(Val::object, Val::from));
    let mut rows: Vec<(StateId, StateCount)> = Vec::new();
    let mut attempts: BTreeMap<StateId, u32> = BTreeMap::new();
    let mut report = CountReport {
        transitions: 0,
        states_entered: 0,
        retries: 0,
        states: Vec::new(),
        children: BTreeMap::new(),
        child_transitions: BTreeMap::new(),
        outcome: Outcome::Succeeded(Val::Null),
    };
    let mut actions = Vec::new();
    let mut events = 0u64;
    loop {
        exec.poll(&mut actions);
        if actions.is_empty() {
            return Err(InputError::new(
                &machine.file,
                "the execution stopped without finishing (an executor fault)",
            ));
        }
        for a in actions.drain(..) {
            events += 1;
            if events > MAX_HISTORY_EVENTS {
                return Err(InputError::new(
                    &machine.file,
                    format!("one execution passed {MAX_HISTORY_EVENTS} events (AWS's execution-history limit): the machine loops without end for this input"),
                ));
            }
            match a {
                Action::Enter {
                    cursor,
                    state,
                    retry,
                    workflow,
                } => {
                    let row = row_of(&mut rows, state);
                    if retry {
                        row.retries += 1;
                        report.retries += 1;
                    } else {
                        row.entered += 1;
                        report.states_entered += 1;
                    }
                    if billed(workflow) {
                        row.transitions += 1;
                        report.transitions += 1;
                    }
                    if let Workflow::Child(t) = workflow {
                        *report.child_transitions.entry(t).or_default() += 1;
                    }
                    exec.granted(cursor);
                }
                Action::StartChild {
                    cursor,
                    state,
                    child,
                    workflow,
                } => {
                    *report.children.entry(child).or_default() += 1;
                    if billed(workflow) {
                        row_of(&mut rows, state).transitions += 1;
                        report.transitions += 1;
                    }
                    exec.granted(cursor);
                }
                Action::Invoke { cursor, state, .. } => {
                    let tried = attempts.entry(state).or_default();
                    *tried += 1;
                    let r = match fails.get(&state) {
                        Some(&n) if *tried <= n => {
                            Err(TaskError::new(THROTTLED, "--fail: a throttled invocation"))
                        }
                        _ => Ok(exec.take_task_input(cursor)),
                    };
                    exec.task_done(cursor, r);
                }
                Action::Wait { cursor, .. } => exec.waited(cursor),
                Action::Choose {
                    state, variable, ..
                } => {
                    let name = &machine.state(state).name;
                    let hint = if input.is_some() {
                        "it is not in the execution's data for this input"
                    } else {
                        "no execution input was given: pass one with --input INPUT.json"
                    };
                    return Err(InputError::new(
                        &machine.file,
                        format!("state \"{name}\": the Choice reads `{variable}`, which is missing; {hint}"),
                    ));
                }
                Action::Done(outcome) => {
                    report.outcome = outcome;
                    report.states = rows
                        .into_iter()
                        .map(|(id, mut row)| {
                            row.name = machine.state(id).name.clone();
                            row
                        })
                        .collect();
                    return Ok(report);
                }
            }
        }
    }
}

/// The row of `state`, added on first entry (rows keep first-entered order).
fn row_of(rows: &mut Vec<(StateId, StateCount)>, state: StateId) -> &mut StateCount {
    let i = match rows.iter().position(|r| r.0 == state) {
        Some(i) => i,
        None => {
            let zero = StateCount {
                name: String::new(),
                entered: 0,
                retries: 0,
                transitions: 0,
            };
            rows.push((state, zero));
            rows.len() - 1
        }
    };
    &mut rows[i].1
}

/// True when a transition of `workflow` is billed per transition: the parent (taken as
/// Standard) and Standard children; Express children are billed by duration.
fn billed(workflow: Workflow) -> bool {
    !matches!(workflow, Workflow::Child(ExecutionType::Express))
}

impl CountReport {
    /// The people's view: one row per state, totals, children, the outcome.
    pub fn table(&self) -> String {
        let mut t = comfy_table::Table::new();
        t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
        t.set_width(100);
        t.set_header(vec!["state", "entered", "retries", "transitions"]);
        for s in &self.states {
            t.add_row(vec![
                s.name.clone(),
                s.entered.to_string(),
                s.retries.to_string(),
                s.transitions.to_string(),
            ]);
        }
        for col in 1..4 {
            if let Some(c) = t.column_mut(col) {
                c.set_cell_alignment(comfy_table::CellAlignment::Right);
            }
        }
        let mut out = format!("{t}\n");
        if self.children.is_empty() {
            out.push_str(&format!(
                "{} transitions billed: {} states entered + {} retries\n",
                self.transitions, self.states_entered, self.retries
            ));
        } else {
            out.push_str(&format!(
                "{} transitions billed ({} states entered and {} retries in all, children below)\n",
                self.transitions, self.states_entered, self.retries
            ));
        }
        for (t, n) in &self.children {
            let inside = self.child_transitions.get(t).copied().unwrap_or(0);
            out.push_str(&match t {
                ExecutionType::Standard => format!(
                    "{n} Standard children: {n} transitions to start them + {inside} for their states and retries\n"
                ),
                ExecutionType::Express => format!(
                    "{n} Express children: {n} transitions to start them; their {inside} states and retries are billed by duration\n"
                ),
            });
        }
        out.push_str(&match &self.outcome {
            Outcome::Succeeded(_) => "outcome: Succeeded\n".to_string(),
            Outcome::Failed { error, cause } => format!("outcome: Failed with {error} ({cause})\n"),
        });
        out
    }
}
