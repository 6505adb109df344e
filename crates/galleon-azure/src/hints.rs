//! Every `hint:` text galleon prints for a known Azure failure, in one place so the docs can list
//! them ([`catalogue`]) and so wording stays consistent.
//!
//! The hints name the fix, not the symptom: which principal needs which role where, which
//! command creates the missing service principal. Sources: arm-errors.md §§1-4, entra.md §2.

use crate::credential::CredentialError;
use crate::error::{ArmError, EntraError};

/// Shown when the apply lock is held.
pub const LOCK_HELD: &str = "another galleon apply holds the lock; wait for it, or run `galleon force-unlock` if it crashed";

/// Built-in role that can read gallery images and versions (arm-protocol.md §5.1).
pub const GALLERY_IMAGE_READER_ROLE: &str =
    "Compute Gallery Image Reader (cf7c76d2-98a3-4358-a134-615aa78bf44d)";

/// Codes with a general hint, for documentation. Specific hints fill in names from the error.
pub fn catalogue() -> &'static [(&'static str, &'static str)] {
    &[
        (
            "LinkedAuthorizationFailed",
            "the principal needs Reader or Compute Gallery Image Reader on the gallery in the image's tenant, and galleon must hold a token for that tenant (x-ms-authorization-auxiliary)",
        ),
        (
            "InvalidAuthenticationTokenTenant",
            "the token is from a different tenant than the subscription's: check the subscription's `tenant:` in the manifest",
        ),
        (
            "AuthorizationFailed",
            "grant the principal a role that allows the action on the scope (Contributor on the resource group, say)",
        ),
        (
            "GalleryImageNotFound",
            "replicate the image version to the VM's region (add it to target_regions) or place the VM in a replicated region",
        ),
        (
            "InvalidParameter",
            "osProfile must be set for Generalized images and omitted for Specialized ones: match the VM to the image definition's os_state",
        ),
        (
            "BadRequest",
            "match the VM size's Hyper-V generation and the VM's security type to the image definition",
        ),
        (
            "SkuNotAvailable",
            "the VM size is not offered in this region/zone for the subscription: pick another size, region or zone",
        ),
        (
            "OperationNotAllowed",
            "the subscription's core quota is too small: request a quota increase or choose a smaller size",
        ),
        (
            "SubscriptionRequestsThrottled",
            "Azure is throttling this subscription: lower galleon's --parallelism or retry later",
        ),
        (
            "ExpiredAuthenticationToken",
            "the access token expired; galleon refreshes tokens 5 minutes before expiry, so check the machine's clock",
        ),
        (
            "AADSTS700016",
            "the app has no service principal in that tenant: an admin must consent or run `az ad sp create --id <app>` there",
        ),
        (
            "AADSTS7000215",
            "the client secret is wrong: use the secret's Value, not its Secret ID",
        ),
        (
            "AADSTS7000222",
            "the client secret has expired: create a new one",
        ),
        (
            "AADSTS700213",
            "no federated credential matches the token's subject",
        ),
        ("AADSTS90002", "the tenant does not exist in this cloud"),
    ]
}

/// The hint for an ARM error, using the principal and auxiliary tenants attached to it.
pub fn arm_hint(e: &ArmError) -> Option<String> {
    match e.code.as_str() {
        "LinkedAuthorizationFailed" => Some(linked_authorization_hint(e)),
        "InvalidAuthenticationTokenTenant" => Some(format!(
            "the token's tenant ({}) does not own the subscription of {}: request the token from the subscription's tenant (the `tenant:` of its resource group in the manifest)",
            e.principal
                .as_ref()
                .and_then(|p| p.tenant_id.clone())
                .unwrap_or_else(|| "unknown".into()),
            e.resource_id
        )),
        "AuthorizationFailed" => {
            let action = quoted_after(&e.message, "perform action").unwrap_or("the action");
            let scope = quoted_after(&e.message, "over scope").unwrap_or(&e.resource_id);
            Some(format!(
                "{} needs a role allowing '{action}' on '{scope}' (for example Contributor on its resource group); role assignments can take a few minutes to apply",
                principal_words(e)
            ))
        }
        "InvalidAuthenticationToken" => e
            .principal
            .as_ref()
            .and_then(|p| Some((p.app_id.as_deref()?, p.tenant_id.as_ref()?)))
            .map(|(app, tenant)| {
                if e.message.contains("'oid'") {
                    // A service-principal-less token (entra.md §5): Entra signed the app in
                    // without an object id, so ARM has no principal to authorize.
                    format!(
                        "the app {app} has no service principal in tenant {tenant}: an admin of that tenant must consent to it, or run `az ad sp create --id {app}` there"
                    )
                } else {
                    format!(
                        "ARM could not verify the token galleon got from tenant {tenant}: it was issued by another cloud's Entra ID; sign in at the cloud whose ARM galleon calls (check --endpoint and the tenant's cloud)"
                    )
                }
            })
            .or_else(|| code_hint(&e.code, &e.message)),
        code => code_hint(code, &e.message),
    }
}

