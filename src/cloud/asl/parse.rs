//! Amazon States Language JSON to a [`Machine`]. The text is parsed by `jsonc-parser`
//! (strict JSON: no comments, no trailing commas), which keeps every value's byte
//! range, so each mistake is reported as `file:line:col: state "Name": … expected …`.
//! A feature archsim does not interpret is an error naming it, never a silent skip.

use std::collections::BTreeMap;

use jsonc_parser::ast::{self, Object, ObjectProp};
use jsonc_parser::common::{Range, Ranged};
use jsonc_parser::{CollectOptions, ParseOptions};
use std::sync::Arc;

use serde_json::Value;

use super::intrinsic::Call;
use super::machine::*;
use super::path::Path;
use super::value::Val;
use crate::error::{nearest, InputError};

/// Fields AWS defines that archsim does not interpret: refused by name.
const UNSUPPORTED_FIELDS: [&str; 20] = [
    "Arguments",
    "Assign",
    "CausePath",
    "Credentials",
    "ErrorPath",
    "HeartbeatSeconds",
    "HeartbeatSecondsPath",
    "ItemBatcher",
    "ItemReader",
    "Items",
    "MaxConcurrencyPath",
    "Output",
    "ResultWriter",
    "Timestamp",
    "TimestampPath",
    "TimeoutSecondsPath",
    "ToleratedFailureCount",
    "ToleratedFailureCountPath",
    "ToleratedFailurePercentage",
    "ToleratedFailurePercentagePath",
];

/// Seconds in a year (366 days): the longest a Standard execution runs.
const YEAR_S: u64 = 31_622_400;
const NS: u64 = 1_000_000_000;

/// Parses the ASL definition `text`, the content of `file`.
pub fn parse(file: &str, text: &str) -> Result<Machine, InputError> {
    let strict = ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    };
    let src = Src { file, text };
    let parsed = jsonc_parser::parse_to_ast(text, &CollectOptions::default(), &strict)
        .map_err(|e| src.at(e.range(), None, format!("invalid JSON: {}", e.kind())))?;
    let Some(root) = parsed.value else {
        return Err(InputError::new(
            file,
            "empty file: expected an ASL state machine (a JSON object)",
        ));
    };
    let obj = root.as_object().ok_or_else(|| {
        src.at(
            root.range(),
            None,
            "expected an ASL state machine (a JSON object)",
        )
    })?;
    let mut c = Compiler {
        src,
        slots: Vec::new(),
        names: BTreeMap::new(),
    };
    let f = c.fields(
        obj,
        None,
        &[
            "StartAt",
            "States",
            "Comment",
            "Version",
            "TimeoutSeconds",
            "QueryLanguage",
        ],
    )?;
    c.query_language(&f, None)?;
    let timeout_ns = match f.get("TimeoutSeconds") {
        Some(v) => Some(c.uint(v, None, "TimeoutSeconds", 1..=YEAR_S)? * NS),
        None => None,
    };
    let start = c.region(&f, obj.range, None)?;
    let states = c
        .slots
        .into_iter()
        .map(|s| s.expect("every reserved state is compiled"))
        .collect();
    Ok(Machine {
        file: file.to_string(),
        states,
        start,
        timeout_ns,
    })
}

/// Reads and parses an ASL file.
pub fn load(path: &std::path::Path) -> crate::Result<Machine> {
    let text = crate::error::read_text(path)?;
    Ok(parse(&path.display().to_string(), &text)?)
}

/// The function name in a Lambda `FunctionName` or ARN: `arn:aws:lambda:R:A:function:NAME[:qualifier]`,
/// `A:function:NAME`, `NAME:qualifier` and `NAME` all give `NAME`.
pub fn function_name(s: &str) -> &str {
    let mut after_function = false;
    for part in s.split(':') {
        if after_function {
            return part;
        }
        after_function = part == "function";
    }
    s.split(':').next().unwrap_or(s)
}

struct Src<'t> {
    file: &'t str,
    text: &'t str,
}

impl Src<'_> {
    fn at(&self, range: Range, state: Option<&str>, msg: impl Into<String>) -> InputError {
        let msg = msg.into();
        let msg = match state {
            Some(s) => format!("state \"{s}\": {msg}"),
            None => msg,
        };
        InputError::at_span(self.file, self.text, range.start..range.end, msg)
    }
}

/// An object's fields after checking that each is known.
struct Fields<'a, 'b> {
    obj: &'b Object<'a>,
}

impl<'a, 'b> Fields<'a, 'b> {
    fn get(&self, name: &str) -> Option<&'b ast::Value<'a>> {
        self.obj.get(name).map(|p| &p.value)
    }
    fn prop(&self, name: &str) -> Option<&'b ObjectProp<'a>> {
        self.obj.get(name)
    }
}

