//! HTTP routes of Microsoft.Network: virtual networks and their subnets here, NSGs, public IPs
//! and NICs in `interfaces`. Writes run ARM's linked check (subnet/NSG/public-IP joins), the pure rules of
//! `network`, and keep cross-references Azure maintains (a public IP's `ipConfiguration`);
//! deletes refuse resources still in use, as Network does.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::arm::context::{ArmRequest, Ctx, Reply};
use crate::arm::errors::ArmError;
use crate::arm::registry::{Registry, ResourceType};
use crate::providers::glue;
use crate::providers::network;
use crate::providers::rp::RpError;

mod interfaces;
use interfaces::*;

/// Network api-versions (specification/network/resource-manager/Microsoft.Network/...):
/// what az and the SDKs send (official-clients.md: 2022-01-01, 2026-03-01) and galleon's pin.
/// The older stable folders of the same spec are listed too: `az vm create`'s template still
/// declares its network resources with `2015-06-15`, and ARM accepts any registered version.
pub const NETWORK_VERSIONS: &[&str] = &[
    "2015-06-15",
    "2016-03-30",
    "2016-09-01",
    "2016-12-01",
    "2017-03-01",
    "2017-06-01",
    "2017-08-01",
    "2017-09-01",
    "2017-10-01",
    "2017-11-01",
    "2018-01-01",
    "2018-02-01",
    "2018-04-01",
    "2018-06-01",
    "2018-07-01",
    "2018-08-01",
    "2018-10-01",
    "2018-11-01",
    "2018-12-01",
    "2019-02-01",
    "2019-04-01",
    "2019-06-01",
    "2019-07-01",
    "2019-08-01",
    "2019-09-01",
    "2019-11-01",
    "2019-12-01",
    "2020-03-01",
    "2020-04-01",
    "2020-05-01",
    "2020-06-01",
    "2020-07-01",
    "2020-08-01",
    "2020-11-01",
    "2021-02-01",
    "2021-05-01",
    "2021-08-01",
    "2022-01-01",
    "2022-05-01",
    "2022-07-01",
    "2022-09-01",
    "2022-11-01",
    "2023-02-01",
    "2023-04-01",
    "2023-05-01",
    "2023-06-01",
    "2023-09-01",
    "2023-11-01",
    "2024-01-01",
    "2024-03-01",
    "2024-05-01",
    "2024-07-01",
    "2024-10-01",
    "2025-01-01",
    "2025-03-01",
    "2025-05-01",
    "2025-07-01",
    "2025-09-01",
    "2026-01-01",
    "2026-03-01",
];

const VNET: &str = "Microsoft.Network/virtualNetworks";
const NSG: &str = "Microsoft.Network/networkSecurityGroups";
const PIP: &str = "Microsoft.Network/publicIPAddresses";
const NIC: &str = "Microsoft.Network/networkInterfaces";

/// Registers the Network types.
pub fn register(r: &mut Registry) {
    let t = |path: &'static str| ResourceType::new("Microsoft.Network", path, NETWORK_VERSIONS);
    r.register(ResourceType {
        get: Some(get_vnet),
        put: Some(put_vnet),
        patch: Some(patch_vnet),
        delete: Some(delete_vnet),
        list: Some(list_vnets),
        ..t("virtualNetworks")
    });
    r.register(ResourceType {
        get: Some(get_subnet),
        put: Some(put_subnet),
        delete: Some(delete_subnet),
        list: Some(list_subnets),
        ..t("virtualNetworks/subnets")
    });
    r.register(ResourceType {
        get: Some(get),
        put: Some(put_nsg),
        patch: Some(patch_nsg),
        delete: Some(delete_nsg),
        list: Some(list_nsgs),
        ..t("networkSecurityGroups")
    });
    r.register(ResourceType {
        get: Some(get),
        put: Some(put_pip),
        patch: Some(patch_pip),
        delete: Some(delete_pip),
        list: Some(list_pips),
        ..t("publicIPAddresses")
    });
    r.register(ResourceType {
        get: Some(get),
        put: Some(put_nic),
        patch: Some(patch_nic),
        delete: Some(delete_nic),
        list: Some(list_nics),
        ..t("networkInterfaces")
    });
}

fn get(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    ctx.state
        .resource(&req.path.raw)
        .map(|r| Reply::ok(r.body.clone()))
        .ok_or_else(|| glue::not_found(req))
}

