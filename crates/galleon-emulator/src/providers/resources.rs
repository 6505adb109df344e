//! `Microsoft.Resources`: subscriptions, resource groups and the tags API — ARM's own resource
//! types, and the worked example of the provider interface (see `providers/README.md`).
//!
//! Shapes: specification/resources/resource-manager/Microsoft.Resources/resources/stable/2025-04-01/resources.json
//! (ResourceGroups_*, Tags_*AtScope) and .../subscriptions/stable/2022-12-01/subscriptions.json.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::arm::context::{ArmRequest, Ctx, Reply};
use crate::arm::errors::ArmError;
use crate::arm::lro::{self, Begin, Completion};
use crate::arm::registry::{Rbac, Registry, ResourceType};
use crate::providers::generic::{self, PutOptions};

/// api-versions ARM accepts for its own types (resources.json and subscriptions.json folders,
/// plus what the official clients send: 2024-11-01 from `az group create`, 2025-04-01 from
/// azure-mgmt-resource 24/26, 2022-12-01 from `az login`, 2016-06-01 for tenant discovery).
pub const API_VERSIONS: &[&str] = &[
    "2014-04-01",
    "2014-04-01-preview",
    "2015-01-01",
    "2015-11-01",
    "2016-02-01",
    "2016-06-01",
    "2016-07-01",
    "2016-09-01",
    "2017-05-10",
    "2018-02-01",
    "2018-05-01",
    "2018-06-01",
    "2019-03-01",
    "2019-05-01",
    "2019-05-10",
    "2019-06-01",
    "2019-07-01",
    "2019-08-01",
    "2019-10-01",
    "2019-11-01",
    "2020-01-01",
    "2020-06-01",
    "2020-08-01",
    "2020-10-01",
    "2021-01-01",
    "2021-04-01",
    "2022-01-01",
    "2022-09-01",
    "2022-12-01",
    "2023-07-01",
    "2024-03-01",
    "2024-07-01",
    "2024-11-01",
    "2025-03-01",
    "2025-04-01",
];

const RG_TYPE: &str = "Microsoft.Resources/resourceGroups";

/// Registers subscriptions, resource groups and tags.
pub fn register(r: &mut Registry) {
    r.register(ResourceType {
        list: Some(list_subscriptions),
        get: Some(get_subscription),
        rbac: Rbac::Handler,
        needs_resource_group: false,
        ..ResourceType::new("Microsoft.Resources", "subscriptions", API_VERSIONS)
    });
    r.register(ResourceType {
        get: Some(get_group),
        put: Some(put_group),
        patch: Some(patch_group),
        delete: Some(delete_group),
        list: Some(list_groups),
        needs_resource_group: false,
        filtered_list: true,
        ..ResourceType::new(
            "Microsoft.Resources",
            "subscriptions/resourceGroups",
            API_VERSIONS,
        )
    });
    r.register(ResourceType {
        list: Some(list_tenants),
        rbac: Rbac::Handler,
        needs_resource_group: false,
        ..ResourceType::new("Microsoft.Resources", "tenants", API_VERSIONS)
    });
    // Resources_List / Resources_ListByResourceGroup (resources.json): every tracked resource.
    for type_path in [
        "subscriptions/resources",
        "subscriptions/resourceGroups/resources",
    ] {
        r.register(ResourceType {
            list: Some(list_resources),
            filtered_list: true,
            ..ResourceType::new("Microsoft.Resources", type_path, API_VERSIONS)
        });
    }
    r.register(ResourceType {
        list: Some(list_providers),
        rbac: Rbac::Handler,
        needs_resource_group: false,
        ..ResourceType::new(
            "Microsoft.Resources",
            "subscriptions/providers",
            API_VERSIONS,
        )
    });
    crate::providers::tags::register(r);
}

