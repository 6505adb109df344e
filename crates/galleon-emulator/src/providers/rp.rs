//! What the resource providers owned here (Compute, Network, Resource Graph, deployments, blob)
//! share: an error value that knows which ARM layer produced it, and a parser for ARM resource
//! ids. Kept apart from the HTTP framework so that the providers' rules are plain functions that
//! unit tests can call without a server.

use std::fmt;

use serde_json::Value;

/// Which layer of Azure produced an error; ARM reports it in `x-ms-failure-cause`
/// (arm-errors.md §0: front door errors are `gateway`, errors passed through from an RP `service`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureCause {
    /// The ARM front door (authentication, authorization, linked checks, not-found).
    Gateway,
    /// The resource provider behind ARM (Compute validation, quota, SKU).
    Service,
}

/// An ARM error as a provider decides it; the framework turns it into the wire envelope
/// `{"error":{"code","message"[,"target"]}}` plus headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpError {
    /// HTTP status.
    pub status: u16,
    /// ARM error code, e.g. `GalleryImageNotFound`.
    pub code: String,
    /// Human message, verbatim from Azure where known.
    pub message: String,
    /// Optional `target` (Compute sets it, the front door never does).
    pub target: Option<String>,
    /// Layer that produced the error.
    pub cause: FailureCause,
    /// `details` entries (Resource Graph, deployments).
    pub details: Vec<Value>,
}

impl RpError {
    /// An error from the ARM front door (no target).
    pub fn gateway(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.into(),
            target: None,
            cause: FailureCause::Gateway,
            details: Vec::new(),
        }
    }

    /// An error from the resource provider itself.
    pub fn service(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.into(),
            target: None,
            cause: FailureCause::Service,
            details: Vec::new(),
        }
    }

    /// Adds a `target`.
    pub fn with_target(mut self, target: &str) -> Self {
        self.target = Some(target.to_owned());
        self
    }

    /// Adds a `details` entry.
    pub fn with_detail(mut self, detail: Value) -> Self {
        self.details.push(detail);
        self
    }

    /// A 400 `InvalidRequestContent`-style error for bodies the emulator cannot read.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::service(400, "BadRequest", message)
    }

    /// The wire body `{"error":{...}}`.
    pub fn body(&self) -> serde_json::Value {
        let mut error = serde_json::json!({ "code": self.code, "message": self.message });
        if let Some(target) = &self.target {
            error["target"] = serde_json::Value::String(target.clone());
        }
        if !self.details.is_empty() {
            error["details"] = Value::Array(self.details.clone());
        }
        serde_json::json!({ "error": error })
    }
}

impl fmt::Display for RpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for RpError {}

impl From<RpError> for crate::arm::errors::ArmError {
    fn from(e: RpError) -> Self {
        use crate::arm::errors::ArmError;
        let status = axum::http::StatusCode::from_u16(e.status)
            .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        let mut out = match e.cause {
            FailureCause::Gateway => ArmError::new(status, e.code, e.message),
            FailureCause::Service => ArmError::service(status, e.code, e.message),
        };
        out.target = e.target;
        out.details = e.details;
        out
    }
}

/// A parsed ARM resource id
/// `/subscriptions/{s}/resourceGroups/{rg}/providers/{ns}/{type}/{name}[/{type}/{name}]*`.
/// Matching is case-insensitive in ARM, so the parsed pieces keep the caller's casing and the
/// comparison helpers lower-case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmId {
    /// Subscription id.
    pub subscription: String,
    /// Resource group name, if the id is below a resource group.
    pub resource_group: Option<String>,
    /// Provider namespace, e.g. `Microsoft.Compute`.
    pub namespace: Option<String>,
    /// `(type, name)` pairs, outermost first: `[("galleries","g"),("images","i")]`.
    pub segments: Vec<(String, String)>,
}

impl ArmId {
    /// Parses an id; `None` when it is not a fully qualified subscription-scoped id.
    pub fn parse(id: &str) -> Option<Self> {
        let parts: Vec<&str> = id.trim_end_matches('/').split('/').collect();
        if parts.first() != Some(&"") || parts.len() < 3 {
            return None;
        }
        if !parts[1].eq_ignore_ascii_case("subscriptions") || parts[2].is_empty() {
            return None;
        }
        let mut out = ArmId {
            subscription: parts[2].to_owned(),
            resource_group: None,
            namespace: None,
            segments: Vec::new(),
        };
        let mut rest = &parts[3..];
        if rest.len() >= 2 && rest[0].eq_ignore_ascii_case("resourceGroups") {
            if rest[1].is_empty() {
                return None;
            }
            out.resource_group = Some(rest[1].to_owned());
            rest = &rest[2..];
        }
        if rest.is_empty() {
            return Some(out);
        }
        if rest.len() < 4
            || !rest[0].eq_ignore_ascii_case("providers")
            || !rest.len().is_multiple_of(2)
        {
            return None;
        }
        out.namespace = Some(rest[1].to_owned());
        for pair in rest[2..].chunks(2) {
            if pair[0].is_empty() || pair[1].is_empty() {
                return None;
            }
            out.segments.push((pair[0].to_owned(), pair[1].to_owned()));
        }
        Some(out)
    }

