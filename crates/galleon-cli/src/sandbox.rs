//! `--sandbox`: runs the emulator inside the galleon process, seeded from the workspace itself,
//! so a newcomer sees a full cross-tenant plan and apply with no Azure account.
//!
//! The seed is what a real setup would need before galleon runs (see docs/cross-tenant-setup.md):
//! every tenant of the manifest, each app registered in its first tenant with a service principal
//! in every tenant that uses it or is granted a role through it, Owner on every subscription the
//! workspace writes to, the managed images image versions are built from, and a storage account
//! for the apply lock. State lives in `<workspace>/.galleon/sandbox/` so a second run continues
//! where the first stopped (and then plans "No changes").
//!
//! Credentials: in the sandbox every tenant signs in with a client secret generated on first use
//! and kept in the state directory; the manifest's references (environment variables, files) are
//! not read, so no real secret ever reaches the emulator.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use galleon_azure::{CredentialSource, CredentialSpec, Secret, SecretSource, TenantId};
use galleon_emulator::seed::{
    SeedApp, SeedPrincipal, SeedResource, SeedRoleAssignment, SeedSecret, SeedServicePrincipal,
    SeedSubscription, SeedTenant,
};
use galleon_emulator::{Emulator, EmulatorConfig, RunningEmulator, Seed};
use galleon_manifest::model::SecretSource as SecretRef;
use galleon_manifest::resolve::{AuthMethod, LockSpec, Principal, Spec, TenantSpec};
use galleon_manifest::{Kind, Workspace};

/// The storage account the sandbox lends a workspace that has no `lock:` section.
const SANDBOX_LOCK_ACCOUNT: &str = "galleonsandbox";

/// A running sandbox: the emulator, where to reach it, and the credentials that work there.
pub struct Sandbox {
    /// Keeps the server alive for as long as the command runs.
    pub emulator: RunningEmulator,
    /// The emulator's CA certificate file.
    pub ca_file: PathBuf,
    /// One client-secret credential per tenant of the workspace.
    pub credentials: Vec<CredentialSpec>,
    /// The lock location (the manifest's, or the sandbox's own).
    pub lock: LockSpec,
}

impl Sandbox {
    /// The emulator's ARM endpoint.
    pub fn endpoint(&self) -> &str {
        self.emulator.endpoint()
    }
}

/// Starts (or resumes) the sandbox of the workspace at `base`.
///
/// # Errors
/// The state directory is unusable or the emulator cannot start.
pub async fn start(workspace: &Workspace, base: &Path) -> anyhow::Result<Sandbox> {
    let dir = base.join(".galleon").join("sandbox");
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the sandbox directory {}", dir.display()))?;
    let secret = sandbox_secret(&dir)?;
    let apps = app_ids(workspace.tenants());
    let lock = lock_spec(workspace);
    let secrets = apps.values().map(|a| (a.clone(), secret.clone())).collect();
    let seed = seed(workspace, &apps, &lock, &secrets);
    let emulator = Emulator::start(EmulatorConfig {
        seed,
        state_dir: Some(dir.clone()),
        port: 0,
        http: false,
    })
    .await
    .context("cannot start the sandbox emulator")?;
    let ca_file = emulator
        .ca_file()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| dir.join("ca.pem"));
    let credentials = workspace
        .tenants()
        .iter()
        .map(|t| CredentialSpec {
            tenant_id: TenantId::new(&t.tenant_id),
            client_id: apps[&t.key].clone(),
            source: CredentialSource::ClientSecret(SecretSource::Value(Secret::new(
                secret.clone(),
            ))),
        })
        .collect();
    Ok(Sandbox {
        emulator,
        ca_file,
        credentials,
        lock,
    })
}

/// The sandbox's client secret: random on first use, then kept (the emulator persists the apps
/// it was seeded with, so the secret must survive too).
fn sandbox_secret(dir: &Path) -> anyhow::Result<String> {
    let path = dir.join("client-secret");
    if let Ok(existing) = std::fs::read_to_string(&path)
        && !existing.trim().is_empty()
    {
        return Ok(existing.trim().to_owned());
    }
    let secret = format!("sandbox-{}", uuid::Uuid::new_v4().simple());
    std::fs::write(&path, &secret).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(secret)
}