/// Subnets list the NIC ip configurations that use them (read-only `ipConfigurations`), as
/// Network returns them.
fn with_subnet_users(nics: &[Value], vnet: &Value) -> Value {
    let mut out = vnet.clone();
    for s in out["properties"]["subnets"]
        .as_array_mut()
        .into_iter()
        .flatten()
    {
        let sid = s["id"].as_str().unwrap_or_default().to_owned();
        let users: Vec<Value> = network::referencing_ip_configs(nics, "subnet", &sid)
            .into_iter()
            .map(|id| json!({ "id": id }))
            .collect();
        if !users.is_empty() {
            s["properties"]["ipConfigurations"] = json!(users);
        }
    }
    out
}

fn get_vnet(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let nics = all_nics(ctx, None);
    ctx.state
        .resource(&req.path.raw)
        .map(|r| Reply::ok(with_subnet_users(&nics, &r.body)))
        .ok_or_else(|| glue::not_found(req))
}

fn all_nics(ctx: &Ctx<'_>, except: Option<&str>) -> Vec<Value> {
    let except = except.map(str::to_ascii_lowercase);
    ctx.state
        .resources
        .iter()
        .filter(|(k, r)| {
            r.resource_type.eq_ignore_ascii_case(NIC) && except.as_deref() != Some(k.as_str())
        })
        .map(|(_, r)| r.body.clone())
        .collect()
}

/// A referenced NSG must exist in the same region.
fn check_nsg_refs(
    ctx: &Ctx<'_>,
    by: &str,
    body: &Value,
    location: Option<&str>,
) -> Result<(), ArmError> {
    let mut ids: Vec<String> = Vec::new();
    for s in body["properties"]["subnets"]
        .as_array()
        .into_iter()
        .flatten()
    {
        ids.extend(
            s["properties"]["networkSecurityGroup"]["id"]
                .as_str()
                .map(str::to_owned),
        );
    }
    ids.extend(
        body["properties"]["networkSecurityGroup"]["id"]
            .as_str()
            .map(str::to_owned),
    );
    for id in ids {
        let ok = ctx.state.resource(&id).is_some_and(|r| {
            location.is_none_or(|l| {
                r.location()
                    .is_some_and(|rl| network_loc(rl) == network_loc(l))
            })
        });
        if !ok {
            return Err(ArmError::service(
                StatusCode::BAD_REQUEST,
                "InvalidResourceReference",
                format!(
                    "Resource {id} referenced by resource {by} was not found. Please make sure that the referenced resource exists, and that both resources are in the same region."
                ),
            ));
        }
    }
    Ok(())
}

fn network_loc(l: &str) -> String {
    crate::providers::rp::normalize_location(l)
}

fn write(
    ctx: &mut Ctx<'_>,
    req: &ArmRequest,
    ty: &str,
    doc: Result<Value, RpError>,
) -> Result<Reply, ArmError> {
    let doc = doc?;
    let lro = req.method == axum::http::Method::PUT;
    let (body, creating) = glue::store(ctx, ty, doc, lro);
    Ok(glue::put_reply(ctx, ty, body, creating, lro, None))
}

fn prev_and_body(ctx: &Ctx<'_>, req: &ArmRequest) -> Result<(Option<Value>, Value), ArmError> {
    let prev = glue::existing(ctx, &req.path.raw);
    if req.method == axum::http::Method::PATCH {
        let p = prev.ok_or_else(|| glue::not_found(req))?;
        let body = glue::patched(&p, &req.body);
        return Ok((Some(p), body));
    }
    Ok((prev, req.body.clone()))
}

// ---- virtual networks and subnets ----

fn put_vnet(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let (prev, body) = prev_and_body(ctx, req)?;
    glue::check_linked(ctx, req, VNET, &body)?;
    let loc = body["location"].as_str().map(str::to_owned);
    check_nsg_refs(ctx, &req.path.raw, &body, loc.as_deref())?;
    if let Some(p) = &prev {
        // Dropping a subnet that NICs use is refused as a subnet delete would be.
        let nics = all_nics(ctx, None);
        for s in p["properties"]["subnets"].as_array().into_iter().flatten() {
            let kept = body["properties"].get("subnets").is_none()
                || body["properties"]["subnets"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|n| n["name"] == s["name"]);
            let sid = s["id"].as_str().unwrap_or_default();
            if !kept
                && let Some(ipc) = network::referencing_ip_configs(&nics, "subnet", sid).first()
            {
                return Err(network::subnet_in_use(sid, ipc).into());
            }
        }
    }
    let doc = network::vnet_put(&glue::arm_id(req)?, &body, prev.as_ref());
    write(ctx, req, VNET, doc)
}

