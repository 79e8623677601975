//! The compiled state machine: every state of every region (the top level, each
//! Parallel branch, each Map processor) in one `Vec`, `Next` resolved to indices and
//! paths precompiled, so the executor never looks a name up while it runs.

use std::sync::Arc;

use super::path::{Ctx, Path};
use super::value::{Obj, Val};

/// Index of a state in [`Machine::states`].
pub type StateId = u32;

/// A parsed and checked state machine.
#[derive(Debug, Clone)]
pub struct Machine {
    /// The file it came from, for messages.
    pub file: String,
    pub states: Vec<StateDef>,
    /// The top level's `StartAt`.
    pub start: StateId,
    /// The machine's `TimeoutSeconds`, in ns (the driver enforces it).
    pub timeout_ns: Option<u64>,
}

impl Machine {
    /// The state called `name` (names are unique in a whole machine, as in AWS).
    pub fn state_id(&self, name: &str) -> Option<StateId> {
        self.states
            .iter()
            .position(|s| s.name == name)
            .map(|i| i as StateId)
    }

    pub fn state(&self, id: StateId) -> &StateDef {
        &self.states[id as usize]
    }
}

/// One state, its data-flow fields and its error handling.
#[derive(Debug, Clone)]
pub struct StateDef {
    pub name: String,
    pub kind: Kind,
    pub input_path: IoPath,
    pub output_path: IoPath,
    pub result_path: IoPath,
    /// `Parameters` (or a Map's `ItemSelector`, kept in [`Kind::Map`]).
    pub parameters: Option<Template>,
    pub result_selector: Option<Template>,
    /// `None` for `End: true` (and for Choice, Succeed and Fail).
    pub next: Option<StateId>,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
}

/// `InputPath`, `OutputPath`, `ResultPath`: absent means `$`, `null` discards.
#[derive(Debug, Clone, PartialEq)]
pub enum IoPath {
    Identity,
    Null,
    Path(Path),
}

#[derive(Debug, Clone)]
pub enum Kind {
    Task {
        call: CallKind,
        /// The function of a plain Lambda ARN (empty for the other calls).
        function: Arc<str>,
        timeout_ns: Option<u64>,
    },
    Pass {
        result: Option<Val>,
    },
    Wait(WaitFor),
    Choice {
        rules: Vec<(Rule, StateId)>,
        default: Option<StateId>,
    },
    Parallel {
        /// `StartAt` of each branch.
        branches: Vec<StateId>,
    },
    Map {
        /// `StartAt` of the item processor.
        start: StateId,
        items_path: IoPath,
        item_selector: Option<Template>,
        /// At most this many iterations in flight (0 in the file becomes the
        /// service's limit: 40 Inline, 10,000 Distributed).
        max_concurrency: u32,
        /// `Some` for `ProcessorConfig.Mode = "DISTRIBUTED"`.
        distributed: Option<ExecutionType>,
    },
    Succeed,
    Fail {
        error: String,
        cause: String,
    },
}

/// What a Task calls.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CallKind {
    /// `arn:aws:states:::lambda:invoke`: `Parameters.FunctionName` and `Payload`; the
    /// result is `{"Payload": …, "StatusCode": 200}`.
    LambdaInvoke,
    /// A plain function ARN: the function gets the effective input, the result is
    /// what it returns. The name is in [`Kind::Task`]'s `function`.
    LambdaArn,
    S3Get,
    S3Put,
}

/// Workflow type of a Distributed Map's child executions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum ExecutionType {
    Standard,
    Express,
}

#[derive(Debug, Clone)]
pub enum WaitFor {
    Ns(u64),
    SecondsPath(Path),
}

/// A `Retry` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Retrier {
    pub errors: Vec<ErrorName>,
    pub interval_ns: u64,
    pub backoff_rate: f64,
    pub max_attempts: u32,
    pub max_delay_ns: Option<u64>,
    pub full_jitter: bool,
}

impl Retrier {
    /// The wait before retry number `n` (0 for the first): `IntervalSeconds ×
    /// BackoffRate^n`, capped at `MaxDelaySeconds`; with FULL jitter this is the
    /// upper end of the uniform draw.
    pub fn delay_ns(&self, n: u32) -> u64 {
        let d = self.interval_ns as f64 * self.backoff_rate.powi(n as i32);
        let d = if d.is_finite() {
            d.min(u64::MAX as f64) as u64
        } else {
            u64::MAX
        };
        self.max_delay_ns.map_or(d, |m| d.min(m))
    }
}

/// A `Catch` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Catcher {
    pub errors: Vec<ErrorName>,
    pub next: StateId,
    pub result_path: IoPath,
}

/// A name in `ErrorEquals`.
#[derive(Debug, Clone, PartialEq)]
pub enum ErrorName {
    /// `States.ALL`: any error but `States.Runtime`.
    All,
    /// `States.TaskFailed`: any error but `States.Timeout` and `States.Runtime`.
    TaskFailed,
    Named(Box<str>),
}

/// The error a state fails with when its data does not fit (not retriable).
pub const RUNTIME: &str = "States.Runtime";
/// The error a Task gets when it runs past `TimeoutSeconds`.
pub const TIMEOUT: &str = "States.Timeout";

