//! What exists in Azure, as far as a plan is concerned: every body read, keyed by ARM id,
//! and who owns each one.
//!
//! Ownership without a state file (docs/architecture.md): a resource is this workspace's when
//! it carries `galleon-workspace: <workspace>`; a role assignment, which has no tags, when its
//! description is `galleon:<workspace>:<address>`. Only such resources are ever deleted.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::{FingerprintState, ResourceKind};

/// A live resource and where it lives.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveResource {
    /// The id as ARM returned it.
    pub arm_id: String,
    /// Tenant key of the tenant it was read in.
    pub tenant: String,
    /// That tenant's id.
    pub tenant_id: String,
    /// The body as read (list and GET bodies have the same shape), or only the part of it a
    /// plan needs once [`LiveResource::narrow`] has run.
    pub body: Value,
    /// The body as read, fingerprinted before any narrowing: what a saved plan's apply
    /// compares a fresh read with.
    seen: FingerprintState,
}

impl LiveResource {
    /// A resource read in `tenant`, fingerprinted as read.
    pub fn new(arm_id: String, tenant: String, tenant_id: String, body: Value) -> LiveResource {
        LiveResource {
            seen: FingerprintState::of(&body),
            arm_id,
            tenant,
            tenant_id,
            body,
        }
    }

    /// The managed kind of this resource, from its id.
    pub fn kind(&self) -> Option<ResourceKind> {
        kind_of_id(&self.arm_id)
    }

    /// The fingerprint of the body as it was read.
    pub fn seen(&self) -> &FingerprintState {
        &self.seen
    }

    /// Keeps only what a plan of `desired` reads from this body (see
    /// [`crate::diff::narrow_live`]); the fingerprint stays that of the whole body.
    pub fn narrow(&mut self, kind: ResourceKind, desired: &Value) {
        crate::diff::narrow_live(kind, desired, &mut self.body);
    }
}

/// Who a live resource belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// This workspace, at this address.
    Us {
        /// The address recorded on the resource.
        address: String,
    },
    /// Another galleon workspace.
    OtherWorkspace(String),
    /// Nobody galleon knows.
    Unowned,
}

/// Everything read for a plan.
#[derive(Debug, Clone, Default)]
pub struct LiveState {
    by_id: BTreeMap<String, LiveResource>,
}

impl LiveState {
    /// Records a body read in `tenant`; a second read of the same id replaces the first.
    pub fn insert(&mut self, resource: LiveResource) {
        self.by_id
            .insert(resource.arm_id.to_ascii_lowercase(), resource);
    }

    /// Records a resource unless a body with its id was already read.
    pub fn insert_if_absent(&mut self, resource: LiveResource) {
        self.by_id
            .entry(resource.arm_id.to_ascii_lowercase())
            .or_insert(resource);
    }

    /// The resource with this id (ARM ids compare case-insensitively).
    pub fn get(&self, arm_id: &str) -> Option<&LiveResource> {
        self.by_id.get(&arm_id.to_ascii_lowercase())
    }

    /// Moves a body out for the plan to keep as a change's `before`, leaving `null`: the
    /// resource still counts as read (its fingerprint stays), its body is gone.
    pub(crate) fn take_body(&mut self, arm_id: &str) -> Option<Value> {
        self.by_id
            .get_mut(&arm_id.to_ascii_lowercase())
            .map(|r| std::mem::take(&mut r.body))
    }

    /// Every resource read.
    pub fn iter(&self) -> impl Iterator<Item = &LiveResource> {
        self.by_id.values()
    }

