//! ARM template evaluation for `Microsoft.Resources/deployments`, limited to what `az vm create`
//! and simple Bicep output submit: literal resources, `dependsOn`, and the expression functions
//! `parameters`, `variables`, `concat`, `resourceId`, `resourceGroup()` and `subscription()`.
//! Anything else is refused with `InvalidTemplate` rather than guessed at.
//! Template schema: specification/resources/resource-manager/Microsoft.Resources/deployments/
//! stable/2025-04-01/deployments.json (DeploymentProperties.template is free-form JSON).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::providers::rp::RpError;

/// Where the deployment runs, for `resourceGroup()`/`subscription()`/`resourceId()`.
#[derive(Debug, Clone)]
pub struct Scope {
    /// Subscription id.
    pub subscription: String,
    /// Resource group name.
    pub resource_group: String,
    /// Resource group location.
    pub location: String,
}

/// One resource of the template, evaluated, in execution order.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// Full resource id.
    pub id: String,
    /// `Namespace/type[/type]`.
    pub resource_type: String,
    /// `apiVersion` from the template.
    pub api_version: String,
    /// Body to PUT (without `type`, `apiVersion`, `dependsOn`, `name`).
    pub body: Value,
}

fn invalid(message: impl Into<String>) -> RpError {
    RpError::gateway(400, "InvalidTemplate", message)
}

struct Eval<'a> {
    params: &'a Map<String, Value>,
    vars: &'a Map<String, Value>,
    scope: &'a Scope,
}

impl Eval<'_> {
    /// Evaluates every string expression inside `v`.
    fn value(&self, v: &Value) -> Result<Value, RpError> {
        Ok(match v {
            Value::String(s) => self.string(s)?,
            Value::Array(a) => {
                Value::Array(a.iter().map(|x| self.value(x)).collect::<Result<_, _>>()?)
            }
            Value::Object(o) => {
                let mut out = Map::new();
                for (k, x) in o {
                    out.insert(k.clone(), self.value(x)?);
                }
                Value::Object(out)
            }
            other => other.clone(),
        })
    }

    fn string(&self, s: &str) -> Result<Value, RpError> {
        if let Some(rest) = s.strip_prefix("[[") {
            return Ok(json!(format!("[{rest}")));
        }
        match s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            Some(expr) => {
                let mut p = ExprParser {
                    chars: expr.chars().collect(),
                    pos: 0,
                };
                let v = p.call(self)?;
                p.skip_ws();
                if p.pos != p.chars.len() {
                    return Err(invalid(format!(
                        "The template language expression '{expr}' is not supported: unexpected text at position {}.",
                        p.pos
                    )));
                }
                Ok(v)
            }
            None => Ok(json!(s)),
        }
    }
}

struct ExprParser {
    chars: Vec<char>,
    pos: usize,
}