/// A resource provider registration document (Providers_Get in resources.json), listing the
/// types and api-versions the emulator implements for the namespace.
pub fn provider_body(ctx: &Ctx<'_>, subscription_scope: &str, namespace: &str) -> Value {
    let mut canonical = namespace.to_owned();
    let types: Vec<Value> = ctx
        .registry
        .types()
        .iter()
        .filter(|t| t.namespace.eq_ignore_ascii_case(namespace) && !t.type_path.is_empty())
        .map(|t| {
            canonical = t.namespace.to_owned();
            json!({"resourceType": t.type_path, "locations": [], "apiVersions": t.api_versions})
        })
        .collect();
    json!({
        "id": format!("{subscription_scope}/providers/{canonical}"),
        "namespace": canonical,
        "registrationState": "Registered",
        "registrationPolicy": "RegistrationRequired",
        "resourceTypes": types,
    })
}

/// `GET /subscriptions/{s}/providers`.
fn list_providers(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let scope = format!(
        "/subscriptions/{}",
        req.path.subscription.as_deref().unwrap_or_default()
    );
    let mut namespaces: Vec<&str> = ctx.registry.types().iter().map(|t| t.namespace).collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    let items = namespaces
        .into_iter()
        .map(|ns| provider_body(ctx, &scope, ns))
        .collect();
    Ok(generic::page(ctx, req, items))
}

fn subscription_body(s: &crate::state::Subscription) -> Value {
    json!({
        "id": format!("/subscriptions/{}", s.id),
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": s.id,
        "tenantId": s.tenant,
        "displayName": s.display_name,
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off"
        }
    })
}

/// `GET /subscriptions`: the subscriptions of the caller's token tenant.
fn list_subscriptions(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let items = ctx
        .state
        .subscriptions
        .iter()
        .filter(|s| s.tenant.eq_ignore_ascii_case(&ctx.caller.tenant))
        .map(subscription_body)
        .collect();
    Ok(generic::page(ctx, req, items))
}

/// `GET /subscriptions/{id}` (existence and tenant were checked by the front door).
fn get_subscription(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let id = req.path.subscription.as_deref().unwrap_or_default();
    let s = ctx
        .state
        .subscription(id)
        .ok_or_else(|| ArmError::subscription_not_found(id))?;
    Ok(Reply::ok(subscription_body(s)))
}

fn get_group(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    ctx.state
        .resource(&req.path.raw)
        .map(|r| Reply::ok(r.body.clone()))
        .ok_or_else(|| ArmError::resource_group_not_found(req.path.name().unwrap_or_default()))
}

fn patch_group(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    get_group(ctx, req)?;
    generic::patch(ctx, req)
}

/// `GET /tenants`: the caller's own tenant (an app sees the tenants it has a principal in,
/// but ARM lists only those it can use with this token).
fn list_tenants(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let items = ctx
        .state
        .tenant(&ctx.caller.tenant)
        .map(|t| {
            let domain = t.domain.clone().unwrap_or_default();
            json!({
                "id": format!("/tenants/{}", t.id),
                "tenantId": t.id,
                "countryCode": "US",
                "displayName": t.display_name,
                "domains": if domain.is_empty() { json!([]) } else { json!([domain]) },
                "defaultDomain": domain,
                "tenantCategory": "Home",
                "tenantType": "AAD",
            })
        })
        .into_iter()
        .collect();
    Ok(generic::page(ctx, req, items))
}

