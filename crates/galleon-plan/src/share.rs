//! Direct sharing of a gallery (`sharing.direct`): the members a gallery is shared with are
//! not part of its PUT body. Azure adds and removes them with an action, `POST .../galleries/
//! {g}/share` and a `SharingUpdate` body `{"operationType": "Add"|"Remove", "groups": [{"type":
//! "Subscriptions"|"AADTenants", "ids": [...]}]}` (GalleryRP `Galleries_GallerySharingProfile_
//! Update`, example `Gallery_AddToSharingProfile.json`; arm-protocol.md §6), and show them only
//! to `GET gallery?$expand=sharingProfile/Groups`.
//!
//! So the members are their own change, `gallery_share.<gallery>`, whose desired body is the
//! member list and whose request is the POST that adds what is missing. Members no longer
//! declared are removed by a second change, `gallery_share.<gallery>/remove`, since one POST
//! carries one operation.

use futures::{StreamExt, stream};
use galleon_azure::{ArmClient, ArmRequest, Method as AzureMethod, TenantId};
use galleon_manifest::Workspace;
use galleon_manifest::resolve::Spec;
use serde_json::{Value, json};

use crate::live::{LiveResource, LiveState};
use crate::lower::DesiredResource;
use crate::{Method, Request, ResourceKind};

/// The two member types of a `SharingUpdate`, in the order Azure's examples list them.
const GROUP_TYPES: [&str; 2] = ["Subscriptions", "AADTenants"];

/// The action path of a gallery's sharing update.
pub fn share_id(gallery_id: &str) -> String {
    format!("{gallery_id}/share")
}

/// One desired member list per gallery with `sharing.direct`.
pub fn desired_shares(workspace: &Workspace) -> Vec<DesiredResource> {
    workspace
        .resources()
        .iter()
        .filter_map(|r| {
            let Spec::Gallery(g) = &r.spec else {
                return None;
            };
            let direct = g.direct_share.as_ref()?;
            let gallery = r.address.to_string();
            let name = gallery.strip_prefix("gallery.").unwrap_or(&gallery);
            Some(DesiredResource {
                address: format!("{}.{name}", ResourceKind::GalleryShare),
                kind: ResourceKind::GalleryShare,
                arm_id: share_id(&r.arm_id),
                tenant: r.tenant.clone(),
                tenant_id: r.tenant_id.clone(),
                subscription: r.subscription.clone(),
                resource_group: r.resource_group.clone(),
                location: String::new(),
                body: members(&[&direct.subscriptions, &direct.tenants]),
                depends_on: vec![gallery],
                aux_tenant_ids: Vec::new(),
            })
        })
        .collect()
}

/// `{"groups": [...]}` with the non-empty groups, ids sorted.
fn members(ids_by_type: &[&Vec<String>; 2]) -> Value {
    let groups: Vec<Value> = GROUP_TYPES
        .iter()
        .zip(ids_by_type)
        .filter(|(_, ids)| !ids.is_empty())
        .map(|(ty, ids)| {
            let mut ids: Vec<String> = ids.iter().map(|i| i.to_ascii_lowercase()).collect();
            ids.sort();
            ids.dedup();
            json!({"type": ty, "ids": ids})
        })
        .collect();
    json!({ "groups": groups })
}

/// Ids of one member type in a `{"groups": [...]}` body, lower-cased.
fn ids_of(body: Option<&Value>, ty: &str) -> Vec<String> {
    body.and_then(|b| b["groups"].as_array())
        .into_iter()
        .flatten()
        .filter(|g| {
            g["type"]
                .as_str()
                .is_some_and(|t| t.eq_ignore_ascii_case(ty))
        })
        .flat_map(|g| g["ids"].as_array().cloned().unwrap_or_default())
        .filter_map(|i| i.as_str().map(str::to_ascii_lowercase))
        .collect()
}

/// The `SharingUpdate` of one operation: the members of `from` missing in `other`, or `None`
/// when there are none.
fn update(operation: &str, from: Option<&Value>, other: Option<&Value>) -> Option<Value> {
    let groups: Vec<Value> = GROUP_TYPES
        .iter()
        .filter_map(|ty| {
            let present = ids_of(other, ty);
            let ids: Vec<String> = ids_of(from, ty)
                .into_iter()
                .filter(|i| !present.contains(i))
                .collect();
            (!ids.is_empty()).then(|| json!({"type": ty, "ids": ids}))
        })
        .collect();
    (!groups.is_empty()).then(|| json!({"operationType": operation, "groups": groups}))
}

