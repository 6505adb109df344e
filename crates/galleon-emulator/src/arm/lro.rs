//! Long-running operations the way ARM runs them (arm-protocol.md §2): a PUT answers 201 with a
//! non-terminal `provisioningState` and `Azure-AsyncOperation`; a DELETE or POST action answers
//! 202 with `Location` (+ `Azure-AsyncOperation`); status documents say
//! `InProgress`/`Succeeded`/`Failed`; `Location` polls answer 202 until done, then what the
//! synchronous call would have answered.
//!
//! Operations are state machines driven by the emulator clock, like omicron's simulated sled
//! agent: each has a completion time and a serialisable `Completion` applied lazily (before any
//! request is handled) once that time has passed, so no background task is needed and
//! `clock/advance` finishes operations instantly.

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::arm::context::{Ctx, Reply};
use crate::arm::errors::ArmError;
use crate::arm::registry::{HookCtx, Registry};
use crate::state::State;

/// What happens when an operation's time is up.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Completion {
    /// Nothing beyond marking the operation done.
    Nothing,
    /// Set the resource's `provisioningState` to `Succeeded`; the final result is its body.
    Provision {
        /// Resource id.
        id: String,
    },
    /// Remove the resource and everything below it; the final result is 204/200.
    Delete {
        /// Resource id.
        id: String,
    },
    /// Call a provider hook registered with `Registry::register_hook` under `namespace`.
    Hook {
        /// Provider namespace the hook is registered under (`Microsoft.Resources`).
        namespace: String,
        /// Hook-defined operation name.
        name: String,
        /// Hook-defined data.
        data: Value,
    },
}

/// A running or finished operation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Operation {
    /// Operation id (GUID); last segment of the status URLs.
    pub id: String,
    /// Absolute status path (without host and query), as returned in `Azure-AsyncOperation`.
    pub status_path: String,
    /// Resource the operation works on.
    pub resource_id: String,
    /// Start.
    #[serde(with = "time::serde::rfc3339")]
    pub started: OffsetDateTime,
    /// When it completes.
    #[serde(with = "time::serde::rfc3339")]
    pub completes: OffsetDateTime,
    /// `InProgress` (or `Running` for deployments), `Succeeded`, `Failed`.
    pub status: String,
    /// The error object when failed.
    pub error: Option<Value>,
    /// What to do at completion.
    pub completion: Completion,
    /// Whether completion must fail instead (fault injection).
    pub fail: bool,
    /// Status code the `Location` URL returns once succeeded (200 with `result`, or 204).
    pub final_status: u16,
    /// Body the `Location` URL returns once succeeded.
    pub result: Option<Value>,
}

impl Operation {
    /// Whether the operation reached a terminal state.
    pub fn is_done(&self) -> bool {
        matches!(self.status.as_str(), "Succeeded" | "Failed" | "Canceled")
    }
}

/// How to start an operation.
#[derive(Debug, Clone)]
pub struct Begin {
    /// Resource the operation works on (its subscription and location pick the status URL).
    pub resource_id: String,
    /// Resource type for the configured duration (`Microsoft.Compute/virtualMachines`).
    pub resource_type: String,
    /// Location used in the status URL (`locations/{loc}/operations/{id}`).
    pub location: String,
    /// What happens at the end.
    pub completion: Completion,
    /// Non-terminal status name: `InProgress` for RPs, `Running` for deployments.
    pub running_status: &'static str,
    /// Custom status path (deployments use `.../deployments/{name}/operationStatuses/{id}`);
    /// `{id}` is replaced by the operation id.
    pub status_path: Option<String>,
}

/// Registers an operation and returns it (use `put_accepted`/`accepted` for the reply).
pub fn start(ctx: &mut Ctx<'_>, begin: Begin) -> Operation {
    let id = Uuid::new_v4().to_string();
    let ms = ctx
        .state
        .settings
        .lro_ms
        .iter()
        .find(|(t, _)| t.eq_ignore_ascii_case(&begin.resource_type))
        .map_or(ctx.state.settings.lro_default_ms, |(_, ms)| *ms);
    let namespace = begin
        .resource_type
        .split('/')
        .next()
        .unwrap_or("Microsoft.Resources");
    let sub = crate::arm::ids::ArmPath::parse(&begin.resource_id)
        .and_then(|p| p.subscription)
        .unwrap_or_default();
    let status_path = match &begin.status_path {
        Some(p) => p.replace("{id}", &id),
        None => format!(
            "/subscriptions/{sub}/providers/{namespace}/locations/{}/operations/{id}",
            begin.location.to_ascii_lowercase().replace(' ', "")
        ),
    };
    let op = Operation {
        id: id.clone(),
        status_path,
        resource_id: begin.resource_id,
        started: ctx.now,
        completes: ctx.now + time::Duration::milliseconds(ms as i64),
        status: begin.running_status.to_owned(),
        error: None,
        completion: begin.completion,
        fail: std::mem::take(&mut ctx.fail_next_operation),
        final_status: 200,
        result: None,
    };
    ctx.state.operations.insert(id, op.clone());
    op
}

fn url(ctx: &Ctx<'_>, path: &str) -> String {
    format!("{}{}?api-version={}", ctx.endpoint, path, ctx.api_version)
}

