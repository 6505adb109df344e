//! galleon's client against galleon's emulator over HTTPS: the cross-tenant VM flow with its
//! auxiliary header, token refresh when the emulator's clock moves, federated credentials,
//! throttling and server errors from fault injection, paging, Resource Graph, and Azure's own
//! error answers mapped to hints. The emulator's request log is the witness.

use galleon_azure::{
    ArmClient, AzureError, Cloud, CredentialSource, CredentialSpec, GraphQuery, Secret,
    SecretSource, TenantId,
};
use galleon_emulator::seed::{
    Faults, SeedApp, SeedFederatedCredential, SeedPrincipal, SeedResource, SeedRoleAssignment,
    SeedSecret, SeedServicePrincipal, SeedSubscription, SeedTenant, Settings,
};
use galleon_emulator::{Emulator, EmulatorConfig, RunningEmulator, Seed};
use serde_json::{Value, json};

use crate::{APP, CANARY, SUB_A, SUB_B, TENANT_A, TENANT_B, a, b, fast_options};

/// An app registered in B with no role anywhere and no service principal in A.
const LONELY: &str = "0b0b0b0b-4444-4444-8444-444444444444";
const IMAGE_SOURCE: &str = "/subscriptions/aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa/resourceGroups/rg-image-build/providers/Microsoft.Compute/images/ubuntu-2204-base";