/// True when `names` (one `ErrorEquals`) match `error`.
pub fn matches(names: &[ErrorName], error: &str) -> bool {
    names.iter().any(|n| match n {
        ErrorName::All => error != RUNTIME,
        ErrorName::TaskFailed => error != RUNTIME && error != TIMEOUT,
        ErrorName::Named(s) => **s == *error,
    })
}

/// A Choice rule.
#[derive(Debug, Clone)]
pub enum Rule {
    And(Vec<Rule>),
    Or(Vec<Rule>),
    Not(Box<Rule>),
    Test { variable: Path, test: Test },
}

/// A comparison of a Choice rule's `Variable`.
#[derive(Debug, Clone)]
pub enum Test {
    Str(Cmp, Operand),
    Num(Cmp, Operand),
    Bool(Operand),
    IsPresent(bool),
    IsNull(bool),
    IsString(bool),
    IsNumeric(bool),
    IsBoolean(bool),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

/// The right-hand side: a literal, or another path (`…Path` operators).
#[derive(Debug, Clone)]
pub enum Operand {
    Value(Val),
    Path(Path),
}

/// A Choice rule could not be decided: this path is not in the data.
#[derive(Debug, Clone, PartialEq)]
pub struct Missing<'a>(pub &'a str);

impl Rule {
    /// Evaluates the rule; `Err` names a compared path that is not in the data.
    pub fn eval<'r>(&'r self, data: &Val, ctx: &Ctx) -> Result<bool, Missing<'r>> {
        match self {
            Rule::And(rs) => {
                for r in rs {
                    if !r.eval(data, ctx)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Rule::Or(rs) => {
                for r in rs {
                    if r.eval(data, ctx)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Rule::Not(r) => Ok(!r.eval(data, ctx)?),
            Rule::Test { variable, test } => {
                let v = variable.get(data, ctx);
                let present = |want: bool, f: fn(&Val) -> bool| -> Result<bool, Missing<'r>> {
                    match &v {
                        Some(v) => Ok(f(v) == want),
                        None => Err(Missing(&variable.text)),
                    }
                };
                match test {
                    Test::IsPresent(want) => Ok(v.is_some() == *want),
                    Test::IsNull(w) => present(*w, Val::is_null),
                    Test::IsString(w) => present(*w, Val::is_string),
                    Test::IsNumeric(w) => present(*w, Val::is_number),
                    Test::IsBoolean(w) => present(*w, Val::is_boolean),
                    Test::Str(cmp, rhs) | Test::Num(cmp, rhs) => {
                        let v = v.ok_or(Missing(&variable.text))?;
                        let r = operand(rhs, data, ctx)?;
                        let ord = if matches!(test, Test::Str(..)) {
                            match (v.as_str(), r.as_str()) {
                                (Some(a), Some(b)) => a.cmp(b),
                                _ => return Ok(false),
                            }
                        } else {
                            match (v.as_f64(), r.as_f64()) {
                                (Some(a), Some(b)) => match a.partial_cmp(&b) {
                                    Some(o) => o,
                                    None => return Ok(false),
                                },
                                _ => return Ok(false),
                            }
                        };
                        use std::cmp::Ordering::*;
                        Ok(match cmp {
                            Cmp::Eq => ord == Equal,
                            Cmp::Lt => ord == Less,
                            Cmp::Le => ord != Greater,
                            Cmp::Gt => ord == Greater,
                            Cmp::Ge => ord != Less,
                        })
                    }
                    Test::Bool(rhs) => {
                        let v = v.ok_or(Missing(&variable.text))?;
                        let r = operand(rhs, data, ctx)?;
                        Ok(matches!((v.as_bool(), r.as_bool()), (Some(a), Some(b)) if a == b))
                    }
                }
            }
        }
    }
}

fn operand<'r>(rhs: &'r Operand, data: &Val, ctx: &Ctx) -> Result<Val, Missing<'r>> {
    match rhs {
        Operand::Value(v) => Ok(v.clone()),
        Operand::Path(p) => p.get(data, ctx).ok_or(Missing(&p.text)),
    }
}

/// A payload template (`Parameters`, `ItemSelector`, `ResultSelector`): fields whose
/// name ends in `.$` take a path's value or an intrinsic function's result.
#[derive(Debug, Clone)]
pub enum Template {
    Const(Val),
    /// Fields sorted by name, as the object they render to keeps them.
    Object(Vec<(Arc<str>, Template)>),
    Array(Vec<Template>),
    Path(Path),
    Intrinsic(super::intrinsic::Call),
}

impl Template {
    /// The payload for `data`; `Err` is a message for `States.Runtime`.
    pub fn render(&self, data: &Val, ctx: &Ctx) -> Result<Val, String> {
        Ok(match self {
            Template::Const(v) => v.clone(),
            Template::Object(fields) => {
                let mut m = Vec::with_capacity(fields.len());
                for (k, t) in fields {
                    m.push((k.clone(), t.render(data, ctx)?));
                }
                Val::Obj(Arc::new(Obj::from_sorted(m)))
            }
            Template::Array(items) => Val::array(
                items
                    .iter()
                    .map(|t| t.render(data, ctx))
                    .collect::<Result<_, _>>()?,
            ),
            Template::Path(p) => p
                .get(data, ctx)
                .ok_or_else(|| format!("the JSONPath `{}` is not in the data", p.text))?,
            Template::Intrinsic(call) => call.eval(data, ctx)?,
        })
    }
}