    /// `Microsoft.Compute/galleries/images`, in the caller's casing.
    pub fn full_type(&self) -> String {
        let mut t = self.namespace.clone().unwrap_or_default();
        for (ty, _) in &self.segments {
            t.push('/');
            t.push_str(ty);
        }
        t
    }

    /// Whether the full type equals `ty`, case-insensitively.
    pub fn is_type(&self, ty: &str) -> bool {
        self.full_type().eq_ignore_ascii_case(ty)
    }

    /// The last name (the resource's own name).
    pub fn name(&self) -> Option<&str> {
        self.segments.last().map(|(_, n)| n.as_str())
    }

    /// The id of the parent resource (one `(type,name)` pair fewer), if any.
    pub fn parent(&self) -> Option<ArmId> {
        if self.segments.len() < 2 {
            return None;
        }
        let mut p = self.clone();
        p.segments.pop();
        Some(p)
    }

    /// A child id.
    pub fn child(&self, ty: &str, name: &str) -> ArmId {
        let mut c = self.clone();
        c.segments.push((ty.to_owned(), name.to_owned()));
        c
    }

    /// Renders the id with ARM's canonical casing of the fixed words.
    pub fn to_id(&self) -> String {
        let mut s = format!("/subscriptions/{}", self.subscription);
        if let Some(rg) = &self.resource_group {
            s.push_str("/resourceGroups/");
            s.push_str(rg);
        }
        if let Some(ns) = &self.namespace {
            s.push_str("/providers/");
            s.push_str(ns);
            for (t, n) in &self.segments {
                s.push('/');
                s.push_str(t);
                s.push('/');
                s.push_str(n);
            }
        }
        s
    }

    /// The resource group scope `/subscriptions/{s}/resourceGroups/{rg}`.
    pub fn resource_group_id(&self) -> Option<String> {
        self.resource_group
            .as_ref()
            .map(|rg| format!("/subscriptions/{}/resourceGroups/{}", self.subscription, rg))
    }
}

/// Read access to the resources already in the emulator, by id (case-insensitive).
pub trait Lookup {
    /// The stored resource document (`id`, `location`, `properties`, ...) if it exists.
    fn get(&self, id: &str) -> Option<Value>;
    /// Direct children of `parent_id` whose last type segment is `child_type` (e.g. `versions`).
    fn children(&self, parent_id: &str, child_type: &str) -> Vec<Value>;
    /// Every resource of a type (e.g. all galleries, to resolve a shared gallery's unique
    /// name). Lookups that cannot enumerate return nothing.
    fn all_of_type(&self, resource_type: &str) -> Vec<Value> {
        let _ = resource_type;
        Vec::new()
    }
}

/// Lower-cased id used as a map key: ARM ids compare case-insensitively.
pub fn id_key(id: &str) -> String {
    id.trim_end_matches('/').to_ascii_lowercase()
}

/// Azure location names compare without case and spaces (`West Europe` == `westeurope`).
pub fn normalize_location(loc: &str) -> String {
    loc.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_ids_and_rebuilds_them() {
        let id = "/subscriptions/s1/resourcegroups/RG/providers/Microsoft.Compute/galleries/g/images/i/versions/1.0.0";
        let p = ArmId::parse(id).unwrap();
        assert_eq!(p.subscription, "s1");
        assert_eq!(p.resource_group.as_deref(), Some("RG"));
        assert!(p.is_type("microsoft.compute/galleries/images/versions"));
        assert_eq!(p.name(), Some("1.0.0"));
        assert_eq!(
            p.parent().unwrap().to_id(),
            "/subscriptions/s1/resourceGroups/RG/providers/Microsoft.Compute/galleries/g/images/i"
        );
    }

    #[test]
    fn rejects_ids_that_are_not_fully_qualified() {
        assert!(ArmId::parse("galleries/g").is_none());
        assert!(
            ArmId::parse("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute")
                .is_none()
        );
        assert!(
            ArmId::parse(
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries"
            )
            .is_none()
        );
        assert!(ArmId::parse("/subscriptions//resourceGroups/rg").is_none());
    }

    #[test]
    fn locations_compare_without_spaces_and_case() {
        assert_eq!(normalize_location("West Europe"), "westeurope");
    }

    #[test]
    fn error_body_has_target_only_when_set() {
        let e = RpError::gateway(404, "ResourceGroupNotFound", "x");
        assert!(e.body()["error"].get("target").is_none());
        let e = RpError::service(400, "InvalidParameter", "y").with_target("osProfile");
        assert_eq!(e.body()["error"]["target"], "osProfile");
        assert_eq!(e.cause, FailureCause::Service);
    }
}
