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
    /// The body as read, fingerprinted just before it is narrowed or taken; `None` while the
    /// body is still whole (most listed bodies are never reported, so never fingerprinted).
    seen: Option<FingerprintState>,
}

impl LiveResource {
    /// A resource read in `tenant`.
    pub fn new(arm_id: String, tenant: String, tenant_id: String, body: Value) -> LiveResource {
        LiveResource {
            arm_id,
            tenant,
            tenant_id,
            body,
            seen: None,
        }
    }

    /// The managed kind of this resource, from its id.
    pub fn kind(&self) -> Option<ResourceKind> {
        kind_of_id(&self.arm_id)
    }

    /// The fingerprint of the body as it was read: what a saved plan's apply compares a
    /// fresh read with.
    pub fn seen(&self) -> FingerprintState {
        self.seen
            .clone()
            .unwrap_or_else(|| FingerprintState::of(&self.body))
    }

    /// Keeps only what a plan of `desired` reads from this body (see
    /// [`crate::diff::narrow_live`]); the fingerprint stays that of the whole body.
    pub fn narrow(&mut self, kind: ResourceKind, desired: &Value) {
        self.keep_fingerprint();
        crate::diff::narrow_live(kind, desired, &mut self.body);
    }

    /// Fingerprints the body as read, before it changes.
    fn keep_fingerprint(&mut self) {
        if self.seen.is_none() {
            self.seen = Some(FingerprintState::of(&self.body));
        }
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
        self.by_id.get_mut(&arm_id.to_ascii_lowercase()).map(|r| {
            r.keep_fingerprint();
            std::mem::take(&mut r.body)
        })
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
    fn the_fingerprint_is_of_the_body_as_read_whatever_happens_to_it_after() {
        let id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/n";
        let read = json!({"id": id, "etag": "W/\"3\"", "location": "westeurope",
            "properties": {"securityRules": [], "provisioningState": "Succeeded", "resourceGuid": "g"}});
        let whole = FingerprintState::of(&read);
        let mut state = LiveState::default();
        let mut nsg = LiveResource::new(id.into(), "t".into(), "tid".into(), read.clone());
        nsg.narrow(
            ResourceKind::Nsg,
            &json!({"location": "westeurope", "properties": {"securityRules": []}}),
        );
        assert!(nsg.body["properties"].get("resourceGuid").is_none());
        assert_eq!(nsg.seen(), whole);
        state.insert(nsg);
        let taken = state.take_body(id).expect("read");
        assert_eq!(taken["location"], "westeurope");
        assert_eq!(state.get(id).unwrap().body, Value::Null);
        assert_eq!(state.get(id).unwrap().seen(), whole);
        // Taken without narrowing first: fingerprinted as read all the same.
        let mut other = LiveState::default();
        other.insert(LiveResource::new(id.into(), "t".into(), "tid".into(), read));
        other.take_body(id);
        assert_eq!(other.get(id).unwrap().seen(), whole);
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