impl ExprParser {
    fn skip_ws(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }
    fn eat(&mut self, c: char) -> bool {
        self.skip_ws();
        if self.chars.get(self.pos) == Some(&c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn arg(&mut self, ev: &Eval<'_>) -> Result<Value, RpError> {
        self.skip_ws();
        match self.chars.get(self.pos) {
            Some('\'') => {
                let mut s = String::new();
                self.pos += 1;
                loop {
                    match self.chars.get(self.pos) {
                        Some('\'') if self.chars.get(self.pos + 1) == Some(&'\'') => {
                            s.push('\'');
                            self.pos += 2;
                        }
                        Some('\'') => {
                            self.pos += 1;
                            return Ok(json!(s));
                        }
                        Some(c) => {
                            s.push(*c);
                            self.pos += 1;
                        }
                        None => {
                            return Err(invalid(
                                "Unterminated string in a template language expression.",
                            ));
                        }
                    }
                }
            }
            Some(c) if c.is_ascii_digit() => {
                let start = self.pos;
                while self.chars.get(self.pos).is_some_and(char::is_ascii_digit) {
                    self.pos += 1;
                }
                let n: i64 = self.chars[start..self.pos]
                    .iter()
                    .collect::<String>()
                    .parse()
                    .unwrap_or(0);
                Ok(json!(n))
            }
            _ => self.call(ev),
        }
    }
    fn call(&mut self, ev: &Eval<'_>) -> Result<Value, RpError> {
        self.skip_ws();
        let start = self.pos;
        while self
            .chars
            .get(self.pos)
            .is_some_and(|c| c.is_alphanumeric())
        {
            self.pos += 1;
        }
        let name: String = self.chars[start..self.pos].iter().collect();
        if name.is_empty() || !self.eat('(') {
            return Err(invalid(
                "A template language expression must be a function call.",
            ));
        }
        let mut args = Vec::new();
        if !self.eat(')') {
            loop {
                args.push(self.arg(ev)?);
                if self.eat(')') {
                    break;
                }
                if !self.eat(',') {
                    return Err(invalid(format!(
                        "Expected ',' or ')' in the arguments of '{name}'."
                    )));
                }
            }
        }
        let mut v = apply(&name, &args, ev)?;
        while self.eat('.') {
            let s = self.pos;
            while self
                .chars
                .get(self.pos)
                .is_some_and(|c| c.is_alphanumeric())
            {
                self.pos += 1;
            }
            let prop: String = self.chars[s..self.pos].iter().collect();
            v = v
                .get(&prop)
                .cloned()
                .ok_or_else(|| invalid(format!("The property '{prop}' does not exist.")))?;
        }
        Ok(v)
    }
}

fn apply(name: &str, args: &[Value], ev: &Eval<'_>) -> Result<Value, RpError> {
    let s = |i: usize| {
        args.get(i)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    match name.to_ascii_lowercase().as_str() {
        "parameters" => {
            let p = ev.params.get(&s(0)).ok_or_else(|| {
                invalid(format!("The template parameter '{}' is not found.", s(0)))
            })?;
            Ok(p.clone())
        }
        "variables" => ev
            .vars
            .get(&s(0))
            .cloned()
            .ok_or_else(|| invalid(format!("The template variable '{}' is not found.", s(0)))),
        "concat" => Ok(json!(
            args.iter()
                .map(|a| a.as_str().map_or_else(|| a.to_string(), str::to_owned))
                .collect::<String>()
        )),
        "resourcegroup" => Ok(json!({
            "id": format!("/subscriptions/{}/resourceGroups/{}", ev.scope.subscription, ev.scope.resource_group),
            "name": ev.scope.resource_group, "location": ev.scope.location,
        })),
        "subscription" => Ok(json!({
            "id": format!("/subscriptions/{}", ev.scope.subscription),
            "subscriptionId": ev.scope.subscription,
        })),
        "resourceid" => {
            let strs: Vec<String> = (0..args.len()).map(s).collect();
            let ty_at = strs
                .iter()
                .position(|a| a.contains('/'))
                .ok_or_else(|| invalid("resourceId() needs a resource type."))?;
            let (sub, rg) = match ty_at {
                0 => (
                    ev.scope.subscription.clone(),
                    ev.scope.resource_group.clone(),
                ),
                1 => (ev.scope.subscription.clone(), strs[0].clone()),
                _ => (strs[0].clone(), strs[1].clone()),
            };
            Ok(json!(resource_id(
                &sub,
                &rg,
                &strs[ty_at],
                &strs[ty_at + 1..]
            )?))
        }
        other => Err(invalid(format!(
            "The template function '{other}' is not supported by the emulator; supported: parameters, variables, concat, resourceId, resourceGroup, subscription."
        ))),
    }
}

/// `/subscriptions/{s}/resourceGroups/{rg}/providers/{ns}/{t1}/{n1}/{t2}/{n2}`.
fn resource_id(sub: &str, rg: &str, ty: &str, names: &[String]) -> Result<String, RpError> {
    let mut parts = ty.split('/');
    let ns = parts.next().unwrap_or_default();
    let types: Vec<&str> = parts.collect();
    if types.len() != names.len() || types.is_empty() {
        return Err(invalid(format!(
            "Unable to evaluate template language function 'resourceId': the type '{ty}' requires {} resource name argument(s).",
            types.len()
        )));
    }
    let mut id = format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/{ns}");
    for (t, n) in types.iter().zip(names) {
        id.push_str(&format!("/{t}/{n}"));
    }
    Ok(id)
}

/// Evaluates a deployment's template into resources in `dependsOn` order.
///
/// # Errors
/// 400 `InvalidTemplate` for unsupported expressions, missing parameters, unknown dependencies
/// or cycles (`InvalidTemplate` is also what ARM answers for a circular dependency).
pub fn plan(properties: &Value, scope: &Scope) -> Result<Vec<Planned>, RpError> {
    let template = &properties["template"];
    if !template.is_object() {
        return Err(invalid(
            "The deployment must have a 'template' (templateLink is not supported by the emulator).",
        ));
    }
    let mut params = Map::new();
    for (k, decl) in template["parameters"].as_object().into_iter().flatten() {
        let given = properties["parameters"][k]["value"].clone();
        let v = if given.is_null() {
            decl["defaultValue"].clone()
        } else {
            given
        };
        if v.is_null() {
            return Err(invalid(format!(
                "Deployment template validation failed: 'The value for the template parameter '{k}' is not provided.'"
            )));
        }
        params.insert(k.clone(), v);
    }
    let no_vars = Map::new();
    let raw_vars = template["variables"].as_object().unwrap_or(&no_vars);
    let mut vars = Map::new();
    for (k, v) in raw_vars {
        let ev = Eval {
            params: &params,
            vars: &vars,
            scope,
        };
        let value = ev.value(v)?;
        vars.insert(k.clone(), value);
    }
    let ev = Eval {
        params: &params,
        vars: &vars,
        scope,
    };
    let mut planned = Vec::new();
    let mut deps: Vec<Vec<String>> = Vec::new();
    for r in template["resources"].as_array().into_iter().flatten() {
        let r = ev.value(r)?;
        let ty = r["type"]
            .as_str()
            .ok_or_else(|| invalid("A template resource needs a 'type'."))?
            .to_owned();
        let name = r["name"]
            .as_str()
            .ok_or_else(|| invalid("A template resource needs a 'name'."))?
            .to_owned();
        let api = r["apiVersion"]
            .as_str()
            .ok_or_else(|| {
                invalid(format!(
                    "The template resource '{name}' needs an 'apiVersion'."
                ))
            })?
            .to_owned();
        let names: Vec<String> = name.split('/').map(str::to_owned).collect();
        let id = resource_id(&scope.subscription, &scope.resource_group, &ty, &names)?;
        let mut body = r.clone();
        if let Some(o) = body.as_object_mut() {
            for k in [
                "type",
                "apiVersion",
                "dependsOn",
                "name",
                "condition",
                "copy",
                "comments",
            ] {
                o.remove(k);
            }
        }
        deps.push(
            r["dependsOn"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d.as_str().map(str::to_owned))
                .collect(),
        );
        planned.push(Planned {
            id,
            resource_type: ty,
            api_version: api,
            body,
        });
    }
    order(planned, &deps)
}

/// A `dependsOn` entry names a resource by id, by `type/name` or by bare name.
fn refers_to(dep: &str, p: &Planned) -> bool {
    let dep = dep.trim_end_matches('/').to_ascii_lowercase();
    let id = p.id.to_ascii_lowercase();
    let short = id
        .split("/providers/")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    let type_name = {
        // Microsoft.Network/virtualNetworks/v/subnets/s -> Microsoft.Network/virtualNetworks/subnets/v/s
        let segs: Vec<&str> = short.split('/').collect();
        let ns = segs.first().copied().unwrap_or_default();
        let types: Vec<&str> = segs[1..].iter().step_by(2).copied().collect();
        let names: Vec<&str> = segs[1..].iter().skip(1).step_by(2).copied().collect();
        format!("{ns}/{}/{}", types.join("/"), names.join("/"))
    };
    dep == id || dep == short || dep == type_name || id.ends_with(&format!("/{dep}"))
}

fn order(planned: Vec<Planned>, deps: &[Vec<String>]) -> Result<Vec<Planned>, RpError> {
    let n = planned.len();
    let mut edges: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, ds) in deps.iter().enumerate() {
        for d in ds {
            let j = planned.iter().position(|p| refers_to(d, p)).ok_or_else(|| {
                invalid(format!("Deployment template validation failed: 'The resource '{d}' is not defined in the template.'"))
            })?;
            edges.entry(i).or_default().push(j);
        }
    }
    let mut done = vec![false; n];
    let mut out_idx = Vec::new();
    while out_idx.len() < n {
        let ready =
            (0..n).find(|i| !done[*i] && edges.get(i).is_none_or(|d| d.iter().all(|j| done[*j])));
        let Some(i) = ready else {
            return Err(invalid(
                "Deployment template validation failed: 'Circular dependency detected on resource(s).'",
            ));
        };
        done[i] = true;
        out_idx.push(i);
    }
    let mut slots: Vec<Option<Planned>> = planned.into_iter().map(Some).collect();
    Ok(out_idx
        .into_iter()
        .filter_map(|i| slots[i].take())
        .collect())
}

#[cfg(test)]
#[path = "template_tests.rs"]
mod tests;
