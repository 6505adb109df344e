//! `GET /subscriptions/{s}/providers/Microsoft.Compute/locations/{loc}/usages`: Compute's
//! quota usage per subscription and region (ComputeRP.json `Usage_List`, example
//! `Usage_List_MaximumSet_Gen.json`: `value[] {unit, currentValue, limit, name {value,
//! localizedValue}}`, paged with `nextLink`). Planners read it to see a quota failure before
//! the VM PUT hits `OperationNotAllowed`.
//!
//! The emulator enforces one quota, the regional cores (`cores`, "Total Regional vCPUs"), so
//! that is the row it reports, with the same count the VM PUT checks against; a region
//! without a seeded limit has no row (nothing to run out of).

use serde_json::{Value, json};

use super::routes::COMPUTE_VERSIONS;
use super::sizes;
use crate::arm::context::{ArmRequest, Ctx, Reply};
use crate::arm::errors::ArmError;
use crate::arm::registry::{Registry, ResourceType};
use crate::providers::generic;
use crate::providers::rp::normalize_location;

const VM: &str = "Microsoft.Compute/virtualMachines";

/// Registers the read-only usage list.
pub fn register(r: &mut Registry) {
    r.register(ResourceType {
        list: Some(list),
        needs_resource_group: false,
        ..ResourceType::new("Microsoft.Compute", "locations/usages", COMPUTE_VERSIONS)
    });
}

fn list(ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
    let sub = req.path.subscription.clone().unwrap_or_default();
    let region = normalize_location(req.path.names.first().map_or("", String::as_str));
    let limit = ctx.state.subscription(&sub).and_then(|s| {
        s.quotas
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("cores"))
            .and_then(|(_, by_region)| {
                by_region
                    .iter()
                    .find(|(r, _)| normalize_location(r) == region)
                    .map(|(_, n)| *n)
            })
    });
    let mut items: Vec<Value> = Vec::new();
    if let Some(limit) = limit {
        // Counted as the VM PUT counts them (vm_routes::quota): every VM of the subscription
        // in the region, by the cores of its size.
        let used: u64 = ctx
            .state
            .resources_of_type(&format!("/subscriptions/{sub}"), VM)
            .filter(|r| r.location().map(normalize_location).as_deref() == Some(region.as_str()))
            .filter_map(|r| {
                r.body["properties"]["hardwareProfile"]["vmSize"]
                    .as_str()
                    .and_then(sizes::find)
            })
            .map(|s| u64::from(s.cores))
            .sum();
        items.push(json!({
            "unit": "Count",
            "currentValue": used,
            "limit": limit,
            "name": {"value": "cores", "localizedValue": "Total Regional vCPUs"},
        }));
    }
    Ok(generic::page(ctx, req, items))
}
