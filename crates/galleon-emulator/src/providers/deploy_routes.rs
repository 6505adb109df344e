//! `Microsoft.Resources/deployments` at resource-group scope, as `az vm create` uses them: the
//! PUT validates and evaluates the template synchronously (400 `InvalidTemplate`), runs its
//! resources through the same handlers as direct calls, in `dependsOn` order, as the deploying
//! principal with the PUT's auxiliary tokens, and answers 201 `Accepted` with
//! `Azure-AsyncOperation` `.../deployments/{name}/operationStatuses/{id}` (status `Running`).
//! When the operation completes it reveals the outcome: `Succeeded`, or `Failed` with
//! `DeploymentFailed` wrapping the resource's error (arm-errors.md §0, §7; Azure/bicep#17206).
//! Resources therefore exist slightly before the deployment reports them [R: ARM creates them
//! while the deployment runs]; in exchange nothing evaluated (secure parameters) is persisted.

use axum::http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};

use crate::arm::context::{ArmRequest, Ctx, Reply};
use crate::arm::errors::ArmError;
use crate::arm::ids::ArmPath;
use crate::arm::lro::{self, Begin, Completion};
use crate::arm::rbac;
use crate::arm::registry::{HookCtx, Registry, ResourceType};
use crate::providers::glue;
use crate::providers::template::{self, Planned, Scope};

/// Deployments api-versions (specification/resources/resource-manager/Microsoft.Resources/
/// deployments/stable/*); az 2.91 sends 2024-11-01.
pub const DEPLOYMENT_VERSIONS: &[&str] = &[
    "2019-10-01",
    "2020-06-01",
    "2020-10-01",
    "2021-01-01",
    "2021-04-01",
    "2022-09-01",
    "2023-07-01",
    "2024-03-01",
    "2024-07-01",
    "2024-11-01",
    "2025-03-01",
    "2025-04-01",
    "2026-09-01",
];

const TYPE: &str = "Microsoft.Resources/deployments";
const HOOK: &str = "galleon-emulator/deployments";

/// Registers deployments and their completion hook.
pub fn register(r: &mut Registry) {
    r.register(ResourceType {
        get: Some(get),
        put: Some(put),
        delete: Some(delete),
        list: Some(list),
        actions: &[("validate", validate)],
        ..ResourceType::new("Microsoft.Resources", "deployments", DEPLOYMENT_VERSIONS)
    });
    r.register_hook(HOOK, run);
}

fn get(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    ctx.state
        .resource(&req.path.raw)
        .map(|r| Reply::ok(r.body.clone()))
        .ok_or_else(|| {
            ArmError::new(
                StatusCode::NOT_FOUND,
                "DeploymentNotFound",
                format!(
                    "Deployment '{}' could not be found.",
                    req.path.name().unwrap_or_default()
                ),
            )
        })
}

fn list(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    Ok(glue::list(ctx, req, TYPE, |r| r.body.clone()))
}

fn delete(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    if ctx.state.remove_tree(&req.path.raw) == 0 {
        return Ok(Reply::empty(StatusCode::NO_CONTENT));
    }
    Ok(Reply::empty(StatusCode::OK))
}

/// Parameters as ARM echoes them: secure values are never returned.
fn echo_parameters(template: &Value, given: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for (k, decl) in template["parameters"].as_object().into_iter().flatten() {
        let ty = decl["type"].as_str().unwrap_or("String");
        let secure = ty.to_ascii_lowercase().starts_with("secure");
        let mut v = json!({ "type": capitalise(ty) });
        if !secure {
            v["value"] = given[k]["value"].clone();
            if v["value"].is_null() {
                v["value"] = decl["defaultValue"].clone();
            }
        }
        out.insert(k.clone(), v);
    }
    Value::Object(out)
}

fn capitalise(s: &str) -> String {
    match s.to_ascii_lowercase().as_str() {
        "securestring" => "SecureString".into(),
        "secureobject" => "SecureObject".into(),
        other => {
            let mut c = other.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        }
    }
}

fn scope_of(ctx: &Ctx<'_>, req: &ArmRequest) -> Result<Scope, ArmError> {
    let rg_id = req.path.resource_group_id().ok_or_else(|| {
        ArmError::bad_request(
            "InvalidTemplate",
            "Only resource-group deployments are supported by the emulator.",
        )
    })?;
    let location = ctx
        .state
        .resource(&rg_id)
        .and_then(|r| r.location().map(str::to_owned))
        .unwrap_or_default();
    let scope = Scope {
        subscription: req.path.subscription.clone().unwrap_or_default(),
        resource_group: req.path.resource_group.clone().unwrap_or_default(),
        location,
    };
    Ok(scope)
}

/// `POST .../deployments/{name}/validate`: the template is evaluated as the PUT would, nothing
/// is created; 200 with the would-be resources or 400 `InvalidTemplate`.
fn validate(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let scope = scope_of(ctx, req)?;
    let planned = template::plan(&req.body["properties"], &scope)?;
    let resources: Vec<Value> = planned
        .iter()
        .map(|p| json!({ "id": p.id, "type": p.resource_type }))
        .collect();
    Ok(Reply::ok(json!({
        "id": req.path.raw,
        "name": req.path.name().unwrap_or_default(),
        "type": TYPE,
        "properties": {
            "provisioningState": "Succeeded",
            "mode": req.body["properties"]["mode"].as_str().unwrap_or("Incremental"),
            "validatedResources": resources,
        },
    })))
}

