//! Both LinkedAuthorizationFailed forms and what each linked reference requires.

use std::collections::BTreeSet;

use serde_json::json;

use super::*;

const SUB_A: &str = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa";
const SUB_B: &str = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb";

struct World {
    grants: BTreeSet<(String, String)>, // (object id, action)
}

impl Authority for World {
    fn subscription_tenant(&self, s: &str) -> Option<String> {
        match s {
            SUB_A => Some("tenant-a".into()),
            SUB_B => Some("tenant-b".into()),
            _ => None,
        }
    }
    fn allowed(&self, p: &Principal, action: &str, _scope: &str) -> bool {
        self.grants
            .contains(&(p.object_id.clone(), action.to_owned()))
    }
}

fn principal(tenant: &str, oid: &str) -> Principal {
    Principal {
        tenant: tenant.into(),
        app_id: "app-1".into(),
        object_id: oid.into(),
    }
}

fn vm_scope() -> String {
    format!(
        "/subscriptions/{SUB_B}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/web"
    )
}

fn image() -> String {
    format!(
        "/subscriptions/{SUB_A}/resourceGroups/rg-img/providers/Microsoft.Compute/galleries/g/images/u/versions/1.0.0"
    )
}

fn refs() -> Vec<LinkedRef> {
    linked_refs(
        "Microsoft.Compute/virtualMachines",
        &json!({"properties": {"storageProfile": {"imageReference": {"id": image()}}}}),
    )
}

fn world(grants: &[(&str, &str)]) -> World {
    World {
        grants: grants
            .iter()
            .map(|(a, b)| ((*a).into(), (*b).into()))
            .collect(),
    }
}

const WRITE: &str = "Microsoft.Compute/virtualMachines/write";
const READ: &str = "Microsoft.Compute/galleries/images/versions/read";

#[test]
fn cross_tenant_image_without_aux_token_is_variant_b() {
    let e = check(
        &principal("tenant-b", "oid-b"),
        WRITE,
        &vm_scope(),
        &refs(),
        &[],
        &world(&[]),
    )
    .unwrap_err();
    assert_eq!(
        (e.status, e.code.as_str()),
        (403, "LinkedAuthorizationFailed")
    );
    assert_eq!(
        e.message,
        format!(
            "The client has permission to perform action '{READ}' on scope '{}', however the current tenant 'tenant-b' is not authorized to access linked subscription '{SUB_A}'.",
            vm_scope()
        )
    );
}

#[test]
fn aux_token_for_another_tenant_or_app_does_not_count() {
    let mut other_app = principal("tenant-a", "oid-a");
    other_app.app_id = "app-2".into();
    let aux = [principal("tenant-c", "oid-c"), other_app];
    let e = check(
        &principal("tenant-b", "oid-b"),
        WRITE,
        &vm_scope(),
        &refs(),
        &aux,
        &world(&[("oid-a", READ)]),
    )
    .unwrap_err();
    assert!(
        e.message
            .contains("is not authorized to access linked subscription")
    );
}

#[test]
fn aux_principal_without_read_is_variant_a() {
    let aux = [principal("tenant-a", "oid-a")];
    let e = check(
        &principal("tenant-b", "oid-b"),
        WRITE,
        &vm_scope(),
        &refs(),
        &aux,
        &world(&[]),
    )
    .unwrap_err();
    assert_eq!(e.code, "LinkedAuthorizationFailed");
    assert_eq!(
        e.message,
        format!(
            "The client 'app-1' with object id 'oid-a' has permission to perform action '{WRITE}' on scope '{}'; however, it does not have permission to perform action(s) '{}' on the linked scope(s) '{}' (respectively) or the linked scope(s) are invalid.",
            vm_scope(),
            READ.to_ascii_lowercase(),
            image().to_ascii_lowercase()
        )
    );
}

#[test]
fn aux_principal_with_read_passes() {
    let aux = [principal("tenant-a", "oid-a")];
    assert!(
        check(
            &principal("tenant-b", "oid-b"),
            WRITE,
            &vm_scope(),
            &refs(),
            &aux,
            &world(&[("oid-a", READ)])
        )
        .is_ok()
    );
}

#[test]
fn same_tenant_links_use_the_caller_and_list_every_denied_action() {
    let nic = format!(
        "/subscriptions/{SUB_B}/resourceGroups/rg-app/providers/Microsoft.Network/networkInterfaces/web-nic"
    );
    let body = json!({"properties": {
        "storageProfile": {"imageReference": {"id": image().replace(SUB_A, SUB_B)}},
        "networkProfile": {"networkInterfaces": [{"id": nic}]}}});
    let r = linked_refs("Microsoft.Compute/virtualMachines", &body);
    assert_eq!(r.len(), 2);
    let e = check(
        &principal("tenant-b", "oid-b"),
        WRITE,
        &vm_scope(),
        &r,
        &[],
        &world(&[]),
    )
    .unwrap_err();
    assert!(e.message.contains("action(s) 'microsoft.compute/galleries/images/versions/read','microsoft.network/networkinterfaces/join/action'"));
    assert!(
        e.message
            .starts_with("The client 'app-1' with object id 'oid-b'")
    );
}

#[test]
fn unknown_linked_subscription() {
    let r = vec![LinkedRef {
        action: READ.into(),
        scope: image().replace(SUB_A, "deadbeef"),
    }];
    let e = check(
        &principal("tenant-b", "oid-b"),
        WRITE,
        &vm_scope(),
        &r,
        &[],
        &world(&[]),
    )
    .unwrap_err();
    assert!(
        e.message
            .ends_with("however the linked subscription 'deadbeef' was not found. ")
    );
}

#[test]
fn definition_references_need_image_read() {
    let body = json!({"properties": {"storageProfile": {"imageReference": {"id": image().rsplit_once("/versions/").unwrap().0}}}});
    assert_eq!(
        linked_refs("Microsoft.Compute/virtualMachines", &body)[0].action,
        "Microsoft.Compute/galleries/images/read"
    );
}

#[test]
fn nic_links_subnet_public_ip_and_nsg() {
    let body = json!({"properties": {"ipConfigurations": [{"properties": {
        "subnet": {"id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/virtualNetworks/v/subnets/d"},
        "publicIPAddress": {"id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/publicIPAddresses/p"}}}],
        "networkSecurityGroup": {"id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/networkSecurityGroups/n"}}});
    let actions: Vec<_> = linked_refs("Microsoft.Network/networkInterfaces", &body)
        .into_iter()
        .map(|r| r.action)
        .collect();
    assert_eq!(
        actions,
        [
            "Microsoft.Network/virtualNetworks/subnets/join/action",
            "Microsoft.Network/publicIPAddresses/join/action",
            "Microsoft.Network/networkSecurityGroups/join/action",
        ]
    );
}
