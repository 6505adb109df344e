//! `Microsoft.Authorization`: role assignments at any scope (subscription, resource group,
//! gallery...) and the built-in role definitions.
//!
//! Shapes and errors: specification/authorization/resource-manager/Microsoft.Authorization/
//! Authorization/stable/2022-04-01/authorization-RoleAssignmentsCalls.json and
//! authorization-RoleDefinitionsCalls.json. Assignments are stored as ordinary resource
//! documents so that `arm::rbac` sees them at once.

use axum::http::StatusCode;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

use crate::arm::context::{ArmRequest, Ctx, Reply};
use crate::arm::errors::ArmError;
use crate::arm::rbac::{self, BUILT_IN_ROLES};
use crate::arm::registry::{Rbac, Registry, ResourceType};
use crate::providers::generic;
use crate::state::{Resource, State, is_under};

/// api-versions of role assignments and definitions the clients use.
pub const API_VERSIONS: &[&str] = &[
    "2015-06-01",
    "2015-07-01",
    "2017-10-01-preview",
    "2018-01-01-preview",
    "2018-07-01",
    "2018-09-01-preview",
    "2020-03-01-preview",
    "2020-04-01-preview",
    "2020-08-01-preview",
    "2020-10-01",
    "2020-10-01-preview",
    "2021-03-01-preview",
    "2022-01-01-preview",
    "2022-04-01",
    "2022-05-01-preview",
];

/// Type of role assignment documents.
pub const ASSIGNMENT_TYPE: &str = "Microsoft.Authorization/roleAssignments";

/// Registers role assignments and role definitions.
pub fn register(r: &mut Registry) {
    r.register(ResourceType {
        get: Some(generic::get),
        put: Some(put_assignment),
        delete: Some(delete_assignment),
        list: Some(list_assignments),
        ..ResourceType::new("Microsoft.Authorization", "roleAssignments", API_VERSIONS)
    });
    r.register(ResourceType {
        get: Some(get_definition),
        list: Some(list_definitions),
        // Reading built-in role definitions needs no role, as in Azure.
        rbac: Rbac::Handler,
        needs_resource_group: false,
        ..ResourceType::new("Microsoft.Authorization", "roleDefinitions", API_VERSIONS)
    });
}

/// Builds a stored role assignment (also used by the seed and the admin API).
pub fn assignment(
    scope: &str,
    name: &str,
    role_id: &str,
    principal_id: &str,
    principal_type: &str,
    description: Option<&str>,
    now: time::OffsetDateTime,
) -> Resource {
    let sub_prefix = crate::arm::ids::ArmPath::parse(scope)
        .and_then(|p| p.subscription)
        .map(|s| format!("/subscriptions/{s}"))
        .unwrap_or_default();
    let id = format!(
        "{}/providers/Microsoft.Authorization/roleAssignments/{name}",
        scope.trim_end_matches('/')
    );
    let stamp = now.format(&Rfc3339).unwrap_or_default();
    let body = json!({
        "properties": {
            "roleDefinitionId": format!("{sub_prefix}/providers/Microsoft.Authorization/roleDefinitions/{role_id}"),
            "principalId": principal_id,
            "principalType": principal_type,
            "scope": scope,
            "condition": null,
            "conditionVersion": null,
            "createdOn": stamp,
            "updatedOn": stamp,
            "createdBy": null,
            "updatedBy": null,
            "delegatedManagedIdentityResourceId": null,
            "description": description,
        },
        "id": id,
        "type": ASSIGNMENT_TYPE,
        "name": name,
    });
    Resource {
        id,
        resource_type: ASSIGNMENT_TYPE.into(),
        body,
        internal: Value::Null,
        created: now,
        updated: now,
    }
}

fn is_guid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok()
}

fn existing_duplicate<'a>(
    state: &'a State,
    scope: &str,
    role: &str,
    principal: &str,
    name: &str,
) -> Option<&'a Resource> {
    state.resources_of_type(scope, ASSIGNMENT_TYPE).find(|r| {
        let p = r.properties();
        let same_scope = p["scope"]
            .as_str()
            .is_some_and(|s| s.eq_ignore_ascii_case(scope));
        let same_role = p["roleDefinitionId"]
            .as_str()
            .and_then(rbac::find_role)
            .is_some_and(|d| d.id == role);
        let same_principal = p["principalId"]
            .as_str()
            .is_some_and(|s| s.eq_ignore_ascii_case(principal));
        same_scope
            && same_role
            && same_principal
            && !r.body["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
    })
}

