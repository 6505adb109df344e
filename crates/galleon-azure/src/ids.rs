//! Small identifiers and ARM id parsing shared by the client's modules.
//!
//! ARM ids are case-insensitive and shaped like
//! `/subscriptions/{s}/resourceGroups/{rg}/providers/{Namespace}/{type}/{name}[/{type}/{name}...]`;
//! the api-version table and the rate limiter both need the type and the subscription out of them.

use std::fmt;

/// A Microsoft Entra tenant (directory) id or domain name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(String);

impl TenantId {
    /// Wraps a tenant id (a GUID or a domain such as `contoso.onmicrosoft.com`).
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the id is safe to put in a URL path and a shell argument: Entra accepts only
    /// `[A-Za-z0-9.-]` (the rule azure_identity applies before shelling out to `az`).
    pub fn is_valid(&self) -> bool {
        !self.0.is_empty()
            && self
                .0
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for TenantId {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

/// The subscription id in an ARM id, if the id is under `/subscriptions/{id}`.
pub fn subscription_of(id: &str) -> Option<&str> {
    let mut parts = id.trim_start_matches('/').split('/');
    match (parts.next(), parts.next()) {
        (Some(first), Some(sub))
            if first.eq_ignore_ascii_case("subscriptions") && !sub.is_empty() =>
        {
            Some(sub)
        }
        _ => None,
    }
}

/// The ARM resource type of an id: `Microsoft.Compute/galleries/images/versions` for a version,
/// `Microsoft.Resources/resourceGroups` for a group, `Microsoft.Resources/subscriptions` for a
/// subscription. The last `providers` segment wins, so extension resources such as
/// `{scope}/providers/Microsoft.Authorization/roleAssignments/{name}` get their own type. A
/// trailing action (`.../galleries/g/share`) counts as a child type.
pub fn resource_type_of(id: &str) -> Option<String> {
    let path = id.split('?').next().unwrap_or(id);
    let segs: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    if let Some(p) = segs
        .iter()
        .rposition(|s| s.eq_ignore_ascii_case("providers"))
    {
        let rest = &segs[p + 1..];
        let namespace = rest.first()?;
        let types: Vec<&str> = rest[1..].iter().step_by(2).copied().collect();
        if types.is_empty() {
            return Some(namespace.to_string());
        }
        return Some(format!("{namespace}/{}", types.join("/")));
    }
    match segs.as_slice() {
        [s, _] if s.eq_ignore_ascii_case("subscriptions") => {
            Some("Microsoft.Resources/subscriptions".into())
        }
        [s, _, rg, ..]
            if s.eq_ignore_ascii_case("subscriptions")
                && rg.eq_ignore_ascii_case("resourceGroups") =>
        {
            Some("Microsoft.Resources/resourceGroups".into())
        }
        [s] if s.eq_ignore_ascii_case("subscriptions") => {
            Some("Microsoft.Resources/subscriptions".into())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_is_found_case_insensitively() {
        assert_eq!(
            subscription_of("/subscriptions/abc/resourceGroups/rg"),
            Some("abc")
        );
        assert_eq!(subscription_of("/SUBSCRIPTIONS/abc"), Some("abc"));
        assert_eq!(
            subscription_of("/providers/Microsoft.ResourceGraph/resources"),
            None
        );
    }

    #[test]
    fn resource_types_of_the_ids_galleon_manages() {
        let v = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i/versions/1.0.0";
        assert_eq!(
            resource_type_of(v).unwrap(),
            "Microsoft.Compute/galleries/images/versions"
        );
        assert_eq!(
            resource_type_of("/subscriptions/s/resourceGroups/rg").unwrap(),
            "Microsoft.Resources/resourceGroups"
        );
        assert_eq!(
            resource_type_of("/subscriptions/s").unwrap(),
            "Microsoft.Resources/subscriptions"
        );
        let ra = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/providers/Microsoft.Authorization/roleAssignments/x";
        assert_eq!(
            resource_type_of(ra).unwrap(),
            "Microsoft.Authorization/roleAssignments"
        );
        let share =
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/share";
        assert_eq!(
            resource_type_of(share).unwrap(),
            "Microsoft.Compute/galleries/share"
        );
        assert_eq!(
            resource_type_of("/providers/Microsoft.ResourceGraph/resources").unwrap(),
            "Microsoft.ResourceGraph/resources"
        );
        assert_eq!(
            resource_type_of("/subscriptions/s/resourceGroups/rg/resources").unwrap(),
            "Microsoft.Resources/resourceGroups"
        );
    }

    #[test]
    fn tenant_ids_are_validated_for_shell_use() {
        assert!(TenantId::new("22222222-2222-4222-8222-222222222222").is_valid());
        assert!(TenantId::new("contoso.onmicrosoft.com").is_valid());
        assert!(!TenantId::new("x; rm -rf /").is_valid());
        assert!(!TenantId::new("").is_valid());
    }
}
