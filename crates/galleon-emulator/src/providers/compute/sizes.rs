//! The VM sizes the emulator offers, with the two facts Compute checks on a VM PUT: how many
//! cores a size consumes (regional cores quota) and which Hyper-V generations it boots.
//! A small, real subset of Azure's catalogue (learn.microsoft.com "Azure VM sizes"; generation
//! support from each series page): enough for a Gen1-only size, Gen2-only sizes and common
//! sizes that boot both.

/// One VM size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VmSize {
    /// Size name as Azure spells it.
    pub name: &'static str,
    /// vCPUs counted against `Total Regional Cores`.
    pub cores: u32,
    /// Boots Hyper-V generation 1 images.
    pub gen1: bool,
    /// Boots Hyper-V generation 2 images.
    pub gen2: bool,
    /// Supports the ConfidentialVM security type (DCasv5/ECasv5 families).
    pub confidential: bool,
}

const fn size(name: &'static str, cores: u32, gen1: bool, gen2: bool, cvm: bool) -> VmSize {
    VmSize {
        name,
        cores,
        gen1,
        gen2,
        confidential: cvm,
    }
}

/// The catalogue. Av2 is Gen1-only; the v6 Intel/AMD and Arm64 (`p`) families are Gen2-only.
pub const SIZES: &[VmSize] = &[
    size("Standard_A1_v2", 1, true, false, false),
    size("Standard_A2_v2", 2, true, false, false),
    size("Standard_B1s", 1, true, true, false),
    size("Standard_B1ms", 1, true, true, false),
    size("Standard_B2s", 2, true, true, false),
    size("Standard_B2ms", 2, true, true, false),
    size("Standard_DS1_v2", 1, true, true, false),
    size("Standard_DS2_v2", 2, true, true, false),
    size("Standard_D2s_v3", 2, true, true, false),
    size("Standard_D4s_v3", 4, true, true, false),
    size("Standard_D2s_v4", 2, true, true, false),
    size("Standard_D2s_v5", 2, true, true, false),
    size("Standard_D4s_v5", 4, true, true, false),
    size("Standard_D8s_v5", 8, true, true, false),
    size("Standard_D2as_v5", 2, true, true, false),
    size("Standard_E2s_v5", 2, true, true, false),
    size("Standard_F2s_v2", 2, true, true, false),
    size("Standard_D2s_v6", 2, false, true, false),
    size("Standard_D4s_v6", 4, false, true, false),
    size("Standard_D2ps_v5", 2, false, true, false),
    size("Standard_DC2as_v5", 2, false, true, true),
    size("Standard_DC4as_v5", 4, false, true, true),
    size("Standard_EC2as_v5", 2, false, true, true),
];

/// Looks a size up, case-insensitively as Compute does.
pub fn find(name: &str) -> Option<&'static VmSize> {
    SIZES.iter().find(|s| s.name.eq_ignore_ascii_case(name))
}

impl VmSize {
    /// Whether this size boots an image of generation `gen` (1 or 2).
    pub fn boots(&self, generation: u8) -> bool {
        match generation {
            2 => self.gen2,
            _ => self.gen1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_is_case_insensitive_and_knows_generations() {
        let s = find("standard_d2s_v5").unwrap();
        assert_eq!(s.cores, 2);
        assert!(s.boots(1) && s.boots(2));
        assert!(!find("Standard_A1_v2").unwrap().boots(2));
        assert!(!find("Standard_D2s_v6").unwrap().boots(1));
        assert!(find("Standard_Imaginary").is_none());
    }
}
