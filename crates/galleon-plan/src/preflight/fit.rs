//! Does the VM fit its image? OS state against `osProfile`, Hyper-V generation against the
//! security type and the VM size, and security type: the synchronous 400s of the VM PUT
//! (arm-errors.md §4.2-4.4), found at plan time. Manifest validation already checks sizes of
//! images the workspace declares; this check sees the live definition, so it also covers
//! images referenced by raw id.

use galleon_manifest::model::{Architecture, HyperVGeneration};
use galleon_manifest::validate::compat::SIZES;
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
    let vm_security = crate::field(vm, &["properties", "securityProfile", "securityType"])
        .and_then(Value::as_str)
        .unwrap_or("Standard")
        .to_ascii_lowercase();
    let has_os_profile = crate::field(vm, &["properties", "osProfile"]).is_some();
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
    let size = crate::field(vm, &["properties", "hardwareProfile", "vmSize"])
        .and_then(Value::as_str)
        .unwrap_or_default();
    let architecture = p["architecture"].as_str().unwrap_or("x64");
    if let Some((title, message, fix)) = size_misfit(size, generation, architecture) {
        return fail(title, format!("{def_address}: {message}"), fix);
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

/// The size against the image's generation and architecture, from the manifest's offline table
/// of sizes (unknown sizes pass: Azure adds sizes faster than any table).
fn size_misfit(
    size: &str,
    generation: &str,
    architecture: &str,
) -> Option<(&'static str, String, String)> {
    let (_, gens, arch) = SIZES
        .iter()
        .find(|(s, _, _)| s.eq_ignore_ascii_case(size))?;
    let wanted = if generation.eq_ignore_ascii_case("V2") {
        HyperVGeneration::V2
    } else {
        HyperVGeneration::V1
    };
    let image_arch = if architecture.eq_ignore_ascii_case("Arm64") {
        Architecture::Arm64
    } else {
        Architecture::X64
    };
    let fitting: Vec<&str> = SIZES
        .iter()
        .filter(|(_, g, a)| g.contains(&wanted) && *a == image_arch)
        .map(|(s, _, _)| *s)
        .take(3)
        .collect();
    let n = if wanted == HyperVGeneration::V2 { 2 } else { 1 };
    if !gens.contains(&wanted) {
        // Compute's wording (arm-errors.md §4.3): `<gen>` is the image's generation.
        return Some((
            "the VM size cannot boot the image's Hyper-V generation",
            format!(
                "the image is Hyper-V generation V{n}; Azure answers 400 BadRequest \"The selected VM size '{size}' cannot boot Hypervisor Generation '{n}'.\""
            ),
            format!(
                "pick a size that boots generation {n} (e.g. {}), or use a V{} image",
                fitting.join(", "),
                if n == 2 { 1 } else { 2 }
            ),
        ));
    }
    if *arch != image_arch {
        return Some((
            "the VM size does not fit the image's architecture",
            format!("the image is {architecture}; size '{size}' is {arch:?}"),
            format!(
                "pick a {architecture} size (e.g. {}), or an image of the size's architecture",
                fitting.join(", ")
            ),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::size_misfit;

    #[test]
    fn a_gen1_only_size_cannot_boot_a_v2_image_and_the_fix_names_gen2_sizes() {
        let (title, message, fix) = size_misfit("standard_a2_v2", "V2", "x64").unwrap();
        assert!(title.contains("Hyper-V generation"));
        assert!(
            message.contains("cannot boot Hypervisor Generation '2'"),
            "{message}"
        );
        assert!(
            fix.contains("generation 2") && fix.contains("Standard_B1s"),
            "{fix}"
        );
        assert!(!fix.contains("Standard_A1_v2"), "{fix}");
    }

    #[test]
    fn a_gen2_only_size_cannot_boot_a_v1_image() {
        let (_, message, fix) = size_misfit("Standard_DC2as_v5", "V1", "x64").unwrap();
        assert!(message.contains("Generation '1'"), "{message}");
        assert!(fix.contains("Standard_A1_v2"), "{fix}");
    }

    #[test]
    fn sizes_that_boot_the_generation_or_are_unknown_pass() {
        assert_eq!(size_misfit("Standard_D2s_v5", "V2", "x64"), None);
        assert_eq!(size_misfit("Standard_D2s_v5", "v1", "x64"), None);
        assert_eq!(size_misfit("Standard_Z99_v9", "V2", "x64"), None);
    }

    #[test]
    fn an_arm64_image_needs_an_arm64_size() {
        let (title, _, fix) = size_misfit("Standard_D2s_v5", "V2", "Arm64").unwrap();
        assert!(title.contains("architecture"));
        assert!(fix.contains("Standard_D2ps_v5"), "{fix}");
        assert_eq!(size_misfit("Standard_D2ps_v5", "V2", "Arm64"), None);
    }
}