fn grant(app: &str, tenant: &str, role: &str, scope: &str) -> SeedRoleAssignment {
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

fn spec(tenant: &str, app: &str, secret: &str) -> CredentialSpec {
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

    fn log(&self) -> Vec<galleon_emulator::app::LogEntry> {
        self.emu.requests()
    }

    fn token_requests(&self) -> usize {
        self.log()
            .iter()
            .filter(|e| e.path.ends_with("/oauth2/v2.0/token"))
            .count()
    }
}

fn rg(sub: &str, name: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{name}")
}

fn gallery() -> String {
    format!(
        "{}/providers/Microsoft.Compute/galleries/golden_images",
        rg(SUB_A, "rg-golden-images")
    )
}

fn version() -> String {
    format!("{}/images/ubuntu/versions/1.0.0", gallery())
}

fn vm() -> String {
    format!(
        "{}/providers/Microsoft.Compute/virtualMachines/web",
        rg(SUB_B, "rg-app")
    )
}

fn vm_body(location: &str) -> Value {
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
async fn build_world(c: &Ctx) {
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

#[tokio::test]
async fn cross_tenant_vm_carries_the_aux_header_exactly_on_create_and_update() {
    let c = Ctx::start(seed()).await;
    build_world(&c).await;

    // Without the publisher's token ARM refuses the linked image: typed, with the hint.
    let err = c
        .client
        .put(&b(), &vm(), &vm_body("northeurope"), &[])
        .await
        .unwrap_err();
    assert_eq!(err.arm_code(), Some("LinkedAuthorizationFailed"), "{err}");
    let hint = err.hint().unwrap();
    assert!(
        hint.contains(SUB_A) && hint.contains("no auxiliary token was sent"),
        "{hint}"
    );

    let created = c
        .client
        .put(&b(), &vm(), &vm_body("northeurope"), &[a()])
        .await
        .unwrap();
    assert_eq!(
        created.body["properties"]["provisioningState"], "Succeeded",
        "{}",
        created.body
    );
    c.client
        .patch(
            &b(),
            &vm(),
            &json!({"tags": {"app": "web", "owner": "galleon"}}),
            &[a()],
        )
        .await
        .unwrap();
    let read = c.client.get(&b(), &vm()).await.unwrap();
    assert_eq!(read.body["tags"]["owner"], "galleon");
    assert!(c.client.delete(&b(), &vm(), &[]).await.unwrap());

    let log = c.log();
    let with_aux: Vec<String> = log
        .iter()
        .filter(|e| e.auxiliary)
        .map(|e| format!("{} {} {}", e.method, e.path, e.status))
        .collect();
    let vm_path = vm();
    assert_eq!(
        with_aux.len(),
        2,
        "aux header only on the VM create and update: {with_aux:?}"
    );
    assert!(
        with_aux[0].starts_with(&format!("PUT {vm_path} "))
            && with_aux[1].starts_with(&format!("PATCH {vm_path} ")),
        "{with_aux:?}"
    );
    for e in log.iter().filter(|e| e.auxiliary) {
        assert_eq!(e.auxiliary_tenants, vec![TENANT_A.to_string()]);
    }
    assert!(
        log.iter().any(|e| e.path.contains("/operations/")
            || e.path.contains("operationStatuses")
            || e.path.contains("operationResults")),
        "operations were polled"
    );
}

#[tokio::test]
async fn arm_and_entra_errors_are_mapped_with_hints() {
    let c = Ctx::start(seed()).await;
    // The token of the wrong tenant for the subscription.
    let err = c.client.get(&a(), &rg(SUB_B, "rg-app")).await.unwrap_err();
    assert_eq!(
        err.arm_code(),
        Some("InvalidAuthenticationTokenTenant"),
        "{err}"
    );
    assert!(err.hint().unwrap().contains(TENANT_A));

    // A principal without a role.
    let lonely = Ctx::client_for(&c.emu, &[spec(TENANT_B, LONELY, CANARY)]).await;
    let err = lonely
        .put(
            &b(),
            &rg(SUB_B, "rg-x"),
            &json!({"location": "northeurope"}),
            &[],
        )
        .await
        .unwrap_err();
    assert_eq!(err.arm_code(), Some("AuthorizationFailed"), "{err}");
    assert!(
        err.hint()
            .unwrap()
            .contains("Microsoft.Resources/subscriptions/resourceGroups/write")
            || err.hint().unwrap().contains("needs a role"),
        "{:?}",
        err.hint()
    );

    // No service principal in the tenant, wrong secret, expired secret, unknown tenant.
    let cases: [(CredentialSpec, u32, &str); 4] = [
        (spec(TENANT_A, LONELY, CANARY), 700016, "az ad sp create"),
        (spec(TENANT_B, APP, "wrong-secret"), 7000215, "wrong"),
        (spec(TENANT_B, APP, "old-secret"), 7000222, "expired"),
        (
            spec("99999999-9999-4999-8999-999999999999", APP, CANARY),
            90002,
            "does not exist",
        ),
    ];
    for (s, code, words) in cases {
        let tenant = s.tenant_id.clone();
        let client = Ctx::client_for(&c.emu, &[s]).await;
        let err = client.get(&tenant, &rg(SUB_B, "rg-app")).await.unwrap_err();
        let AzureError::Entra(e) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(e.aadsts(), Some(code), "{err}");
        assert!(
            err.hint().unwrap().contains(words),
            "{code}: {:?}",
            err.hint()
        );
    }
}

#[tokio::test]
async fn image_not_in_the_vm_region_is_gallery_image_not_found() {
    let c = Ctx::start(seed()).await;
    build_world(&c).await;
    // Replicated to westeurope and northeurope only; a VM in eastus cannot use it. The NIC must
    // be in the VM's region too, so build one there.
    let b = b();
    c.client
        .put(
            &b,
            &rg(SUB_B, "rg-east"),
            &json!({"location": "eastus"}),
            &[],
        )
        .await
        .unwrap();
    let east = |p: &str| format!("{}/providers/Microsoft.Network/{p}", rg(SUB_B, "rg-east"));
    c.client.put(&b, &east("virtualNetworks/v"), &json!({"location": "eastus", "properties": {"addressSpace": {"addressPrefixes": ["10.20.0.0/16"]}, "subnets": [{"name": "s", "properties": {"addressPrefix": "10.20.1.0/24"}}]}}), &[]).await.unwrap();
    c.client.put(&b, &east("networkInterfaces/n"), &json!({"location": "eastus", "properties": {"ipConfigurations": [{"name": "ipconfig1", "properties": {"subnet": {"id": east("virtualNetworks/v/subnets/s")}}}]}}), &[]).await.unwrap();
    let mut body = vm_body("eastus");
    body["properties"]["networkProfile"]["networkInterfaces"][0]["id"] =
        json!(east("networkInterfaces/n"));
    let err = c
        .client
        .put(
            &b,
            &format!(
                "{}/providers/Microsoft.Compute/virtualMachines/e",
                rg(SUB_B, "rg-east")
            ),
            &body,
            &[a()],
        )
        .await
        .unwrap_err();
    assert_eq!(err.arm_code(), Some("GalleryImageNotFound"), "{err}");
    assert!(err.hint().unwrap().contains("replicate"));
}

#[tokio::test]
async fn tokens_are_refreshed_when_the_emulator_says_they_expired() {
    let c = Ctx::start(seed()).await;
    c.client
        .put(
            &b(),
            &rg(SUB_B, "rg-app"),
            &json!({"location": "northeurope"}),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(c.token_requests(), 1);
    // An hour and a half later at the server, the cached token is expired there.
    c.emu.advance_clock(5400);
    c.client.get(&b(), &rg(SUB_B, "rg-app")).await.unwrap();
    assert_eq!(
        c.token_requests(),
        2,
        "one refresh after ExpiredAuthenticationToken"
    );
    let statuses: Vec<u16> = c
        .log()
        .iter()
        .filter(|e| e.path == rg(SUB_B, "rg-app") && e.method == "GET")
        .map(|e| e.status)
        .collect();
    assert_eq!(statuses, vec![401, 200]);
}

#[tokio::test]
async fn short_lived_tokens_are_refreshed_before_use() {
    let mut s = seed();
    s.settings.token_lifetime_secs = 240;
    let c = Ctx::start(s).await;
    c.client
        .get(&b(), &format!("/subscriptions/{SUB_B}"))
        .await
        .unwrap();
    c.client
        .get(&b(), &format!("/subscriptions/{SUB_B}"))
        .await
        .unwrap();
    assert_eq!(
        c.token_requests(),
        2,
        "a token with less than 5 minutes left is replaced"
    );
    assert!(
        c.log().iter().all(|e| e.status != 401),
        "never sent an expiring token"
    );
}

#[tokio::test]
async fn federated_token_file_signs_in() {
    let mut s = seed();
    s.apps[0]
        .federated_credentials
        .push(SeedFederatedCredential {
            name: Some("ci".into()),
            issuer: "ISSUER".into(),
            subject: "repo:contoso/images:environment:prod".into(),
            audiences: vec!["api://AzureADTokenExchange".into()],
        });
    let c = Ctx::start(s).await;
    let issuer = format!("{}/_emulator/oidc", c.emu.endpoint());
    c.emu.shared().world().apps[0].federated_credentials[0].issuer = issuer;
    let http = galleon_azure::build_client(Some(c.emu.ca_pem())).unwrap();
    let mint = |sub: &'static str| {
        let http = http.clone();
        let url = format!("{}/oidc/token", c.emu.admin());
        async move {
            let r: Value = http.post(url).json(&json!({"subject": sub, "audience": "api://AzureADTokenExchange", "lifetime_secs": 600})).send().await.unwrap().json().await.unwrap();
            r["token"].as_str().unwrap().to_string()
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("azure-identity-token");
    std::fs::write(&file, mint("repo:contoso/images:environment:prod").await).unwrap();
    let fed = |f: &std::path::Path| CredentialSpec {
        tenant_id: a(),
        client_id: APP.into(),
        source: CredentialSource::FederatedTokenFile(Some(f.to_path_buf())),
    };
    let client = Ctx::client_for(&c.emu, &[fed(&file)]).await;
    client
        .get(&a(), &rg(SUB_A, "rg-image-build"))
        .await
        .unwrap();

    let wrong = dir.path().join("wrong");
    std::fs::write(
        &wrong,
        mint("repo:contoso/images:ref:refs/heads/main").await,
    )
    .unwrap();
    let client = Ctx::client_for(&c.emu, &[fed(&wrong)]).await;
    let err = client
        .get(&a(), &rg(SUB_A, "rg-image-build"))
        .await
        .unwrap_err();
    let AzureError::Entra(e) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(e.aadsts(), Some(700213));
    assert!(
        err.hint()
            .unwrap()
            .contains("subject 'repo:contoso/images:ref:refs/heads/main'"),
        "{:?}",
        err.hint()
    );
}

#[tokio::test]
async fn throttling_and_server_errors_are_ridden_out() {
    let c = Ctx::start(seed()).await;
    c.client
        .put(
            &b(),
            &rg(SUB_B, "rg-app"),
            &json!({"location": "northeurope"}),
            &[],
        )
        .await
        .unwrap();
    // Enough attempts that a run of injected failures cannot exhaust them (0.4^10).
    let mut options = fast_options();
    options.retry.max_attempts = 10;
    let endpoint = url::Url::parse(c.emu.endpoint()).unwrap();
    let client = ArmClient::new(
        Cloud::discover(&endpoint, Some(c.emu.ca_pem()))
            .await
            .unwrap(),
        options,
    )
    .unwrap();
    client
        .configure_credentials(&[spec(TENANT_B, APP, CANARY)])
        .unwrap();
    c.emu.shared().faults.lock().unwrap().set(Faults {
        seed: 7,
        throttle_rate: 0.2,
        error_500_rate: 0.1,
        error_503_rate: 0.1,
        method: Some("GET".into()),
        ..Faults::default()
    });
    for _ in 0..10 {
        client.get(&b(), &rg(SUB_B, "rg-app")).await.unwrap();
    }
    let faults: Vec<String> = c.log().iter().filter_map(|e| e.fault.clone()).collect();
    assert!(faults.iter().any(|f| f == "throttle"), "{faults:?}");
    assert!(faults.iter().any(|f| f.starts_with("error5")), "{faults:?}");
    let ok = c
        .log()
        .iter()
        .filter(|e| e.method == "GET" && e.path == rg(SUB_B, "rg-app") && e.status == 200)
        .count();
    assert_eq!(ok, 10);
    // The 429s carried Retry-After: 1, and the client waited it out.
    let throttled = c.log().iter().filter(|e| e.status == 429).count();
    assert!(throttled >= 1);
}

#[tokio::test]
async fn lists_page_and_resource_graph_pages() {
    let mut s = seed();
    s.settings.page_size = 2;
    let c = Ctx::start(s).await;
    for i in 0..5 {
        c.client
            .put(
                &b(),
                &rg(SUB_B, &format!("rg-{i}")),
                &json!({"location": "northeurope", "tags": {"galleon-workspace": "w"}}),
                &[],
            )
            .await
            .unwrap();
    }
    let groups = c
        .client
        .list(&b(), &format!("/subscriptions/{SUB_B}/resourcegroups"))
        .await
        .unwrap();
    assert_eq!(groups.len(), 5);
    assert!(
        c.log()
            .iter()
            .filter(|e| e.path.ends_with("/resourcegroups") && e.method == "GET")
            .count()
            >= 3,
        "followed nextLink"
    );

    let nsg = |i: usize| {
        format!(
            "{}/providers/Microsoft.Network/networkSecurityGroups/nsg-{i}",
            rg(SUB_B, "rg-0")
        )
    };
    for i in 0..3 {
        c.client
            .put(
                &b(),
                &nsg(i),
                &json!({"location": "northeurope", "tags": {"galleon-workspace": "w"}}),
                &[],
            )
            .await
            .unwrap();
    }
    let q = GraphQuery {
        page_size: 2,
        ..GraphQuery::new(
            "Resources | where tags['galleon-workspace'] == 'w' | project id, name, type",
            vec![SUB_B.into()],
        )
    };
    let r = c.client.resource_graph(&b(), &q).await.unwrap();
    assert_eq!(r.rows.len(), 3, "{:?}", r.rows);
    assert!(
        r.rows
            .iter()
            .all(|row| row["type"] == "microsoft.network/networksecuritygroups")
    );
    assert!(
        c.log()
            .iter()
            .filter(|e| e.path == "/providers/Microsoft.ResourceGraph/resources")
            .count()
            >= 2,
        "paged with $skipToken"
    );
}

#[tokio::test]
async fn apply_lock_against_the_emulator() {
    let mut s = seed();
    let account = format!(
        "{}/providers/Microsoft.Storage/storageAccounts/galleonstate",
        rg(SUB_B, "rg-state")
    );
    for id in [rg(SUB_B, "rg-state"), account.clone()] {
        s.resources.push(SeedResource {
            id,
            location: Some("northeurope".into()),
            properties: None,
            tags: None,
            extra: Default::default(),
        });
    }
    // As in Azure, Contributor is not enough for blob data: the data role is needed.
    s.role_assignments.push(grant(
        APP,
        TENANT_B,
        "Storage Blob Data Contributor",
        &account,
    ));
    let c = Ctx::start(s).await;
    let lock = c
        .client
        .blob_lock(&b(), "galleonstate", "locks", "ws.lock")
        .unwrap();
    let lease = lock
        .lock("alice@laptop since 2026-01-01T00:00:00Z")
        .await
        .unwrap();
    lock.renew(&lease).await.unwrap();
    let other = c
        .client
        .blob_lock(&b(), "galleonstate", "locks", "ws.lock")
        .unwrap();
    let err = other.lock("bob@ci").await.unwrap_err();
    assert!(
        matches!(&err, AzureError::LockHeld { holder } if holder == "alice@laptop since 2026-01-01T00:00:00Z"),
        "{err:?}"
    );
    lock.release(&lease).await.unwrap();
    let lease2 = other.lock("bob@ci").await.unwrap();
    assert_ne!(lease2, lease);
    assert_eq!(other.read().await.unwrap().as_deref(), Some("bob@ci"));
    other.break_lease().await.unwrap();
    lock.lock("alice again").await.unwrap();
    let blob_requests: Vec<_> = c
        .log()
        .into_iter()
        .filter(|e| e.path.starts_with("/blob/galleonstate/"))
        .collect();
    assert!(blob_requests.iter().all(|e| !e.auxiliary));
    assert!(
        blob_requests.iter().any(|e| e.status == 409),
        "the held lease answered 409"
    );
}

/// The canary secret is the app's real secret in the emulator: the whole cross-tenant flow,
/// failures included, logs at TRACE without it or any token.
#[tokio::test]
async fn the_canary_never_shows_against_the_emulator() {
    let capture = crate::secrets::global_capture();
    let c = Ctx::start(seed()).await;
    build_world(&c).await;
    let missing_aux = c
        .client
        .put(&b(), &vm(), &vm_body("northeurope"), &[])
        .await
        .unwrap_err();
    c.client
        .put(&b(), &vm(), &vm_body("northeurope"), &[a()])
        .await
        .unwrap();
    let wrong_tenant = c.client.get(&a(), &vm()).await.unwrap_err();
    let logs = capture.text();
    assert!(logs.contains("azure request"), "the capture works");
    for text in [
        logs,
        format!("{missing_aux} {missing_aux:?}"),
        format!("{wrong_tenant} {wrong_tenant:?}"),
        format!("{:?}", c.client),
    ] {
        crate::secrets::assert_clean(&text, "emulator run");
        assert!(
            !text.contains("eyJ0eXAiOiJKV1Qi") && !text.contains("eyJhbGciOiJSUzI1NiI"),
            "a JWT leaked"
        );
    }
}

/// What Compute rejects synchronously on the VM PUT, each with the hint that names the fix.
#[tokio::test]
async fn compute_rejections_on_the_vm_put_get_their_hints() {
    let c = Ctx::start(seed()).await;
    build_world(&c).await;
    let put = |body: Value| {
        let client = c.client.clone();
        async move { client.put(&b(), &vm(), &body, &[a()]).await.unwrap_err() }
    };
    let mut no_os_profile = vm_body("northeurope");
    no_os_profile["properties"]
        .as_object_mut()
        .unwrap()
        .remove("osProfile");
    let mut gen1_size = vm_body("northeurope");
    gen1_size["properties"]["hardwareProfile"]["vmSize"] = json!("Standard_A1_v2");
    let mut trusted = vm_body("northeurope");
    trusted["properties"]["securityProfile"] = json!({"securityType": "TrustedLaunch", "uefiSettings": {"secureBootEnabled": true, "vTpmEnabled": true}});
    let mut unknown_size = vm_body("northeurope");
    unknown_size["properties"]["hardwareProfile"]["vmSize"] = json!("Standard_Z99_v9");
    let cases = [
        (no_os_profile, 400, "InvalidParameter", "osProfile"),
        (gen1_size, 400, "BadRequest", "Gen2"),
        (trusted, 400, "BadRequest", "security_type"),
        (unknown_size, 409, "SkuNotAvailable", "size"),
    ];
    for (body, status, code, hint_words) in cases {
        let err = put(body).await;
        assert_eq!(
            (err.status(), err.arm_code()),
            (Some(status), Some(code)),
            "{err}"
        );
        let hint = err.hint().unwrap_or_else(|| panic!("no hint for {err}"));
        assert!(hint.contains(hint_words), "{code}: {hint}");
    }

    let mut s = seed();
    s.subscriptions[1].quotas.insert(
        "cores".into(),
        [("northeurope".to_string(), 1u64)].into_iter().collect(),
    );
    let c = Ctx::start(s).await;
    build_world(&c).await;
    let err = c
        .client
        .put(&b(), &vm(), &vm_body("northeurope"), &[a()])
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.arm_code()),
        (Some(409), Some("OperationNotAllowed")),
        "{err}"
    );
    assert!(err.hint().unwrap().contains("quota"));
}
