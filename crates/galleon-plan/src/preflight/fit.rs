//! Does the VM fit its image? OS state against `osProfile`, Hyper-V generation and security
//! type: the synchronous 400s of the VM PUT (arm-errors.md §4.2-4.4), found at plan time.

use serde_json::Value;

use crate::{CheckResult, CheckStatus};

pub(super) fn fit(
    def: &Value,
    vm: &Value,
    def_address: &str,
    check: &super::image::Check<'_>,
) -> CheckResult {
    let p = &def["properties"];
    let os_state = p["osState"].as_str().unwrap_or("Generalized");
    let generation = p["hyperVGeneration"].as_str().unwrap_or("V1");
    let image_security = p["features"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| {
            f["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case("SecurityType"))
        })
        .and_then(|f| f["value"].as_str())
        .unwrap_or("Standard")
        .to_ascii_lowercase();
    let vm_security = vm
        .pointer("/properties/securityProfile/securityType")
        .and_then(Value::as_str)
        .unwrap_or("Standard")
        .to_ascii_lowercase();
    let has_os_profile = vm.pointer("/properties/osProfile").is_some();
    let fail = |title: &str, message: String, fix: String| {
        check(
            "image-fits-vm",
            CheckStatus::Fail,
            title.into(),
            message,
            Some(fix),
        )
    };

    if os_state.eq_ignore_ascii_case("Specialized") && has_os_profile {
        return fail(
            "the image is specialized but the VM sets an admin user",
            format!(
                "{def_address} is Specialized: Azure answers \"Parameter 'osProfile' is not allowed.\""
            ),
            "remove admin_username and ssh_public_key from the VM, or use a generalized image"
                .into(),
        );
    }
    if os_state.eq_ignore_ascii_case("Generalized") && !has_os_profile {
        return fail(
            "the image is generalized but the VM sets no admin user",
            format!(
                "{def_address} is Generalized: Azure answers \"Required parameter 'osProfile' is missing (null).\""
            ),
            "set admin_username and ssh_public_key on the VM".into(),
        );
    }
    if vm_security != "standard" && generation.eq_ignore_ascii_case("V1") {
        return fail(
            "the VM's security type needs a generation 2 image",
            format!(
                "{def_address} is Hyper-V generation V1; Trusted Launch and confidential VMs boot only generation 2"
            ),
            "use a V2 image, or set security_type: Standard on the VM".into(),
        );
    }
    let supports = |vm_type: &str| match vm_type {
        "standard" => !matches!(image_security.as_str(), "trustedlaunch" | "confidentialvm"),
        "trustedlaunch" => matches!(
            image_security.as_str(),
            "trustedlaunch" | "trustedlaunchsupported" | "trustedlaunchandconfidentialvmsupported"
        ),
        "confidentialvm" => matches!(
            image_security.as_str(),
            "confidentialvm"
                | "confidentialvmsupported"
                | "trustedlaunchandconfidentialvmsupported"
        ),
        _ => true,
    };
    if !supports(&vm_security) {
        return fail(
            "the VM's security type does not fit the image",
            format!(
                "{def_address} has security type {image_security}; the VM asks for {vm_security}. Azure answers e.g. \"The provided gallery image only supports creation of VMs and VM Scale Sets with 'TrustedLaunch' security type.\""
            ),
            "set the VM's security_type to one the image supports, or change the image definition's security_type (which replaces it)".into(),
        );
    }
    check(
        "image-fits-vm",
        CheckStatus::Pass,
        format!("{def_address} fits its VMs"),
        String::new(),
        None,
    )
}
