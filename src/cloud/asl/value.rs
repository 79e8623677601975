//! The executor's JSON: immutable and shared. Every state hands its input on, a Map
//! hands the same selected fields to each iteration, and a simulated function returns
//! what it was given, so a run clones data far more often than it builds any. With
//! `serde_json::Value` each clone copied whole B-tree nodes (a two-field object is a
//! 600-byte leaf); here arrays and objects are `Arc`s, so a clone is a counter
//! increment, and an object is a short vector of fields sorted by name (the order
//! `serde_json`'s default map prints in, so output is unchanged). Writes (ResultPath)
//! copy only the nodes on their way.

use std::fmt;
use std::sync::Arc;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Number;

/// A JSON value as the executor holds it.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Val {
    #[default]
    Null,
    Bool(bool),
    Num(Number),
    Str(Arc<str>),
    Arr(Arc<Vec<Val>>),
    Obj(Arc<Obj>),
}

/// An object: fields sorted by name, names unique.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Obj(Vec<(Arc<str>, Val)>);

impl Obj {
    pub fn new() -> Obj {
        Obj(Vec::new())
    }

    /// From fields already sorted by name with no name twice (a template's, sorted
    /// when the machine was parsed).
    pub fn from_sorted(fields: Vec<(Arc<str>, Val)>) -> Obj {
        debug_assert!(fields.windows(2).all(|w| w[0].0 < w[1].0));
        Obj(fields)
    }