/// The hint for an error code alone (also used for failed long-running operations).
pub fn code_hint(code: &str, message: &str) -> Option<String> {
    let text = match code {
        "GalleryImageNotFound" => {
            "the image version is not replicated to the VM's region: add the region to the version's target_regions (and wait for replication) or place the VM in a replicated region"
        }
        "InvalidParameter" if message.contains("osProfile") => {
            "the image's OS state decides osProfile: Generalized images need admin_username/ssh key, Specialized images must not set them"
        }
        "BadRequest" if message.contains("Hypervisor Generation") => {
            "the VM size cannot boot the image's Hyper-V generation: pick a size that supports the image definition's hyper_v_generation (V2 needs a Gen2-capable size)"
        }
        "BadRequest" if message.contains("security type") => {
            "the image definition requires a security type: set the VM's security_type to match the image (TrustedLaunch or ConfidentialVM)"
        }
        "SkuNotAvailable" => {
            "the VM size is not available in this region/zone for the subscription: pick another size, region or zone (`az vm list-skus --location <region>`)"
        }
        "OperationNotAllowed" if message.contains("quota") => {
            "the subscription's vCPU quota is too small for this VM: request a quota increase or choose a smaller size"
        }
        "SubscriptionRequestsThrottled"
        | "TooManyRequests"
        | "ResourceRequestsThrottled"
        | "OperationNotAllowed" => {
            "Azure is throttling requests for this subscription: lower galleon's parallelism, or retry later"
        }
        "ExpiredAuthenticationToken" => {
            "Azure saw an expired token even after a refresh: check this machine's clock"
        }
        "ResourceGroupNotFound" => {
            "the resource group does not exist yet: apply the plan that creates it first"
        }
        // The rest of the cross-tenant scenario's messages (arm-errors.md §§3, 4.7, 5.1, 6;
        // listed with their causes in docs/troubleshooting.md).
        "InvalidParameter" if message.contains("imageReference") => {
            "the VM's image reference is not usable: give the gallery image's full ARM id (…/galleries/<g>/images/<i>[/versions/<v>])"
        }
        "BadRequest" if message.contains("is not a valid resource reference") => {
            "an id in the request is malformed: check the image and network ids are full ARM ids"
        }
        "LinkedInvalidPropertyId" => {
            "an id in the request is not a full ARM id: reference the image by /subscriptions/<s>/resourceGroups/<rg>/providers/Microsoft.Compute/galleries/<g>/images/<i>[/versions/<v>]"
        }
        "InvalidAuthenticationToken" if message.contains("'oid'") => {
            "the app has no service principal in the token's tenant: an admin must consent, or run `az ad sp create --id <app>` there"
        }
        "InvalidAuthenticationToken" => {
            "ARM could not verify the token: it was issued by another cloud's Entra ID; check --endpoint"
        }
        "InvalidAuthenticationTokenAudience" => {
            "the token was issued for another resource or cloud: check --endpoint (galleon reads the audience from the cloud's metadata)"
        }
        "AuthenticationFailed" => {
            "the request reached ARM without its Authorization header, which galleon always sends: a proxy between galleon and Azure (HTTPS_PROXY) stripped it; let it pass the header through"
        }
        "AuthenticationFailedInvalidHeader" => {
            "the request reached ARM with an Authorization header that is not `Bearer <token>`, the only form galleon sends: a proxy between galleon and Azure (HTTPS_PROXY) rewrote it; let it pass the header through"
        }
        "SubscriptionNotFound" => {
            "the subscription does not exist in this cloud: check the resource group's `subscription:` and --endpoint"
        }
        "ResourceNotFound" => {
            "the resource does not exist: check its name, or apply the plan that creates it"
        }
        "ParentResourceNotFound" => {
            "the parent (gallery, image definition, network) does not exist: if it was deleted after the plan was made, run `galleon plan` again so the plan recreates it first; otherwise declare it in the workspace"
        }
        "NotAvailableForSubscription" => {
            "the subscription may not deploy this VM size in this region: pick another size or region"
        }
        // Messages whose error code Azure's documentation does not give (arm-errors.md §9).
        _ if message.contains("There is no latest image version exists") => {
            "every version of the image definition is excluded from latest: set exclude_from_latest to false on one version, or reference a version"
        }
        _ if message.contains("Subscription not authorized to access this image") => {
            "the VM's subscription may not use this image: grant the app Reader on the gallery in the image's tenant (a gallery_grant)"
        }
        _ if message.contains("than the parent gallery image plan") => {
            "the image definition lacks its source's purchase plan: recreate the definition with the same plan"
        }
        _ if message.contains("Disk encryption set")
            && message.contains("cannot be used with resource") =>
        {
            "the image version is encrypted with a disk encryption set from another subscription: publish a version whose encryption set is in the VM's subscription"
        }
        // These codes mean many things; only the messages matched above get a hint.
        "InvalidParameter" | "BadRequest" => return None,
        _ => {
            return catalogue()
                .iter()
                .find(|(c, _)| *c == code)
                .map(|(_, text)| (*text).to_string());
        }
    };
    Some(text.to_string())
}

