//! ASL intrinsic functions in `.$` fields (`States.Format('{}-{}', $.a, $.b)`): the
//! common ones are evaluated; the rest of AWS's list is refused by name at parse time
//! rather than skipped.

use serde_json::Value;

use super::path::{Ctx, Path};
use super::value::Val;

/// The intrinsics archsim evaluates.
const SUPPORTED: [&str; 8] = [
    "States.Array",
    "States.ArrayContains",
    "States.ArrayGetItem",
    "States.ArrayLength",
    "States.Format",
    "States.JsonToString",
    "States.MathAdd",
    "States.StringToJson",
];

/// AWS intrinsics that archsim does not evaluate (an error names them).
const UNSUPPORTED: [&str; 10] = [
    "States.ArrayPartition",
    "States.ArrayRange",
    "States.ArrayUnique",
    "States.Base64Decode",
    "States.Base64Encode",
    "States.Hash",
    "States.JsonMerge",
    "States.MathRandom",
    "States.StringSplit",
    "States.UUID",
];

/// A parsed call.
#[derive(Debug, Clone)]
pub struct Call {
    name: &'static str,
    args: Vec<Arg>,
}

#[derive(Debug, Clone)]
enum Arg {
    Value(Value),
    Path(Path),
    Call(Call),
}

impl Call {
    /// True when `text` looks like an intrinsic call rather than a path.
    pub fn looks_like(text: &str) -> bool {
        text.trim_start().starts_with("States.")
    }

    /// Parses `text`; errors say what was expected.
    pub fn parse(text: &str) -> Result<Call, String> {
        let mut p = Parser { s: text, at: 0 };
        let call = p.call()?;
        p.ws();
        if p.at != text.len() {
            return Err(format!(
                "unexpected `{}` after the intrinsic function's `)`",
                &text[p.at..]
            ));
        }
        Ok(call)
    }

    /// The call's result. Intrinsics are rare next to data hand-offs, so they work
    /// on `serde_json` values, converted at this boundary.
    pub fn eval(&self, data: &Val, ctx: &Ctx) -> Result<Val, String> {
        self.eval_json(data, ctx).map(Val::from)
    }

    fn eval_json(&self, data: &Val, ctx: &Ctx) -> Result<Value, String> {
        let args = self
            .args
            .iter()
            .map(|a| match a {
                Arg::Value(v) => Ok(v.clone()),
                Arg::Path(p) => p
                    .get(data, ctx)
                    .map(|v| v.to_json())
                    .ok_or_else(|| format!("{}: `{}` is not in the data", self.name, p.text)),
                Arg::Call(c) => c.eval_json(data, ctx),
            })
            .collect::<Result<Vec<Value>, String>>()?;
        let want = |n: usize| {
            if args.len() == n {
                Ok(())
            } else {
                Err(format!(
                    "{} takes {n} arguments, got {}",
                    self.name,
                    args.len()
                ))
            }
        };
        let array = |v: &Value| {
            v.as_array()
                .cloned()
                .ok_or_else(|| format!("{}: expected an array, got {v}", self.name))
        };
        Ok(match self.name {
            "States.Array" => Value::Array(args),
            "States.ArrayLength" => {
                want(1)?;
                Value::from(array(&args[0])?.len())
            }
            "States.ArrayGetItem" => {
                want(2)?;
                let i = args[1]
                    .as_u64()
                    .ok_or_else(|| format!("{}: the index must be a whole number", self.name))?;
                array(&args[0])?
                    .get(i as usize)
                    .cloned()
                    .ok_or_else(|| format!("{}: index {i} is out of range", self.name))?
            }
            "States.ArrayContains" => {
                want(2)?;
                Value::Bool(array(&args[0])?.contains(&args[1]))
            }
            "States.MathAdd" => {
                want(2)?;
                match (args[0].as_i64(), args[1].as_i64()) {
                    (Some(a), Some(b)) => Value::from(a.saturating_add(b)),
                    _ => return Err(format!("{}: expected two integers", self.name)),
                }
            }
            "States.JsonToString" => {
                want(1)?;
                Value::String(args[0].to_string())
            }
            "States.StringToJson" => {
                want(1)?;
                let s = args[0]
                    .as_str()
                    .ok_or_else(|| format!("{}: expected a string", self.name))?;
                serde_json::from_str(s).map_err(|e| format!("{}: {e}", self.name))?
            }
            "States.Format" => {
                let template = args
                    .first()
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("{}: the first argument must be a string", self.name))?;
                let mut out = String::new();
                let mut rest = args[1..].iter();
                let mut parts = template.split("{}");
                out.push_str(parts.next().unwrap_or(""));
                for part in parts {
                    let v = rest
                        .next()
                        .ok_or_else(|| format!("{}: more {{}} than arguments", self.name))?;
                    match v {
                        Value::String(s) => out.push_str(s),
                        other => out.push_str(&other.to_string()),
                    }
                    out.push_str(part);
                }
                if rest.next().is_some() {
                    return Err(format!("{}: more arguments than {{}}", self.name));
                }
                Value::String(out)
            }
            other => unreachable!("{other} is checked at parse time"),
        })
    }
}

