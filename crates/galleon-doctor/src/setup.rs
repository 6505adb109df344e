//! What the user tells `galleon doctor` about a setup made by hand: the image, where the VM goes,
//! how the VM is configured and how the app signs in. There is no manifest, so this is the whole
//! input; it is parsed and checked once here, so the checks never meet a malformed id.

use std::path::PathBuf;

use galleon_azure::{CredentialSource, CredentialSpec, SecretSource, TenantId};
use serde::Serialize;

/// The input could not be understood.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SetupError {
    /// The image id is not a gallery image version or image definition id. Azure answers such an
    /// id with `LinkedInvalidPropertyId` (arm-errors.md §4.7).
    #[error(
        "'{id}' is not a gallery image id: expected /subscriptions/{{s}}/resourceGroups/{{rg}}/providers/Microsoft.Compute/galleries/{{g}}/images/{{i}}[/versions/{{v}}]"
    )]
    ImageId {
        /// The id as given.
        id: String,
    },
    /// A tenant id is neither a GUID nor a domain name.
    #[error("'{tenant}' is not a tenant id (a GUID or a domain such as contoso.onmicrosoft.com)")]
    Tenant {
        /// The tenant as given.
        tenant: String,
    },
    /// The credential needs the app's client id and none was given.
    #[error("the {kind} credential needs the app's client id (--client-id)")]
    ClientIdMissing {
        /// The credential kind.
        kind: &'static str,
    },
}

/// A gallery image reference, by version or by definition ("latest").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageRef {
    /// The id as given (Azure echoes the reference back in its messages).
    pub id: String,
    /// Subscription of the gallery.
    pub subscription: String,
    /// Resource group of the gallery.
    pub resource_group: String,
    /// Gallery name.
    pub gallery: String,
    /// Image definition name.
    pub image: String,
    /// Version name; `None` means "latest" (a definition id).
    pub version: Option<String>,
}

impl ImageRef {
    /// Parses a version id or a definition id; path keywords compare case-insensitively, as ARM does.
    ///
    /// # Errors
    /// [`SetupError::ImageId`] for anything else.
    pub fn parse(id: &str) -> Result<Self, SetupError> {
        let bad = || SetupError::ImageId { id: id.to_string() };
        let parts: Vec<&str> = id.trim_end_matches('/').split('/').collect();
        let keyword = |i: usize, k: &str| parts.get(i).is_some_and(|p| p.eq_ignore_ascii_case(k));
        let ok = parts.first() == Some(&"")
            && keyword(1, "subscriptions")
            && keyword(3, "resourceGroups")
            && keyword(5, "providers")
            && keyword(6, "Microsoft.Compute")
            && keyword(7, "galleries")
            && keyword(9, "images")
            && (parts.len() == 11 || (parts.len() == 13 && keyword(11, "versions")));
        if !ok || parts.iter().skip(1).any(|p| p.is_empty()) {
            return Err(bad());
        }
        Ok(Self {
            id: id.trim_end_matches('/').to_string(),
            subscription: parts[2].to_string(),
            resource_group: parts[4].to_string(),
            gallery: parts[8].to_string(),
            image: parts[10].to_string(),
            version: parts.get(12).map(|v| (*v).to_string()),
        })
    }

    /// The gallery's id: the scope a read role is granted on.
    pub fn gallery_id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/galleries/{}",
            self.subscription, self.resource_group, self.gallery
        )
    }

    /// The image definition's id.
    pub fn definition_id(&self) -> String {
        format!("{}/images/{}", self.gallery_id(), self.image)
    }

    /// The linked action ARM checks on the reference: a definition id ("latest") needs
    /// `images/read`, a version id `images/versions/read` (arm-errors.md §1.2, bicep#17206).
    pub fn linked_action(&self) -> &'static str {
        if self.version.is_some() {
            "Microsoft.Compute/galleries/images/versions/read"
        } else {
            "Microsoft.Compute/galleries/images/read"
        }
    }
}

/// The admin credentials the user intends to pass to the VM (`osProfile`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AdminProfile {
    /// No osProfile (what a Specialized image needs).
    None,
    /// An admin user with an SSH public key.
    SshKey {
        /// Admin user name.
        username: String,
        /// The public key text (public, safe to write into a manifest).
        public_key: String,
    },
    /// An admin user with a password (never stored here; only that one will be given).
    Password {
        /// Admin user name.
        username: String,
    },
}

impl AdminProfile {
    /// Whether an osProfile will be sent.
    pub fn is_set(&self) -> bool {
        !matches!(self, AdminProfile::None)
    }
}

/// The VM's security type (`securityProfile.securityType`; absent means Standard).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SecurityType {
    /// No securityProfile.
    Standard,
    /// Trusted Launch.
    TrustedLaunch,
    /// Confidential VM.
    #[serde(rename = "ConfidentialVM")]
    ConfidentialVm,
}

impl SecurityType {
    /// The name Azure and the manifest use.
    pub fn as_str(self) -> &'static str {
        match self {
            SecurityType::Standard => "Standard",
            SecurityType::TrustedLaunch => "TrustedLaunch",
            SecurityType::ConfidentialVm => "ConfidentialVM",
        }
    }
}

