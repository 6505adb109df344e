//! The resolved view the planner builds on: addresses, names, ARM ids, dependencies, and the
//! cross-tenant image edge.

use std::path::Path;

use galleon_manifest::resolve::{ImageRef, Principal, Spec, role_assignment_name};
use galleon_manifest::{Address, Kind, Workspace};

fn load(path: &str) -> Workspace {
    Workspace::load(Path::new(path)).unwrap_or_else(|d| panic!("{d}"))
}

fn addr(s: &str) -> Address {
    s.parse().unwrap()
}

#[test]
fn cross_tenant_resources_and_arm_ids() {
    let ws = load("../../examples/cross-tenant");
    let addresses: Vec<String> = ws
        .resources()
        .iter()
        .map(|r| r.address.to_string())
        .collect();
    assert_eq!(
        addresses,
        [
            // files merge in name order: app.yaml, images.yaml, tenants.yaml
            "resource_group.app",
            "resource_group.images",
            "gallery.golden",
            "gallery_image.golden/ubuntu",
            "image_version.golden/ubuntu/1.0.0",
            "gallery_grant.golden/consumer/Reader",
            "nsg.web",
            "network.app",
            "public_ip.web",
            "nic.web",
            "vm.web",
        ]
    );
    let version = ws
        .resource(&addr("image_version.golden/ubuntu/1.0.0"))
        .unwrap();
    assert_eq!(
        version.arm_id,
        "/subscriptions/aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa/resourceGroups/rg-golden-images/providers/Microsoft.Compute/galleries/golden_images/images/ubuntu/versions/1.0.0"
    );
    assert_eq!(version.location, "westeurope");
    assert_eq!(version.tenant, "publisher");

    let grant = ws
        .resource(&addr("gallery_grant.golden/consumer/Reader"))
        .unwrap();
    let uuid = role_assignment_name("cross-tenant", &grant.address);
    assert_eq!(grant.name, uuid);
    assert!(grant.arm_id.ends_with(&format!(
        "galleries/golden_images/providers/Microsoft.Authorization/roleAssignments/{uuid}"
    )));
    let Spec::GalleryGrant(g) = &grant.spec else {
        panic!()
    };
    assert_eq!(g.role_definition_id, "acdd72a7-3385-48ef-bd42-f606fba81ae7");
    assert_eq!(
        g.principal,
        Principal::App {
            tenant: "consumer".into(),
            client_id: Some("0a0a0a0a-3333-4333-8333-333333333333".into())
        }
    );
    assert_eq!(
        g.description,
        "galleon:cross-tenant:gallery_grant.golden/consumer/Reader"
    );

    let vm = ws.resource(&addr("vm.web")).unwrap();
    assert_eq!(vm.location, "northeurope");
    assert_eq!(vm.tenant_id, "22222222-2222-4222-8222-222222222222");
    let image_tenant = vm.image_tenant.as_ref().expect("cross-tenant VM");
    assert_eq!(image_tenant.key, "publisher");
    let Spec::Vm(spec) = &vm.spec else { panic!() };
    assert_eq!(spec.image.arm_id(), version.arm_id);
    assert!(matches!(spec.image, ImageRef::Version { .. }));
    assert_eq!(spec.nic.address, addr("nic.web"));
    assert_eq!(
        vm.depends_on,
        [
            addr("resource_group.app"),
            addr("nic.web"),
            addr("image_version.golden/ubuntu/1.0.0"),
            addr("gallery_grant.golden/consumer/Reader"),
        ]
    );
    let nic = ws.resource(&addr("nic.web")).unwrap();
    assert_eq!(nic.name, "web-nic");
    assert_eq!(
        nic.depends_on,
        [
            addr("resource_group.app"),
            addr("network.app"),
            addr("public_ip.web")
        ]
    );
    let pip = ws.resource(&addr("public_ip.web")).unwrap();
    assert_eq!(pip.name, "web-pip");
    assert!(
        pip.arm_id.ends_with(
            "/resourceGroups/rg-app/providers/Microsoft.Network/publicIPAddresses/web-pip"
        )
    );
    let net = ws.resource(&addr("network.app")).unwrap();
    let Spec::Network(n) = &net.spec else {
        panic!()
    };
    assert_eq!(
        n.subnets[0].arm_id,
        format!("{}/subnets/default", net.arm_id)
    );
    assert_eq!(
        net.depends_on,
        [addr("resource_group.app"), addr("nsg.web")]
    );
}

#[test]
fn fleet_expands_count_and_latest() {
    let ws = load("../../examples/fleet");
    let vms: Vec<_> = ws
        .resources()
        .iter()
        .filter(|r| r.kind() == Kind::Vm)
        .collect();
    assert_eq!(vms.len(), 20);
    let east3 = ws.resource(&addr("vm.east[3]")).unwrap();
    assert_eq!(east3.name, "east-3");
    assert_eq!(east3.subscription, "bbbbbbbb-0001-4000-8000-bbbbbbbbbbbb");
    let nic = ws.resource(&addr("nic.east[3]")).unwrap();
    assert_eq!(nic.name, "east-3-nic");
    assert!(ws.resource(&addr("public_ip.east[3]")).is_none());
    let central = ws.resource(&addr("vm.central[0]")).unwrap();
    let Spec::Vm(spec) = &central.spec else {
        panic!()
    };
    let ImageRef::Latest {
        definition,
        versions,
    } = &spec.image
    else {
        panic!()
    };
    assert!(
        definition
            .arm_id
            .ends_with("/galleries/fleet_images/images/worker")
    );
    assert_eq!(versions.len(), 2);
    assert!(
        central
            .depends_on
            .contains(&addr("image_version.fleet/worker/1.0.0"))
    );
    assert!(
        central
            .depends_on
            .contains(&addr("image_version.fleet/worker/1.1.0"))
    );
    assert!(
        central
            .depends_on
            .contains(&addr("gallery_grant.fleet/fleet/Reader"))
    );
    let tags = ws.tags_for(central);
    assert_eq!(tags["galleon-workspace"], "fleet");
    assert_eq!(tags["galleon-address"], "vm.central[0]");
}

