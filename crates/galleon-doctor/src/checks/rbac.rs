//! What the principal may do at a scope. Asked the way Azure answers it for the caller itself:
//! `GET {scope}/providers/Microsoft.Authorization/permissions?api-version=2022-04-01`
//! ("Gets all permissions the caller has for a resource group", `Permissions_ListForResourceGroup`,
//! example specification/authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01/
//! examples/GetPermissions.json: `{"value":[{"actions":[...],"notActions":[...]}]}`); where that is
//! not offered (the emulator), from the principal's role assignments at or above the scope and
//! their role definitions.

use galleon_azure::TenantId;
use serde_json::Value;

use crate::probe::{Failure, Probe};

const AUTHZ_API: &str = "2022-04-01";

/// The `actions`/`notActions` pairs that apply to the principal at a scope.
#[derive(Debug, Clone, Default)]
pub(super) struct Rights {
    perms: Vec<(Vec<String>, Vec<String>)>,
    /// Where the answer came from, for the report.
    pub source: String,
}

impl Rights {
    pub fn allows(&self, action: &str) -> bool {
        allows(&self.perms, action)
    }
}

/// Whether any permission allows `action` and does not exclude it (ARM's rule: an action is
/// granted by a permission whose `actions` match it and whose `notActions` do not).
pub fn allows(perms: &[(Vec<String>, Vec<String>)], action: &str) -> bool {
    perms.iter().any(|(actions, not_actions)| {
        actions.iter().any(|a| action_matches(a, action))
            && !not_actions.iter().any(|n| action_matches(n, action))
    })
}

/// `*` matches any run of characters; actions compare case-insensitively.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    let p = pattern.to_ascii_lowercase();
    let a = action.to_ascii_lowercase();
    let parts: Vec<&str> = p.split('*').collect();
    if parts.len() == 1 {
        return p == a;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !a.starts_with(first) || a.len() < first.len() + last.len() || !a.ends_with(last) {
        return false;
    }
    let mut rest = &a[first.len()..a.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

fn pairs(items: &[Value]) -> Vec<(Vec<String>, Vec<String>)> {
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    };
    items
        .iter()
        .map(|p| (strings(&p["actions"]), strings(&p["notActions"])))
        .collect()
}

/// Whether `outer` is `inner` or one of its ancestors (role assignments are inherited).
fn covers(outer: &str, inner: &str) -> bool {
    let (o, i) = (
        outer.trim_end_matches('/').to_ascii_lowercase(),
        inner.to_ascii_lowercase(),
    );
    i == o || i.starts_with(&format!("{o}/")) || o.is_empty()
}

pub(super) async fn rights_at<P: Probe>(
    probe: &P,
    tenant: &TenantId,
    scope: &str,
    object_id: Option<&str>,
) -> Result<Rights, Failure> {
    let path = format!("{scope}/providers/Microsoft.Authorization/permissions");
    match probe.get(tenant, &path, Some(AUTHZ_API), &[]).await {
        Ok(body) => {
            let items = body["value"].as_array().cloned().unwrap_or_default();
            return Ok(Rights {
                perms: pairs(&items),
                source: "the permissions ARM reports for the app".into(),
            });
        }
        Err(f) if matches!(f.status(), Some(400 | 404)) => {}
        Err(f) => return Err(f),
    }
    let Some(oid) = object_id else {
        return Err(Failure::new(
            None,
            "NoObjectId",
            "the token names no object id",
        ));
    };
    let filter = format!("principalId eq '{oid}'");
    let path = format!("{scope}/providers/Microsoft.Authorization/roleAssignments");
    let body = match probe
        .get(tenant, &path, Some(AUTHZ_API), &[("$filter", &filter)])
        .await
    {
        Ok(body) => body,
        // Every built-in role that grants anything also reads role assignments, so a refusal
        // means the app holds no role here at all.
        Err(f) if f.status() == Some(403) => {
            return Ok(Rights {
                perms: Vec::new(),
                source: "the app holds no role here: it may not even read the role assignments"
                    .into(),
            });
        }
        Err(f) => return Err(f),
    };
    let mut rights = Rights {
        source: "the app's role assignments".into(),
        ..Rights::default()
    };
    let mut roles = Vec::new();
    for a in body["value"].as_array().into_iter().flatten() {
        let p = &a["properties"];
        let mine = p["principalId"]
            .as_str()
            .is_some_and(|x| x.eq_ignore_ascii_case(oid));
        let above = p["scope"].as_str().is_some_and(|s| covers(s, scope));
        if let (true, true, Some(role)) = (mine, above, p["roleDefinitionId"].as_str()) {
            roles.push(role.to_string());
        }
    }
    for role in roles {
        let def = probe.get(tenant, &role, Some(AUTHZ_API), &[]).await?;
        let items = def["properties"]["permissions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        rights.perms.extend(pairs(&items));
    }
    Ok(rights)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(actions: &[&str], not: &[&str]) -> (Vec<String>, Vec<String>) {
        (
            actions.iter().map(ToString::to_string).collect(),
            not.iter().map(ToString::to_string).collect(),
        )
    }

    #[test]
    fn wildcards_and_not_actions_decide_like_arm() {
        // Contributor: everything but role assignments (arm-protocol.md §5.1).
        let contributor = [p(
            &["*"],
            &[
                "Microsoft.Authorization/*/Write",
                "Microsoft.Authorization/*/Delete",
            ],
        )];
        assert!(allows(
            &contributor,
            "Microsoft.Compute/virtualMachines/write"
        ));
        assert!(!allows(
            &contributor,
            "Microsoft.Authorization/roleAssignments/write"
        ));
        let reader = [p(&["*/read"], &[])];
        assert!(allows(
            &reader,
            "Microsoft.Compute/galleries/images/versions/read"
        ));
        assert!(!allows(&reader, "Microsoft.Compute/virtualMachines/write"));
        let vmc = [p(
            &[
                "Microsoft.Compute/virtualMachines/*",
                "Microsoft.Network/virtualNetworks/subnets/join/action",
            ],
            &[],
        )];
        assert!(allows(&vmc, "microsoft.compute/virtualmachines/WRITE"));
        assert!(!allows(&vmc, "Microsoft.Network/networkInterfaces/write"));
        assert!(allows(
            &vmc,
            "Microsoft.Network/virtualNetworks/subnets/join/action"
        ));
    }

    #[test]
    fn inherited_scopes_cover_children_only() {
        assert!(covers(
            "/subscriptions/s",
            "/subscriptions/s/resourceGroups/rg"
        ));
        assert!(covers(
            "/subscriptions/s/resourceGroups/rg",
            "/subscriptions/s/resourcegroups/RG"
        ));
        assert!(!covers(
            "/subscriptions/s/resourceGroups/rg",
            "/subscriptions/s/resourceGroups/rg2"
        ));
        assert!(!covers(
            "/subscriptions/s/resourceGroups/rg/x",
            "/subscriptions/s/resourceGroups/rg"
        ));
    }
}
