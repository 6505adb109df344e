//! An in-memory Azure for the doctor's tests: two tenants, their subscriptions, a gallery, and the
//! answers ARM and Entra give (status, code, message as in arm-errors.md). Each test starts from
//! [`World::green`] and breaks one thing.

use std::collections::{BTreeMap, HashMap, HashSet};

use galleon_azure::{AzureError, EntraError, TenantId};
use galleon_doctor::{
    AdminProfile, Credential, Failure, ImageRef, Probe, SecurityType, Setup, SignedIn,
};
use serde_json::{Value, json};

pub const IMAGE_TENANT: &str = "11111111-1111-4111-8111-111111111111";
pub const TARGET_TENANT: &str = "22222222-2222-4222-8222-222222222222";
pub const IMAGE_SUB: &str = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa";
pub const TARGET_SUB: &str = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb";
pub const APP: &str = "0a0a0a0a-3333-4333-8333-333333333333";
pub const GALLERY: &str = "/subscriptions/aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa/resourceGroups/rg-golden-images/providers/Microsoft.Compute/galleries/golden_images";
pub const TARGET_RG: &str =
    "/subscriptions/bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb/resourceGroups/rg-app";

pub fn definition_id() -> String {
    format!("{GALLERY}/images/ubuntu")
}

pub fn version_id(v: &str) -> String {
    format!("{GALLERY}/images/ubuntu/versions/{v}")
}

pub fn object_id(tenant: &str) -> String {
    format!(
        "{}-0000-4000-8000-00000000000{}",
        &tenant[..8],
        &tenant[..1]
    )
}

/// The setup every test starts from: the seed scenario, all green.
pub fn setup() -> Setup {
    Setup {
        image: ImageRef::parse(&version_id("1.0.0")).unwrap(),
        image_tenant: IMAGE_TENANT.into(),
        target_tenant: TARGET_TENANT.into(),
        target_subscription: TARGET_SUB.into(),
        resource_group: "rg-app".into(),
        region: "northeurope".into(),
        vm_name: "web".into(),
        vm_size: "Standard_D2s_v5".into(),
        admin: AdminProfile::SshKey {
            username: "azureuser".into(),
            public_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGalleonExampleKeyOnlyForDocsAndTestsXXXXXXX galleon@example".into(),
        },
        security_type: SecurityType::TrustedLaunch,
        client_id: Some(APP.into()),
        credential: Credential::SecretEnv { var: "GALLEON_APP_SECRET".into() },
    }
}

/// The world the fake answers from.
#[derive(Debug, Clone)]
pub struct World {
    /// Tenants where the app has a service principal.
    pub service_principals: HashSet<String>,
    /// Entra failures to answer instead of a token, by tenant.
    pub sign_in_errors: HashMap<String, (u32, String)>,
    /// Subscription -> owning tenant.
    pub subscriptions: HashMap<String, String>,
    /// Resources by lower-cased id.
    pub resources: BTreeMap<String, Value>,
    /// Tenant -> permissions (actions, notActions) the app has on the target resource group.
    pub rights: HashMap<String, Vec<Value>>,
    /// Lower-cased scopes under which reads are refused (no role).
    pub denied: HashSet<String>,
    /// Whether the Permissions API answers (else the doctor falls back to role assignments).
    pub permissions_api: bool,
    /// Role assignments (id, principal, scope, roleDefinitionId) for the fallback.
    pub assignments: Vec<Value>,
}

pub fn version(name: &str, regions: &[&str], state: &str, exclude: bool) -> Value {
    json!({
        "id": version_id(name),
        "name": name,
        "type": "Microsoft.Compute/galleries/images/versions",
        "location": "westeurope",
        "properties": {
            "provisioningState": state,
            "publishingProfile": {
                "targetRegions": regions.iter().map(|r| json!({"name": r, "regionalReplicaCount": 1})).collect::<Vec<_>>(),
                "excludeFromLatest": exclude,
            },
            "replicationStatus": {
                "aggregatedState": if state == "Succeeded" { "Completed" } else { "InProgress" },
                "summary": regions.iter().map(|r| json!({"region": r, "state": if state == "Succeeded" { "Completed" } else { "Replicating" }, "progress": 100})).collect::<Vec<_>>(),
            },
        },
    })
}

pub fn definition(os_state: &str, generation: &str, security: &str) -> Value {
    json!({
        "id": definition_id(),
        "name": "ubuntu",
        "type": "Microsoft.Compute/galleries/images",
        "properties": {
            "osType": "Linux",
            "osState": os_state,
            "hyperVGeneration": generation,
            "features": [{"name": "SecurityType", "value": security}],
            "provisioningState": "Succeeded",
        },
    })
}

impl World {
    pub fn green() -> Self {
        let mut w = World {
            service_principals: [IMAGE_TENANT, TARGET_TENANT].map(String::from).into(),
            sign_in_errors: HashMap::new(),
            subscriptions: [(IMAGE_SUB, IMAGE_TENANT), (TARGET_SUB, TARGET_TENANT)]
                .map(|(s, t)| (s.to_string(), t.to_string()))
                .into(),
            resources: BTreeMap::new(),
            rights: HashMap::new(),
            denied: HashSet::new(),
            permissions_api: true,
            assignments: Vec::new(),
        };
        w.put(json!({"id": TARGET_RG, "name": "rg-app", "location": "northeurope"}));
        w.put(json!({"id": "/subscriptions/aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa/resourceGroups/rg-golden-images", "name": "rg-golden-images"}));
        w.put(json!({"id": GALLERY, "name": "golden_images"}));
        w.put(definition("Generalized", "V2", "TrustedLaunchSupported"));
        w.put(version(
            "1.0.0",
            &["westeurope", "northeurope"],
            "Succeeded",
            false,
        ));
        // Contributor (arm-protocol.md §5.1).
        w.rights.insert(
            TARGET_TENANT.into(),
            vec![json!({"actions": ["*"], "notActions": ["Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write"]})],
        );
        w
    }