    pub fn get(&self, key: &str) -> Option<&Val> {
        // The executor's objects have a few fields: a scan comparing lengths first
        // beats a binary search's ordered byte comparisons.
        if self.0.len() <= 8 {
            return self.0.iter().find(|(k, _)| **k == *key).map(|(_, v)| v);
        }
        self.0
            .binary_search_by(|(k, _)| (**k).cmp(key))
            .ok()
            .map(|i| &self.0[i].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Sets `key` (replacing a field of that name) and returns the slot.
    pub fn entry(&mut self, key: &str) -> &mut Val {
        let i = match self.0.binary_search_by(|(k, _)| (**k).cmp(key)) {
            Ok(i) => i,
            Err(i) => {
                self.0.insert(i, (key.into(), Val::Null));
                i
            }
        };
        &mut self.0[i].1
    }

    pub fn insert(&mut self, key: &str, v: Val) {
        *self.entry(key) = v;
    }

    pub fn remove(&mut self, key: &str) -> Option<Val> {
        self.0
            .binary_search_by(|(k, _)| (**k).cmp(key))
            .ok()
            .map(|i| self.0.remove(i).1)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Val)> {
        self.0.iter().map(|(k, v)| (&**k, v))
    }
}

impl Val {
    /// An empty object.
    pub fn object() -> Val {
        Val::Obj(Arc::new(Obj::new()))
    }

    pub fn array(items: Vec<Val>) -> Val {
        Val::Arr(Arc::new(items))
    }

    pub fn str(s: &str) -> Val {
        Val::Str(s.into())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Val::Null)
    }
    pub fn is_string(&self) -> bool {
        matches!(self, Val::Str(_))
    }
    pub fn is_number(&self) -> bool {
        matches!(self, Val::Num(_))
    }
    pub fn is_boolean(&self) -> bool {
        matches!(self, Val::Bool(_))
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Val::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Val::Num(n) => n.as_f64(),
            _ => None,
        }
    }
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Val::Num(n) => n.as_u64(),
            _ => None,
        }
    }
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Val::Num(n) => n.as_i64(),
            _ => None,
        }
    }
    pub fn as_array(&self) -> Option<&[Val]> {
        match self {
            Val::Arr(a) => Some(a),
            _ => None,
        }
    }
    pub fn as_object(&self) -> Option<&Obj> {
        match self {
            Val::Obj(o) => Some(o),
            _ => None,
        }
    }

    /// The object to write into, copied first if it is shared.
    pub fn as_object_mut(&mut self) -> Option<&mut Obj> {
        match self {
            Val::Obj(o) => Some(Arc::make_mut(o)),
            _ => None,
        }
    }

    /// The array to write into, copied first if it is shared.
    pub fn as_array_mut(&mut self) -> Option<&mut Vec<Val>> {
        match self {
            Val::Arr(a) => Some(Arc::make_mut(a)),
            _ => None,
        }
    }

    /// The field `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Val> {
        self.as_object()?.get(key)
    }

    /// As `serde_json` holds it (files, intrinsic functions, output).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Val::Null => J::Null,
            Val::Bool(b) => J::Bool(*b),
            Val::Num(n) => J::Number(n.clone()),
            Val::Str(s) => J::String(s.to_string()),
            Val::Arr(a) => J::Array(a.iter().map(Val::to_json).collect()),
            Val::Obj(o) => J::Object(
                o.iter()
                    .map(|(k, v)| (k.to_string(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

impl From<&serde_json::Value> for Val {
    fn from(v: &serde_json::Value) -> Val {
        use serde_json::Value as J;
        match v {
            J::Null => Val::Null,
            J::Bool(b) => Val::Bool(*b),
            J::Number(n) => Val::Num(n.clone()),
            J::String(s) => Val::Str(s.as_str().into()),
            J::Array(a) => Val::array(a.iter().map(Val::from).collect()),
            // serde_json's map iterates in name order: already sorted.
            J::Object(m) => Val::Obj(Arc::new(Obj(m
                .iter()
                .map(|(k, v)| (k.as_str().into(), v.into()))
                .collect()))),
        }
    }
}

impl From<serde_json::Value> for Val {
    fn from(v: serde_json::Value) -> Val {
        Val::from(&v)
    }
}

impl From<u64> for Val {
    fn from(n: u64) -> Val {
        Val::Num(n.into())
    }
}

impl From<u32> for Val {
    fn from(n: u32) -> Val {
        Val::Num(n.into())
    }
}

impl From<usize> for Val {
    fn from(n: usize) -> Val {
        Val::Num((n as u64).into())
    }
}

impl From<i64> for Val {
    fn from(n: i64) -> Val {
        Val::Num(n.into())
    }
}

impl PartialEq<serde_json::Value> for Val {
    fn eq(&self, other: &serde_json::Value) -> bool {
        *self == Val::from(other)
    }
}

impl Serialize for Val {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Val::Null => s.serialize_unit(),
            Val::Bool(b) => s.serialize_bool(*b),
            Val::Num(n) => n.serialize(s),
            Val::Str(t) => s.serialize_str(t),
            Val::Arr(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for v in a.iter() {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Val::Obj(o) => {
                let mut map = s.serialize_map(Some(o.len()))?;
                for (k, v) in o.iter() {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

/// Compact JSON, as `serde_json::Value` prints.
impl fmt::Display for Val {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match serde_json::to_string(self) {
            Ok(s) => f.write_str(&s),
            Err(_) => Err(fmt::Error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_and_prints_like_serde_json() {
        let j = json!({"b": [1, 2.5, "x", null, true], "a": {"z": {}, "y": []}});
        let v = Val::from(&j);
        assert_eq!(v.to_json(), j);
        assert_eq!(v.to_string(), j.to_string());
        assert_eq!(v.get("a").and_then(|a| a.get("z")), Some(&Val::object()));
    }

    #[test]
    fn writes_copy_only_what_is_shared() {
        let mut a = Val::from(json!({"k": 1}));
        let b = a.clone();
        a.as_object_mut().unwrap().insert("m", Val::from(2u64));
        assert_eq!(a, json!({"k": 1, "m": 2}));
        assert_eq!(b, json!({"k": 1}));
        let o = a.as_object_mut().unwrap();
        assert_eq!(o.remove("k"), Some(Val::from(1u64)));
        assert!(!o.contains_key("k"));
    }
}
