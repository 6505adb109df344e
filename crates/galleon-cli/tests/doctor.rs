//! `galleon doctor` through the built binary against the emulator started in this process: the
//! all-green run and one run per failing condition, each seeded so the emulator answers with
//! Azure's real status, code and message; snapshots of the text and JSON output; and the emitted
//! workspace, which `galleon validate` must accept.

use std::process::Output;

use galleon_emulator::seed::{
    SeedApp, SeedPrincipal, SeedResource, SeedRoleAssignment, SeedSecret, SeedServicePrincipal,
    SeedSubscription, SeedTenant,
};
use galleon_emulator::{Emulator, EmulatorConfig, Seed};
use serde_json::{Value, json};

const IMAGE_TENANT: &str = "11111111-1111-4111-8111-111111111111";
const TARGET_TENANT: &str = "22222222-2222-4222-8222-222222222222";
const IMAGE_SUB: &str = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa";
const TARGET_SUB: &str = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb";
const APP: &str = "0a0a0a0a-3333-4333-8333-333333333333";
const SECRET: &str = "doctor-test-secret";
const SSH_KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGalleonExampleKeyOnlyForDocsAndTestsXXXXXXX galleon@example";

fn gallery() -> String {
    format!(
        "/subscriptions/{IMAGE_SUB}/resourceGroups/rg-golden/providers/Microsoft.Compute/galleries/golden"
    )
}

fn image(name: &str) -> String {
    format!("{}/images/{name}", gallery())
}

fn res(id: String, location: &str, properties: Option<Value>) -> SeedResource {
    SeedResource {
        id,
        location: Some(location.into()),
        properties,
        tags: None,
        extra: Default::default(),
    }
}

fn grant(tenant: &str, role: &str, scope: String) -> SeedRoleAssignment {
    SeedRoleAssignment {
        principal: SeedPrincipal::App {
            app_id: APP.into(),
            tenant: tenant.into(),
        },
        role: role.into(),
        scope,
        name: None,
    }
}

/// An image definition and its version 1.0.0 in westeurope and northeurope.
fn image_pair(
    name: &str,
    os_state: &str,
    generation: &str,
    security: &str,
    managed: &str,
) -> [SeedResource; 2] {
    [
        res(
            image(name),
            "westeurope",
            Some(
                json!({"osType": "Linux", "osState": os_state, "hyperVGeneration": generation,
                "identifier": {"publisher": "contoso", "offer": name, "sku": "1"},
                "features": [{"name": "SecurityType", "value": security}]}),
            ),
        ),
        res(
            format!("{}/versions/1.0.0", image(name)),
            "westeurope",
            Some(
                json!({"publishingProfile": {"targetRegions": [{"name": "westeurope"}, {"name": "northeurope"}]},
                "storageProfile": {"source": {"id": managed}}}),
            ),
        ),
    ]
}

/// The seed scenario: the app lives in the VM's tenant, has a service principal in the image's
/// tenant with Reader on the gallery, and Contributor on the VM's resource group. Images:
/// `ubuntu` (Generalized, V2, TrustedLaunchSupported), `snapshot` (Specialized), `tl` (requires
/// TrustedLaunch), `legacy` (V1).
fn seed() -> Seed {
    let managed = format!(
        "/subscriptions/{IMAGE_SUB}/resourceGroups/rg-build/providers/Microsoft.Compute/images/base"
    );
    let mut resources = vec![
        res(
            format!("/subscriptions/{IMAGE_SUB}/resourceGroups/rg-build"),
            "westeurope",
            None,
        ),
        res(
            managed.clone(),
            "westeurope",
            Some(
                json!({"hyperVGeneration": "V2", "storageProfile": {"osDisk": {"osType": "Linux", "osState": "Generalized"}}}),
            ),
        ),
        res(
            format!("/subscriptions/{IMAGE_SUB}/resourceGroups/rg-golden"),
            "westeurope",
            None,
        ),
        res(gallery(), "westeurope", Some(json!({}))),
        res(
            format!("/subscriptions/{TARGET_SUB}/resourceGroups/rg-app"),
            "northeurope",
            None,
        ),
    ];
    resources.extend(image_pair(
        "ubuntu",
        "Generalized",
        "V2",
        "TrustedLaunchSupported",
        &managed,
    ));
    resources.extend(image_pair(
        "snapshot",
        "Specialized",
        "V2",
        "TrustedLaunchSupported",
        &managed,
    ));
    resources.extend(image_pair(
        "tl",
        "Generalized",
        "V2",
        "TrustedLaunch",
        &managed,
    ));
    resources.extend(image_pair(
        "legacy",
        "Generalized",
        "V1",
        "Standard",
        &managed,
    ));
    Seed {
        tenants: [IMAGE_TENANT, TARGET_TENANT]
            .map(|t| SeedTenant {
                id: t.into(),
                display_name: None,
                domain: None,
            })
            .into(),
        apps: vec![SeedApp {
            app_id: APP.into(),
            home_tenant: TARGET_TENANT.into(),
            display_name: Some("galleon".into()),
            secrets: vec![SeedSecret {
                value: SECRET.into(),
                expired: false,
            }],
            federated_credentials: Vec::new(),
        }],
        service_principals: vec![SeedServicePrincipal {
            app_id: APP.into(),
            tenant: IMAGE_TENANT.into(),
            object_id: None,
        }],
        subscriptions: [(IMAGE_SUB, IMAGE_TENANT), (TARGET_SUB, TARGET_TENANT)]
            .map(|(id, tenant)| SeedSubscription {
                id: id.into(),
                tenant: tenant.into(),
                display_name: None,
                quotas: Default::default(),
            })
            .into(),
        role_assignments: vec![
            grant(IMAGE_TENANT, "Reader", gallery()),
            grant(
                TARGET_TENANT,
                "Contributor",
                format!("/subscriptions/{TARGET_SUB}/resourceGroups/rg-app"),
            ),
        ],
        resources,
        settings: Default::default(),
    }
}

