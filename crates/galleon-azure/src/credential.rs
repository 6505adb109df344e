//! How galleon proves who it is in each tenant: the credential sources a manifest can name, and
//! loading them into something that can answer a token request.
//!
//! Sources (entra.md §§1, 6): a client secret from an environment variable or a file; a federated
//! assertion from a token file (GitHub Actions, AKS workload identity), re-read when older than
//! five minutes because those tokens rotate; the Azure CLI's login; and managed identity, which
//! Azure cannot use across tenants (azure-cli PR #23503), so galleon refuses it with a reason.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::ids::TenantId;
use crate::secret::Secret;

/// Where a client secret comes from. The manifest never holds the secret itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// An environment variable's value.
    Env(String),
    /// A file's content (surrounding whitespace trimmed).
    File(PathBuf),
    /// A value already loaded (tests, the sandbox).
    Value(Secret),
}

/// The kind of credential for one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// `client_credentials` with a client secret.
    ClientSecret(SecretSource),
    /// `client_credentials` with a federated assertion read from a file; `None` means the path
    /// in `AZURE_FEDERATED_TOKEN_FILE`.
    FederatedTokenFile(Option<PathBuf>),
    /// `az account get-access-token --tenant <tenant>` (the user's `az login`).
    AzureCli,
    /// A managed identity (refused: no cross-tenant support in Azure).
    ManagedIdentity,
}

/// A credential as the CLI builds it from a manifest's `tenants:` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialSpec {
    /// The tenant to get tokens from.
    pub tenant_id: TenantId,
    /// The app registration's client id (ignored by the Azure CLI source).
    pub client_id: String,
    /// Where the secret or assertion comes from.
    pub source: CredentialSource,
}

/// A credential could not be loaded or used.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// A required environment variable is not set or empty.
    #[error("environment variable {var} is not set")]
    MissingEnv {
        /// The variable.
        var: String,
    },
    /// A secret or token file could not be read.
    #[error("cannot read {}", path.display())]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A secret or token file is empty.
    #[error("{} is empty", path.display())]
    EmptyFile {
        /// The file.
        path: PathBuf,
    },
    /// A managed identity was configured although galleon works across tenants.
    #[error("tenant {tenant}: managed identity cannot be used across tenants")]
    ManagedIdentityCrossTenant {
        /// The tenant it was configured for.
        tenant: TenantId,
    },
    /// Managed identity outside the cross-tenant case is not implemented.
    #[error(
        "tenant {tenant}: managed identity is not supported by galleon; use a client secret, a federated token file or the Azure CLI"
    )]
    ManagedIdentityUnsupported {
        /// The tenant it was configured for.
        tenant: TenantId,
    },
    /// The Azure CLI failed or printed something unexpected.
    #[error("`az account get-access-token` for tenant {tenant} failed: {detail}")]
    AzureCli {
        /// The tenant asked for.
        tenant: TenantId,
        /// The CLI's error output (first line) or the parse failure. Never the token.
        detail: String,
    },
    /// No credential was configured for a tenant galleon needs.
    #[error("no credential configured for tenant {tenant}")]
    NoCredential {
        /// The tenant.
        tenant: TenantId,
    },
    /// The tenant id is not a GUID or domain name.
    #[error("invalid tenant id '{tenant}'")]
    InvalidTenant {
        /// The tenant.
        tenant: TenantId,
    },
}

/// How long a federated token read from a file is reused before the file is read again.
pub const FEDERATED_REREAD: Duration = Duration::from_secs(5 * 60);

/// A loaded credential.
#[derive(Debug)]
pub(crate) enum Credential {
    /// Client id and secret.
    ClientSecret { client_id: String, secret: Secret },
    /// Client id and the assertion file, with the last read.
    Federated {
        client_id: String,
        file: PathBuf,
        cached: Mutex<Option<(Secret, Instant)>>,
    },
    /// The Azure CLI.
    AzureCli { program: PathBuf },
}

impl Credential {
    /// Loads `spec`; `tenants_in_use` tells whether galleon works with more than one tenant.
    pub fn load(
        spec: &CredentialSpec,
        cross_tenant: bool,
        az_program: &std::path::Path,
    ) -> Result<Self, CredentialError> {
        if !spec.tenant_id.is_valid() {
            return Err(CredentialError::InvalidTenant {
                tenant: spec.tenant_id.clone(),
            });
        }
        match &spec.source {
            CredentialSource::ClientSecret(source) => Ok(Credential::ClientSecret {
                client_id: spec.client_id.clone(),
                secret: load_secret(source)?,
            }),
            CredentialSource::FederatedTokenFile(path) => {
                let file = match path {
                    Some(p) => p.clone(),
                    None => PathBuf::from(env_nonempty("AZURE_FEDERATED_TOKEN_FILE")?),
                };
                Ok(Credential::Federated {
                    client_id: spec.client_id.clone(),
                    file,
                    cached: Mutex::new(None),
                })
            }
            CredentialSource::AzureCli => Ok(Credential::AzureCli {
                program: az_program.to_path_buf(),
            }),
            CredentialSource::ManagedIdentity if cross_tenant => {
                Err(CredentialError::ManagedIdentityCrossTenant {
                    tenant: spec.tenant_id.clone(),
                })
            }
            CredentialSource::ManagedIdentity => Err(CredentialError::ManagedIdentityUnsupported {
                tenant: spec.tenant_id.clone(),
            }),
        }
    }

