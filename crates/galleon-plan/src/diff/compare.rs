//! The walk behind [`super::diff`]: equality under the rules, projection of a live body onto
//! the managed fields, and the list of changed leaves.

use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::path::Path;
use super::rules::{EXACT_MAPS, Immutability, READ_ONLY, Rules};
use crate::AttributeChange;

/// Which side a lone value stands on when the other side does not exist.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Side {
    Before,
    After,
}

pub(crate) struct Comparer<'r> {
    rules: &'r Rules,
}

impl<'r> Comparer<'r> {
    pub(crate) fn new(rules: &'r Rules) -> Self {
        Comparer { rules }
    }

    /// Removes the fields ARM computes. Only objects on the way to a read-only pattern are
    /// visited: the patterns are short, bodies are not.
    pub(crate) fn strip_read_only(&self, value: &mut Value) {
        fn walk(value: &mut Value, path: &Path<'_>) {
            let Value::Object(map) = value else { return };
            map.retain(|k, _| {
                let child = path.key(k);
                !READ_ONLY.iter().any(|p| child.matches(p))
            });
            for (k, v) in map.iter_mut() {
                let child = path.key(k);
                if READ_ONLY.iter().any(|p| child.leads_to(p)) {
                    walk(v, &child);
                }
            }
        }
        walk(value, &Path::default())
    }

    /// Every leaf of a lone body, as changes from or to nothing.
    pub(crate) fn leaves(&self, value: &Value, side: Side) -> Vec<AttributeChange> {
        let mut out = Vec::new();
        self.walk_leaves(value, &Path::default(), side, &mut out);
        out
    }

    fn walk_leaves(
        &self,
        value: &Value,
        path: &Path<'_>,
        side: Side,
        out: &mut Vec<AttributeChange>,
    ) {
        match value {
            Value::Object(map) if !map.is_empty() => {
                for (k, v) in map {
                    self.walk_leaves(v, &path.key(k), side, out);
                }
            }
            Value::Array(items) if !self.is_scalar_list(path, items) => {
                for (i, item) in items.iter().enumerate() {
                    let label = self.elem_label(path, item).unwrap_or_else(|| i.to_string());
                    self.walk_leaves(item, &path.elem(&label), side, out);
                }
            }
            // An absent value on a resource that is created or deleted says nothing.
            Value::Null => {}
            leaf => {
                let (before, after) = match side {
                    Side::Before => (leaf.clone(), Value::Null),
                    Side::After => (Value::Null, leaf.clone()),
                };
                out.push(change(path, before, after, false));
            }
        }
    }

    /// Restricts a live body to the shape of the desired one, in place, keys in the desired
    /// body's order.
    pub(crate) fn project(&self, desired: &Value, live: &mut Value) {
        self.project_at(desired, live, &Path::default())
    }

