//! Compute quota usage, read where the plan creates VMs: one `GET .../providers/
//! Microsoft.Compute/locations/{loc}/usages` (ComputeRP.json `Usage_List`) per subscription
//! and region, so preflight can see an `OperationNotAllowed` quota failure (arm-errors.md
//! §4.6) before apply meets it halfway through.

use std::collections::{BTreeMap, BTreeSet};

use futures::{StreamExt, stream};
use galleon_azure::{ArmClient, TenantId};
use serde_json::Value;

/// Where to read: the tenant to sign in to, the subscription, the region (as declared).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct UsageScope {
    /// Tenant id the subscription belongs to.
    pub tenant_id: String,
    /// Subscription id.
    pub subscription: String,
    /// Region, as the manifest spells it.
    pub region: String,
}

/// One row of `Usage_List`: `name.value`, `currentValue`, `limit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    /// Quota name (`cores`, `standardDSv5Family`).
    pub name: String,
    /// Display name (`Total Regional vCPUs`).
    pub display: String,
    /// In use now.
    pub current: u64,
    /// The approved limit.
    pub limit: u64,
}

/// The usage rows of each scope, or why ARM would not give them (the message, hint included).
pub type Usages = BTreeMap<UsageScope, Result<Vec<Usage>, String>>;

/// Reads the usages of each scope in parallel. Failures are kept per scope: a principal
/// without `Microsoft.Compute/locations/usages/read` only loses the quota check.
pub async fn read_usages(
    arm: &ArmClient,
    scopes: BTreeSet<UsageScope>,
    concurrency: usize,
) -> Usages {
    stream::iter(scopes)
        .map(|scope| async move {
            let path = format!(
                "/subscriptions/{}/providers/Microsoft.Compute/locations/{}/usages",
                scope.subscription,
                scope.region.replace(' ', "").to_ascii_lowercase()
            );
            let rows = arm
                .list(&TenantId::new(&scope.tenant_id), &path)
                .await
                .map(|items| items.iter().filter_map(parse).collect())
                .map_err(|e| match e.hint() {
                    Some(hint) => format!("{e}\nhint: {hint}"),
                    None => e.to_string(),
                });
            (scope, rows)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await
}

fn parse(item: &Value) -> Option<Usage> {
    let name = item.pointer("/name/value")?.as_str()?.to_owned();
    Some(Usage {
        display: item
            .pointer("/name/localizedValue")
            .and_then(Value::as_str)
            .unwrap_or(&name)
            .to_owned(),
        name,
        current: item.get("currentValue")?.as_u64()?,
        limit: item.get("limit")?.as_u64()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rows_parse_as_the_spec_example_shapes_them() {
        let row = json!({"unit": "Count", "currentValue": 17, "limit": 19,
            "name": {"value": "cores", "localizedValue": "Total Regional vCPUs"}});
        assert_eq!(
            parse(&row),
            Some(Usage {
                name: "cores".into(),
                display: "Total Regional vCPUs".into(),
                current: 17,
                limit: 19
            })
        );
        assert_eq!(parse(&json!({"name": {"value": "cores"}})), None);
    }
}