/// The app each tenant signs in with: its manifest client id, or (Azure CLI, managed identity)
/// a stable stand-in derived from the tenant id.
fn app_ids(tenants: &[TenantSpec]) -> BTreeMap<String, String> {
    tenants
        .iter()
        .map(|t| {
            let app = t.auth.client_id().map(str::to_owned).unwrap_or_else(|| {
                uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, t.tenant_id.as_bytes()).to_string()
            });
            (t.key.clone(), app)
        })
        .collect()
}

/// The manifest's lock, or a storage account the sandbox provides in the first tenant.
fn lock_spec(workspace: &Workspace) -> LockSpec {
    if let Some(lock) = workspace.lock() {
        return lock.clone();
    }
    let first = workspace
        .resources()
        .iter()
        .find(|r| r.kind() == Kind::ResourceGroup);
    let (tenant, subscription) = match (first, workspace.tenants().first()) {
        (Some(rg), _) => (rg.tenant.clone(), rg.subscription.clone()),
        (None, Some(t)) => (t.key.clone(), uuid::Uuid::nil().to_string()),
        (None, None) => (String::new(), uuid::Uuid::nil().to_string()),
    };
    LockSpec {
        tenant,
        subscription,
        resource_group: "galleon-sandbox".into(),
        storage_account: SANDBOX_LOCK_ACCOUNT.into(),
        container: "galleon-locks".into(),
    }
}

/// The seed of an emulator standing in for the Azure a workspace expects, for `galleon emulator
/// serve --workspace`: each app accepts the secret the manifest references for it (read from its
/// environment variable or file here, in the emulator, which is the one place a secret may live).
///
/// # Errors
/// A referenced secret is not set, or a tenant signs in without a client secret.
pub fn workspace_seed(workspace: &Workspace, base: &Path) -> anyhow::Result<Seed> {
    let apps = app_ids(workspace.tenants());
    let mut secrets = BTreeMap::new();
    for t in workspace.tenants() {
        let value = match &t.auth {
            AuthMethod::ClientSecret { secret: SecretRef::Env(var), .. } => std::env::var(var)
                .with_context(|| format!("tenant `{}` references ${var}: set it to the secret the emulator should accept", t.key))?,
            AuthMethod::ClientSecret { secret: SecretRef::File(file), .. } => {
                let path = base.join(file);
                std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?
                    .trim()
                    .to_owned()
            }
            _ => anyhow::bail!(
                "tenant `{}` does not sign in with a client secret; use --sandbox for this workspace",
                t.key
            ),
        };
        secrets.entry(apps[&t.key].clone()).or_insert(value);
    }
    Ok(seed(workspace, &apps, &lock_spec(workspace), &secrets))
}

