//! Step 4: the VM fits the image: OS state against the admin credentials, Hyper-V generation
//! against the size, security type against the VM's security profile (arm-errors.md §4.2-4.4).
//! These are Compute's synchronous 400s; the image definition's properties tell them all.

use serde_json::Value;

use super::Facts;
use crate::azure_text as text;
use crate::report::Check;
use crate::setup::{AdminProfile, SecurityType, Setup};

/// Sizes and the Hyper-V generations they boot (1, 2). Source: learn.microsoft.com
/// "Generation 2 VMs on Azure" and the series pages: Av2 is Gen1 only; v6, Arm64 (`p`) and
/// confidential (DC/EC a s v5) sizes are Gen2 only. Unknown sizes are not judged.
pub const SIZES: &[(&str, &[u8])] = &[
    ("Standard_A1_v2", &[1]),
    ("Standard_A2_v2", &[1]),
    ("Standard_A4_v2", &[1]),
    ("Standard_A8_v2", &[1]),
    ("Standard_B1s", &[1, 2]),
    ("Standard_B1ms", &[1, 2]),
    ("Standard_B2s", &[1, 2]),
    ("Standard_B2ms", &[1, 2]),
    ("Standard_DS1_v2", &[1, 2]),
    ("Standard_DS2_v2", &[1, 2]),
    ("Standard_D2s_v3", &[1, 2]),
    ("Standard_D4s_v3", &[1, 2]),
    ("Standard_D2s_v4", &[1, 2]),
    ("Standard_D2s_v5", &[1, 2]),
    ("Standard_D4s_v5", &[1, 2]),
    ("Standard_D8s_v5", &[1, 2]),
    ("Standard_D2as_v5", &[1, 2]),
    ("Standard_E2s_v5", &[1, 2]),
    ("Standard_F2s_v2", &[1, 2]),
    ("Standard_D2s_v6", &[2]),
    ("Standard_D4s_v6", &[2]),
    ("Standard_D2ps_v5", &[2]),
    ("Standard_DC2as_v5", &[2]),
    ("Standard_DC4as_v5", &[2]),
    ("Standard_EC2as_v5", &[2]),
];

/// The generations `size` boots, when galleon knows the size.
pub fn size_generations(size: &str) -> Option<&'static [u8]> {
    SIZES
        .iter()
        .find(|(s, _)| s.eq_ignore_ascii_case(size))
        .map(|(_, g)| *g)
}

/// Whether a VM of security type `vm` may boot an image whose definition declares `image`
/// (the `SecurityType` feature; values from azure-cli#26632, arm-errors.md §4.4).
fn security_fits(image: &str, vm: SecurityType) -> Result<(), &'static str> {
    use SecurityType::{ConfidentialVm as C, Standard as S, TrustedLaunch as T};
    let (ok, required) = match image.to_ascii_lowercase().as_str() {
        "trustedlaunch" => (vm == T, "TrustedLaunch"),
        "confidentialvm" => (vm == C, "ConfidentialVM"),
        "trustedlaunchsupported" => (matches!(vm, S | T), "TrustedLaunch"),
        "confidentialvmsupported" => (matches!(vm, S | C), "ConfidentialVM"),
        _ => (true, "Standard"),
    };
    if ok { Ok(()) } else { Err(required) }
}

fn security_feature(def: &Value) -> Option<&str> {
    def["properties"]["features"].as_array()?.iter().find(|f| {
        f["name"]
            .as_str()
            .is_some_and(|n| n.eq_ignore_ascii_case("SecurityType"))
    })?["value"]
        .as_str()
}

