//! What fits what: VM sizes and image generations/architectures, VM and image security types,
//! and the OS profile a Generalized or Specialized image needs.
//!
//! Kept apart from the rule driver in `vms.rs` because these tables are the part that needs
//! updating as Azure adds sizes and security types.

use crate::diag::{Code, Diagnostic};
use crate::model::{
    Architecture, HyperVGeneration, ImageSecurityType, OsState, OsType, VmSecurityType,
};
use crate::resolve::GalleryImageSpec;

/// Common sizes with the Hyper-V generations and architecture they support. Unknown sizes pass.
/// Source: learn.microsoft.com/azure/virtual-machines/generation-2 ("Generation 2 VM sizes")
/// and the per-series pages (Av2: Gen1 only; Mv2, DCasv5 and Dpsv5 (Arm64): Gen2 only).
pub const SIZES: &[(&str, &[HyperVGeneration], Architecture)] = &[
    ("Standard_A1_v2", &[HyperVGeneration::V1], Architecture::X64),
    ("Standard_A2_v2", &[HyperVGeneration::V1], Architecture::X64),
    ("Standard_A4_v2", &[HyperVGeneration::V1], Architecture::X64),
    (
        "Standard_B1s",
        &[HyperVGeneration::V1, HyperVGeneration::V2],
        Architecture::X64,
    ),
    (
        "Standard_B2s",
        &[HyperVGeneration::V1, HyperVGeneration::V2],
        Architecture::X64,
    ),
    (
        "Standard_B2ms",
        &[HyperVGeneration::V1, HyperVGeneration::V2],
        Architecture::X64,
    ),
    (
        "Standard_D2s_v3",
        &[HyperVGeneration::V1, HyperVGeneration::V2],
        Architecture::X64,
    ),
    (
        "Standard_D2s_v5",
        &[HyperVGeneration::V1, HyperVGeneration::V2],
        Architecture::X64,
    ),
    (
        "Standard_D4s_v5",
        &[HyperVGeneration::V1, HyperVGeneration::V2],
        Architecture::X64,
    ),
    (
        "Standard_D8s_v5",
        &[HyperVGeneration::V1, HyperVGeneration::V2],
        Architecture::X64,
    ),
    (
        "Standard_E2s_v5",
        &[HyperVGeneration::V1, HyperVGeneration::V2],
        Architecture::X64,
    ),
    (
        "Standard_F2s_v2",
        &[HyperVGeneration::V1, HyperVGeneration::V2],
        Architecture::X64,
    ),
    (
        "Standard_D2ps_v5",
        &[HyperVGeneration::V2],
        Architecture::Arm64,
    ),
    (
        "Standard_D4ps_v5",
        &[HyperVGeneration::V2],
        Architecture::Arm64,
    ),
    (
        "Standard_DC2as_v5",
        &[HyperVGeneration::V2],
        Architecture::X64,
    ),
    (
        "Standard_M208ms_v2",
        &[HyperVGeneration::V2],
        Architecture::X64,
    ),
];

/// Key types Azure accepts for Linux VMs: RSA and Ed25519 (Azure docs, "Supported SSH key
/// formats", learn.microsoft.com/azure/virtual-machines/linux/mac-create-ssh-keys).
pub(crate) const SSH_KEY_TYPES: &[&str] = &["ssh-rsa ", "ssh-ed25519 "];

/// Whether a VM of `vm` security type may boot an image declaring `image`.
pub fn security_fits(image: ImageSecurityType, vm: VmSecurityType) -> bool {
    use ImageSecurityType as I;
    use VmSecurityType as V;
    match image {
        I::Standard => vm == V::Standard,
        I::TrustedLaunch => vm == V::TrustedLaunch,
        I::TrustedLaunchSupported => matches!(vm, V::Standard | V::TrustedLaunch),
        I::TrustedLaunchAndConfidentialVmSupported => true,
        I::ConfidentialVm => vm == V::ConfidentialVm,
        I::ConfidentialVmSupported => matches!(vm, V::Standard | V::ConfidentialVm),
    }
}

pub(crate) fn os_profile(
    key: &str,
    vm: &crate::model::VirtualMachine,
    def: &GalleryImageSpec,
    file: usize,
    out: &mut Vec<Diagnostic>,
) {
    match def.os_state {
        OsState::Specialized => {
            let set = [
                vm.admin_username
                    .as_ref()
                    .map(|a| ("admin_username", a.loc)),
                vm.ssh_public_key
                    .as_ref()
                    .map(|k| ("ssh_public_key", k.loc)),
            ];
            for (field, loc) in set.into_iter().flatten() {
                out.push(
                    Diagnostic::at(
                        Code::OsStateMismatch,
                        file,
                        loc,
                        format!("VM `{key}` sets {field}, but its image is Specialized"),
                    )
                    .label("not allowed for a Specialized image")
                    .help("a Specialized image boots as captured: remove admin_username and ssh_public_key"),
                );
            }
        }
        OsState::Generalized => {
            let missing: Vec<&str> = [
                vm.admin_username.is_none().then_some("admin_username"),
                (def.os_type == OsType::Linux && vm.ssh_public_key.is_none())
                    .then_some("ssh_public_key"),
            ]
            .into_iter()
            .flatten()
            .collect();
            if !missing.is_empty() {
                out.push(
                    Diagnostic::at(
                        Code::OsStateMismatch,
                        file,
                        vm.image.loc,
                        format!(
                            "VM `{key}` uses a Generalized image but has no {}",
                            missing.join(" or ")
                        ),
                    )
                    .label("Generalized image needs an OS profile")
                    .help("set admin_username (and ssh_public_key for Linux)"),
                );
            }
        }
    }
}