struct Parser<'a> {
    s: &'a str,
    at: usize,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.s[self.at..]
    }
    fn ws(&mut self) {
        let r = self.rest();
        self.at += r.len() - r.trim_start().len();
    }
    fn call(&mut self) -> Result<Call, String> {
        self.ws();
        let r = self.rest();
        let end = r
            .find('(')
            .ok_or("expected `(` after the intrinsic function's name")?;
        let name = r[..end].trim();
        let name = match SUPPORTED.iter().find(|s| **s == name) {
            Some(s) => *s,
            None if UNSUPPORTED.contains(&name) => {
                return Err(format!(
                    "intrinsic function {name} is not supported by archsim; supported: {}",
                    SUPPORTED.join(", ")
                ))
            }
            None => {
                return Err(format!(
                    "unknown intrinsic function `{name}`; expected one of {}",
                    SUPPORTED.join(", ")
                ))
            }
        };
        self.at += end + 1;
        let mut args = Vec::new();
        self.ws();
        if let Some(r) = self.rest().strip_prefix(')') {
            self.at = self.s.len() - r.len();
            return Ok(Call { name, args });
        }
        loop {
            args.push(self.arg()?);
            self.ws();
            let r = self.rest();
            if r.starts_with(',') {
                self.at += 1;
            } else if r.starts_with(')') {
                self.at += 1;
                return Ok(Call { name, args });
            } else {
                return Err(format!("{name}: expected `,` or `)` at `{r}`"));
            }
        }
    }
    fn arg(&mut self) -> Result<Arg, String> {
        self.ws();
        let r = self.rest();
        if r.starts_with("States.") {
            return Ok(Arg::Call(self.call()?));
        }
        if let Some(body) = r.strip_prefix('\'') {
            let mut out = String::new();
            let mut chars = body.char_indices();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, e)) = chars.next() {
                            out.push(e);
                        }
                    }
                    '\'' => {
                        self.at += 1 + i + 1;
                        return Ok(Arg::Value(Value::String(out)));
                    }
                    c => out.push(c),
                }
            }
            return Err("unterminated string: expected a closing `'`".into());
        }
        // A path or a literal runs to the next `,` or `)` outside brackets.
        let mut depth = 0;
        let mut end = r.len();
        for (i, c) in r.char_indices() {
            match c {
                '[' => depth += 1,
                ']' => depth -= 1,
                ',' | ')' if depth == 0 => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        let tok = r[..end].trim();
        self.at += end;
        if tok.starts_with('$') {
            return Ok(Arg::Path(Path::parse(tok)?));
        }
        serde_json::from_str::<Value>(tok)
            .ok()
            .filter(|v| !v.is_object() && !v.is_array() && !v.is_string())
            .map(Arg::Value)
            .ok_or_else(|| {
                format!(
                    "`{tok}`: expected a 'string', a number, true, false, null, a path or a call"
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(text: &str, data: &Value) -> Result<Value, String> {
        let data = Val::from(data);
        let ctx = Ctx {
            execution_input: &data,
            state_name: "S",
            item: None,
        };
        Call::parse(text)?.eval(&data, &ctx).map(|v| v.to_json())
    }

    #[test]
    fn evaluates_the_supported_functions() {
        let d = json!({"a": "x", "n": 2, "l": [1, 2, 3]});
        assert_eq!(
            eval("States.Format('{}-{}', $.a, $.n)", &d),
            Ok(json!("x-2"))
        );
        assert_eq!(
            eval("States.Array($.a, 'b', 3)", &d),
            Ok(json!(["x", "b", 3]))
        );
        assert_eq!(eval("States.ArrayLength($.l)", &d), Ok(json!(3)));
        assert_eq!(eval("States.ArrayGetItem($.l, 1)", &d), Ok(json!(2)));
        assert_eq!(eval("States.MathAdd($.n, -5)", &d), Ok(json!(-3)));
        assert_eq!(
            eval("States.StringToJson(States.JsonToString($.l))", &d),
            Ok(json!([1, 2, 3]))
        );
        assert_eq!(eval("States.ArrayContains($.l, 4)", &d), Ok(json!(false)));
    }

    #[test]
    fn refuses_unknown_and_unsupported_functions() {
        let e = Call::parse("States.Frobnicate($.a)").unwrap_err();
        assert!(
            e.contains("unknown intrinsic function `States.Frobnicate`"),
            "{e}"
        );
        let e = Call::parse("States.UUID()").unwrap_err();
        assert!(e.contains("not supported"), "{e}");
        assert!(Call::parse("States.Format('x'").is_err());
    }
}