fn patch_vnet(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    put_vnet(ctx, req)
}

fn delete_vnet(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let Some(r) = ctx.state.resource(&req.path.raw) else {
        return Ok(Reply::empty(StatusCode::NO_CONTENT));
    };
    let (id, vnet) = (r.id.clone(), r.body.clone());
    let nics = all_nics(ctx, None);
    for s in vnet["properties"]["subnets"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let sid = s["id"].as_str().unwrap_or_default();
        if let Some(ipc) = network::referencing_ip_configs(&nics, "subnet", sid).first() {
            return Err(network::subnet_in_use(sid, ipc).into());
        }
    }
    Ok(glue::delete_lro(ctx, VNET, &id))
}

fn list_vnets(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let nics = all_nics(ctx, None);
    Ok(glue::list(ctx, req, VNET, |r| {
        with_subnet_users(&nics, &r.body)
    }))
}

fn vnet_of(req: &ArmRequest) -> Result<(String, String), ArmError> {
    let id = glue::arm_id(req)?;
    let parent = id.parent().ok_or_else(|| glue::not_found(req))?;
    Ok((parent.to_id(), id.name().unwrap_or_default().to_owned()))
}

fn get_subnet(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let (vnet_id, name) = vnet_of(req)?;
    let nics = all_nics(ctx, None);
    let vnet = ctx
        .state
        .resource(&vnet_id)
        .ok_or_else(|| glue::not_found(req))?;
    network::find_subnet(&with_subnet_users(&nics, &vnet.body), &name)
        .map(Reply::ok)
        .ok_or_else(|| glue::not_found(req))
}

fn put_subnet(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    glue::check_parent(ctx, req)?;
    glue::check_linked(
        ctx,
        req,
        "Microsoft.Network/virtualNetworks/subnets",
        &req.body,
    )?;
    let (vnet_id, name) = vnet_of(req)?;
    let loc = ctx
        .state
        .resource(&vnet_id)
        .and_then(|r| r.location().map(str::to_owned));
    check_nsg_refs(ctx, &req.path.raw, &req.body, loc.as_deref())?;
    let r = ctx
        .state
        .resource_mut(&vnet_id)
        .ok_or_else(|| glue::not_found(req))?;
    let existed = network::find_subnet(&r.body, &name).is_some();
    let mut vnet = r.body.clone();
    let subnet = network::subnet_put(&mut vnet, &name, &req.body)?;
    r.body = vnet;
    r.updated = ctx.now;
    Ok(Reply::with_status(
        if existed {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        },
        subnet,
    ))
}

fn delete_subnet(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let (vnet_id, name) = vnet_of(req)?;
    let nics = all_nics(ctx, None);
    let Some(r) = ctx.state.resource_mut(&vnet_id) else {
        return Ok(Reply::empty(StatusCode::NO_CONTENT));
    };
    let Some(subnet) = network::find_subnet(&r.body, &name) else {
        return Ok(Reply::empty(StatusCode::NO_CONTENT));
    };
    let sid = subnet["id"].as_str().unwrap_or_default();
    if let Some(ipc) = network::referencing_ip_configs(&nics, "subnet", sid).first() {
        return Err(network::subnet_in_use(sid, ipc).into());
    }
    if let Some(list) = r.body["properties"]["subnets"].as_array_mut() {
        list.retain(|s| {
            !s["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(&name))
        });
    }
    r.body["etag"] = json!(network::etag());
    Ok(Reply::empty(StatusCode::OK))
}

fn list_subnets(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let vnet_id = req
        .path
        .raw
        .rsplit_once('/')
        .map_or("", |(p, _)| p)
        .to_owned();
    let nics = all_nics(ctx, None);
    let vnet = ctx
        .state
        .resource(&vnet_id)
        .ok_or_else(|| glue::not_found(req))?;
    let shown = with_subnet_users(&nics, &vnet.body);
    let items = shown["properties"]["subnets"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    Ok(crate::providers::generic::page(ctx, req, items))
}