fn seed(
    workspace: &Workspace,
    apps: &BTreeMap<String, String>,
    lock: &LockSpec,
    secrets: &BTreeMap<String, String>,
) -> Seed {
    let tenant_id = |key: &str| {
        workspace
            .tenant(key)
            .map(|t| t.tenant_id.clone())
            .unwrap_or_default()
    };
    let tenants = workspace
        .tenants()
        .iter()
        .map(|t| SeedTenant {
            id: t.tenant_id.clone(),
            display_name: Some(t.key.clone()),
            domain: Some(format!("{}.onmicrosoft.com", t.key)),
        })
        .collect();

    // Apps live in the first tenant that names them; consent = a service principal in every
    // tenant that signs in with the app, and in every gallery tenant that grants it a role.
    let mut home: BTreeMap<&str, String> = BTreeMap::new();
    let mut principals: BTreeSet<(String, String)> = BTreeSet::new();
    for t in workspace.tenants() {
        let app = &apps[&t.key];
        home.entry(app).or_insert_with(|| t.tenant_id.clone());
        principals.insert((app.clone(), t.tenant_id.clone()));
    }
    for r in workspace.resources() {
        if let Spec::GalleryGrant(grant) = &r.spec
            && let Principal::App { tenant, .. } = &grant.principal
            && let Some(app) = apps.get(tenant)
        {
            principals.insert((app.clone(), r.tenant_id.clone()));
        }
    }
    let mut seed = Seed {
        tenants,
        ..Seed::default()
    };
    seed.apps = home
        .iter()
        .map(|(app, tenant)| SeedApp {
            app_id: (*app).to_owned(),
            home_tenant: tenant.clone(),
            display_name: Some("galleon-sandbox".into()),
            secrets: vec![SeedSecret {
                value: secrets.get(*app).cloned().unwrap_or_default(),
                expired: false,
            }],
            federated_credentials: Vec::new(),
        })
        .collect();
    seed.service_principals = principals
        .iter()
        .map(|(app, tenant)| SeedServicePrincipal {
            app_id: app.clone(),
            tenant: tenant.clone(),
            object_id: None,
        })
        .collect();

    // Subscriptions and Owner on each for the app its tenant signs in with.
    let mut subscriptions: BTreeSet<(String, String)> = BTreeSet::new();
    for r in workspace.resources() {
        subscriptions.insert((r.subscription.clone(), r.tenant.clone()));
    }
    subscriptions.insert((lock.subscription.clone(), lock.tenant.clone()));
    for (sub, tenant) in &subscriptions {
        seed.subscriptions.push(SeedSubscription {
            id: sub.clone(),
            tenant: tenant_id(tenant),
            display_name: Some(format!("{tenant} ({})", &sub[..8.min(sub.len())])),
            quotas: BTreeMap::new(),
        });
        seed.role_assignments
            .push(owner(apps, tenant, &tenant_id(tenant), sub));
    }

    seed.resources = pre_existing(workspace);
    let lock_rg = format!(
        "/subscriptions/{}/resourceGroups/{}",
        lock.subscription, lock.resource_group
    );
    let lock_account = format!(
        "{lock_rg}/providers/Microsoft.Storage/storageAccounts/{}",
        lock.storage_account
    );
    let lock_location = workspace
        .resources()
        .first()
        .map(|r| r.location.clone())
        .unwrap_or_else(|| "westeurope".into());
    seed.resources
        .push(resource(&lock_rg, &lock_location, None));
    seed.resources.push(resource(
        &lock_account,
        &lock_location,
        Some(serde_json::json!({"primaryEndpoints": {}})),
    ));
    seed.role_assignments.push(SeedRoleAssignment {
        principal: SeedPrincipal::App {
            app_id: apps.get(&lock.tenant).cloned().unwrap_or_default(),
            tenant: tenant_id(&lock.tenant),
        },
        role: "Storage Blob Data Contributor".into(),
        scope: lock_account,
        name: None,
    });
    seed
}

fn owner(
    apps: &BTreeMap<String, String>,
    tenant: &str,
    tenant_id: &str,
    sub: &str,
) -> SeedRoleAssignment {
    SeedRoleAssignment {
        principal: SeedPrincipal::App {
            app_id: apps.get(tenant).cloned().unwrap_or_default(),
            tenant: tenant_id.to_owned(),
        },
        role: "Owner".into(),
        scope: format!("/subscriptions/{sub}"),
        name: None,
    }
}

/// What image versions are built from but the workspace does not manage: a managed image per
/// distinct source, shaped like its image definition (OS type and state, generation), in the
/// gallery's region, with its resource group.
fn pre_existing(workspace: &Workspace) -> Vec<SeedResource> {
    let mut out: BTreeMap<String, SeedResource> = BTreeMap::new();
    for r in workspace.resources() {
        let Spec::ImageVersion(version) = &r.spec else {
            continue;
        };
        if version.source_managed.is_some() || !version.source.contains("/providers/") {
            continue;
        }
        let definition = workspace
            .resources()
            .iter()
            .find(|d| d.address == version.image.address);
        let (os_type, os_state, generation) = match definition.map(|d| &d.spec) {
            Some(Spec::GalleryImage(image)) => (
                format!("{:?}", image.os_type),
                format!("{:?}", image.os_state),
                format!("{:?}", image.hyper_v_generation),
            ),
            _ => ("Linux".into(), "Generalized".into(), "V1".into()),
        };
        if let Some((rg, _)) = version.source.split_once("/providers/") {
            out.entry(rg.to_lowercase())
                .or_insert_with(|| resource(rg, &r.location, None));
        }
        out.entry(version.source.to_lowercase()).or_insert_with(|| {
            resource(
                &version.source,
                &r.location,
                Some(serde_json::json!({
                    "hyperVGeneration": generation,
                    "storageProfile": {"osDisk": {"osType": os_type, "osState": os_state, "diskSizeGB": 30}},
                })),
            )
        });
    }
    out.into_values().collect()
}

fn resource(id: &str, location: &str, properties: Option<serde_json::Value>) -> SeedResource {
    SeedResource {
        id: id.to_owned(),
        location: Some(location.to_owned()),
        properties,
        tags: None,
        extra: BTreeMap::new(),
    }
}