fn without_image_tenant_roles(mut s: Seed) -> Seed {
    s.role_assignments.retain(
        |a| !matches!(&a.principal, SeedPrincipal::App { tenant, .. } if tenant == IMAGE_TENANT),
    );
    s
}

/// The flags of the all-green run.
fn green_args() -> Vec<String> {
    [
        "doctor",
        "--image",
        &format!("{}/versions/1.0.0", image("ubuntu")),
        "--image-tenant",
        IMAGE_TENANT,
        "--tenant",
        TARGET_TENANT,
        "--subscription",
        TARGET_SUB,
        "--resource-group",
        "rg-app",
        "--location",
        "northeurope",
        "--vm-name",
        "web",
        "--size",
        "Standard_D2s_v5",
        "--security-type",
        "TrustedLaunch",
        "--admin-username",
        "azureuser",
        "--ssh-key",
        SSH_KEY,
        "--client-id",
        APP,
        "--client-secret-env",
        "GALLEON_APP_SECRET",
    ]
    .map(String::from)
    .into()
}

/// Replaces the value of `flag` (or removes the flag with `None`).
fn with(mut args: Vec<String>, flag: &str, value: Option<&str>) -> Vec<String> {
    let i = args
        .iter()
        .position(|a| a == flag)
        .unwrap_or_else(|| panic!("{flag}"));
    match value {
        Some(v) => args[i + 1] = v.into(),
        None => {
            args.drain(i..i + 2);
        }
    }
    args
}

struct Run {
    out: Output,
}