    fn project_at(&self, desired: &Value, live: &mut Value, path: &Path<'_>) {
        match (desired, live) {
            (Value::Object(_), Value::Object(_)) if is_exact_map(path) => {}
            // Already of the desired shape and order (a body narrowed when it was read):
            // nothing to drop or reorder here, only deeper.
            (Value::Object(d), Value::Object(l)) if keys_in_order(d, l) => {
                let mut desired = d.iter();
                for (k, lv) in l.iter_mut() {
                    if let Some((_, dv)) = desired.find(|(dk, _)| *dk == k) {
                        self.project_at(dv, lv, &path.key(k));
                    }
                }
            }
            (Value::Object(d), Value::Object(l)) => {
                let mut kept = Map::new();
                for (k, dv) in d {
                    if let Some((key, mut lv)) = l.remove_entry(k) {
                        self.project_at(dv, &mut lv, &path.key(k));
                        kept.insert(key, lv);
                    }
                }
                *l = kept;
            }
            (Value::Array(d), Value::Array(l)) if !self.is_scalar_list(path, d) => {
                let elem = path.elem("0");
                let mut shape = None;
                for (i, item) in l.iter_mut().enumerate() {
                    let matched = match self.list_key(path) {
                        Some(_) => self.find_keyed(path, d, item),
                        None => d.get(i),
                    };
                    match matched {
                        Some(d) => self.project_at(d, item, &elem),
                        None if d.is_empty() => {}
                        None => {
                            let shape = shape.get_or_insert_with(|| union_shape(d));
                            self.project_at(shape, item, &elem);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// The changed leaves between a desired body and a live one.
    pub(crate) fn changes(&self, desired: &Value, live: &Value) -> Vec<AttributeChange> {
        let mut out = Vec::new();
        self.walk_changes(desired, Some(live), &Path::default(), &mut out);
        out
    }

    fn walk_changes(
        &self,
        desired: &Value,
        live: Option<&Value>,
        path: &Path<'_>,
        out: &mut Vec<AttributeChange>,
    ) {
        let live = live.filter(|l| !l.is_null());
        match desired {
            Value::Object(d) if is_exact_map(path) => self.exact_map(d, live, path, out),
            Value::Object(d) => {
                let l = live.and_then(Value::as_object);
                if l.is_none() && live.is_some() {
                    return self.emit(path, live, desired, out);
                }
                for (k, dv) in d {
                    self.walk_changes(dv, l.and_then(|l| l.get(k)), &path.key(k), out);
                }
            }
            Value::Array(d) if !self.is_scalar_list(path, d) => {
                self.object_list(d, live, path, out)
            }
            Value::Array(d) => {
                let l = live
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                    .unwrap_or(&[]);
                if !self.scalar_lists_equal(path, d, l) {
                    self.emit(path, live, desired, out);
                }
            }
            scalar => {
                if !self.scalar_equal(path, scalar, live) {
                    self.emit(path, live, desired, out);
                }
            }
        }
    }

    fn exact_map(
        &self,
        desired: &Map<String, Value>,
        live: Option<&Value>,
        path: &Path<'_>,
        out: &mut Vec<AttributeChange>,
    ) {
        let empty = Map::new();
        let live = live.and_then(Value::as_object).unwrap_or(&empty);
        let find = |map: &'_ Map<String, Value>, key: &str| {
            map.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.clone())
        };
        for (k, dv) in desired {
            let lv = find(live, k);
            if lv.as_ref() != Some(dv) {
                out.push(change(
                    &path.key(k),
                    lv.unwrap_or(Value::Null),
                    dv.clone(),
                    false,
                ));
            }
        }
        for (k, lv) in live {
            if find(desired, k).is_none() {
                let forces = self.forces(&path.key(k), lv, &Value::Null);
                out.push(change(&path.key(k), lv.clone(), Value::Null, forces));
            }
        }
    }

    fn object_list(
        &self,
        desired: &[Value],
        live: Option<&Value>,
        path: &Path<'_>,
        out: &mut Vec<AttributeChange>,
    ) {
        let live = live
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let shape = union_shape(desired);
        for (i, d) in desired.iter().enumerate() {
            let (label, l) = match self.elem_label(path, d) {
                Some(label) => (label, self.find_keyed(path, live, d)),
                None => (i.to_string(), live.get(i)),
            };
            self.walk_changes(d, l, &path.elem(&label), out);
        }
        for (i, l) in live.iter().enumerate() {
            let (label, gone) = match self.elem_label(path, l) {
                Some(label) => (label, self.find_keyed(path, desired, l).is_none()),
                None => (i.to_string(), i >= desired.len()),
            };
            if gone {
                let mut before = l.clone();
                if !desired.is_empty() {
                    self.project_at(&shape, &mut before, &path.elem("0"));
                }
                let elem = path.elem(&label);
                let forces = self.forces(&elem, &before, &Value::Null);
                out.push(change(&elem, before, Value::Null, forces));
            }
        }
    }

    fn emit(
        &self,
        path: &Path<'_>,
        live: Option<&Value>,
        desired: &Value,
        out: &mut Vec<AttributeChange>,
    ) {
        let before = live.cloned().unwrap_or(Value::Null);
        let forces = self.forces(path, &before, desired);
        out.push(change(path, before, desired.clone(), forces));
    }

    fn forces(&self, path: &Path<'_>, before: &Value, after: &Value) -> bool {
        self.rules.immutable.iter().any(|(pattern, when)| {
            path.within(pattern)
                && match when {
                    Immutability::Always => true,
                    Immutability::Decrease => match (before.as_f64(), after.as_f64()) {
                        (Some(b), Some(a)) => a < b,
                        _ => false,
                    },
                }
        })
    }

    fn scalar_equal(&self, path: &Path<'_>, desired: &Value, live: Option<&Value>) -> bool {
        match live {
            Some(live) => self.normalized(path, desired) == self.normalized(path, live),
            None => {
                desired.is_null()
                    || self.default_at(path).is_some_and(|d| {
                        self.normalized(path, &d) == self.normalized(path, desired)
                    })
            }
        }
    }

    fn scalar_lists_equal(&self, path: &Path<'_>, desired: &[Value], live: &[Value]) -> bool {
        let elem = path.elem("0");
        let norm = |items: &[Value]| -> Vec<Value> {
            let mut v: Vec<_> = items.iter().map(|x| self.normalized(&elem, x)).collect();
            if self.rules.sets.iter().any(|p| path.matches(p)) {
                v.sort_by_key(Value::to_string);
            }
            v
        };
        norm(desired) == norm(live)
    }

    /// A scalar in the form it is compared in: case folded, regions without spaces,
    /// timestamps as Unix nanoseconds, numbers as floats.
    fn normalized(&self, path: &Path<'_>, value: &Value) -> Value {
        let Value::String(s) = value else {
            return match value.as_f64() {
                Some(f) => Value::from(f),
                None => value.clone(),
            };
        };
        if self.is_location(path) {
            return Value::String(s.replace(' ', "").to_ascii_lowercase());
        }
        if self.rules.timestamps.iter().any(|p| path.matches(p))
            && let Some(t) = parse_instant(s)
        {
            return Value::String(t.unix_timestamp_nanos().to_string());
        }
        if self.is_case_insensitive(path) {
            return Value::String(s.to_ascii_lowercase());
        }
        value.clone()
    }

    fn is_location(&self, path: &Path<'_>) -> bool {
        self.rules.locations.iter().any(|p| path.matches(p))
    }

    /// ARM ids and GUIDs (`id`, `roleDefinitionId`, ...) compare case-insensitively everywhere:
    /// ARM returns resource group and provider segments in whatever case it stored.
    fn is_case_insensitive(&self, path: &Path<'_>) -> bool {
        let id_like = path
            .last_key()
            .is_some_and(|k| k == "id" || k.ends_with("Id"));
        id_like || self.rules.case_insensitive.iter().any(|p| path.matches(p))
    }

    fn default_at(&self, path: &Path<'_>) -> Option<Value> {
        self.rules
            .defaults
            .iter()
            .find(|(p, _)| path.matches(p))
            .map(|(_, f)| f())
    }

    fn is_scalar_list(&self, path: &Path<'_>, items: &[Value]) -> bool {
        self.list_key(path).is_none() && !items.iter().any(Value::is_object)
    }

    fn list_key(&self, path: &Path<'_>) -> Option<&'static str> {
        self.rules
            .keyed
            .iter()
            .find(|(p, _)| path.matches(p))
            .map(|(_, k)| *k)
    }

    /// The key an element of a keyed list is matched and labelled by.
    fn elem_label(&self, path: &Path<'_>, item: &Value) -> Option<String> {
        let key = self.list_key(path)?;
        item.get(key).and_then(Value::as_str).map(str::to_owned)
    }

    fn find_keyed<'v>(
        &self,
        path: &Path<'_>,
        items: &'v [Value],
        probe: &Value,
    ) -> Option<&'v Value> {
        let key = self.list_key(path)?;
        let elem = path.elem("0");
        let key_path = elem.key(key);
        let wanted = self.normalized_key(&key_path, probe.get(key)?);
        items.iter().find(|item| {
            item.get(key)
                .is_some_and(|v| self.normalized_key(&key_path, v) == wanted)
        })
    }

    fn normalized_key(&self, key_path: &Path<'_>, value: &Value) -> Value {
        match self.normalized(key_path, value) {
            Value::String(s) => Value::String(s.to_ascii_lowercase()),
            other => other,
        }
    }
}

/// True when every key of `live` is a key of `desired`, in the same order.
fn keys_in_order(desired: &Map<String, Value>, live: &Map<String, Value>) -> bool {
    let mut keys = desired.keys();
    live.keys().all(|k| keys.any(|d| d == k))
}

fn is_exact_map(path: &Path<'_>) -> bool {
    EXACT_MAPS.iter().any(|p| path.matches(p))
}

/// The union of the keys of a list's elements: the shape a live-only element is shown in.
fn union_shape(items: &[Value]) -> Value {
    let mut shape = Map::new();
    for item in items.iter().filter_map(Value::as_object) {
        for (k, v) in item {
            match (shape.get_mut(k), v) {
                (Some(Value::Object(_)), Value::Object(_)) => {
                    let merged = union_shape(&[shape[k].clone(), v.clone()]);
                    shape.insert(k.clone(), merged);
                }
                (Some(_), _) => {}
                (None, _) => {
                    shape.insert(k.clone(), v.clone());
                }
            }
        }
    }
    Value::Object(shape)
}

fn parse_instant(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok().or_else(|| {
        let date = time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"));
        date.ok().map(|d| d.midnight().assume_utc())
    })
}

fn change(
    path: &Path<'_>,
    before: Value,
    after: Value,
    forces_replacement: bool,
) -> AttributeChange {
    AttributeChange {
        path: path.to_string(),
        before,
        after,
        forces_replacement,
        sensitive: false,
    }
}
