//! Fixtures for the Compute/Network/Graph/blob/deployment tests: the two-tenant scenario plus a
//! published image in tenant A (one gallery the app may read, one it may not), a managed image
//! to publish from, a storage account for the lock blob, and helpers that build a consumer
//! network in tenant B.

#![allow(dead_code)]

use galleon_emulator::Seed;
use galleon_emulator::seed::{SeedPrincipal, SeedResource, SeedRoleAssignment};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;

pub const COMPUTE_API: &str = "api-version=2024-11-01";
pub const GALLERY_API: &str = "api-version=2025-03-03";
pub const NETWORK_API: &str = "api-version=2025-05-01";

/// Image resource group in A the app may read (it is Contributor on all of SUB_A in the base
/// scenario; `restricted()` narrows that).
pub const RG_GOLDEN: &str = "rg-golden";
/// Image resource group in A the app may not read under `restricted()`.
pub const RG_PRIVATE: &str = "rg-private";

pub fn res(id: String, location: &str, properties: Value) -> SeedResource {
    SeedResource {
        id,
        location: Some(location.into()),
        properties: Some(properties),
        tags: None,
        extra: Default::default(),
    }
}

pub fn managed_image() -> String {
    format!(
        "/subscriptions/{SUB_A}/resourceGroups/rg-image-build/providers/Microsoft.Compute/images/ubuntu-2204-base"
    )
}

pub fn gallery(rg: &str) -> String {
    format!(
        "/subscriptions/{SUB_A}/resourceGroups/{rg}/providers/Microsoft.Compute/galleries/golden"
    )
}

pub fn definition(rg: &str, name: &str) -> String {
    format!("{}/images/{name}", gallery(rg))
}

pub fn version(rg: &str, name: &str) -> String {
    format!("{}/versions/1.0.0", definition(rg, name))
}

fn image_world(rg: &str) -> Vec<SeedResource> {
    let def = |name: &str, generation: &str, state: &str, security: &str| {
        res(
            definition(rg, name),
            "westeurope",
            json!({
            "osType": "Linux", "osState": state, "hyperVGeneration": generation,
            "identifier": {"publisher": "contoso", "offer": name, "sku": "1"},
            "features": [{"name": "SecurityType", "value": security}]}),
        )
    };
    let ver = |name: &str| {
        res(
            version(rg, name),
            "westeurope",
            json!({
        "publishingProfile": {"targetRegions": [{"name": "westeurope"}, {"name": "northeurope"}]},
        "storageProfile": {"source": {"id": managed_image()}}}),
        )
    };
    vec![
        SeedResource {
            id: format!("/subscriptions/{SUB_A}/resourceGroups/{rg}"),
            location: Some("westeurope".into()),
            properties: None,
            tags: None,
            extra: Default::default(),
        },
        res(
            gallery(rg),
            "westeurope",
            json!({"identifier": {"uniqueName": format!("{SUB_A}-GOLDEN")}}),
        ),
        def("ubuntu", "V2", "Generalized", "TrustedLaunchSupported"),
        ver("ubuntu"),
        def("legacy", "V1", "Generalized", "Standard"),
        ver("legacy"),
        def("snapshot", "V2", "Specialized", "TrustedLaunchSupported"),
        ver("snapshot"),
        def("tl", "V2", "Generalized", "TrustedLaunch"),
        ver("tl"),
    ]
}

/// The scenario with the image side seeded, small pages and quick LROs.
pub fn seed() -> Seed {
    let mut s = scenario();
    s.resources.push(res(
        managed_image(),
        "westeurope",
        json!({"hyperVGeneration": "V2",
        "storageProfile": {"osDisk": {"osType": "Linux", "osState": "Generalized"}}}),
    ));
    s.resources.extend(image_world(RG_GOLDEN));
    s.resources.extend(image_world(RG_PRIVATE));
    s.resources.push(SeedResource {
        id: rg_path(SUB_B, "rg-app"),
        location: Some("northeurope".into()),
        properties: None,
        tags: None,
        extra: Default::default(),
    });
    s.settings.page_size = 2;
    s.settings.lro_default_ms = 20;
    for sub in &mut s.subscriptions {
        sub.quotas.insert(
            "cores".into(),
            [("northeurope".to_owned(), 6u64)].into_iter().collect(),
        );
    }
    s
}

/// `seed()` where the app's principal in A may only read `RG_GOLDEN` (no role on RG_PRIVATE).
pub fn restricted() -> Seed {
    let mut s = seed();
    s.role_assignments.retain(
        |ra| !matches!(&ra.principal, SeedPrincipal::App { tenant, .. } if tenant == TENANT_A),
    );
    s.role_assignments.push(SeedRoleAssignment {
        principal: SeedPrincipal::App {
            app_id: APP.into(),
            tenant: TENANT_A.into(),
        },
        role: "Reader".into(),
        scope: format!("/subscriptions/{SUB_A}/resourceGroups/{RG_GOLDEN}"),
        name: None,
    });
    s
}

pub fn b_path(rest: &str) -> String {
    format!("/subscriptions/{SUB_B}/resourceGroups/rg-app/providers/{rest}")
}

/// Creates, in the seeded `rg-app` of B, a vnet (subnet `default`), a public IP and a NIC; returns the
/// NIC id.
pub async fn consumer_network(ctx: &TestContext, token_b: &str) -> String {
    let vnet = b_path("Microsoft.Network/virtualNetworks/vnet-app");
    let a = ctx
        .put(
            &format!("{vnet}?{NETWORK_API}"),
            token_b,
            json!({"location": "northeurope", "properties": {
        "addressSpace": {"addressPrefixes": ["10.10.0.0/16"]},
        "subnets": [{"name": "default", "properties": {"addressPrefix": "10.10.1.0/24"}}]}}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let pip = b_path("Microsoft.Network/publicIPAddresses/web-pip");
    let a = ctx
        .put(
            &format!("{pip}?{NETWORK_API}"),
            token_b,
            json!({"location": "northeurope"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let nic = b_path("Microsoft.Network/networkInterfaces/web-nic");
    let a = ctx.put(&format!("{nic}?{NETWORK_API}"), token_b, json!({"location": "northeurope", "properties": {
        "ipConfigurations": [{"name": "ipconfig1", "properties": {
            "subnet": {"id": format!("{vnet}/subnets/default")}, "publicIPAddress": {"id": pip}}}]}})).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    nic
}

/// A VM body as galleon and the SDKs send it.
pub fn vm_body(image: &str, size: &str, nic: &str) -> Value {
    json!({"location": "northeurope", "tags": {"app": "web"}, "properties": {
        "hardwareProfile": {"vmSize": size},
        "storageProfile": {"imageReference": {"id": image}, "osDisk": {"createOption": "FromImage", "managedDisk": {"storageAccountType": "Premium_LRS"}}},
        "osProfile": {"computerName": "web", "adminUsername": "azureuser",
            "linuxConfiguration": {"disablePasswordAuthentication": true, "ssh": {"publicKeys": [{"path": "/home/azureuser/.ssh/authorized_keys", "keyData": "ssh-ed25519 AAAA test"}]}}},
        "securityProfile": {"securityType": "TrustedLaunch", "uefiSettings": {"secureBootEnabled": true, "vTpmEnabled": true}},
        "networkProfile": {"networkInterfaces": [{"id": nic}]}}})
}