struct Compiler<'t> {
    src: Src<'t>,
    slots: Vec<Option<StateDef>>,
    /// Every state name in the machine, for uniqueness.
    names: BTreeMap<String, Range>,
}

impl<'t> Compiler<'t> {
    fn err(&self, range: Range, state: Option<&str>, msg: impl Into<String>) -> InputError {
        self.src.at(range, state, msg)
    }

    /// Checks `obj`'s field names against `allowed` (plus a refusal of the fields AWS
    /// has and archsim does not interpret) and duplicates.
    fn fields<'a, 'b>(
        &self,
        obj: &'b Object<'a>,
        state: Option<&str>,
        allowed: &[&str],
    ) -> Result<Fields<'a, 'b>, InputError> {
        let mut seen: Vec<&str> = Vec::new();
        for p in &obj.properties {
            let name = p.name.as_str();
            if seen.contains(&name) {
                return Err(self.err(
                    p.name.range(),
                    state,
                    format!("field `{name}` appears twice"),
                ));
            }
            seen.push(name);
            if allowed.contains(&name) {
                continue;
            }
            let msg = if UNSUPPORTED_FIELDS.contains(&name) {
                format!("`{name}` is not supported by archsim's ASL interpreter")
            } else {
                let hint = nearest(name, allowed)
                    .map(|n| format!("; did you mean `{n}`?"))
                    .unwrap_or_default();
                format!(
                    "unknown field `{name}`, expected one of {}{hint}",
                    quote_list(allowed)
                )
            };
            return Err(self.err(p.name.range(), state, msg));
        }
        Ok(Fields { obj })
    }

    fn query_language(&self, f: &Fields, state: Option<&str>) -> Result<(), InputError> {
        if let Some(v) = f.get("QueryLanguage") {
            let (s, r) = self.string(v, state, "QueryLanguage")?;
            if s != "JSONPath" {
                return Err(self.err(
                    r,
                    state,
                    format!("QueryLanguage \"{s}\" is not supported: archsim interprets JSONPath machines only (expected \"JSONPath\")"),
                ));
            }
        }
        Ok(())
    }