const EXTERNAL: &str = r#"
tenants:
  pub:
    tenant_id: 11111111-1111-4111-8111-111111111111
    auth: { client_id: 0a0a0a0a-3333-4333-8333-333333333333, federated_token_file: /var/run/token }
  con:
    tenant_id: 22222222-2222-4222-8222-222222222222
    auth: { client_id: 0a0a0a0a-3333-4333-8333-333333333333, client_secret: { env: SECRET } }
resource_groups:
  app: { tenant: con, subscription: bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb, location: westeurope }
networks:
  app: { resource_group: app, address_space: [10.0.0.0/16], subnets: { default: { address_prefix: 10.0.0.0/24 } } }
network_interfaces:
  web: { resource_group: app, subnet: app/default }
virtual_machines:
  web:
    resource_group: app
    size: Standard_D2s_v5
    image: /subscriptions/aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i/versions/1.0.0
    image_tenant: pub
    admin_username: azureuser
    network_interface: web
lock:
  tenant: con
  subscription: bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb
  resource_group: rg-state
  storage_account: galleonstate
"#;

#[test]
fn external_image_in_another_tenant_is_a_cross_tenant_edge() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("one.yaml");
    std::fs::write(&file, EXTERNAL).unwrap();
    let ws = Workspace::load(&file).unwrap_or_else(|d| panic!("{d}"));
    // A single file takes its directory's name.
    assert_eq!(ws.name(), dir.path().file_name().unwrap().to_str().unwrap());
    let vm = ws.resource(&addr("vm.web")).unwrap();
    assert_eq!(
        vm.image_tenant.as_ref().unwrap().tenant_id,
        "11111111-1111-4111-8111-111111111111"
    );
    let Spec::Vm(spec) = &vm.spec else { panic!() };
    assert!(matches!(spec.image, ImageRef::External { .. }));
    assert_eq!(
        spec.grant, None,
        "no managed gallery, so no grant to depend on"
    );
    assert_eq!(vm.depends_on, [addr("resource_group.app"), addr("nic.web")]);
    let nic = ws.resource(&addr("nic.web")).unwrap();
    assert_eq!(nic.name, "web", "an explicit NIC keeps its own name");

    use galleon_manifest::model::{SecretSource, TokenFile};
    use galleon_manifest::resolve::AuthMethod;
    assert_eq!(
        ws.tenant("pub").unwrap().auth,
        AuthMethod::FederatedToken {
            client_id: "0a0a0a0a-3333-4333-8333-333333333333".into(),
            token_file: TokenFile::Path("/var/run/token".into()),
        }
    );
    assert_eq!(
        ws.tenant("con").unwrap().auth,
        AuthMethod::ClientSecret {
            client_id: "0a0a0a0a-3333-4333-8333-333333333333".into(),
            secret: SecretSource::Env("SECRET".into()),
        }
    );
    let lock = ws.lock().unwrap();
    assert_eq!(lock.container, "galleon-locks");
    assert_eq!(lock.storage_account, "galleonstate");
}

#[test]
fn same_tenant_external_image_has_no_image_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let text = EXTERNAL.replace("    image_tenant: pub\n", "");
    std::fs::write(dir.path().join("one.yaml"), text).unwrap();
    let ws = Workspace::load(dir.path()).unwrap_or_else(|d| panic!("{d}"));
    assert!(ws.resource(&addr("vm.web")).unwrap().image_tenant.is_none());
}

#[test]
fn latest_only_counts_regions_of_versions_not_excluded() {
    let fleet = std::fs::read_to_string("../../examples/fleet/fleet.yaml").unwrap();
    // 1.1.0 (the only version left for latest) no longer replicates to northeurope.
    let text = fleet
        .replacen(
            "          \"1.0.0\":\n",
            "          \"1.0.0\":\n            exclude_from_latest: true\n",
            1,
        )
        .replace(
            "worker-base-next\n            target_regions:\n              - { region: westeurope, replicas: 2 }\n              - { region: northeurope, replicas: 2 }",
            "worker-base-next\n            target_regions:\n              - { region: westeurope, replicas: 2 }",
        );
    assert_ne!(text, fleet);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fleet.yaml"), &text).unwrap();
    // central (westeurope, latest) is fine; south (northeurope) pins 1.1.0 and now fails too.
    let diags = Workspace::load(dir.path()).unwrap_err();
    let msgs: Vec<&str> = diags.items().iter().map(|d| d.message.as_str()).collect();
    assert_eq!(msgs.len(), 1, "{diags}");
    assert!(
        msgs[0].contains("VM `south` is in `northeurope`"),
        "{diags}"
    );

    // Move central to northeurope: latest resolves to 1.1.0 only, which is not there.
    let text = text.replace(
        "rg-fleet-central\n    location: westeurope",
        "rg-fleet-central\n    location: northeurope",
    );
    std::fs::write(dir.path().join("fleet.yaml"), &text).unwrap();
    let diags = Workspace::load(dir.path()).unwrap_err();
    assert!(
        diags.items().iter().any(|d| d
            .message
            .contains("VM `central` is in `northeurope` but `fleet/worker/latest`")),
        "{diags}"
    );
}