    pub fn put(&mut self, doc: Value) {
        let id = doc["id"].as_str().unwrap().to_ascii_lowercase();
        self.resources.insert(id, doc);
    }

    pub fn remove(&mut self, id: &str) {
        self.resources.remove(&id.to_ascii_lowercase());
    }
}

fn arm(status: u16, code: &str, message: impl Into<String>) -> Failure {
    Failure::new(Some(status), code, message)
}

fn subscription_of(path: &str) -> Option<&str> {
    let mut parts = path.split('/');
    parts.find(|p| p.eq_ignore_ascii_case("subscriptions"))?;
    parts.next()
}

impl Probe for World {
    async fn sign_in(&self, tenant: &TenantId) -> Result<SignedIn, Failure> {
        let t = tenant.as_str();
        let entra = |code: u32, description: String| {
            Failure::from_azure(&AzureError::Entra(Box::new(EntraError {
                status: 400,
                error: "unauthorized_client".into(),
                codes: vec![code],
                description,
                tenant: tenant.clone(),
                client_id: APP.into(),
                trace_id: None,
                correlation_id: None,
                assertion: None,
                authority: "https://login.microsoftonline.com/".into(),
            })))
        };
        if let Some((code, text)) = self.sign_in_errors.get(t) {
            return Err(entra(*code, text.clone()));
        }
        if !self.service_principals.contains(t) {
            // entra.md §2 / arm-errors.md §10.
            return Err(entra(
                700016,
                format!(
                    "AADSTS700016: Application with identifier '{APP}' was not found in the directory '{t}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
                ),
            ));
        }
        Ok(SignedIn {
            app_id: Some(APP.into()),
            object_id: Some(object_id(t)),
        })
    }

    async fn subscription_tenant(&self, subscription: &str) -> Result<Option<String>, Failure> {
        match self.subscriptions.get(subscription) {
            Some(t) => Ok(Some(t.clone())),
            None => Err(arm(
                404,
                "SubscriptionNotFound",
                format!("The subscription '{subscription}' could not be found."),
            )),
        }
    }

    async fn get(
        &self,
        tenant: &TenantId,
        path: &str,
        _api: Option<&str>,
        query: &[(&str, &str)],
    ) -> Result<Value, Failure> {
        let t = tenant.as_str();
        let lower = path.to_ascii_lowercase();
        if let Some(owner) = subscription_of(path).and_then(|s| self.subscriptions.get(s))
            && owner != t
        {
            return Err(arm(
                401,
                "InvalidAuthenticationTokenTenant",
                format!(
                    "The access token is from the wrong issuer 'https://sts.windows.net/{t}/'. It must match the tenant 'https://sts.windows.net/{owner}/' associated with this subscription."
                ),
            ));
        }
        if let Some(scope) = lower.strip_suffix("/providers/microsoft.authorization/permissions") {
            if !self.permissions_api {
                return Err(arm(
                    404,
                    "NoRegisteredProviderFound",
                    "No registered resource provider found.",
                ));
            }
            let _ = scope;
            return Ok(json!({"value": self.rights.get(t).cloned().unwrap_or_default()}));
        }
        if lower.ends_with("/providers/microsoft.authorization/roleassignments") {
            let filter = query
                .iter()
                .find(|(k, _)| *k == "$filter")
                .map(|(_, v)| *v)
                .unwrap_or("");
            let value: Vec<Value> = self
                .assignments
                .iter()
                .filter(|a| filter.contains(a["properties"]["principalId"].as_str().unwrap()))
                .cloned()
                .collect();
            return Ok(json!({"value": value}));
        }
        if let Some(denied) = self.denied.iter().find(|d| lower.starts_with(d.as_str())) {
            let action = if lower.contains("/versions/") {
                "Microsoft.Compute/galleries/images/versions/read"
            } else {
                "Microsoft.Compute/galleries/images/read"
            };
            let _ = denied;
            return Err(arm(
                403,
                "AuthorizationFailed",
                format!(
                    "The client '{APP}' with object id '{}' does not have authorization to perform action '{action}' over scope '{path}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
                    object_id(t)
                ),
            ));
        }
        if let Some(def) = lower.strip_suffix("/versions") {
            let prefix = format!("{def}/versions/");
            let value: Vec<Value> = self
                .resources
                .iter()
                .filter(|(k, _)| k.starts_with(&prefix))
                .map(|(_, v)| v.clone())
                .collect();
            return Ok(json!({"value": value}));
        }
        if let Some(doc) = self.resources.get(&lower) {
            return Ok(doc.clone());
        }
        let parts: Vec<&str> = path.split('/').collect();
        let rg_id = parts.get(..5).map(|p| p.join("/").to_ascii_lowercase());
        if parts.len() > 5
            && rg_id
                .as_ref()
                .is_some_and(|r| !self.resources.contains_key(r))
            || parts.len() == 5
        {
            return Err(arm(
                404,
                "ResourceGroupNotFound",
                format!(
                    "Resource group '{}' could not be found.",
                    parts.get(4).unwrap_or(&"")
                ),
            ));
        }
        Err(arm(
            404,
            "ResourceNotFound",
            format!(
                "The Resource '{path}' under resource group '{}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
                parts.get(4).unwrap_or(&"")
            ),
        ))
    }
}