fn put(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let props = &req.body["properties"];
    let scope = scope_of(ctx, req)?;
    let planned = template::plan(props, &scope)?;
    let name = req.path.name().unwrap_or_default().to_owned();
    let now = ctx
        .now
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let body = json!({
        "id": req.path.raw,
        "name": name,
        "type": TYPE,
        "properties": {
            "templateHash": format!("{}", template_hash(&props["template"])),
            "parameters": echo_parameters(&props["template"], &props["parameters"]),
            "mode": props["mode"].as_str().unwrap_or("Incremental"),
            "provisioningState": "Accepted",
            "timestamp": now,
            "duration": "PT0S",
            "correlationId": uuid::Uuid::new_v4().to_string(),
            "dependencies": [],
            "outputResources": [],
            "outputs": {},
        },
    });
    let creating = ctx.state.resource(&req.path.raw).is_none();
    let (mut stored, _) = glue::store(ctx, TYPE, body, false);
    stored["properties"]["provisioningState"] = json!("Accepted");
    if let Some(r) = ctx.state.resource_mut(&req.path.raw) {
        r.body = stored.clone();
    }
    // The resources are created now, as the deploying principal with this request's auxiliary
    // tokens; the operation reveals the outcome when it completes. Only ids and the error are
    // kept in the operation, never the evaluated bodies (they may hold secure parameters).
    let api_version = ctx.api_version.clone();
    let mut outputs = Vec::new();
    let mut failure = Value::Null;
    for p in &planned {
        match deploy_one(ctx, p) {
            Ok(id) => outputs.push(id),
            Err(e) => {
                failure = e.to_error_object();
                break;
            }
        }
    }
    ctx.api_version = api_version;
    let data = json!({ "deployment": req.path.raw, "outputs": outputs, "error": failure });
    let op = lro::start(
        ctx,
        Begin {
            resource_id: req.path.raw.clone(),
            resource_type: TYPE.into(),
            location: "global".into(),
            completion: Completion::Hook {
                namespace: HOOK.into(),
                name: "run".into(),
                data,
            },
            running_status: "Running",
            status_path: Some(format!("{}/operationStatuses/{{id}}", req.path.raw)),
        },
    );
    let status = if creating {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(lro::put_accepted(ctx, &op, status, stored))
}

fn template_hash(t: &Value) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    t.to_string().hash(&mut h);
    h.finish()
}

/// The completion hook: finalises the deployment document from the recorded outcome.
fn run(hx: &mut HookCtx<'_>, _name: &str, data: &Value) -> Result<Option<Value>, ArmError> {
    let deployment = data["deployment"].as_str().unwrap_or_default().to_owned();
    let outputs: Vec<String> = data["outputs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    // A deployment succeeds only once its resources have: their own operations end now (the
    // deployment's duration stood for theirs), so whoever reads the VM after the deployment
    // (as `az vm create` does) finds it provisioned.
    let running: Vec<String> = hx
        .state
        .operations
        .iter()
        .filter(|(_, op)| {
            !op.is_done()
                && outputs
                    .iter()
                    .any(|id| op.resource_id.eq_ignore_ascii_case(id))
        })
        .map(|(k, _)| k.clone())
        .collect();
    for key in running {
        if let Some(op) = hx.state.operations.get_mut(&key) {
            op.completes = hx.now;
        }
    }
    let end = hx
        .now
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let Some(d) = hx.state.resource_mut(&deployment) else {
        return Ok(None);
    };
    d.body["properties"]["outputResources"] = json!(
        outputs
            .iter()
            .map(|id| json!({ "id": id }))
            .collect::<Vec<_>>()
    );
    d.body["properties"]["timestamp"] = json!(end);
    if data["error"].is_null() {
        d.body["properties"]["provisioningState"] = json!("Succeeded");
        return Ok(Some(d.body.clone()));
    }
    let err = ArmError::new(
        StatusCode::BAD_REQUEST,
        "DeploymentFailed",
        "At least one resource deployment operation failed. Please list deployment operations for details. Please see https://aka.ms/arm-deployment-operations for usage details.",
    )
    .with_target(deployment.clone())
    .with_detail(data["error"].clone());
    d.body["properties"]["provisioningState"] = json!("Failed");
    d.body["properties"]["error"] = err.to_error_object();
    Err(err)
}

/// One template resource through its type's handler, with the front door's RBAC and
/// api-version checks (the registry call itself skips them).
fn deploy_one(ctx: &mut Ctx<'_>, r: &Planned) -> Result<String, ArmError> {
    let id = r.id.clone();
    let api = r.api_version.clone();
    let path = ArmPath::parse(&id).ok_or_else(|| {
        ArmError::bad_request(
            "InvalidTemplate",
            format!("'{id}' is not a valid resource id."),
        )
    })?;
    let ns = path.namespace.clone().unwrap_or_default();
    let rt = *ctx
        .registry
        .find(&ns, &path.type_path())
        .ok_or_else(|| ArmError::invalid_resource_type(&ns, &path.types.join("/"), &api))?;
    if !rt.api_versions.iter().any(|v| v.eq_ignore_ascii_case(&api)) {
        return Err(ArmError::no_registered_provider(
            "global",
            &api,
            &rt.full_type(),
            rt.api_versions,
        ));
    }
    let action = format!("{}/write", rt.full_type());
    if !rbac::is_allowed(ctx.state, &ctx.caller.object_id, &action, &id, false) {
        return Err(ArmError::authorization_failed(
            ctx.caller.client_name(),
            &ctx.caller.object_id,
            &action,
            &id,
        ));
    }
    ctx.api_version = api.clone();
    let req = ArmRequest {
        method: Method::PUT,
        path,
        query: vec![("api-version".into(), api)],
        headers: HeaderMap::new(),
        body: r.body.clone(),
    };
    ctx.registry.call(ctx, &req)?;
    Ok(id)
}