fn linked_authorization_hint(e: &ArmError) -> String {
    // Variant B (arm-errors.md §1.2): "... however the current tenant '<t>' is not authorized to
    // access linked subscription '<s>'." -> no usable token for the gallery's tenant was sent.
    if let Some(sub) = quoted_after(&e.message, "linked subscription") {
        let current =
            quoted_after(&e.message, "current tenant").unwrap_or("the subscription's tenant");
        let sent = if e.aux_tenants.is_empty() {
            "no auxiliary token was sent".to_string()
        } else {
            let list: Vec<String> = e.aux_tenants.iter().map(ToString::to_string).collect();
            format!("auxiliary tokens were sent for {}", list.join(", "))
        };
        let gallery = match e.linked_image.as_deref().and_then(gallery_of) {
            Some(g) => format!("on gallery '{g}'"),
            None => "on the gallery".to_string(),
        };
        return format!(
            "the request from tenant {current} references subscription {sub} in another tenant and {sent}: galleon must hold a token for the tenant that owns subscription {sub} (declare it under `tenants:` and reference the image by that tenant), and {} needs Reader or {GALLERY_IMAGE_READER_ROLE} {gallery} there",
            principal_words(e)
        );
    }
    // Variant A (§1.1): the token reached the gallery's tenant but the principal has no role there.
    let linked_scope = quoted_after(&e.message, "linked scope(s)").unwrap_or("the gallery");
    let gallery = gallery_of(linked_scope).unwrap_or(linked_scope);
    format!(
        "{} needs Reader or {GALLERY_IMAGE_READER_ROLE} on '{gallery}' in the gallery's tenant (add a gallery_grant), and galleon must send a token for that tenant",
        principal_words(e)
    )
}

fn principal_words(e: &ArmError) -> String {
    match &e.principal {
        Some(p) => {
            let app = p.app_id.as_deref().unwrap_or("?");
            let oid = p.object_id.as_deref().unwrap_or("?");
            format!("the principal (appid {app}, object id {oid})")
        }
        None => "the principal".to_string(),
    }
}

/// The gallery id prefix of a gallery child id (`.../galleries/{g}/images/...` -> `.../galleries/{g}`).
fn gallery_of(scope: &str) -> Option<&str> {
    let lower = scope.to_ascii_lowercase();
    let at = lower.find("/galleries/")? + "/galleries/".len();
    let end = lower[at..].find('/').map_or(scope.len(), |i| at + i);
    Some(&scope[..end])
}

/// The first `'...'` after `marker` in `text`.
fn quoted_after<'a>(text: &'a str, marker: &str) -> Option<&'a str> {
    let rest = &text[text.find(marker)? + marker.len()..];
    let start = rest.find('\'')? + 1;
    let len = rest[start..].find('\'')?;
    Some(&rest[start..start + len])
}

/// The hint for an Entra token error (entra.md §2).
pub fn entra_hint(e: &EntraError) -> Option<String> {
    let app = &e.client_id;
    let tenant = &e.tenant;
    let text = match e.aadsts()? {
        700016 => format!(
            "the app {app} has no service principal in tenant {tenant}: an admin must consent ({}/{tenant}/adminconsent?client_id={app}) or run `az ad sp create --id {app}` in that tenant",
            e.authority.trim_end_matches('/')
        ),
        7000215 => format!("the client secret for app {app} is wrong: use the secret's Value, not its Secret ID"),
        7000222 => format!(
            "the client secret of app {app} has expired: create a new one (`az ad app credential reset --id {app} --append`) and update the variable or file galleon reads"
        ),
        700211..=700213 | 70021 | 7002138 => {
            let claims = e
                .assertion
                .as_ref()
                .map(|c| format!(" (presented issuer '{}', subject '{}', audience '{}')", c.issuer, c.subject, c.audience))
                .unwrap_or_default();
            format!(
                "no federated credential of app {app} matches the token{claims}: its issuer, subject and audience must equal the federated credential's exactly (case-sensitive; audience api://AzureADTokenExchange)"
            )
        }
        700024 => "the federated token has expired: CI and Kubernetes tokens last minutes, re-run the job or check AZURE_FEDERATED_TOKEN_FILE is being refreshed".to_string(),
        90002 => format!("tenant {tenant} does not exist in this cloud: check the tenant id and the cloud (--endpoint)"),
        500011 => format!("tenant {tenant} has no service principal for the resource (Azure Resource Manager): is the tenant in the right cloud?"),
        7000218 => format!("no client secret or assertion was sent for app {app}: check the credential source"),
        _ => return None,
    };
    Some(text)
}

/// The hint for a credential configuration error.
pub fn credential_hint(e: &CredentialError) -> Option<String> {
    match e {
        CredentialError::ManagedIdentityCrossTenant { .. } => Some(
            "Azure has no cross-tenant managed identity: use an app registration (client secret or federated credential) for tenants outside the identity's own".into(),
        ),
        CredentialError::MissingEnv { var } => Some(format!("export {var} before running galleon")),
        CredentialError::AzureCli { .. } => Some("run `az login` (with --tenant for each tenant galleon uses) and retry".into()),
        _ => None,
    }
}

#[cfg(test)]
#[path = "hints_tests.rs"]
mod tests;