    fn string<'v>(
        &self,
        v: &'v ast::Value,
        state: Option<&str>,
        field: &str,
    ) -> Result<(&'v str, Range), InputError> {
        match v {
            ast::Value::StringLit(s) => Ok((s.value.as_ref(), s.range)),
            other => Err(self.err(other.range(), state, format!("{field}: expected a string"))),
        }
    }

    /// A whole number in `range` (seconds fields: at most a year, AWS's longest
    /// execution, so nanoseconds never overflow).
    fn uint(
        &self,
        v: &ast::Value,
        state: Option<&str>,
        field: &str,
        range: std::ops::RangeInclusive<u64>,
    ) -> Result<u64, InputError> {
        let n = match v {
            ast::Value::NumberLit(n) => n.value.parse::<u64>().ok(),
            _ => None,
        };
        match n {
            Some(n) if range.contains(&n) => Ok(n),
            _ if *range.end() == u64::MAX => Err(self.err(
                v.range(),
                state,
                format!(
                    "{field}: expected a whole number of at least {}",
                    range.start()
                ),
            )),
            _ => Err(self.err(
                v.range(),
                state,
                format!(
                    "{field}: expected a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            )),
        }
    }

    fn number(&self, v: &ast::Value, state: Option<&str>, field: &str) -> Result<f64, InputError> {
        match v {
            ast::Value::NumberLit(n) => n
                .value
                .parse::<f64>()
                .map_err(|_| self.err(v.range(), state, format!("{field}: expected a number"))),
            _ => Err(self.err(v.range(), state, format!("{field}: expected a number"))),
        }
    }

    fn object<'a, 'b>(
        &self,
        v: &'b ast::Value<'a>,
        state: Option<&str>,
        field: &str,
    ) -> Result<&'b Object<'a>, InputError> {
        v.as_object()
            .ok_or_else(|| self.err(v.range(), state, format!("{field}: expected an object")))
    }

    fn array<'a, 'b>(
        &self,
        v: &'b ast::Value<'a>,
        state: Option<&str>,
        field: &str,
    ) -> Result<&'b [ast::Value<'a>], InputError> {
        v.as_array()
            .map(|a| a.elements.as_slice())
            .ok_or_else(|| self.err(v.range(), state, format!("{field}: expected an array")))
    }

    fn path(&self, v: &ast::Value, state: Option<&str>, field: &str) -> Result<Path, InputError> {
        let (s, r) = self.string(v, state, field)?;
        Path::parse(s).map_err(|e| self.err(r, state, format!("{field}: {e}")))
    }

    /// `InputPath`, `OutputPath`, `ResultPath`, `ItemsPath`: a path or `null`.
    fn io_path(&self, f: &Fields, state: &str, field: &str) -> Result<IoPath, InputError> {
        match f.get(field) {
            None => Ok(IoPath::Identity),
            Some(ast::Value::NullKeyword(_)) => Ok(IoPath::Null),
            Some(v) => {
                let p = self.path(v, Some(state), field)?;
                if matches!(field, "ResultPath" | "OutputPath") && p.root != super::path::Root::Data
                {
                    return Err(self.err(
                        v.range(),
                        Some(state),
                        format!(
                            "{field}: expected a path into the data (`$…`), not the context object"
                        ),
                    ));
                }
                Ok(if p.is_identity() {
                    IoPath::Identity
                } else {
                    IoPath::Path(p)
                })
            }
        }
    }

    /// A `States` object with its `StartAt`: reserves an id for each state, compiles
    /// them and returns the id of `StartAt`.
    fn region(
        &mut self,
        f: &Fields,
        whole: Range,
        owner: Option<&str>,
    ) -> Result<StateId, InputError> {
        let Some(start_v) = f.get("StartAt") else {
            return Err(self.err(
                whole,
                owner,
                "missing `StartAt`: expected the name of the first state",
            ));
        };
        let Some(states_v) = f.get("States") else {
            return Err(self.err(
                whole,
                owner,
                "missing `States`: expected an object of states",
            ));
        };
        let (start, start_r) = self.string(start_v, owner, "StartAt")?;
        let states = self.object(states_v, owner, "States")?;
        if states.properties.is_empty() {
            return Err(self.err(states.range, owner, "States: expected at least one state"));
        }
        let base = self.slots.len() as StateId;
        let mut local: Vec<&str> = Vec::new();
        for p in &states.properties {
            let name = p.name.as_str();
            if name.is_empty() || name.chars().count() > 80 {
                return Err(self.err(
                    p.name.range(),
                    None,
                    "a state name must be 1 to 80 characters",
                ));
            }
            if let Some(_first) = self.names.get(name) {
                return Err(self.err(
                    p.name.range(),
                    Some(name),
                    "a state of this name exists already: state names must be unique in the whole machine",
                ));
            }
            self.names.insert(name.to_string(), p.name.range());
            local.push(name);
            self.slots.push(None);
        }
        for (i, p) in states.properties.iter().enumerate() {
            let def = self.state(p, &local, base)?;
            self.slots[base as usize + i] = Some(def);
        }
        resolve(&local, base, start)
            .ok_or_else(|| self.err(start_r, owner, unknown_state("StartAt", start, &local)))
    }

    fn state(
        &mut self,
        p: &ObjectProp,
        local: &[&str],
        base: StateId,
    ) -> Result<StateDef, InputError> {
        let name = p.name.as_str();
        let s = Some(name);
        let obj = self.object(&p.value, s, "a state")?;
        let Some(type_v) = obj.get("Type") else {
            return Err(self.err(
                obj.range,
                s,
                "missing `Type`: expected Task, Pass, Wait, Choice, Parallel, Map, Succeed or Fail",
            ));
        };
        let (ty, ty_r) = self.string(&type_v.value, s, "Type")?;
        const COMMON: [&str; 3] = ["Type", "Comment", "QueryLanguage"];
        const FLOW: [&str; 5] = ["InputPath", "OutputPath", "Next", "End", "ResultPath"];
        const HANDLERS: [&str; 4] = ["Parameters", "ResultSelector", "Retry", "Catch"];
        let extra: &[&str] = match ty {
            "Task" => &["Resource", "TimeoutSeconds"],
            "Pass" => &["Result", "Parameters"],
            "Wait" => &["Seconds", "SecondsPath"],
            "Choice" => &["Choices", "Default", "InputPath", "OutputPath"],
            "Parallel" => &["Branches"],
            "Map" => &["ItemProcessor", "Iterator", "ItemsPath", "ItemSelector", "MaxConcurrency", "Label"],
            "Succeed" => &["InputPath", "OutputPath"],
            "Fail" => &["Error", "Cause"],
            other => {
                return Err(self.err(ty_r, s, format!("unknown Type \"{other}\": expected Task, Pass, Wait, Choice, Parallel, Map, Succeed or Fail")))
            }
        };
        let mut allowed: Vec<&str> = COMMON.iter().chain(extra).copied().collect();
        if matches!(ty, "Task" | "Pass" | "Wait" | "Parallel" | "Map") {
            allowed.extend(FLOW);
            if ty == "Wait" {
                allowed.retain(|f| *f != "ResultPath");
            }
        }
        if matches!(ty, "Task" | "Parallel" | "Map") {
            allowed.extend(HANDLERS);
        }
        let f = self.fields(obj, s, &allowed)?;
        self.query_language(&f, s)?;

        let next = self.next(
            &f,
            obj.range,
            name,
            local,
            base,
            matches!(ty, "Task" | "Pass" | "Wait" | "Parallel" | "Map"),
        )?;
        let parameters = match f.get("Parameters") {
            Some(v) => Some(self.template(v, name)?),
            None => None,
        };
        let result_selector = match f.get("ResultSelector") {
            Some(v) => Some(self.template(v, name)?),
            None => None,
        };
        let retry = match f.get("Retry") {
            Some(v) => self.retriers(v, name)?,
            None => Vec::new(),
        };
        let catch = match f.get("Catch") {
            Some(v) => self.catchers(v, name, local, base)?,
            None => Vec::new(),
        };
        let kind = match ty {
            "Task" => self.task(&f, obj.range, name, parameters.as_ref())?,
            "Pass" => Kind::Pass {
                result: f.get("Result").map(|v| Val::from(Value::from(v.clone()))),
            },
            "Wait" => match (f.get("Seconds"), f.get("SecondsPath")) {
                (Some(v), None) => {
                    Kind::Wait(WaitFor::Ns(self.uint(v, s, "Seconds", 0..=YEAR_S)? * NS))
                }
                (None, Some(v)) => {
                    Kind::Wait(WaitFor::SecondsPath(self.path(v, s, "SecondsPath")?))
                }
                _ => {
                    return Err(self.err(
                        obj.range,
                        s,
                        "a Wait state needs exactly one of `Seconds` or `SecondsPath`",
                    ))
                }
            },
            "Choice" => self.choice(&f, obj.range, name, local, base)?,
            "Parallel" => {
                let Some(v) = f.get("Branches") else {
                    return Err(self.err(
                        obj.range,
                        s,
                        "missing `Branches`: expected an array of {StartAt, States}",
                    ));
                };
                let mut branches = Vec::new();
                for b in self.array(v, s, "Branches")? {
                    let bo = self.object(b, s, "a branch")?;
                    let bf = self.fields(bo, s, &["StartAt", "States", "Comment"])?;
                    branches.push(self.region(&bf, bo.range, s)?);
                }
                if branches.is_empty() {
                    return Err(self.err(v.range(), s, "Branches: expected at least one branch"));
                }
                Kind::Parallel { branches }
            }
            "Map" => self.map(&f, obj.range, name, &parameters)?,
            "Succeed" => Kind::Succeed,
            _ => {
                let text = |field: &str| -> Result<String, InputError> {
                    Ok(match f.get(field) {
                        Some(v) => self.string(v, s, field)?.0.to_string(),
                        None => String::new(),
                    })
                };
                Kind::Fail {
                    error: text("Error")?,
                    cause: text("Cause")?,
                }
            }
        };
        // A Map's `Parameters` is its (legacy) item selector, not a task payload.
        let parameters = if ty == "Map" { None } else { parameters };
        Ok(StateDef {
            name: name.to_string(),
            kind,
            input_path: self.io_path(&f, name, "InputPath")?,
            output_path: self.io_path(&f, name, "OutputPath")?,
            result_path: self.io_path(&f, name, "ResultPath")?,
            parameters,
            result_selector,
            next,
            retry,
            catch,
        })
    }

    /// `Next` or `End: true`, exactly one, for the states that continue.
    fn next(
        &self,
        f: &Fields,
        whole: Range,
        name: &str,
        local: &[&str],
        base: StateId,
        continues: bool,
    ) -> Result<Option<StateId>, InputError> {
        if !continues {
            return Ok(None);
        }
        let end = match f.get("End") {
            Some(ast::Value::BooleanLit(b)) => b.value,
            Some(v) => return Err(self.err(v.range(), Some(name), "End: expected true")),
            None => false,
        };
        match (f.get("Next"), end) {
            (Some(v), false) => {
                let (n, r) = self.string(v, Some(name), "Next")?;
                resolve(local, base, n)
                    .map(Some)
                    .ok_or_else(|| self.err(r, Some(name), unknown_state("Next", n, local)))
            }
            (None, true) => Ok(None),
            (Some(v), true) => Err(self.err(
                v.range(),
                Some(name),
                "has both `Next` and `End: true`: expected one",
            )),
            (None, false) => Err(self.err(whole, Some(name), "expected `Next` or `End: true`")),
        }
    }

    fn task(
        &self,
        f: &Fields,
        whole: Range,
        name: &str,
        params: Option<&Template>,
    ) -> Result<Kind, InputError> {
        let s = Some(name);
        let Some(rv) = f.get("Resource") else {
            return Err(self.err(whole, s, "missing `Resource`: expected arn:aws:states:::lambda:invoke, a Lambda function ARN or arn:aws:states:::aws-sdk:s3:getObject/putObject"));
        };
        let (res, rr) = self.string(rv, s, "Resource")?;
        let timeout_ns = match f.get("TimeoutSeconds") {
            Some(v) => Some(self.uint(v, s, "TimeoutSeconds", 1..=YEAR_S)? * NS),
            None => None,
        };
        let (call, function) = if let Some(service) = res.strip_prefix("arn:aws:states:::") {
            for suffix in [".sync", ".waitForTaskToken"] {
                if service.contains(suffix) {
                    return Err(self.err(rr, s, format!("Resource \"{res}\": the `{suffix}` integration pattern is not supported; expected the request-response form (e.g. arn:aws:states:::lambda:invoke)")));
                }
            }
            match service {
                "lambda:invoke" => {
                    let has_name = matches!(params, Some(Template::Object(fields)) if fields.iter().any(|(k, _)| &**k == "FunctionName"))
                        || matches!(params, Some(Template::Const(Val::Obj(m))) if m.contains_key("FunctionName"));
                    if !has_name {
                        let at = f.prop("Parameters").map_or(rr, |p| p.range);
                        return Err(self.err(at, s, "lambda:invoke needs `Parameters` with `FunctionName` (or `FunctionName.$`)"));
                    }
                    (CallKind::LambdaInvoke, String::new())
                }
                "aws-sdk:s3:getObject" => (CallKind::S3Get, String::new()),
                "aws-sdk:s3:putObject" => (CallKind::S3Put, String::new()),
                other => {
                    return Err(self.err(rr, s, format!("integration `{other}` is not supported; expected lambda:invoke, aws-sdk:s3:getObject, aws-sdk:s3:putObject or a Lambda function ARN")))
                }
            }
        } else if res.starts_with("arn:aws:lambda:") && res.split(':').nth(5) == Some("function") {
            let fname = function_name(res);
            if fname.is_empty() {
                return Err(self.err(
                    rr,
                    s,
                    "Resource: expected arn:aws:lambda:REGION:ACCOUNT:function:NAME",
                ));
            }
            (CallKind::LambdaArn, fname.to_string())
        } else {
            return Err(self.err(rr, s, format!("Resource \"{res}\" is not supported; expected arn:aws:states:::lambda:invoke, arn:aws:lambda:REGION:ACCOUNT:function:NAME or arn:aws:states:::aws-sdk:s3:getObject/putObject")));
        };
        Ok(Kind::Task {
            call,
            function: function.as_str().into(),
            timeout_ns,
        })
    }

    fn map(
        &mut self,
        f: &Fields,
        whole: Range,
        name: &str,
        legacy_params: &Option<Template>,
    ) -> Result<Kind, InputError> {
        let s = Some(name);
        let (proc_v, field) = match (f.get("ItemProcessor"), f.get("Iterator")) {
            (Some(v), None) => (v, "ItemProcessor"),
            (None, Some(v)) => (v, "Iterator"),
            (Some(_), Some(v)) => {
                return Err(self.err(
                    v.range(),
                    s,
                    "has both `ItemProcessor` and `Iterator`: expected one",
                ))
            }
            (None, None) => {
                return Err(self.err(
                    whole,
                    s,
                    "missing `ItemProcessor`: expected {ProcessorConfig?, StartAt, States}",
                ))
            }
        };
        let po = self.object(proc_v, s, field)?;
        let allowed: &[&str] = if field == "ItemProcessor" {
            &["StartAt", "States", "Comment", "ProcessorConfig"]
        } else {
            &["StartAt", "States", "Comment"]
        };
        let pf = self.fields(po, s, allowed)?;
        let mut distributed = None;
        if let Some(cv) = pf.get("ProcessorConfig") {
            let co = self.object(cv, s, "ProcessorConfig")?;
            let cf = self.fields(co, s, &["Mode", "ExecutionType"])?;
            let mode = match cf.get("Mode") {
                Some(v) => self.string(v, s, "Mode")?,
                None => ("INLINE", co.range),
            };
            match mode.0 {
                "INLINE" => {
                    if let Some(v) = cf.get("ExecutionType") {
                        return Err(self.err(
                            v.range(),
                            s,
                            "ExecutionType applies to DISTRIBUTED mode only",
                        ));
                    }
                }
                "DISTRIBUTED" => {
                    let Some(v) = cf.get("ExecutionType") else {
                        return Err(self.err(
                            co.range,
                            s,
                            "a DISTRIBUTED Map needs `ExecutionType`: STANDARD or EXPRESS",
                        ));
                    };
                    distributed = Some(match self.string(v, s, "ExecutionType")? {
                        ("STANDARD", _) => ExecutionType::Standard,
                        ("EXPRESS", _) => ExecutionType::Express,
                        (other, r) => {
                            return Err(self.err(
                                r,
                                s,
                                format!("ExecutionType \"{other}\": expected STANDARD or EXPRESS"),
                            ))
                        }
                    });
                }
                other => {
                    return Err(self.err(
                        mode.1,
                        s,
                        format!("Mode \"{other}\": expected INLINE or DISTRIBUTED"),
                    ))
                }
            }
        }
        let start = self.region(&pf, po.range, s)?;
        let item_selector = match (f.get("ItemSelector"), legacy_params) {
            (Some(_), Some(_)) => {
                let r = f.prop("Parameters").map_or(whole, |p| p.range);
                return Err(self.err(
                    r,
                    s,
                    "has both `ItemSelector` and `Parameters`: expected one",
                ));
            }
            (Some(v), None) => Some(self.template(v, name)?),
            (None, p) => p.clone(),
        };
        let limit = if distributed.is_some() { 10_000 } else { 40 };
        let max_concurrency = match f.get("MaxConcurrency") {
            Some(v) => self
                .uint(v, s, "MaxConcurrency", 0..=u64::MAX)?
                .min(u32::MAX as u64) as u32,
            None => 0,
        };
        let max_concurrency = if max_concurrency == 0 {
            limit
        } else {
            max_concurrency.min(limit)
        };
        Ok(Kind::Map {
            start,
            items_path: self.io_path(f, name, "ItemsPath")?,
            item_selector,
            max_concurrency,
            distributed,
        })
    }

    fn choice(
        &self,
        f: &Fields,
        whole: Range,
        name: &str,
        local: &[&str],
        base: StateId,
    ) -> Result<Kind, InputError> {
        let s = Some(name);
        let Some(cv) = f.get("Choices") else {
            return Err(self.err(whole, s, "missing `Choices`: expected an array of rules"));
        };
        let mut rules = Vec::new();
        for rv in self.array(cv, s, "Choices")? {
            let ro = self.object(rv, s, "a choice rule")?;
            let Some(nv) = ro.get("Next") else {
                return Err(self.err(ro.range, s, "a choice rule needs `Next`"));
            };
            let (n, nr) = self.string(&nv.value, s, "Next")?;
            let target = resolve(local, base, n)
                .ok_or_else(|| self.err(nr, s, unknown_state("Next", n, local)))?;
            rules.push((self.rule(ro, name, true)?, target));
        }
        if rules.is_empty() {
            return Err(self.err(cv.range(), s, "Choices: expected at least one rule"));
        }
        let default = match f.get("Default") {
            Some(v) => {
                let (n, r) = self.string(v, s, "Default")?;
                Some(
                    resolve(local, base, n)
                        .ok_or_else(|| self.err(r, s, unknown_state("Default", n, local)))?,
                )
            }
            None => None,
        };
        Ok(Kind::Choice { rules, default })
    }

    fn rule(&self, o: &Object, name: &str, top: bool) -> Result<Rule, InputError> {
        let s = Some(name);
        const OPS: [&str; 16] = [
            "StringEquals",
            "StringLessThan",
            "StringGreaterThan",
            "StringLessThanEquals",
            "StringGreaterThanEquals",
            "NumericEquals",
            "NumericLessThan",
            "NumericGreaterThan",
            "NumericLessThanEquals",
            "NumericGreaterThanEquals",
            "BooleanEquals",
            "IsPresent",
            "IsNull",
            "IsString",
            "IsNumeric",
            "IsBoolean",
        ];
        let mut op: Option<(&str, &ast::Value, Range)> = None;
        for p in &o.properties {
            let k = p.name.as_str();
            match k {
                "Next" if top => continue,
                "Comment" | "Variable" => continue,
                "And" | "Or" | "Not" => {}
                _ => {
                    let base = k.strip_suffix("Path").unwrap_or(k);
                    if !OPS.contains(&base)
                        || matches!(
                            base,
                            "IsPresent" | "IsNull" | "IsString" | "IsNumeric" | "IsBoolean"
                        ) && k != base
                    {
                        let msg = if k.starts_with("Timestamp")
                            || k == "IsTimestamp"
                            || k.starts_with("StringMatches")
                        {
                            format!("choice operator `{k}` is not supported by archsim")
                        } else if k == "Next" {
                            "`Next` belongs on a top-level choice rule, not inside And/Or/Not"
                                .to_string()
                        } else {
                            let mut all: Vec<&str> = OPS.to_vec();
                            all.extend(["And", "Or", "Not", "Variable", "Next", "Comment"]);
                            let hint = nearest(k, &all)
                                .map(|n| format!("; did you mean `{n}`?"))
                                .unwrap_or_default();
                            format!("unknown choice rule field `{k}`{hint}")
                        };
                        return Err(self.err(p.name.range(), s, msg));
                    }
                }
            }
            if op.is_some() {
                return Err(self.err(
                    p.name.range(),
                    s,
                    format!("a choice rule has one operator; `{k}` is a second"),
                ));
            }
            op = Some((k, &p.value, p.name.range()));
        }
        let Some((k, v, kr)) = op else {
            return Err(self.err(
                o.range,
                s,
                "a choice rule needs an operator (StringEquals, NumericLessThan, And, …)",
            ));
        };
        let sub = |v: &ast::Value| -> Result<Rule, InputError> {
            let so = self.object(v, s, k)?;
            self.rule(so, name, false)
        };
        match k {
            "And" | "Or" => {
                let rs = self
                    .array(v, s, k)?
                    .iter()
                    .map(sub)
                    .collect::<Result<Vec<_>, _>>()?;
                if rs.is_empty() {
                    return Err(self.err(v.range(), s, format!("{k}: expected at least one rule")));
                }
                if o.get("Variable").is_some() {
                    return Err(self.err(kr, s, format!("{k} takes no `Variable`")));
                }
                return Ok(if k == "And" {
                    Rule::And(rs)
                } else {
                    Rule::Or(rs)
                });
            }
            "Not" => return Ok(Rule::Not(Box::new(sub(v)?))),
            _ => {}
        }
        let Some(var_v) = o.get("Variable") else {
            return Err(self.err(o.range, s, format!("`{k}` needs a `Variable`")));
        };
        let variable = self.path(&var_v.value, s, "Variable")?;
        let by_path = k.ends_with("Path") && k != "IsPresent";
        let base = if by_path { &k[..k.len() - 4] } else { k };
        let operand = |want: &str, ok: fn(&Val) -> bool| -> Result<Operand, InputError> {
            if by_path {
                return Ok(Operand::Path(self.path(v, s, k)?));
            }
            let val = Val::from(Value::from(v.clone()));
            if ok(&val) {
                Ok(Operand::Value(val))
            } else {
                Err(self.err(v.range(), s, format!("{k}: expected {want}")))
            }
        };
        let flag = || match v {
            ast::Value::BooleanLit(b) => Ok(b.value),
            _ => Err(self.err(v.range(), s, format!("{k}: expected true or false"))),
        };
        let cmp = |tail: &str| match tail {
            "Equals" => Cmp::Eq,
            "LessThan" => Cmp::Lt,
            "LessThanEquals" => Cmp::Le,
            "GreaterThan" => Cmp::Gt,
            _ => Cmp::Ge,
        };
        let test = if let Some(tail) = base.strip_prefix("String") {
            Test::Str(cmp(tail), operand("a string", Val::is_string)?)
        } else if let Some(tail) = base.strip_prefix("Numeric") {
            Test::Num(cmp(tail), operand("a number", Val::is_number)?)
        } else if base == "BooleanEquals" {
            Test::Bool(operand("true or false", Val::is_boolean)?)
        } else {
            let b = flag()?;
            match base {
                "IsPresent" => Test::IsPresent(b),
                "IsNull" => Test::IsNull(b),
                "IsString" => Test::IsString(b),
                "IsNumeric" => Test::IsNumeric(b),
                _ => Test::IsBoolean(b),
            }
        };
        Ok(Rule::Test { variable, test })
    }

    fn error_names(
        &self,
        v: &ast::Value,
        name: &str,
        last: bool,
    ) -> Result<Vec<ErrorName>, InputError> {
        let s = Some(name);
        let items = self.array(v, s, "ErrorEquals")?;
        if items.is_empty() {
            return Err(self.err(
                v.range(),
                s,
                "ErrorEquals: expected at least one error name",
            ));
        }
        let mut out = Vec::new();
        for it in items {
            let (e, r) = self.string(it, s, "ErrorEquals")?;
            out.push(match e {
                "States.ALL" => {
                    if items.len() > 1 || !last {
                        return Err(self.err(r, s, "States.ALL must appear alone in the last ErrorEquals of its Retry or Catch"));
                    }
                    ErrorName::All
                }
                "States.TaskFailed" => ErrorName::TaskFailed,
                other => ErrorName::Named(other.into()),
            });
        }
        Ok(out)
    }

    fn retriers(&self, v: &ast::Value, name: &str) -> Result<Vec<Retrier>, InputError> {
        let s = Some(name);
        let items = self.array(v, s, "Retry")?;
        let mut out = Vec::new();
        for (i, it) in items.iter().enumerate() {
            let o = self.object(it, s, "a retrier")?;
            let f = self.fields(
                o,
                s,
                &[
                    "ErrorEquals",
                    "IntervalSeconds",
                    "MaxAttempts",
                    "BackoffRate",
                    "MaxDelaySeconds",
                    "JitterStrategy",
                    "Comment",
                ],
            )?;
            let Some(ev) = f.get("ErrorEquals") else {
                return Err(self.err(o.range, s, "a retrier needs `ErrorEquals`"));
            };
            let errors = self.error_names(ev, name, i + 1 == items.len())?;
            let backoff_rate = match f.get("BackoffRate") {
                Some(v) => {
                    let b = self.number(v, s, "BackoffRate")?;
                    if !(1.0..=1e6).contains(&b) {
                        return Err(self.err(
                            v.range(),
                            s,
                            "BackoffRate: expected a number of at least 1.0",
                        ));
                    }
                    b
                }
                None => 2.0,
            };
            let full_jitter = match f.get("JitterStrategy") {
                Some(v) => match self.string(v, s, "JitterStrategy")? {
                    ("FULL", _) => true,
                    ("NONE", _) => false,
                    (other, r) => {
                        return Err(self.err(
                            r,
                            s,
                            format!("JitterStrategy \"{other}\": expected FULL or NONE"),
                        ))
                    }
                },
                None => false,
            };
            out.push(Retrier {
                errors,
                interval_ns: match f.get("IntervalSeconds") {
                    Some(v) => self.uint(v, s, "IntervalSeconds", 1..=YEAR_S)? * NS,
                    None => NS,
                },
                backoff_rate,
                max_attempts: match f.get("MaxAttempts") {
                    Some(v) => self
                        .uint(v, s, "MaxAttempts", 0..=u64::MAX)?
                        .min(99_999_999) as u32,
                    None => 3,
                },
                max_delay_ns: match f.get("MaxDelaySeconds") {
                    Some(v) => Some(self.uint(v, s, "MaxDelaySeconds", 1..=YEAR_S)? * NS),
                    None => None,
                },
                full_jitter,
            });
        }
        Ok(out)
    }

    fn catchers(
        &self,
        v: &ast::Value,
        name: &str,
        local: &[&str],
        base: StateId,
    ) -> Result<Vec<Catcher>, InputError> {
        let s = Some(name);
        let items = self.array(v, s, "Catch")?;
        let mut out = Vec::new();
        for (i, it) in items.iter().enumerate() {
            let o = self.object(it, s, "a catcher")?;
            let f = self.fields(o, s, &["ErrorEquals", "Next", "ResultPath", "Comment"])?;
            let Some(ev) = f.get("ErrorEquals") else {
                return Err(self.err(o.range, s, "a catcher needs `ErrorEquals`"));
            };
            let errors = self.error_names(ev, name, i + 1 == items.len())?;
            let Some(nv) = f.get("Next") else {
                return Err(self.err(o.range, s, "a catcher needs `Next`"));
            };
            let (n, r) = self.string(nv, s, "Next")?;
            let next = resolve(local, base, n)
                .ok_or_else(|| self.err(r, s, unknown_state("Next", n, local)))?;
            out.push(Catcher {
                errors,
                next,
                result_path: self.io_path(&f, name, "ResultPath")?,
            });
        }
        Ok(out)
    }

    /// A payload template: `.$` fields become paths or intrinsic calls.
    fn template(&self, v: &ast::Value, name: &str) -> Result<Template, InputError> {
        Ok(match v {
            ast::Value::Object(o) => {
                let mut fields = Vec::new();
                let mut dynamic = false;
                for p in &o.properties {
                    let k = p.name.as_str();
                    if let Some(base) = k.strip_suffix(".$") {
                        let (text, r) = self.string(&p.value, Some(name), k)?;
                        let t = if Call::looks_like(text) {
                            Template::Intrinsic(
                                Call::parse(text)
                                    .map_err(|e| self.err(r, Some(name), format!("{k}: {e}")))?,
                            )
                        } else {
                            Template::Path(
                                Path::parse(text)
                                    .map_err(|e| self.err(r, Some(name), format!("{k}: {e}")))?,
                            )
                        };
                        dynamic = true;
                        fields.push((Arc::<str>::from(base), t));
                    } else {
                        let t = self.template(&p.value, name)?;
                        dynamic |= !matches!(t, Template::Const(_));
                        fields.push((Arc::<str>::from(k), t));
                    }
                }
                if dynamic {
                    // Sorted as the rendered object keeps its fields; of two fields
                    // of one name (`a` and `a.$`) the later wins, as in a JSON map.
                    fields.reverse();
                    fields.sort_by(|a, b| a.0.cmp(&b.0));
                    fields.dedup_by(|a, b| a.0 == b.0);
                    Template::Object(fields)
                } else {
                    Template::Const(Val::from(Value::from(v.clone())))
                }
            }
            ast::Value::Array(a) => {
                let items = a
                    .elements
                    .iter()
                    .map(|e| self.template(e, name))
                    .collect::<Result<Vec<_>, _>>()?;
                if items.iter().all(|t| matches!(t, Template::Const(_))) {
                    Template::Const(Val::from(Value::from(v.clone())))
                } else {
                    Template::Array(items)
                }
            }
            other => Template::Const(Val::from(Value::from(other.clone()))),
        })
    }
}

fn resolve(local: &[&str], base: StateId, name: &str) -> Option<StateId> {
    local
        .iter()
        .position(|n| *n == name)
        .map(|i| base + i as StateId)
}

fn unknown_state(field: &str, given: &str, local: &[&str]) -> String {
    let hint = nearest(given, local)
        .map(|n| format!("; did you mean \"{n}\"?"))
        .unwrap_or_default();
    format!(
        "{field} \"{given}\" is not a state of this level; expected one of {}{hint}",
        quote_list(local)
    )
}

fn quote_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
