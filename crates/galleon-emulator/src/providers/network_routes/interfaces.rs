//! Routes of NSGs, public IPs and NICs: the resources a VM's network interface is built from.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{NIC, NSG, PIP, all_nics, check_nsg_refs, prev_and_body, write};
use crate::arm::context::{ArmRequest, Ctx, Reply};
use crate::arm::errors::ArmError;
use crate::providers::glue::{self, StateLookup, full_doc};
use crate::providers::network;

// ---- NSGs ----

pub(super) fn put_nsg(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let (prev, body) = prev_and_body(ctx, req)?;
    let doc = network::nsg_put(&glue::arm_id(req)?, &body, prev.as_ref());
    write(ctx, req, NSG, doc)
}

pub(super) fn patch_nsg(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    put_nsg(ctx, req)
}

/// [R] Network refuses to delete an NSG a subnet or NIC still references.
pub(super) fn delete_nsg(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let Some(r) = ctx.state.resource(&req.path.raw) else {
        return Ok(Reply::empty(StatusCode::NO_CONTENT));
    };
    let id = r.id.clone();
    let key = id.to_ascii_lowercase();
    let user = ctx.state.resources.values().find_map(|o| {
        let refs = |v: &Value| {
            v["networkSecurityGroup"]["id"]
                .as_str()
                .is_some_and(|i| i.to_ascii_lowercase() == key)
        };
        if o.resource_type.eq_ignore_ascii_case(NIC) && refs(&o.body["properties"]) {
            return Some(o.id.clone());
        }
        o.body["properties"]["subnets"]
            .as_array()?
            .iter()
            .find(|s| refs(&s["properties"]))
            .and_then(|s| s["id"].as_str().map(str::to_owned))
    });
    if let Some(user) = user {
        return Err(ArmError::service(
            StatusCode::BAD_REQUEST,
            "InUseNetworkSecurityGroupCannotBeDeleted",
            format!(
                "Network security group {id} cannot be deleted because it is in use by the following resources: {user}. In order to delete the Network security group, remove the association with the resource(s). To learn how to do this, see aka.ms/deletensg."
            ),
        ));
    }
    Ok(glue::delete_lro(ctx, NSG, &id))
}

pub(super) fn list_nsgs(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    Ok(glue::list(ctx, req, NSG, |r| r.body.clone()))
}

// ---- public IPs ----

pub(super) fn put_pip(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let (prev, body) = prev_and_body(ctx, req)?;
    let n = ctx
        .state
        .resources
        .values()
        .filter(|r| r.resource_type.eq_ignore_ascii_case(PIP))
        .count();
    let address = network::nth_public_address(u32::try_from(n).unwrap_or(0));
    let doc = network::public_ip_put(&glue::arm_id(req)?, &body, prev.as_ref(), address);
    write(ctx, req, PIP, doc)
}

pub(super) fn patch_pip(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    put_pip(ctx, req)
}

pub(super) fn delete_pip(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let Some(r) = ctx.state.resource(&req.path.raw) else {
        return Ok(Reply::empty(StatusCode::NO_CONTENT));
    };
    let id = r.id.clone();
    if let Some(ipc) =
        network::referencing_ip_configs(&all_nics(ctx, None), "publicIPAddress", &id).first()
    {
        return Err(network::public_ip_in_use(&id, ipc).into());
    }
    Ok(glue::delete_lro(ctx, PIP, &id))
}

pub(super) fn list_pips(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    Ok(glue::list(ctx, req, PIP, |r| r.body.clone()))
}

// ---- NICs ----

pub(super) fn put_nic(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let (prev, body) = prev_and_body(ctx, req)?;
    glue::check_linked(ctx, req, NIC, &body)?;
    // Read in place: cloning every NIC's document per NIC write made a 10,000-resource world
    // quadratic in copies.
    let this = req.path.raw.to_ascii_lowercase();
    let used: Vec<String> = ctx
        .state
        .resources
        .iter()
        .filter(|(k, r)| r.resource_type.eq_ignore_ascii_case(NIC) && **k != this)
        .flat_map(|(_, r)| {
            r.body["properties"]["ipConfigurations"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| {
                    c["properties"]["privateIPAddress"]
                        .as_str()
                        .map(str::to_owned)
                })
        })
        .collect();
    let doc = network::nic_put(
        &glue::arm_id(req)?,
        &body,
        prev.as_ref(),
        &StateLookup(ctx.state),
        &used,
    )?;
    if let Some(nsg) = doc["properties"]["networkSecurityGroup"]["id"].as_str() {
        check_nsg_refs(
            ctx,
            &req.path.raw,
            &json!({"properties": {"networkSecurityGroup": {"id": nsg}}}),
            doc["location"].as_str(),
        )?;
    }
    // Public IPs learn which ip configuration holds them, as in Azure.
    for c in doc["properties"]["ipConfigurations"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        if let Some(pip) = c["properties"]["publicIPAddress"]["id"].as_str()
            && let Some(p) = ctx.state.resource_mut(pip)
        {
            p.body["properties"]["ipConfiguration"] = json!({ "id": c["id"] });
        }
    }
    if let Some(p) = &prev {
        // Public IPs no longer referenced are released.
        for c in p["properties"]["ipConfigurations"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            let Some(pip) = c["properties"]["publicIPAddress"]["id"].as_str() else {
                continue;
            };
            let still =
                network::referencing_ip_configs(std::slice::from_ref(&doc), "publicIPAddress", pip);
            if still.is_empty()
                && let Some(r) = ctx.state.resource_mut(pip)
                && let Some(o) = r.body["properties"].as_object_mut()
            {
                o.remove("ipConfiguration");
            }
        }
    }
    write(ctx, req, NIC, Ok(doc))
}

pub(super) fn patch_nic(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    put_nic(ctx, req)
}

pub(super) fn delete_nic(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let Some(r) = ctx.state.resource(&req.path.raw) else {
        return Ok(Reply::empty(StatusCode::NO_CONTENT));
    };
    let (id, body) = (r.id.clone(), full_doc(r));
    if let Some(vm) = body["properties"]["virtualMachine"]["id"].as_str() {
        return Err(network::nic_in_use(&id, vm).into());
    }
    for c in body["properties"]["ipConfigurations"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        if let Some(pip) = c["properties"]["publicIPAddress"]["id"].as_str()
            && let Some(r) = ctx.state.resource_mut(pip)
            && let Some(o) = r.body["properties"].as_object_mut()
        {
            o.remove("ipConfiguration");
        }
    }
    Ok(glue::delete_lro(ctx, NIC, &id))
}

pub(super) fn list_nics(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    Ok(glue::list(ctx, req, NIC, |r| r.body.clone()))
}