fn put_assignment(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let name = req.path.name().unwrap_or_default();
    if !is_guid(name) {
        return Err(ArmError::bad_request(
            "InvalidRoleAssignmentId",
            format!(
                "The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID."
            ),
        ));
    }
    let props = req.body.get("properties").cloned().unwrap_or(Value::Null);
    let role_ref = props["roleDefinitionId"].as_str().unwrap_or_default();
    let role = rbac::find_role(role_ref).ok_or_else(|| {
        ArmError::bad_request(
            "RoleDefinitionDoesNotExist",
            format!(
                "The specified role definition with ID '{}' does not exist.",
                role_ref.rsplit('/').next().unwrap_or_default()
            ),
        )
    })?;
    let principal = props["principalId"]
        .as_str()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let principal_type = props["principalType"]
        .as_str()
        .unwrap_or("ServicePrincipal")
        .to_owned();
    let scope = req.path.scope.clone();
    let tenant = req
        .path
        .subscription
        .as_deref()
        .and_then(|s| ctx.state.subscription(s))
        .map(|s| s.tenant.clone())
        .unwrap_or_default();
    let known = ctx.state.service_principals.iter().any(|sp| {
        sp.object_id.eq_ignore_ascii_case(&principal) && sp.tenant.eq_ignore_ascii_case(&tenant)
    });
    if !known && principal_type == "ServicePrincipal" {
        return Err(ArmError::bad_request(
            "PrincipalNotFound",
            format!(
                "Principal {} does not exist in the directory {tenant}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype",
                principal.replace('-', "")
            ),
        ));
    }
    if existing_duplicate(ctx.state, &scope, role.id, &principal, name).is_some() {
        return Err(ArmError::conflict(
            "RoleAssignmentExists",
            "The role assignment already exists.",
        ));
    }
    if let Some(prev) = ctx.state.resource(&req.path.raw) {
        let p = prev.properties();
        let same = p["principalId"]
            .as_str()
            .is_some_and(|s| s.eq_ignore_ascii_case(&principal))
            && p["roleDefinitionId"]
                .as_str()
                .and_then(rbac::find_role)
                .is_some_and(|d| d.id == role.id);
        if !same {
            return Err(ArmError::bad_request(
                "RoleAssignmentUpdateNotPermitted",
                "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
            ));
        }
        return Ok(Reply::with_status(StatusCode::CREATED, prev.body.clone()));
    }
    let description = props["description"].as_str();
    let mut r = assignment(
        &scope,
        name,
        role.id,
        &principal,
        &principal_type,
        description,
        ctx.now,
    );
    r.id = req.path.raw.clone();
    r.body["id"] = json!(req.path.raw);
    r.body["properties"]["createdBy"] = json!(ctx.caller.object_id);
    r.body["properties"]["updatedBy"] = json!(ctx.caller.object_id);
    let body = r.body.clone();
    ctx.state.insert_resource(r);
    Ok(Reply::with_status(StatusCode::CREATED, body))
}

/// DELETE answers 200 with the deleted assignment, 204 when there was none.
fn delete_assignment(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    match ctx.state.resource(&req.path.raw).cloned() {
        Some(r) => {
            ctx.state.remove_tree(&r.id);
            Ok(Reply::ok(r.body))
        }
        None => Ok(Reply::empty(StatusCode::NO_CONTENT)),
    }
}

/// List at a scope: assignments at, above and below it; `$filter=atScope()` keeps at/above;
/// `principalId eq '<id>'` filters by principal.
fn list_assignments(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let scope = req.path.scope.to_ascii_lowercase();
    let filter = req.query("$filter").unwrap_or_default().to_owned();
    let at_scope = filter.contains("atScope()");
    let principal = filter
        .split("principalId eq '")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .map(str::to_ascii_lowercase);
    let sub_scope = req
        .path
        .subscription
        .as_deref()
        .map(|s| format!("/subscriptions/{s}"))
        .unwrap_or_default();
    let items = ctx
        .state
        .resources_of_type(&sub_scope, ASSIGNMENT_TYPE)
        .filter(|r| {
            let a_scope = r.properties()["scope"]
                .as_str()
                .unwrap_or_default()
                .to_ascii_lowercase();
            let above = is_under(&scope, &a_scope);
            above || (!at_scope && is_under(&a_scope, &scope))
        })
        .filter(|r| {
            principal.as_deref().is_none_or(|p| {
                r.properties()["principalId"]
                    .as_str()
                    .is_some_and(|x| x.eq_ignore_ascii_case(p))
            })
        })
        .map(|r| r.body.clone())
        .collect();
    Ok(generic::page(ctx, req, items))
}

fn get_definition(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let _ = ctx;
    let name = req.path.name().unwrap_or_default();
    let role = rbac::find_role(name).ok_or_else(|| {
        ArmError::new(
            StatusCode::NOT_FOUND,
            "RoleDefinitionDoesNotExist",
            format!("The specified role definition with ID '{name}' does not exist."),
        )
    })?;
    Ok(Reply::ok(rbac::role_definition_body(role, &req.path.scope)))
}

/// List built-in roles; supports `$filter=roleName eq '<name>'` as az and the SDKs send.
fn list_definitions(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let filter = req.query("$filter").unwrap_or_default();
    let wanted = filter
        .split("roleName eq '")
        .nth(1)
        .and_then(|s| s.split('\'').next());
    let items = BUILT_IN_ROLES
        .iter()
        .filter(|r| wanted.is_none_or(|w| r.name.eq_ignore_ascii_case(w)))
        .map(|r| rbac::role_definition_body(r, &req.path.scope))
        .collect();
    Ok(generic::page(ctx, req, items))
}