    /// How many resources were read.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// True when nothing was read.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

/// The owner of a live body.
pub fn owner(kind: ResourceKind, body: &Value, workspace: &str) -> Owner {
    if kind == ResourceKind::GalleryGrant {
        let description = crate::field(body, &["properties", "description"])
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut parts = description.splitn(3, ':');
        return match (parts.next(), parts.next(), parts.next()) {
            (Some("galleon"), Some(w), Some(address)) if w == workspace => Owner::Us {
                address: address.to_owned(),
            },
            (Some("galleon"), Some(w), Some(_)) => Owner::OtherWorkspace(w.to_owned()),
            _ => Owner::Unowned,
        };
    }
    // Tag names are case-insensitive in ARM (tag-resources.md); values are not.
    let tag = |name: &str| {
        body.get("tags")
            .and_then(Value::as_object)
            .and_then(|t| t.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
            .and_then(|(_, v)| v.as_str())
    };
    match tag("galleon-workspace") {
        Some(w) if w == workspace => Owner::Us {
            address: tag("galleon-address").unwrap_or_default().to_owned(),
        },
        Some(w) => Owner::OtherWorkspace(w.to_owned()),
        None => Owner::Unowned,
    }
}

/// The managed kind of an ARM id, from its resource type.
pub fn kind_of_id(arm_id: &str) -> Option<ResourceKind> {
    let lower = arm_id.to_ascii_lowercase();
    let segments: Vec<&str> = lower.trim_matches('/').split('/').collect();
    if segments.len() == 4 && segments[2] == "resourcegroups" {
        return Some(ResourceKind::ResourceGroup);
    }
    let provider = segments.iter().rposition(|s| *s == "providers")?;
    let namespace = segments.get(provider + 1)?;
    // The type is the namespace plus every other segment after it (type/name/type/name...).
    let types: Vec<&str> = segments[provider + 2..]
        .iter()
        .step_by(2)
        .copied()
        .collect();
    let full = format!("{namespace}/{}", types.join("/"));
    ResourceKind::ALL
        .into_iter()
        .find(|k| k.arm_type().eq_ignore_ascii_case(&full))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kinds_from_ids_including_children_and_extension_resources() {
        let rg = "/subscriptions/s/resourceGroups/rg";
        assert_eq!(kind_of_id(rg), Some(ResourceKind::ResourceGroup));
        let gallery = format!("{rg}/providers/Microsoft.Compute/galleries/g");
        assert_eq!(kind_of_id(&gallery), Some(ResourceKind::Gallery));
        assert_eq!(
            kind_of_id(&format!("{gallery}/images/i/versions/1.0.0")),
            Some(ResourceKind::ImageVersion)
        );
        assert_eq!(
            kind_of_id(&format!(
                "{gallery}/providers/Microsoft.Authorization/roleAssignments/0000"
            )),
            Some(ResourceKind::GalleryGrant)
        );
        assert_eq!(
            kind_of_id(&format!(
                "{rg}/providers/microsoft.network/NETWORKINTERFACES/n"
            )),
            Some(ResourceKind::Nic)
        );
        assert_eq!(
            kind_of_id(&format!("{rg}/providers/Microsoft.Compute/disks/d")),
            None
        );
    }

    #[test]
    fn ownership_from_tags_or_role_assignment_description() {
        let ours = json!({"tags": {"Galleon-Workspace": "w", "galleon-address": "vm.web"}});
        assert_eq!(
            owner(ResourceKind::Vm, &ours, "w"),
            Owner::Us {
                address: "vm.web".into()
            }
        );
        assert_eq!(
            owner(ResourceKind::Vm, &ours, "W"),
            Owner::OtherWorkspace("w".into())
        );
        assert_eq!(
            owner(ResourceKind::Vm, &json!({"tags": {}}), "w"),
            Owner::Unowned
        );
        let grant =
            json!({"properties": {"description": "galleon:w:gallery_grant.g/consumer/Reader"}});
        assert_eq!(
            owner(ResourceKind::GalleryGrant, &grant, "w"),
            Owner::Us {
                address: "gallery_grant.g/consumer/Reader".into()
            }
        );
        let theirs = json!({"properties": {"description": "granted by hand"}});
        assert_eq!(
            owner(ResourceKind::GalleryGrant, &theirs, "w"),
            Owner::Unowned
        );
    }
}
