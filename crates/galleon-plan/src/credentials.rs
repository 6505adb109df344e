//! From a workspace's `tenants:` to the Azure client's credential specs: the one place that
//! maps manifest auth methods to token sources, for every command that talks to Azure.
//!
//! Only references move here: a secret's variable name or file path, never its value (the
//! client reads it when it first needs a token, and keeps it in a type that never prints it).

use std::path::{Path, PathBuf};

use galleon_azure::{CredentialSource, CredentialSpec, SecretSource, TenantId};
use galleon_manifest::Workspace;
use galleon_manifest::model::{SecretSource as ManifestSecret, TokenFile};
use galleon_manifest::resolve::AuthMethod;

/// One credential spec per tenant. Relative file paths are taken from `base` (the workspace
/// directory), as the manifest's author wrote them.
pub fn credential_specs(workspace: &Workspace, base: &Path) -> Vec<CredentialSpec> {
    let file = |p: &str| -> PathBuf {
        let path = PathBuf::from(p);
        if path.is_absolute() {
            path
        } else {
            base.join(path)
        }
    };
    workspace
        .tenants()
        .iter()
        .map(|t| {
            let (client_id, source) = match &t.auth {
                AuthMethod::ClientSecret { client_id, secret } => {
                    let secret = match secret {
                        ManifestSecret::Env(var) => SecretSource::Env(var.clone()),
                        ManifestSecret::File(p) => SecretSource::File(file(p)),
                        // Refused when loading; an empty variable name fails clearly if reached.
                        ManifestSecret::Inline => SecretSource::Env(String::new()),
                    };
                    (client_id.clone(), CredentialSource::ClientSecret(secret))
                }
                AuthMethod::FederatedToken {
                    client_id,
                    token_file,
                } => {
                    let path = match token_file {
                        TokenFile::Path(p) => Some(file(p)),
                        // A path, not a secret: reading it here is harmless.
                        TokenFile::Env(var) => std::env::var_os(var).map(PathBuf::from),
                        TokenFile::Inline => None,
                    };
                    (
                        client_id.clone(),
                        CredentialSource::FederatedTokenFile(path),
                    )
                }
                AuthMethod::AzureCli => (String::new(), CredentialSource::AzureCli),
                AuthMethod::ManagedIdentity { client_id } => (
                    client_id.clone().unwrap_or_default(),
                    CredentialSource::ManagedIdentity,
                ),
            };
            CredentialSpec {
                tenant_id: TenantId::new(&t.tenant_id),
                client_id,
                source,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_scenario_references_its_secret_by_variable() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/cross-tenant");
        let ws = Workspace::load(&dir).unwrap();
        let specs = credential_specs(&ws, &dir);
        assert_eq!(specs.len(), 2);
        for spec in &specs {
            assert_eq!(spec.client_id, "0a0a0a0a-3333-4333-8333-333333333333");
            assert_eq!(
                spec.source,
                CredentialSource::ClientSecret(SecretSource::Env("GALLEON_APP_SECRET".into()))
            );
        }
        let ids: Vec<_> = specs.iter().map(|s| s.tenant_id.as_str()).collect();
        assert!(ids.contains(&"11111111-1111-4111-8111-111111111111"));
        assert!(ids.contains(&"22222222-2222-4222-8222-222222222222"));
    }
}