impl Run {
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }
    fn code(&self) -> Option<i32> {
        self.out.status.code()
    }
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout())
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout()))
    }
    /// Ids of the failed checks (from `--json` output).
    fn failures(&self) -> Vec<String> {
        self.json()["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["status"] == "fail")
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect()
    }
    fn check(&self, id: &str) -> Value {
        self.json()["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .cloned()
            .unwrap()
    }
}

/// Starts the emulator with `seed` and runs the binary with `args` against it.
async fn galleon(seed: Seed, args: &[String]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let config = EmulatorConfig {
        seed,
        state_dir: Some(dir.path().join("emulator")),
        ..EmulatorConfig::default()
    };
    let emu = Emulator::start(config).await.expect("emulator starts");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_galleon"))
        .args(args)
        .env("GALLEON_ENDPOINT", emu.endpoint())
        .env(
            "GALLEON_CA_FILE",
            emu.ca_file().expect("state dir has ca.pem"),
        )
        .env("GALLEON_APP_SECRET", SECRET)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .current_dir(dir.path())
        .output()
        .await
        .expect("galleon runs");
    Run { out }
}

async fn json_run(seed: Seed, args: Vec<String>) -> Run {
    let mut args = args;
    args.push("--json".into());
    galleon(seed, &args).await
}

fn filters() -> Vec<(&'static str, &'static str)> {
    vec![
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
        (
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)",
            "[TIME]",
        ),
        (r"(Trace|Correlation) ID: [0-9a-f-]+", "$1 ID: [ID]"),
        (
            r"object id '?[0-9a-f]{8}-[0-9a-f-]{27}'?",
            "object id [OID]",
        ),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_all_green_text() {
    let run = galleon(seed(), &green_args()).await;
    assert_eq!(run.code(), Some(0), "{}{}", run.stdout(), run.stderr());
    insta::with_settings!({filters => filters()}, {
        insta::assert_snapshot!(run.stdout());
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_all_green_json() {
    let run = json_run(seed(), green_args()).await;
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    assert_eq!(run.failures(), Vec::<String>::new());
    insta::with_settings!({filters => filters()}, {
        insta::assert_json_snapshot!(run.json());
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_no_service_principal_in_image_tenant() {
    let mut s = without_image_tenant_roles(seed());
    s.service_principals.clear();
    let run = galleon(s, &green_args()).await;
    assert_eq!(run.code(), Some(1));
    insta::with_settings!({filters => filters()}, {
        insta::assert_snapshot!(run.stdout());
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_no_service_principal_in_image_tenant_json() {
    let mut s = without_image_tenant_roles(seed());
    s.service_principals.clear();
    let run = json_run(s, green_args()).await;
    assert_eq!(run.code(), Some(1));
    assert_eq!(run.failures(), ["sign_in.image", "dry_run"]);
    insta::with_settings!({filters => filters()}, {
        insta::assert_json_snapshot!(run.json());
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_image_tenant_is_not_the_subscription_owner() {
    let run = json_run(
        seed(),
        with(green_args(), "--image-tenant", Some(TARGET_TENANT)),
    )
    .await;
    assert!(
        run.failures()
            .starts_with(&["image.subscription_tenant".to_string()]),
        "{:?}",
        run.failures()
    );
    assert!(
        run.check("image.subscription_tenant")["fix"]
            .as_str()
            .unwrap()
            .contains(&format!("--image-tenant {IMAGE_TENANT}"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_image_not_readable() {
    let run = json_run(without_image_tenant_roles(seed()), green_args()).await;
    assert_eq!(run.failures(), ["image.read", "dry_run"]);
    assert_eq!(
        run.check("image.read")["azure"]["code"],
        "AuthorizationFailed"
    );
    assert_eq!(
        run.check("dry_run")["azure"]["code"],
        "LinkedAuthorizationFailed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_image_version_missing() {
    let args = with(
        green_args(),
        "--image",
        Some(&format!("{}/versions/9.9.9", image("ubuntu"))),
    );
    let run = json_run(seed(), args).await;
    assert_eq!(run.failures(), ["image.exists", "dry_run"]);
    assert_eq!(
        run.check("dry_run")["azure"]["code"],
        "GalleryImageNotFound"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_latest_with_every_version_excluded() {
    let mut s = seed();
    for r in &mut s.resources {
        if r.id.ends_with("/images/ubuntu/versions/1.0.0") {
            r.properties.as_mut().unwrap()["publishingProfile"]["excludeFromLatest"] = json!(true);
        }
    }
    let run = json_run(s, with(green_args(), "--image", Some(&image("ubuntu")))).await;
    assert_eq!(run.failures(), ["image.latest", "dry_run"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_image_not_replicated_to_region() {
    let run = json_run(seed(), with(green_args(), "--location", Some("eastus"))).await;
    // The app's role is on rg-app, which is in northeurope; only the image's region fails.
    assert_eq!(run.failures(), ["image.region", "dry_run"]);
    assert!(
        run.check("dry_run")["detail"]
            .as_str()
            .unwrap()
            .contains("is not available in eastus region")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_specialized_image_with_admin() {
    let run = json_run(
        seed(),
        with(
            green_args(),
            "--image",
            Some(&format!("{}/versions/1.0.0", image("snapshot"))),
        ),
    )
    .await;
    assert_eq!(run.failures(), ["vm.os_state", "dry_run"]);
    assert_eq!(
        run.check("dry_run")["azure"]["message"],
        "Parameter 'osProfile' is not allowed."
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_generalized_image_without_admin() {
    let args = with(
        with(green_args(), "--ssh-key", None),
        "--admin-username",
        None,
    );
    let run = json_run(seed(), args).await;
    assert_eq!(run.failures(), ["vm.os_state", "dry_run"]);
    assert_eq!(
        run.check("dry_run")["azure"]["message"],
        "Required parameter 'osProfile' is missing (null)."
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_gen2_image_on_gen1_size() {
    let args = with(
        with(green_args(), "--size", Some("Standard_A1_v2")),
        "--security-type",
        Some("Standard"),
    );
    let run = json_run(seed(), args).await;
    assert_eq!(run.failures(), ["vm.generation", "dry_run"]);
    assert_eq!(run.check("dry_run")["azure"]["code"], "BadRequest");
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_trusted_launch_image_standard_vm() {
    let args = with(
        with(
            green_args(),
            "--image",
            Some(&format!("{}/versions/1.0.0", image("tl"))),
        ),
        "--security-type",
        Some("Standard"),
    );
    let run = json_run(seed(), args).await;
    assert_eq!(run.failures(), ["vm.security_type", "dry_run"]);
    assert!(
        run.check("vm.security_type")["fix"]
            .as_str()
            .unwrap()
            .contains("--security-type TrustedLaunch")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_resource_group_missing() {
    let mut s = seed();
    s.role_assignments.pop();
    s.role_assignments.push(grant(
        TARGET_TENANT,
        "Contributor",
        format!("/subscriptions/{TARGET_SUB}"),
    ));
    let run = json_run(s, with(green_args(), "--resource-group", Some("rg-nope"))).await;
    assert_eq!(run.failures(), ["target.resource_group", "dry_run"]);
    assert_eq!(
        run.check("dry_run")["azure"]["code"],
        "ResourceGroupNotFound"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_no_role_to_create_the_vm() {
    let mut s = seed();
    s.role_assignments.pop();
    s.role_assignments.push(grant(
        TARGET_TENANT,
        "Reader",
        format!("/subscriptions/{TARGET_SUB}"),
    ));
    let run = json_run(s, green_args()).await;
    assert_eq!(
        run.failures(),
        ["target.vm_write", "target.network_join", "dry_run"]
    );
    assert_eq!(run.check("dry_run")["azure"]["code"], "AuthorizationFailed");
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_bad_image_id_is_refused_before_any_request() {
    let run = galleon(
        seed(),
        &with(green_args(), "--image", Some("golden/ubuntu/1.0.0")),
    )
    .await;
    assert_eq!(run.code(), Some(1));
    assert!(
        run.stderr().contains("is not a gallery image id"),
        "{}",
        run.stderr()
    );
    assert_eq!(run.stdout(), "");
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_emitted_manifest_validates() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    let mut args = green_args();
    args.extend(["--emit-manifest".to_string(), ws.display().to_string()]);
    let run = galleon(seed(), &args).await;
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    assert!(run.stderr().contains("tenants.yaml"), "{}", run.stderr());
    let validate = std::process::Command::new(env!("CARGO_BIN_EXE_galleon"))
        .args(["validate", ws.to_str().unwrap()])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(
        validate.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&validate.stdout),
        String::from_utf8_lossy(&validate.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_target_tenant_is_not_the_subscription_owner() {
    // The VM's subscription belongs to the image's tenant in this seed; the app signs in to the
    // tenant the user named, so the PUT would carry the wrong tenant's token.
    let mut s = seed();
    s.subscriptions[1].tenant = IMAGE_TENANT.into();
    let run = json_run(s, green_args()).await;
    assert_eq!(
        run.failures().first().map(String::as_str),
        Some("target.subscription_tenant"),
        "{:?}",
        run.failures()
    );
    assert!(
        run.check("target.subscription_tenant")["fix"]
            .as_str()
            .unwrap()
            .contains(&format!("--target-tenant {IMAGE_TENANT}"))
    );
    let dry = run.check("dry_run");
    assert_eq!(dry["azure"]["code"], "InvalidAuthenticationTokenTenant");
    assert_eq!(dry["azure"]["status"], 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_unknown_target_subscription() {
    let args = with(
        green_args(),
        "--subscription",
        Some("cccccccc-3333-4333-8333-cccccccccccc"),
    );
    let run = json_run(seed(), args).await;
    // Whichever read meets the unknown subscription first reports it with Azure's code.
    let found: Vec<String> = ["target.subscription_tenant", "target.resource_group"]
        .iter()
        .map(|id| run.check(id))
        .filter(|c| c["status"] == "fail")
        .map(|c| c["azure"]["code"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(found, ["SubscriptionNotFound"], "{:?}", run.failures());
    assert_eq!(
        run.check("dry_run")["azure"]["code"],
        "SubscriptionNotFound"
    );
}
