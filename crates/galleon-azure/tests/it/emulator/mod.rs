//! galleon's client against galleon's emulator over HTTPS: the cross-tenant VM flow with its
//! auxiliary header, token refresh when the emulator's clock moves, federated credentials,
//! throttling and server errors from fault injection, paging, Resource Graph, and Azure's own
//! error answers mapped to hints. The emulator's request log is the witness.
//!
//! This module holds the seed and the `Ctx` helper; the tests are in the submodules.

mod cross_tenant;
mod identity;
mod protocol;

use galleon_azure::{
    ArmClient, Cloud, CredentialSource, CredentialSpec, Secret, SecretSource, TenantId,
};
use galleon_emulator::seed::{
    SeedApp, SeedPrincipal, SeedResource, SeedRoleAssignment, SeedSecret, SeedServicePrincipal,
    SeedSubscription, SeedTenant, Settings,
};
use galleon_emulator::{Emulator, EmulatorConfig, RunningEmulator, Seed};
use serde_json::{Value, json};

use crate::{APP, CANARY, SUB_A, SUB_B, TENANT_A, TENANT_B, a, b, fast_options};

/// An app registered in B with no role anywhere and no service principal in A.
pub const LONELY: &str = "0b0b0b0b-4444-4444-8444-444444444444";
pub const IMAGE_SOURCE: &str = "/subscriptions/aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa/resourceGroups/rg-image-build/providers/Microsoft.Compute/images/ubuntu-2204-base";

pub fn grant(app: &str, tenant: &str, role: &str, scope: &str) -> SeedRoleAssignment {
    SeedRoleAssignment {
        principal: SeedPrincipal::App {
            app_id: app.into(),
            tenant: tenant.into(),
        },
        role: role.into(),
        scope: scope.into(),
        name: None,
    }
}

/// The seed scenario: one multi-tenant app with a service principal in both tenants, the
/// canary as its client secret, Contributor on both subscriptions.
pub fn seed() -> Seed {
    Seed {
        tenants: vec![
            SeedTenant {
                id: TENANT_A.into(),
                display_name: Some("Publisher".into()),
                domain: None,
            },
            SeedTenant {
                id: TENANT_B.into(),
                display_name: Some("Consumer".into()),
                domain: None,
            },
        ],
        apps: vec![
            SeedApp {
                app_id: APP.into(),
                home_tenant: TENANT_A.into(),
                display_name: Some("galleon".into()),
                secrets: vec![
                    SeedSecret {
                        value: CANARY.into(),
                        expired: false,
                    },
                    SeedSecret {
                        value: "old-secret".into(),
                        expired: true,
                    },
                ],
                federated_credentials: Vec::new(),
            },
            SeedApp {
                app_id: LONELY.into(),
                home_tenant: TENANT_B.into(),
                display_name: None,
                secrets: vec![SeedSecret {
                    value: CANARY.into(),
                    expired: false,
                }],
                federated_credentials: Vec::new(),
            },
        ],
        service_principals: vec![SeedServicePrincipal {
            app_id: APP.into(),
            tenant: TENANT_B.into(),
            object_id: None,
        }],
        subscriptions: vec![
            SeedSubscription {
                id: SUB_A.into(),
                tenant: TENANT_A.into(),
                display_name: None,
                quotas: Default::default(),
            },
            SeedSubscription {
                id: SUB_B.into(),
                tenant: TENANT_B.into(),
                display_name: None,
                quotas: Default::default(),
            },
        ],
        role_assignments: vec![
            grant(
                APP,
                TENANT_A,
                "Contributor",
                &format!("/subscriptions/{SUB_A}"),
            ),
            grant(
                APP,
                TENANT_B,
                "Contributor",
                &format!("/subscriptions/{SUB_B}"),
            ),
        ],
        resources: vec![
            SeedResource {
                id: format!("/subscriptions/{SUB_A}/resourceGroups/rg-image-build"),
                location: Some("westeurope".into()),
                properties: None,
                tags: None,
                extra: Default::default(),
            },
            SeedResource {
                id: IMAGE_SOURCE.into(),
                location: Some("westeurope".into()),
                properties: None,
                tags: None,
                extra: Default::default(),
            },
        ],
        settings: Settings {
            lro_default_ms: 30,
            retry_after_secs: 0,
            ..Settings::default()
        },
    }
}

pub struct Ctx {
    pub emu: RunningEmulator,
    pub client: ArmClient,
}

pub fn spec(tenant: &str, app: &str, secret: &str) -> CredentialSpec {
    CredentialSpec {
        tenant_id: TenantId::new(tenant),
        client_id: app.into(),
        source: CredentialSource::ClientSecret(SecretSource::Value(Secret::new(secret))),
    }
}

