//! `--emit-manifest DIR`: the galleon workspace that expresses the setup the doctor checked, so a
//! user who came to debug `az vm create` leaves with something `galleon validate` and
//! `galleon plan` run on. The image stays an external reference (an ARM id owned by the image's
//! tenant); the VM gets the network `az vm create` would make for it (`{vm}VNET`, 10.0.0.0/16).
//!
//! Strings are written as JSON strings, which YAML reads unchanged, so no value can break the
//! document. Secrets are never written: only where galleon reads them at run time.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use crate::setup::{AdminProfile, Credential, SecurityType, Setup};

/// The workspace could not be written.
#[derive(Debug, thiserror::Error)]
pub enum EmitError {
    /// A file already exists; the doctor never overwrites a user's manifest.
    #[error("{} already exists; choose an empty directory", path.display())]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// The directory or a file could not be written.
    #[error("cannot write {}", path.display())]
    Write {
        /// The path.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

fn q(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

fn auth(setup: &Setup) -> String {
    let mut out = String::new();
    if let Some(id) = &setup.client_id {
        let _ = writeln!(out, "      client_id: {}", q(id));
    }
    let method = match &setup.credential {
        Credential::SecretEnv { var } => format!("client_secret: {{ env: {} }}", q(var)),
        Credential::SecretFile { path } => {
            format!(
                "client_secret: {{ file: {} }}",
                q(&path.display().to_string())
            )
        }
        Credential::FederatedTokenFile { path: Some(p) } => {
            format!("federated_token_file: {}", q(&p.display().to_string()))
        }
        Credential::FederatedTokenFile { path: None } => {
            "federated_token_file: { env: \"AZURE_FEDERATED_TOKEN_FILE\" }".to_string()
        }
        Credential::AzureCli => "azure_cli: true".to_string(),
    };
    let _ = writeln!(out, "      {method}");
    out
}

/// The files of the workspace, as `(file name, content)`.
pub fn workspace_files(setup: &Setup) -> Vec<(String, String)> {
    let mut tenants = String::from(
        "# Written by `galleon doctor --emit-manifest`: the tenants of a cross-tenant image setup.\n",
    );
    let _ = writeln!(
        tenants,
        "workspace: {}\n\ntenants:",
        q(&format!("doctor-{}", setup.vm_name))
    );
    let _ = write!(
        tenants,
        "  target:\n    tenant_id: {}\n    auth:\n{}",
        q(&setup.target_tenant),
        auth(setup)
    );
    if setup.cross_tenant() {
        let _ = write!(
            tenants,
            "  image:\n    tenant_id: {}\n    auth:\n{}",
            q(&setup.image_tenant),
            auth(setup)
        );
    }
    let vm = &setup.vm_name;
    let mut app = String::from(
        "# Written by `galleon doctor --emit-manifest`: the VM and the network `az vm create` would make.\n",
    );
    // The group usually exists already (made by hand): say what planning it means.
    let _ = write!(
        app,
        "\n# If this group already exists, `galleon plan` adopts it (adds galleon's ownership tags), and\n# `galleon destroy` may delete it once it holds nothing galleon does not own; rename it here\n# to keep it out of galleon.\nresource_groups:\n  target:\n    tenant: target\n    subscription: {}\n    name: {}\n    location: {}\n",
        q(&setup.target_subscription),
        q(&setup.resource_group),
        q(&setup.region)
    );
    let _ = write!(
        app,
        "\nnetworks:\n  vnet:\n    resource_group: target\n    name: {}\n    address_space: [\"10.0.0.0/16\"]\n    subnets:\n      default:\n        name: {}\n        address_prefix: \"10.0.0.0/24\"\n",
        q(&format!("{vm}VNET")),
        q(&format!("{vm}Subnet"))
    );
    let _ = write!(
        app,
        "\nvirtual_machines:\n  vm:\n    resource_group: target\n    name: {}\n    size: {}\n    # An image this workspace does not manage: its ARM id, owned by tenant `{}`.\n    image: {}\n",
        q(vm),
        q(&setup.vm_size),
        if setup.cross_tenant() {
            "image"
        } else {
            "target"
        },
        q(&setup.image.id)
    );
    if setup.cross_tenant() {
        let _ = writeln!(app, "    image_tenant: image");
    }
    if setup.security_type != SecurityType::Standard {
        let _ = writeln!(app, "    security_type: {}", setup.security_type.as_str());
    }
    match &setup.admin {
        AdminProfile::None => {}
        AdminProfile::SshKey {
            username,
            public_key,
        } => {
            let _ = writeln!(
                app,
                "    admin_username: {}\n    ssh_public_key: {}",
                q(username),
                q(public_key)
            );
        }
        AdminProfile::Password { username } => {
            let _ = writeln!(
                app,
                "    admin_username: {}\n    # galleon manifests take SSH keys, not passwords: add ssh_public_key.",
                q(username)
            );
        }
    }
    let _ = writeln!(app, "    network:\n      subnet: vnet/default");
    vec![("tenants.yaml".into(), tenants), ("app.yaml".into(), app)]
}

/// Writes [`workspace_files`] into `dir` (created if missing) and returns the paths written.
///
/// # Errors
/// [`EmitError::Exists`] when a file is already there; [`EmitError::Write`] on I/O failure.
pub fn emit_workspace(setup: &Setup, dir: &Path) -> Result<Vec<PathBuf>, EmitError> {
    let files = workspace_files(setup);
    for (name, _) in &files {
        let path = dir.join(name);
        if path.exists() {
            return Err(EmitError::Exists { path });
        }
    }
    std::fs::create_dir_all(dir).map_err(|source| EmitError::Write {
        path: dir.to_owned(),
        source,
    })?;
    let mut written = Vec::new();
    for (name, content) in files {
        let path = dir.join(name);
        std::fs::write(&path, content).map_err(|source| EmitError::Write {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}