/// The POST adding what `desired` has and `live` lacks.
pub fn add_request(desired: &Value, live: Option<&Value>) -> Option<Request> {
    update("Add", Some(desired), live).map(post)
}

/// The POST removing what `live` has and `desired` lacks.
pub fn remove_request(desired: &Value, live: Option<&Value>) -> Option<Request> {
    update("Remove", live, Some(desired)).map(post)
}

fn post(body: Value) -> Request {
    Request {
        method: Method::Post,
        api_version: ResourceKind::GalleryShare.api_version().to_owned(),
        body: Some(body),
        aux_tenant_ids: Vec::new(),
    }
}

/// Reads the members of each shared gallery that exists, with one `GET gallery?$expand=
/// sharingProfile/Groups` each (a plain GET or list leaves the groups out
/// (`Gallery_Get_WithExpandSharingProfileGroups.json`)), and records them as live state under
/// the share's id. A gallery that cannot be read keeps no live members: the plan then adds
/// them all, which Azure accepts for members already there.
pub async fn read_shares(
    arm: &ArmClient,
    shares: &[DesiredResource],
    live: &mut LiveState,
    concurrency: usize,
) {
    let existing: Vec<&DesiredResource> = shares
        .iter()
        .filter(|s| live.get(gallery_of(&s.arm_id)).is_some())
        .collect();
    let read: Vec<_> = stream::iter(existing)
        .map(|s| async move {
            let tenant = TenantId::new(&s.tenant_id);
            let mut req = ArmRequest::new(AzureMethod::GET, &tenant, gallery_of(&s.arm_id));
            req.api_version = Some(ResourceKind::Gallery.api_version());
            req.query = vec![("$expand", "sharingProfile/Groups")];
            (s, arm.send(req).await)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    for (s, result) in read {
        match result {
            Ok(resp) => {
                let groups = resp
                    .body
                    .pointer("/properties/sharingProfile/groups")
                    .cloned()
                    .unwrap_or_else(|| json!([]));
                live.insert(LiveResource::new(
                    s.arm_id.clone(),
                    s.tenant.clone(),
                    s.tenant_id.clone(),
                    normalised(&json!({ "groups": groups })),
                ));
            }
            Err(e) => {
                tracing::warn!(gallery = gallery_of(&s.arm_id), error = %e, "cannot read the gallery's sharing groups");
            }
        }
    }
}

/// A live member list in the desired shape (known types, ids lower-cased and sorted).
fn normalised(body: &Value) -> Value {
    let subs = ids_of(Some(body), GROUP_TYPES[0]);
    let tenants = ids_of(Some(body), GROUP_TYPES[1]);
    members(&[&subs, &tenants])
}

fn gallery_of(share_id: &str) -> &str {
    share_id.strip_suffix("/share").unwrap_or(share_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members_of(subs: &[&str], tenants: &[&str]) -> Value {
        let own = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        members(&[&own(subs), &own(tenants)])
    }

    #[test]
    fn members_are_lower_cased_sorted_and_empty_groups_left_out() {
        assert_eq!(
            members_of(&["B", "a", "b"], &[]),
            json!({"groups": [{"type": "Subscriptions", "ids": ["a", "b"]}]})
        );
    }

    #[test]
    fn add_and_remove_carry_only_the_difference_whatever_the_case() {
        let desired = members_of(&["s1", "s2"], &["t1"]);
        let live = normalised(&json!({"groups": [
            {"type": "Subscriptions", "ids": ["S1", "s9"]},
            {"type": "AADTenants", "ids": ["T1"]}]}));
        let add = add_request(&desired, Some(&live)).unwrap();
        assert_eq!(add.method, Method::Post);
        assert_eq!(
            add.body.unwrap(),
            json!({"operationType": "Add", "groups": [{"type": "Subscriptions", "ids": ["s2"]}]})
        );
        let remove = remove_request(&desired, Some(&live)).unwrap();
        assert_eq!(
            remove.body.unwrap(),
            json!({"operationType": "Remove", "groups": [{"type": "Subscriptions", "ids": ["s9"]}]})
        );
        assert!(add_request(&desired, Some(&desired)).is_none());
        assert!(remove_request(&desired, None).is_none());
        assert_eq!(
            add_request(&desired, None).unwrap().body.unwrap()["groups"],
            desired["groups"]
        );
    }

    #[test]
    fn the_share_id_is_the_action_path_below_the_gallery() {
        let g = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g";
        assert_eq!(gallery_of(&share_id(g)), g);
        assert_eq!(
            crate::live::kind_of_id(&share_id(g)),
            Some(ResourceKind::GalleryShare)
        );
    }
}