impl Ctx {
    pub async fn start(seed: Seed) -> Ctx {
        let emu = Emulator::start(EmulatorConfig {
            seed,
            ..EmulatorConfig::default()
        })
        .await
        .expect("emulator starts");
        let client = Self::client_for(
            &emu,
            &[spec(TENANT_A, APP, CANARY), spec(TENANT_B, APP, CANARY)],
        )
        .await;
        Ctx { emu, client }
    }

    /// A client that found the emulator the way the CLI does: `/metadata/endpoints` + CA.
    pub async fn client_for(emu: &RunningEmulator, specs: &[CredentialSpec]) -> ArmClient {
        let endpoint = url::Url::parse(emu.endpoint()).unwrap();
        let cloud = Cloud::discover(&endpoint, Some(emu.ca_pem()))
            .await
            .expect("metadata endpoint");
        let client = ArmClient::new(cloud, fast_options()).unwrap();
        client.configure_credentials(specs).unwrap();
        client
    }

    pub fn log(&self) -> Vec<galleon_emulator::app::LogEntry> {
        self.emu.requests()
    }

    pub fn token_requests(&self) -> usize {
        self.log()
            .iter()
            .filter(|e| e.path.ends_with("/oauth2/v2.0/token"))
            .count()
    }
}

pub fn rg(sub: &str, name: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{name}")
}

pub fn gallery() -> String {
    format!(
        "{}/providers/Microsoft.Compute/galleries/golden_images",
        rg(SUB_A, "rg-golden-images")
    )
}

pub fn version() -> String {
    format!("{}/images/ubuntu/versions/1.0.0", gallery())
}

pub fn vm() -> String {
    format!(
        "{}/providers/Microsoft.Compute/virtualMachines/web",
        rg(SUB_B, "rg-app")
    )
}

pub fn vm_body(location: &str) -> Value {
    json!({"location": location, "tags": {"app": "web"}, "properties": {
        "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
        "storageProfile": {"imageReference": {"id": version()}, "osDisk": {"createOption": "FromImage"}},
        "osProfile": {"computerName": "web", "adminUsername": "azureuser", "linuxConfiguration": {"disablePasswordAuthentication": true,
            "ssh": {"publicKeys": [{"path": "/home/azureuser/.ssh/authorized_keys", "keyData": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGalleonTestKey galleon@test"}]}}},
        "networkProfile": {"networkInterfaces": [{"id": format!("{}/providers/Microsoft.Network/networkInterfaces/web-nic", rg(SUB_B, "rg-app"))}]},
    }})
}

/// Publisher side in A (gallery, image, version replicated to two regions) and consumer network
/// in B, all through the client (PUTs that wait for their operations).
pub async fn build_world(c: &Ctx) {
    let (a, b) = (a(), b());
    let cl = &c.client;
    cl.put(
        &a,
        &rg(SUB_A, "rg-golden-images"),
        &json!({"location": "westeurope"}),
        &[],
    )
    .await
    .unwrap();
    cl.put(&a, &gallery(), &json!({"location": "westeurope"}), &[])
        .await
        .unwrap();
    cl.put(
        &a,
        &format!("{}/images/ubuntu", gallery()),
        &json!({"location": "westeurope", "properties": {
        "osType": "Linux", "osState": "Generalized", "hyperVGeneration": "V2",
        "identifier": {"publisher": "contoso", "offer": "ubuntu-server", "sku": "22_04-lts"}}}),
        &[],
    )
    .await
    .unwrap();
    let v = cl.put(&a, &version(), &json!({"location": "westeurope", "properties": {
        "storageProfile": {"source": {"id": IMAGE_SOURCE}},
        "publishingProfile": {"targetRegions": [{"name": "westeurope", "regionalReplicaCount": 1}, {"name": "northeurope", "regionalReplicaCount": 1}]}}}), &[]).await.unwrap();
    assert_eq!(
        v.body["properties"]["provisioningState"], "Succeeded",
        "the PUT waited for replication: {}",
        v.body
    );
    cl.put(
        &b,
        &rg(SUB_B, "rg-app"),
        &json!({"location": "northeurope"}),
        &[],
    )
    .await
    .unwrap();
    cl.put(
        &b,
        &format!(
            "{}/providers/Microsoft.Network/virtualNetworks/vnet-app",
            rg(SUB_B, "rg-app")
        ),
        &json!({"location": "northeurope", "properties": {
        "addressSpace": {"addressPrefixes": ["10.10.0.0/16"]},
        "subnets": [{"name": "default", "properties": {"addressPrefix": "10.10.1.0/24"}}]}}),
        &[],
    )
    .await
    .unwrap();
    cl.put(&b, &format!("{}/providers/Microsoft.Network/networkInterfaces/web-nic", rg(SUB_B, "rg-app")), &json!({"location": "northeurope", "properties": {"ipConfigurations": [
        {"name": "ipconfig1", "properties": {"subnet": {"id": format!("{}/providers/Microsoft.Network/virtualNetworks/vnet-app/subnets/default", rg(SUB_B, "rg-app"))}}}]}}), &[]).await.unwrap();
}