pub(super) fn checks(setup: &Setup, facts: &Facts) -> Vec<Check> {
    let os_t = "the admin credentials fit the image's OS state";
    let gen_t = format!(
        "size {} boots the image's Hyper-V generation",
        setup.vm_size
    );
    let sec_t = format!(
        "security type {} fits the image definition",
        setup.security_type.as_str()
    );
    let Some(def) = &facts.definition else {
        let why = "the image definition could not be read (see steps 2-3)";
        return vec![
            Check::skip("vm.os_state", 4, os_t, why),
            Check::skip("vm.generation", 4, gen_t, why),
            Check::skip("vm.security_type", 4, sec_t, why),
        ];
    };
    let p = &def["properties"];
    let os_state = p["osState"].as_str().unwrap_or("Generalized");
    let specialized = os_state.eq_ignore_ascii_case("Specialized");
    let os = match (&setup.admin, specialized) {
        (AdminProfile::None, true) => Check::pass("vm.os_state", 4, os_t, "Specialized image, no admin credentials"),
        (AdminProfile::None, false) => Check::fail(
            "vm.os_state",
            4,
            os_t,
            "the image is Generalized and no admin credentials will be passed",
            "pass --admin-username with --ssh-key (or a password), or use a Specialized image version",
        )
        .predicting(400, "InvalidParameter", text::OS_PROFILE_MISSING),
        (_, true) => Check::fail(
            "vm.os_state",
            4,
            os_t,
            "the image is Specialized: it boots as captured and takes no admin credentials",
            "drop --admin-username/--ssh-key/--admin-password, or use a Generalized image version",
        )
        .predicting(400, "InvalidParameter", text::OS_PROFILE_NOT_ALLOWED),
        (_, false) => Check::pass("vm.os_state", 4, os_t, "Generalized image, admin credentials given"),
    };
    let generation: u8 = if p["hyperVGeneration"]
        .as_str()
        .is_some_and(|g| g.eq_ignore_ascii_case("V2"))
    {
        2
    } else {
        1
    };
    let gen_check = match size_generations(&setup.vm_size) {
        None => Check::skip("vm.generation", 4, gen_t, format!("galleon does not know size {}; the image is V{generation}", setup.vm_size)),
        Some(gens) if gens.contains(&generation) => Check::pass("vm.generation", 4, gen_t, format!("the image is V{generation}")),
        Some(gens) => Check::fail(
            "vm.generation",
            4,
            gen_t,
            format!("the image is V{generation}; {} boots only generation {}", setup.vm_size, gens.iter().map(u8::to_string).collect::<Vec<_>>().join("/")),
            format!("pick a size that boots generation {generation} (Standard_D2s_v5 boots both), or use a V{} image", gens[0]),
        )
        .predicting(400, "BadRequest", text::generation(&setup.vm_size, generation)),
    };
    let feature = security_feature(def).unwrap_or("Standard");
    let mut sec = match security_fits(feature, setup.security_type) {
        Ok(()) => Check::pass(
            "vm.security_type",
            4,
            sec_t.clone(),
            format!("the image definition declares {feature}"),
        ),
        Err(required) => Check::fail(
            "vm.security_type",
            4,
            sec_t.clone(),
            format!("the image definition declares SecurityType {feature}"),
            format!("create the VM with --security-type {required}"),
        )
        .predicting(400, "BadRequest", text::security_type(required)),
    };
    // Trusted Launch and Confidential VMs need a Gen2 image whatever the definition declares.
    if sec.status == crate::Status::Pass
        && setup.security_type != SecurityType::Standard
        && generation == 1
    {
        sec = Check::fail(
            "vm.security_type",
            4,
            sec_t,
            format!(
                "{} needs a V2 image; this one is V1",
                setup.security_type.as_str()
            ),
            "use --security-type Standard, or a V2 image",
        );
    }
    vec![os, gen_check, sec]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_types_follow_the_definition_feature() {
        use SecurityType::*;
        assert_eq!(
            security_fits("TrustedLaunch", Standard),
            Err("TrustedLaunch")
        );
        assert_eq!(security_fits("TrustedLaunch", TrustedLaunch), Ok(()));
        assert_eq!(security_fits("TrustedLaunchSupported", Standard), Ok(()));
        assert_eq!(
            security_fits("TrustedLaunchSupported", ConfidentialVm),
            Err("TrustedLaunch")
        );
        assert_eq!(
            security_fits("ConfidentialVM", TrustedLaunch),
            Err("ConfidentialVM")
        );
        assert_eq!(
            security_fits("TrustedLaunchAndConfidentialVmSupported", ConfidentialVm),
            Ok(())
        );
        assert_eq!(security_fits("Standard", Standard), Ok(()));
    }

    #[test]
    fn size_table_knows_gen1_only_and_gen2_only_sizes() {
        assert_eq!(size_generations("standard_a1_v2"), Some(&[1u8][..]));
        assert_eq!(size_generations("Standard_D2s_v6"), Some(&[2u8][..]));
        assert_eq!(size_generations("Standard_Imaginary"), None);
    }
}
