//! The JSONPath subset ASL needs, compiled once at parse time: `$`, `$.a.b`, `$.a[0]`,
//! `$['x']`, and the context object's `$$.Map.Item.Value`, `$$.Map.Item.Index`,
//! `$$.Execution.Input` and `$$.State.Name`. No crate keeps positions for errors and
//! also compiles to something as small as a `Vec` of segments, so this is hand-written;
//! everything outside the subset (`..`, `[*]`, filters, slices) is refused with a
//! message saying so.

use super::value::Val;

/// One step down into a value.
#[derive(Debug, Clone, PartialEq)]
pub enum Seg {
    Key(Box<str>),
    Index(usize),
}

/// What a path starts from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Root {
    /// `$`: the state's data.
    Data,
    /// `$$.Execution.Input`.
    ExecutionInput,
    /// `$$.Map.Item.Value`.
    MapItemValue,
    /// `$$.Map.Item.Index`.
    MapItemIndex,
    /// `$$.State.Name`.
    StateName,
}

/// A compiled path.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    pub root: Root,
    pub segs: Vec<Seg>,
    /// As written, for messages (shared: the executor hands it to drivers).
    pub text: std::sync::Arc<str>,
}

/// What a path may read besides the data: the context object of the running state.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub execution_input: &'a Val,
    pub state_name: &'a str,
    /// The Map item being selected (index, value), inside `ItemSelector` only.
    pub item: Option<(usize, &'a Val)>,
}

impl Path {
    /// Parses `text`; the error says what is not supported or expected.
    pub fn parse(text: &str) -> Result<Path, String> {
        let (root, rest) = if let Some(rest) = text.strip_prefix("$$") {
            let fields: [(&str, Root); 4] = [
                (".Execution.Input", Root::ExecutionInput),
                (".Map.Item.Value", Root::MapItemValue),
                (".Map.Item.Index", Root::MapItemIndex),
                (".State.Name", Root::StateName),
            ];
            let Some((prefix, root)) = fields.iter().find(|(p, _)| {
                rest.starts_with(p)
                    && matches!(rest[p.len()..].chars().next(), None | Some('.') | Some('['))
            }) else {
                return Err(format!(
                    "context path `{text}` is not supported; expected $$.Execution.Input, \
                     $$.Map.Item.Value, $$.Map.Item.Index or $$.State.Name"
                ));
            };
            (*root, &rest[prefix.len()..])
        } else if let Some(rest) = text.strip_prefix('$') {
            (Root::Data, rest)
        } else {
            return Err(format!(
                "`{text}` is not a JSONPath: expected it to start with `$`"
            ));
        };
        let segs = parse_segments(rest).map_err(|e| format!("JSONPath `{text}`: {e}"))?;
        if matches!(root, Root::MapItemIndex | Root::StateName) && !segs.is_empty() {
            return Err(format!("JSONPath `{text}`: a number or name has no fields"));
        }
        Ok(Path {
            root,
            segs,
            text: text.into(),
        })
    }

    /// The value the path points at, if present (a clone shares the data).
    pub fn get(&self, data: &Val, ctx: &Ctx) -> Option<Val> {
        let base: &Val = match self.root {
            Root::Data => data,
            Root::ExecutionInput => ctx.execution_input,
            Root::MapItemValue => ctx.item?.1,
            Root::MapItemIndex => return ctx.item.map(|(i, _)| Val::from(i)),
            Root::StateName => return Some(Val::str(ctx.state_name)),
        };
        self.walk(base).cloned()
    }

    /// The value under `data` the path points at (data paths only).
    pub fn walk<'v>(&self, mut v: &'v Val) -> Option<&'v Val> {
        for s in &self.segs {
            v = match s {
                Seg::Key(k) => v.as_object()?.get(&**k)?,
                Seg::Index(i) => v.as_array()?.get(*i)?,
            };
        }
        Some(v)
    }

    /// True for `$` alone.
    pub fn is_identity(&self) -> bool {
        self.root == Root::Data && self.segs.is_empty()
    }

    /// Writes `value` at this path inside `target` (ResultPath), creating objects on
    /// the way; fails when the way is blocked by a non-object.
    pub fn set(&self, target: &mut Val, value: Val) -> Result<(), String> {
        let Some((last, init)) = self.segs.split_last() else {
            *target = value;
            return Ok(());
        };
        let mut cur = target;
        for s in init {
            cur = step_mut(cur, s, &self.text)?;
        }
        match last {
            Seg::Key(k) => {
                if cur.is_null() {
                    *cur = Val::object();
                }
                let obj = cur.as_object_mut().ok_or_else(|| {
                    format!("ResultPath `{}`: a field of a non-object", self.text)
                })?;
                obj.insert(k, value);
            }
            Seg::Index(_) => {
                *step_mut(cur, last, &self.text)? = value;
            }
        }
        Ok(())
    }
}