pub(crate) fn security(
    key: &str,
    vm: &crate::model::VirtualMachine,
    st: VmSecurityType,
    def: &GalleryImageSpec,
    file: usize,
    out: &mut Vec<Diagnostic>,
) {
    let loc = vm
        .security_type
        .as_ref()
        .map(|s| s.loc)
        .unwrap_or(vm.image.loc);
    if !security_fits(def.security_type, st) {
        out.push(
            Diagnostic::at(
                Code::SecurityTypeMismatch,
                file,
                loc,
                format!("VM `{key}` is {st:?} but its image definition is {:?}", def.security_type),
            )
            .label("security type does not fit the image")
            .help("Azure: \"The provided gallery image only supports creation of VMs and VM Scale Sets with '<type>' security type\""),
        );
    } else if st != VmSecurityType::Standard && def.hyper_v_generation == HyperVGeneration::V1 {
        out.push(
            Diagnostic::at(
                Code::SecurityTypeMismatch,
                file,
                loc,
                format!(
                    "VM `{key}` is {st:?}, which needs a V2 (Gen 2) image, but its image is V1"
                ),
            )
            .label("needs a Generation 2 image"),
        );
    } else if st == VmSecurityType::ConfidentialVm && !is_confidential_size(&vm.size.value) {
        out.push(
            Diagnostic::at(
                Code::SecurityTypeMismatch,
                file,
                vm.size.loc,
                format!(
                    "VM `{key}` is a Confidential VM, but size `{}` is not a confidential size",
                    vm.size.value
                ),
            )
            .label("not a confidential VM size")
            .help("use a DCasv5/DCadsv5/ECasv5/ECadsv5 (or v6) size, e.g. Standard_DC2as_v5"),
        );
    }
}

/// Confidential VM sizes: the DC/EC `a`/`e` series, v5 and v6
/// (learn.microsoft.com/azure/confidential-computing/confidential-vm-overview, "Sizes").
pub fn is_confidential_size(size: &str) -> bool {
    static RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?i)^Standard_(DC|EC)[0-9]+[ae]d?s_v[56]$").expect("static regex")
    });
    RE.is_match(size)
}

pub(crate) fn size(
    key: &str,
    vm: &crate::model::VirtualMachine,
    def: &GalleryImageSpec,
    file: usize,
    out: &mut Vec<Diagnostic>,
) {
    let Some((_, gens, arch)) = SIZES
        .iter()
        .find(|(s, _, _)| s.eq_ignore_ascii_case(&vm.size.value))
    else {
        return;
    };
    if !gens.contains(&def.hyper_v_generation) {
        out.push(
            Diagnostic::at(
                Code::HyperVGenerationMismatch,
                file,
                vm.size.loc,
                format!(
                    "size `{}` of VM `{key}` does not support Hyper-V generation {:?} of its image",
                    vm.size.value, def.hyper_v_generation
                ),
            )
            .label(format!("supports {gens:?}"))
            .help("pick a size that supports the image's generation"),
        );
    } else if *arch != def.architecture {
        out.push(
            Diagnostic::at(
                Code::HyperVGenerationMismatch,
                file,
                vm.size.loc,
                format!(
                    "size `{}` of VM `{key}` is {arch:?}, its image is {:?}",
                    vm.size.value, def.architecture
                ),
            )
            .label("architecture mismatch"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_matrix() {
        use ImageSecurityType as I;
        use VmSecurityType as V;
        assert!(security_fits(I::TrustedLaunchSupported, V::Standard));
        assert!(security_fits(I::TrustedLaunchSupported, V::TrustedLaunch));
        assert!(!security_fits(I::TrustedLaunchSupported, V::ConfidentialVm));
        assert!(!security_fits(I::TrustedLaunch, V::Standard));
        assert!(!security_fits(I::ConfidentialVm, V::TrustedLaunch));
        assert!(security_fits(I::ConfidentialVmSupported, V::Standard));
        assert!(!security_fits(I::Standard, V::TrustedLaunch));
        assert!(security_fits(
            I::TrustedLaunchAndConfidentialVmSupported,
            V::ConfidentialVm
        ));
    }

    #[test]
    fn confidential_sizes() {
        assert!(is_confidential_size("Standard_DC2as_v5"));
        assert!(is_confidential_size("Standard_EC4ads_v5"));
        assert!(is_confidential_size("Standard_DC8es_v6"));
        assert!(!is_confidential_size("Standard_D2s_v5"));
        assert!(!is_confidential_size("Standard_DC2s_v3"));
    }

    #[test]
    fn size_table_is_unique_and_nonempty() {
        for (i, (name, gens, _)) in SIZES.iter().enumerate() {
            assert!(!gens.is_empty(), "{name}");
            assert!(SIZES[..i].iter().all(|(n, _, _)| n != name), "{name} twice");
        }
    }
}