/// Generic resource list under a subscription or resource group: tracked resources only
/// (those with a location), not resource groups, extension resources (role assignments) or
/// proxy children (subnets). Supports `$filter` on `resourceType eq '...'` and
/// `tagName eq '...' [and tagValue eq '...']`.
fn list_resources(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let scope = req.path.resource_group_id().unwrap_or_else(|| {
        format!(
            "/subscriptions/{}",
            req.path.subscription.as_deref().unwrap_or_default()
        )
    });
    let filter = req.query("$filter").unwrap_or_default().to_owned();
    let quoted = |key: &str| {
        filter
            .split(&format!("{key} eq '"))
            .nth(1)
            .and_then(|s| s.split('\'').next())
            .map(str::to_owned)
    };
    let (want_type, tag_name, tag_value) = (
        quoted("resourceType"),
        quoted("tagName"),
        quoted("tagValue"),
    );
    let scope_lc = scope.to_ascii_lowercase();
    let items = ctx
        .state
        .resources
        .iter()
        .filter(|(k, _)| crate::state::is_under(k, &scope_lc) && **k != scope_lc)
        .map(|(_, r)| r)
        .filter(|r| r.location().is_some() && !r.resource_type.eq_ignore_ascii_case(RG_TYPE))
        .filter(|r| {
            // Extension resources hang off another resource's `/providers/` segment.
            r.id.to_ascii_lowercase().matches("/providers/").count() <= 1
        })
        .filter(|r| {
            want_type
                .as_deref()
                .is_none_or(|t| r.resource_type.eq_ignore_ascii_case(t))
        })
        .filter(|r| match &tag_name {
            None => true,
            Some(name) => r.body["tags"].as_object().is_some_and(|tags| {
                tags.iter().any(|(k, v)| {
                    k.eq_ignore_ascii_case(name)
                        && tag_value
                            .as_deref()
                            .is_none_or(|want| v.as_str() == Some(want))
                })
            }),
        })
        .map(|r| {
            let mut item = json!({
                "id": r.id, "name": r.body["name"], "type": r.resource_type,
                "location": r.location(),
            });
            for key in ["tags", "kind", "sku", "identity", "managedBy", "zones"] {
                if let Some(v) = r.body.get(key) {
                    item[key] = v.clone();
                }
            }
            item
        })
        .collect();
    let items = generic::readable(ctx, items);
    Ok(generic::page(ctx, req, items))
}

/// PUT resource group: synchronous, 201 on create, 200 on update.
fn put_group(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let opts = PutOptions {
        lro: false,
        etag: false,
        require_location: true,
    };
    generic::put(ctx, req, RG_TYPE, opts, |body, previous| {
        if let Some(prev) = previous
            && prev.location() != body["location"].as_str()
        {
            // resources.json: a group's location cannot change.
            return Err(ArmError::bad_request(
                "InvalidResourceGroupLocation",
                format!(
                    "Invalid resource group location '{}'. The Resource group already exists in location '{}'.",
                    body["location"].as_str().unwrap_or_default(),
                    prev.location().unwrap_or_default()
                ),
            ));
        }
        Ok(())
    })
}

/// DELETE resource group: an LRO that deletes everything inside (ARM answers 202 + Location
/// `.../operationresults/...`).
fn delete_group(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let Some(rg) = ctx.state.resource_mut(&req.path.raw) else {
        return Err(ArmError::resource_group_not_found(
            req.path.name().unwrap_or_default(),
        ));
    };
    rg.set_provisioning_state("Deleting");
    let id = rg.id.clone();
    let sub = req.path.subscription.clone().unwrap_or_default();
    let op = lro::start(
        ctx,
        Begin {
            resource_id: id.clone(),
            resource_type: RG_TYPE.into(),
            location: String::new(),
            completion: Completion::Delete { id },
            running_status: "InProgress",
            status_path: Some(format!("/subscriptions/{sub}/operationresults/{{id}}")),
        },
    );
    // ARM's RG delete exposes only the Location form.
    Ok(Reply::empty(StatusCode::ACCEPTED)
        .header(
            "Location",
            format!(
                "{}{}?api-version={}",
                ctx.endpoint, op.status_path, ctx.api_version
            ),
        )
        .header(
            "Retry-After",
            ctx.state.settings.retry_after_secs.to_string(),
        ))
}

fn list_groups(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    generic::list(ctx, req, RG_TYPE)
}
