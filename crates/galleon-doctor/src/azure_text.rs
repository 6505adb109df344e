//! Azure's own wording for the answers the doctor predicts, so a user can match the dry run's
//! output against what `az vm create` printed. Templates from arm-errors.md (section noted on
//! each); `[R]` there means reconstructed by substitution, and the same holds here.

/// §1.2 variant B: the caller's tenant cannot reach the image's subscription (no auxiliary token
/// for that tenant). Note Azure's quirks: no client id, comma before "however".
pub fn linked_tenant(linked_action: &str, vm_id: &str, tenant: &str, subscription: &str) -> String {
    format!(
        "The client has permission to perform action '{linked_action}' on scope '{vm_id}', however the current tenant '{tenant}' is not authorized to access linked subscription '{subscription}'."
    )
}

/// §1.2 sub-variant: the linked subscription does not exist (trailing space as captured).
pub fn linked_subscription_missing(linked_action: &str, vm_id: &str, subscription: &str) -> String {
    format!(
        "The client has permission to perform action '{linked_action}' on scope '{vm_id}', however the linked subscription '{subscription}' was not found. "
    )
}

/// §1.1 variant A: the token reached the image's tenant, the principal has no read role there.
pub fn linked_role(
    client: &str,
    object_id: &str,
    vm_id: &str,
    linked_action: &str,
    image_id: &str,
) -> String {
    format!(
        "The client '{client}' with object id '{object_id}' has permission to perform action 'Microsoft.Compute/virtualMachines/write' on scope '{vm_id}'; however, it does not have permission to perform action(s) '{linked_action}' on the linked scope(s) '{image_id}' (respectively) or the linked scope(s) are invalid."
    )
}

/// §2: no role allowing `action` on `scope`.
pub fn authorization_failed(client: &str, object_id: &str, action: &str, scope: &str) -> String {
    format!(
        "The client '{client}' with object id '{object_id}' does not have authorization to perform action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials."
    )
}

/// §3: the primary token's tenant does not own the subscription.
pub fn wrong_issuer(token_tenant: &str, subscription_tenant: &str) -> String {
    format!(
        "The access token is from the wrong issuer 'https://sts.windows.net/{token_tenant}/'. It must match the tenant 'https://sts.windows.net/{subscription_tenant}/' associated with this subscription. Please use the authority (URL) 'https://login.windows.net/{subscription_tenant}' to get the token. Note, if the subscription is transferred to another tenant there is no impact to the services, but information about new tenant could take time to propagate (up to an hour). If you just transferred your subscription and see this error message, please try back later."
    )
}

/// §6.
pub fn subscription_not_found(subscription: &str) -> String {
    format!("The subscription '{subscription}' could not be found.")
}

/// §6.
pub fn resource_group_not_found(resource_group: &str) -> String {
    format!("Resource group '{resource_group}' could not be found.")
}

/// §4.1: missing, unreplicated, or (for a definition) no eligible version in the region. The
/// message itself starts and ends with a literal `"`, as in every capture.
pub fn gallery_image_not_found(image_id: &str, region: &str) -> String {
    format!(
        "\"The gallery image {image_id} is not available in {region} region. Please contact image owner to replicate to this region, or change your requested region.\""
    )
}

/// §4.2, specialized image with osProfile.
pub const OS_PROFILE_NOT_ALLOWED: &str = "Parameter 'osProfile' is not allowed.";

/// §4.2, generalized image without osProfile.
pub const OS_PROFILE_MISSING: &str = "Required parameter 'osProfile' is missing (null).";

/// §4.3: `generation` is the image's (1 or 2).
pub fn generation(size: &str, generation: u8) -> String {
    format!(
        "The selected VM size '{size}' cannot boot Hypervisor Generation '{generation}'. If this was a Create operation please check that the Hypervisor Generation of the Image matches the Hypervisor Generation of the selected VM Size. If this was an Update operation please select a Hypervisor Generation '{generation}' VM Size. For more information, see https://aka.ms/azuregen2vm"
    )
}

/// §4.4 (TrustedLaunch confirmed verbatim; ConfidentialVM by analogy).
pub fn security_type(required: &str) -> String {
    format!(
        "The provided gallery image only supports creation of VMs and VM Scale Sets with '{required}' security type."
    )
}
