//! Connecting a command to Azure: the cloud (public, custom endpoint, or the in-process sandbox),
//! the ARM client with one credential per tenant of the workspace, and where the apply lock lives.
//!
//! `plan`, `apply`, `destroy` and `force-unlock` all start here so that `--sandbox`,
//! `--endpoint` and `--ca-file` mean the same thing everywhere.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use galleon_azure::{ArmClient, ClientOptions, Cloud};
use galleon_manifest::Workspace;
use galleon_manifest::resolve::LockSpec;

use crate::cli::ConnectionArgs;
use crate::sandbox::{self, Sandbox};

/// An open connection for one command.
pub struct Session {
    /// The ARM client, credentials configured.
    pub arm: ArmClient,
    /// The apply lock's location, when the workspace (or the sandbox) has one.
    pub lock: Option<LockSpec>,
    /// The in-process emulator, kept alive for the session's lifetime.
    pub _sandbox: Option<Sandbox>,
}

impl Session {
    /// Opens a session for `workspace`, whose files live under `base`.
    ///
    /// # Errors
    /// The sandbox cannot start, the endpoint cannot be reached, or a credential is unusable.
    pub async fn open(
        workspace: &Workspace,
        base: &Path,
        args: &ConnectionArgs,
    ) -> anyhow::Result<Session> {
        if args.sandbox {
            let sandbox = sandbox::start(workspace, base).await?;
            let cloud = Cloud::resolve(Some(sandbox.endpoint()), Some(&sandbox.ca_file)).await?;
            let arm = ArmClient::new(cloud, ClientOptions::default())?;
            arm.configure_credentials(&sandbox.credentials)?;
            let lock = Some(sandbox.lock.clone());
            tracing::info!(endpoint = sandbox.endpoint(), "sandbox emulator running");
            return Ok(Session {
                arm,
                lock,
                _sandbox: Some(sandbox),
            });
        }
        let cloud = Cloud::resolve(args.endpoint.as_deref(), args.ca_file.as_deref())
            .await
            .context("cannot reach the Azure cloud")?;
        let arm = ArmClient::new(cloud, ClientOptions::default())?;
        arm.configure_credentials(&galleon_plan::credential_specs(workspace, base))?;
        Ok(Session {
            arm,
            lock: workspace.lock().cloned(),
            _sandbox: None,
        })
    }

    /// The applier's view: the client plus the blob lease of this workspace's lock.
    ///
    /// # Errors
    /// No lock is configured, or its tenant is not one of the workspace's.
    pub fn apply_context(
        &self,
        workspace: &Workspace,
    ) -> anyhow::Result<galleon_apply::AzureContext> {
        let lock = self.lock.as_ref().context(
            "no apply lock is configured: add a `lock:` section naming a storage account \
             (see docs/apply.md), or try the workspace with --sandbox",
        )?;
        let tenant = workspace.tenant(&lock.tenant).with_context(|| {
            format!(
                "lock.tenant `{}` is not a tenant of this workspace",
                lock.tenant
            )
        })?;
        Ok(galleon_apply::AzureContext::new(
            self.arm.clone(),
            workspace.name(),
            &tenant.tenant_id,
            &lock.storage_account,
            &lock.container,
        )?)
    }
}

/// The directory a workspace's relative paths (secret files, `.galleon/`) are resolved from.
pub fn base_dir(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent().map(Path::to_path_buf).unwrap_or_default()
    }
}

/// Prints an error with its causes to stderr, then, for an Azure failure, the catalogue's
/// `cause:` and the hint (galleon-azure's, else the catalogue row's fix).
pub fn report_error(e: &anyhow::Error) {
    eprintln!("Error: {e}");
    for cause in e.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
    // Library errors hold the Azure failure boxed (galleon-plan's `PlanError::Read`); a boxed
    // error is its own link of the chain and does not downcast to what it holds.
    let azure = e.chain().find_map(|c| {
        c.downcast_ref::<galleon_azure::AzureError>().or_else(|| {
            c.downcast_ref::<Box<galleon_azure::AzureError>>()
                .map(AsRef::as_ref)
        })
    });
    let Some(azure) = azure else { return };
    let explained = super::explain::azure_error(azure);
    if let Some((cause, _)) = &explained {
        eprintln!("cause: {cause}");
    }
    let hint = azure
        .hint()
        .or_else(|| explained.map(|(_, fix)| fix.to_string()));
    if let Some(hint) = hint {
        eprintln!("hint: {hint}");
    }
}