    /// The federated assertion, re-read from its file when the cached copy is five minutes old
    /// (GitHub's tokens live 5 minutes, projected Kubernetes tokens are rotated by the kubelet).
    pub fn assertion(&self) -> Result<Option<Secret>, CredentialError> {
        let Credential::Federated { file, cached, .. } = self else {
            return Ok(None);
        };
        let mut guard = cached.lock().expect("assertion cache lock");
        if let Some((token, read_at)) = guard.as_ref()
            && read_at.elapsed() < FEDERATED_REREAD
        {
            return Ok(Some(token.clone()));
        }
        let token = read_secret_file(file)?;
        *guard = Some((token.clone(), Instant::now()));
        Ok(Some(token))
    }

    /// Forgets a cached assertion (after Entra rejected it as expired).
    pub fn forget_assertion(&self) {
        if let Credential::Federated { cached, .. } = self {
            *cached.lock().expect("assertion cache lock") = None;
        }
    }
}

fn env_nonempty(var: &str) -> Result<String, CredentialError> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Ok(v),
        _ => Err(CredentialError::MissingEnv {
            var: var.to_string(),
        }),
    }
}

fn read_secret_file(path: &std::path::Path) -> Result<Secret, CredentialError> {
    let text = std::fs::read_to_string(path).map_err(|source| CredentialError::ReadFile {
        path: path.to_path_buf(),
        source,
    })?;
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(CredentialError::EmptyFile {
            path: path.to_path_buf(),
        });
    }
    Ok(Secret::new(trimmed))
}

fn load_secret(source: &SecretSource) -> Result<Secret, CredentialError> {
    match source {
        SecretSource::Env(var) => Ok(Secret::new(env_nonempty(var)?)),
        SecretSource::File(path) => read_secret_file(path),
        SecretSource::Value(s) => Ok(s.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(source: CredentialSource) -> CredentialSpec {
        CredentialSpec {
            tenant_id: TenantId::new("11111111-1111-4111-8111-111111111111"),
            client_id: "app".into(),
            source,
        }
    }

    #[test]
    fn client_secret_from_a_file_is_trimmed_and_hidden() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, "canary-file-secret\n").unwrap();
        let c = Credential::load(
            &spec(CredentialSource::ClientSecret(SecretSource::File(path))),
            false,
            "az".as_ref(),
        )
        .unwrap();
        let Credential::ClientSecret { secret, .. } = &c else {
            panic!()
        };
        assert_eq!(secret.expose(), "canary-file-secret");
        assert!(!format!("{c:?}").contains("canary"));
    }

    #[test]
    fn missing_sources_are_typed_errors() {
        let e = Credential::load(
            &spec(CredentialSource::ClientSecret(SecretSource::Env(
                "GALLEON_TEST_UNSET_VAR".into(),
            ))),
            false,
            "az".as_ref(),
        )
        .unwrap_err();
        assert!(
            matches!(e, CredentialError::MissingEnv { ref var } if var == "GALLEON_TEST_UNSET_VAR")
        );
        let e = Credential::load(
            &spec(CredentialSource::ClientSecret(SecretSource::File(
                "/nonexistent/x".into(),
            ))),
            false,
            "az".as_ref(),
        )
        .unwrap_err();
        assert!(matches!(e, CredentialError::ReadFile { .. }));
        let mut bad = spec(CredentialSource::AzureCli);
        bad.tenant_id = TenantId::new("a b");
        assert!(matches!(
            Credential::load(&bad, false, "az".as_ref()),
            Err(CredentialError::InvalidTenant { .. })
        ));
    }

    #[test]
    fn managed_identity_is_refused_across_tenants() {
        let e = Credential::load(
            &spec(CredentialSource::ManagedIdentity),
            true,
            "az".as_ref(),
        )
        .unwrap_err();
        assert!(matches!(
            e,
            CredentialError::ManagedIdentityCrossTenant { .. }
        ));
        assert!(e.to_string().contains("cannot be used across tenants"));
        let e = Credential::load(
            &spec(CredentialSource::ManagedIdentity),
            false,
            "az".as_ref(),
        )
        .unwrap_err();
        assert!(matches!(
            e,
            CredentialError::ManagedIdentityUnsupported { .. }
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn federated_token_file_is_reread_after_five_minutes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "jwt-1").unwrap();
        let c = Credential::load(
            &spec(CredentialSource::FederatedTokenFile(Some(path.clone()))),
            true,
            "az".as_ref(),
        )
        .unwrap();
        assert_eq!(c.assertion().unwrap().unwrap().expose(), "jwt-1");
        std::fs::write(&path, "jwt-2").unwrap();
        tokio::time::advance(Duration::from_secs(299)).await;
        assert_eq!(
            c.assertion().unwrap().unwrap().expose(),
            "jwt-1",
            "still fresh"
        );
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(
            c.assertion().unwrap().unwrap().expose(),
            "jwt-2",
            "re-read after 5 minutes"
        );
        std::fs::write(&path, "jwt-3").unwrap();
        c.forget_assertion();
        assert_eq!(c.assertion().unwrap().unwrap().expose(), "jwt-3");
    }
}