fn step_mut<'v>(cur: &'v mut Val, s: &Seg, text: &str) -> Result<&'v mut Val, String> {
    match s {
        Seg::Key(k) => {
            if cur.is_null() {
                *cur = Val::object();
            }
            let obj = cur
                .as_object_mut()
                .ok_or_else(|| format!("ResultPath `{text}`: a field of a non-object"))?;
            Ok(obj.entry(k))
        }
        Seg::Index(i) => cur
            .as_array_mut()
            .and_then(|a| a.get_mut(*i))
            .ok_or_else(|| format!("ResultPath `{text}`: index {i} is not in the data")),
    }
}

fn parse_segments(mut rest: &str) -> Result<Vec<Seg>, String> {
    let mut segs = Vec::new();
    while !rest.is_empty() {
        if rest.starts_with("..") {
            return Err("recursive descent `..` is not supported".into());
        }
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let key = &r[..end];
            if key.is_empty() {
                return Err("expected a field name after `.`".into());
            }
            if key == "*" {
                return Err("wildcards are not supported".into());
            }
            segs.push(Seg::Key(key.into()));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').ok_or("expected `]`")?;
            let inner = r[..end].trim();
            let quoted = inner
                .strip_prefix('\'')
                .and_then(|s| s.strip_suffix('\''))
                .or_else(|| inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')));
            if let Some(key) = quoted {
                segs.push(Seg::Key(key.into()));
            } else if let Ok(i) = inner.parse::<usize>() {
                segs.push(Seg::Index(i));
            } else {
                return Err(format!(
                    "`[{inner}]` is not supported; expected an index such as [0] or a name such as ['x'] (no wildcards, filters or slices)"
                ));
            }
            rest = &r[end + 1..];
        } else {
            return Err(format!("unexpected `{rest}`; expected `.name` or `[…]`"));
        }
    }
    Ok(segs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v(j: serde_json::Value) -> Val {
        Val::from(j)
    }

    fn ctx(input: &Val) -> Ctx<'_> {
        Ctx {
            execution_input: input,
            state_name: "S",
            item: None,
        }
    }

    #[test]
    fn reads_fields_indices_and_quoted_names() {
        let data = v(json!({"a": {"b": [10, {"x y": true}]}}));
        let c = ctx(&data);
        assert_eq!(Path::parse("$").unwrap().get(&data, &c), Some(data.clone()));
        assert_eq!(
            Path::parse("$.a.b[0]").unwrap().get(&data, &c),
            Some(v(json!(10)))
        );
        assert_eq!(
            Path::parse("$.a.b[1]['x y']").unwrap().get(&data, &c),
            Some(v(json!(true)))
        );
        assert!(Path::parse("$.a.c").unwrap().get(&data, &c).is_none());
    }

    #[test]
    fn reads_the_context_object() {
        let input = v(json!({"k": 1}));
        let item = v(json!("black"));
        let c = Ctx {
            execution_input: &input,
            state_name: "Detect",
            item: Some((3, &item)),
        };
        let data = v(json!(null));
        assert_eq!(
            Path::parse("$$.Map.Item.Value").unwrap().get(&data, &c),
            Some(item.clone())
        );
        assert_eq!(
            Path::parse("$$.Map.Item.Index").unwrap().get(&data, &c),
            Some(v(json!(3)))
        );
        assert_eq!(
            Path::parse("$$.Execution.Input.k").unwrap().get(&data, &c),
            Some(v(json!(1)))
        );
        assert_eq!(
            Path::parse("$$.State.Name").unwrap().get(&data, &c),
            Some(v(json!("Detect")))
        );
    }

    #[test]
    fn refuses_what_is_outside_the_subset() {
        for bad in [
            "$..a",
            "$.a[*]",
            "$.a[?(@.x)]",
            "$.a[1:2]",
            "a.b",
            "$$.Task.Token",
            "$.",
            "$a",
        ] {
            assert!(Path::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn sets_creating_objects() {
        let mut x = v(json!({"a": 1}));
        Path::parse("$.r.s")
            .unwrap()
            .set(&mut x, v(json!(2)))
            .unwrap();
        assert_eq!(x, json!({"a": 1, "r": {"s": 2}}));
        Path::parse("$").unwrap().set(&mut x, v(json!(3))).unwrap();
        assert_eq!(x, json!(3));
        assert!(Path::parse("$.a.b")
            .unwrap()
            .set(&mut v(json!({"a": 1})), v(json!(0)))
            .is_err());
    }
}