/// How the multi-tenant app signs in: the manifest's credential options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Credential {
    /// Client secret read from this environment variable.
    SecretEnv {
        /// Variable name.
        var: String,
    },
    /// Client secret read from this file.
    SecretFile {
        /// File path.
        path: PathBuf,
    },
    /// Federated token file; `None` reads `AZURE_FEDERATED_TOKEN_FILE`.
    FederatedTokenFile {
        /// File path.
        path: Option<PathBuf>,
    },
    /// The Azure CLI's login (`az account get-access-token --tenant`).
    AzureCli,
}

/// A setup made by hand, as `galleon doctor` receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Setup {
    /// The image to boot.
    pub image: ImageRef,
    /// The tenant the user believes owns the image's subscription (GUID or domain).
    pub image_tenant: String,
    /// The tenant owning the target subscription (GUID or domain).
    pub target_tenant: String,
    /// Subscription the VM goes in.
    pub target_subscription: String,
    /// Resource group the VM goes in.
    pub resource_group: String,
    /// Region of the VM.
    pub region: String,
    /// VM name (only used to name the VM id in Azure's messages and the emitted manifest).
    pub vm_name: String,
    /// VM size.
    pub vm_size: String,
    /// The osProfile the user intends to pass.
    pub admin: AdminProfile,
    /// The VM's security type.
    pub security_type: SecurityType,
    /// The multi-tenant app's client id (`None` only with the Azure CLI).
    pub client_id: Option<String>,
    /// How the app signs in, in both tenants.
    pub credential: Credential,
}

impl Setup {
    /// Checks the pieces that need no network: tenant ids, client id present when needed.
    ///
    /// # Errors
    /// The first problem found.
    pub fn validate(&self) -> Result<(), SetupError> {
        for t in [&self.image_tenant, &self.target_tenant] {
            if !TenantId::new(t.as_str()).is_valid() {
                return Err(SetupError::Tenant { tenant: t.clone() });
            }
        }
        let kind = match self.credential {
            Credential::SecretEnv { .. } | Credential::SecretFile { .. } => "client secret",
            Credential::FederatedTokenFile { .. } => "federated token",
            Credential::AzureCli => return Ok(()),
        };
        if self.client_id.as_deref().is_none_or(str::is_empty) {
            return Err(SetupError::ClientIdMissing { kind });
        }
        Ok(())
    }

    /// The VM's id, as Azure's messages name the primary scope.
    pub fn vm_id(&self) -> String {
        format!(
            "{}/providers/Microsoft.Compute/virtualMachines/{}",
            self.resource_group_id(),
            self.vm_name
        )
    }

    /// The target resource group's id.
    pub fn resource_group_id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}",
            self.target_subscription, self.resource_group
        )
    }

    /// Whether the image lives in another tenant (the auxiliary-token case).
    pub fn cross_tenant(&self) -> bool {
        !self.image_tenant.eq_ignore_ascii_case(&self.target_tenant)
    }

    /// The image tenant as the client's type.
    pub fn image_tenant_id(&self) -> TenantId {
        TenantId::new(self.image_tenant.as_str())
    }

    /// The target tenant as the client's type.
    pub fn target_tenant_id(&self) -> TenantId {
        TenantId::new(self.target_tenant.as_str())
    }

    /// The credential specs to configure an [`galleon_azure::ArmClient`] with, one per tenant.
    pub fn credential_specs(&self) -> Vec<CredentialSpec> {
        let source = match &self.credential {
            Credential::SecretEnv { var } => {
                CredentialSource::ClientSecret(SecretSource::Env(var.clone()))
            }
            Credential::SecretFile { path } => {
                CredentialSource::ClientSecret(SecretSource::File(path.clone()))
            }
            Credential::FederatedTokenFile { path } => {
                CredentialSource::FederatedTokenFile(path.clone())
            }
            Credential::AzureCli => CredentialSource::AzureCli,
        };
        let mut tenants = vec![self.target_tenant_id()];
        if self.cross_tenant() {
            tenants.push(self.image_tenant_id());
        }
        tenants
            .into_iter()
            .map(|tenant_id| CredentialSpec {
                tenant_id,
                client_id: self.client_id.clone().unwrap_or_default(),
                source: source.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERSION: &str = "/subscriptions/aaaa/resourceGroups/rg-img/providers/Microsoft.Compute/galleries/golden/images/ubuntu/versions/1.0.0";

    #[test]
    fn parses_version_and_definition_ids() {
        let v = ImageRef::parse(VERSION).unwrap();
        assert_eq!(v.version.as_deref(), Some("1.0.0"));
        assert_eq!(v.subscription, "aaaa");
        assert_eq!(
            v.linked_action(),
            "Microsoft.Compute/galleries/images/versions/read"
        );
        let lower = VERSION.to_ascii_lowercase();
        let d = ImageRef::parse(lower.rsplit_once("/versions/").unwrap().0).unwrap();
        assert_eq!(d.version, None);
        assert_eq!(d.linked_action(), "Microsoft.Compute/galleries/images/read");
        assert_eq!(
            d.definition_id(),
            "/subscriptions/aaaa/resourceGroups/rg-img/providers/Microsoft.Compute/galleries/golden/images/ubuntu"
        );
    }

    #[test]
    fn rejects_ids_that_are_not_gallery_images() {
        for bad in [
            "golden/ubuntu/1.0.0",
            "/subscriptions/aaaa/resourceGroups/rg/providers/Microsoft.Compute/images/base",
            "/subscriptions/aaaa/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i/versions",
            "/subscriptions//resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i",
        ] {
            assert!(ImageRef::parse(bad).is_err(), "{bad}");
        }
    }
}