/// The `Location` URL of an operation (status path with `operationResults` instead).
pub fn location_path(op: &Operation) -> String {
    match op.status_path.rsplit_once("/operations/") {
        Some((head, id)) => format!("{head}/operationResults/{id}"),
        None => match op.status_path.rsplit_once("/operationStatuses/") {
            Some((head, id)) => format!("{head}/operationResults/{id}"),
            None => format!("{}/result", op.status_path),
        },
    }
}

/// Reply to a PUT that started an operation: `status` (201 for create, 200 for update) with the
/// resource body, `Azure-AsyncOperation` and `Retry-After`.
pub fn put_accepted(ctx: &Ctx<'_>, op: &Operation, status: StatusCode, body: Value) -> Reply {
    Reply::with_status(status, body)
        .header("Azure-AsyncOperation", url(ctx, &op.status_path))
        .header(
            "Retry-After",
            ctx.state.settings.retry_after_secs.to_string(),
        )
}

/// Reply to a DELETE/PATCH/POST that started an operation: 202, empty body, `Location` +
/// `Azure-AsyncOperation` + `Retry-After`.
pub fn accepted(ctx: &Ctx<'_>, op: &Operation) -> Reply {
    Reply::empty(StatusCode::ACCEPTED)
        .header("Location", url(ctx, &location_path(op)))
        .header("Azure-AsyncOperation", url(ctx, &op.status_path))
        .header(
            "Retry-After",
            ctx.state.settings.retry_after_secs.to_string(),
        )
}

/// Applies every completion whose time has come. Called before each request is handled.
pub fn advance(
    state: &mut State,
    registry: &Registry,
    now: OffsetDateTime,
    endpoint: &str,
) -> bool {
    let due: Vec<String> = state
        .operations
        .values()
        .filter(|op| !op.is_done() && op.completes <= now)
        .map(|op| op.id.clone())
        .collect();
    for id in &due {
        let Some(op) = state.operations.get(id).cloned() else {
            continue;
        };
        let outcome = if op.fail {
            Err(
                ArmError::internal("An internal execution error occurred. Please retry later.")
                    .with_code("InternalExecutionError"),
            )
        } else {
            complete(
                &mut HookCtx {
                    state,
                    registry,
                    now,
                    endpoint,
                },
                &op,
            )
        };
        let entry = state
            .operations
            .get_mut(id)
            .expect("operation listed above");
        match outcome {
            Ok((status, result)) => {
                entry.status = "Succeeded".into();
                entry.final_status = status;
                entry.result = result;
            }
            Err(e) => {
                entry.status = "Failed".into();
                entry.error = Some(e.to_error_object());
                entry.final_status = e.status.as_u16();
                if let Some(r) = state.resource_mut(&op.resource_id) {
                    r.set_provisioning_state("Failed");
                }
            }
        }
    }
    !due.is_empty()
}

fn complete(hx: &mut HookCtx<'_>, op: &Operation) -> Result<(u16, Option<Value>), ArmError> {
    let now = hx.now;
    match &op.completion {
        Completion::Nothing => Ok((204, None)),
        Completion::Provision { id } => match hx.state.resource_mut(id) {
            Some(r) => {
                r.set_provisioning_state("Succeeded");
                r.updated = now;
                Ok((200, Some(r.body.clone())))
            }
            None => Ok((204, None)),
        },
        Completion::Delete { id } => {
            hx.state.remove_tree(id);
            Ok((200, None))
        }
        Completion::Hook {
            namespace,
            name,
            data,
        } => {
            let hook = hx.registry.hook(namespace).ok_or_else(|| {
                ArmError::internal(format!("no completion hook registered for {namespace}"))
            })?;
            let result = hook(hx, name, data)?;
            Ok((if result.is_some() { 200 } else { 204 }, result))
        }
    }
}

/// The `Azure-AsyncOperation` status document.
pub fn status_document(op: &Operation) -> Value {
    let mut doc = json!({
        "id": op.status_path,
        "name": op.id,
        "status": op.status,
        "startTime": op.started.format(&Rfc3339).unwrap_or_default(),
    });
    if op.is_done() {
        doc["endTime"] = json!(op.completes.format(&Rfc3339).unwrap_or_default());
    }
    if let Some(e) = &op.error {
        doc["error"] = e.clone();
    }
    doc
}

/// Answers a poll of `Azure-AsyncOperation` (`results == false`) or `Location` (`true`).
pub fn poll(ctx: &Ctx<'_>, op: &Operation, results: bool) -> Result<Reply, ArmError> {
    let retry = ctx.state.settings.retry_after_secs.to_string();
    if !results {
        let reply = Reply::ok(status_document(op));
        return Ok(if op.is_done() {
            reply
        } else {
            reply.header("Retry-After", retry)
        });
    }
    if !op.is_done() {
        return Ok(Reply::empty(StatusCode::ACCEPTED)
            .header("Location", url(ctx, &location_path(op)))
            .header("Retry-After", retry));
    }
    if let Some(e) = &op.error {
        let status =
            StatusCode::from_u16(op.final_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let code = e["code"].as_str().unwrap_or("InternalServerError");
        let message = e["message"].as_str().unwrap_or("");
        return Err(ArmError::service(status, code, message));
    }
    Ok(match &op.result {
        Some(body) => Reply::with_status(
            StatusCode::from_u16(op.final_status).unwrap_or(StatusCode::OK),
            body.clone(),
        ),
        None => {
            Reply::empty(StatusCode::from_u16(op.final_status).unwrap_or(StatusCode::NO_CONTENT))
        }
    })
}
