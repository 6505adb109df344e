//! The emulator world of the doctor's binary tests: two tenants, the multi-tenant app, a gallery
//! with four images, and helpers to run the built `galleon` against it.

#![allow(dead_code)]

use std::process::Output;

use galleon_emulator::seed::{
    SeedApp, SeedPrincipal, SeedResource, SeedRoleAssignment, SeedSecret, SeedServicePrincipal,
    SeedSubscription, SeedTenant,
};
use galleon_emulator::{Emulator, EmulatorConfig, Seed};
use serde_json::{Value, json};

pub const IMAGE_TENANT: &str = "11111111-1111-4111-8111-111111111111";
pub const TARGET_TENANT: &str = "22222222-2222-4222-8222-222222222222";
pub const IMAGE_SUB: &str = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa";
pub const TARGET_SUB: &str = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb";
pub const APP: &str = "0a0a0a0a-3333-4333-8333-333333333333";
pub const SECRET: &str = "doctor-test-secret";
pub const SSH_KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGalleonExampleKeyOnlyForDocsAndTestsXXXXXXX galleon@example";

pub fn gallery() -> String {
    format!(
        "/subscriptions/{IMAGE_SUB}/resourceGroups/rg-golden/providers/Microsoft.Compute/galleries/golden"
    )
}

pub fn image(name: &str) -> String {
    format!("{}/images/{name}", gallery())
}

pub fn res(id: String, location: &str, properties: Option<Value>) -> SeedResource {
    SeedResource {
        id,
        location: Some(location.into()),
        properties,
        tags: None,
        extra: Default::default(),
    }
}

pub fn grant(tenant: &str, role: &str, scope: String) -> SeedRoleAssignment {
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
pub fn image_pair(
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
pub fn seed() -> Seed {
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

pub fn without_image_tenant_roles(mut s: Seed) -> Seed {
    s.role_assignments.retain(
        |a| !matches!(&a.principal, SeedPrincipal::App { tenant, .. } if tenant == IMAGE_TENANT),
    );
    s
}

/// The flags of the all-green run.
pub fn green_args() -> Vec<String> {
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
pub fn with(mut args: Vec<String>, flag: &str, value: Option<&str>) -> Vec<String> {
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

pub struct Run {
    pub out: Output,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }
    pub fn code(&self) -> Option<i32> {
        self.out.status.code()
    }
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout())
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout()))
    }
    /// Ids of the failed checks (from `--json` output).
    pub fn failures(&self) -> Vec<String> {
        self.json()["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["status"] == "fail")
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect()
    }
    pub fn check(&self, id: &str) -> Value {
        self.json()["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .cloned()
            .unwrap()
    }
}

/// A running emulator and a scratch directory to run the binary in.
pub struct Emu {
    emu: galleon_emulator::RunningEmulator,
    pub dir: tempfile::TempDir,
}

impl Emu {
    /// Starts the emulator with `seed` (state in a temp dir, so its CA is a file).
    pub async fn start(seed: Seed) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = EmulatorConfig {
            seed,
            state_dir: Some(dir.path().join("emulator")),
            ..EmulatorConfig::default()
        };
        let emu = Emulator::start(config).await.expect("emulator starts");
        Self { emu, dir }
    }

    /// The emulator's ARM endpoint.
    pub fn endpoint(&self) -> &str {
        self.emu.endpoint()
    }

    /// An HTTP client trusting the emulator's CA, for calling it the way another tool would.
    pub fn http(&self) -> reqwest::Client {
        let pem = std::fs::read_to_string(self.emu.ca_file().expect("state dir has ca.pem"))
            .expect("CA readable");
        galleon_azure::build_client(Some(&pem)).expect("client builds")
    }

    /// Runs the built binary with `args` against the emulator.
    pub async fn run(&self, args: &[String]) -> Run {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_galleon"))
            .args(args)
            .env("GALLEON_ENDPOINT", self.emu.endpoint())
            .env(
                "GALLEON_CA_FILE",
                self.emu.ca_file().expect("state dir has ca.pem"),
            )
            .env("GALLEON_APP_SECRET", SECRET)
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .current_dir(self.dir.path())
            .output()
            .await
            .expect("galleon runs");
        Run { out }
    }
}

/// Starts the emulator with `seed` and runs the binary with `args` against it.
pub async fn galleon(seed: Seed, args: &[String]) -> Run {
    Emu::start(seed).await.run(args).await
}

pub async fn json_run(seed: Seed, args: Vec<String>) -> Run {
    let mut args = args;
    args.push("--json".into());
    galleon(seed, &args).await
}

pub fn filters() -> Vec<(&'static str, &'static str)> {
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
