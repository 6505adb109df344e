//! Image version rules: a usable source, target regions that include the gallery's region, no
//! duplicate regions, a real end-of-life date.
//!
//! Azure texts these mirror (learn.microsoft.com/azure/virtual-machines/troubleshooting-shared-images,
//! summarised in /work/shared/azure/arm-errors.md §5.3): "Gallery image version publishing
//! profile regions <...> must contain the location of image version <...>", "Property id <...>
//! is invalid. Expect fully qualified resource Id that start with '/subscriptions/{subscriptionId}'",
//! "The source id: <...> must either be a managed image, virtual machine or another gallery image
//! version", "Duplicate regions are not allowed in target publishing regions".

use time::Date;
use time::macros::format_description;

use crate::diag::{Code, Diagnostic};
use crate::load::Manifest;

/// Region names compare without case and spaces (`West Europe` is `westeurope`).
pub fn same_region(a: &str, b: &str) -> bool {
    norm(a) == norm(b)
}

fn norm(r: &str) -> String {
    r.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// ARM types an image version may be built from.
const SOURCE_TYPES: &[&str] = &[
    "microsoft.compute/images",
    "microsoft.compute/virtualmachines",
    "microsoft.compute/disks",
    "microsoft.compute/snapshots",
    "microsoft.compute/galleries/images/versions",
];

/// The resource type of an ARM id (`Microsoft.Compute/galleries/images/versions`), if well formed.
pub fn arm_type(id: &str) -> Option<String> {
    let rest = id.strip_prefix("/subscriptions/")?;
    let segs: Vec<&str> = rest.split('/').collect();
    // sub, resourceGroups, rg, providers, ns, type, name, [type, name]...
    if segs.len() < 7
        || segs.iter().any(|s| s.is_empty())
        || !segs[1].eq_ignore_ascii_case("resourceGroups")
        || !segs[3].eq_ignore_ascii_case("providers")
        || segs.len().is_multiple_of(2)
    {
        return None;
    }
    let mut t = segs[4].to_owned();
    for pair in segs[5..].chunks(2) {
        t.push('/');
        t.push_str(pair[0]);
    }
    Some(t)
}

/// Source kinds a definition's OS state and security type allow. Azure's texts (arm-errors.md
/// §5.3 and §4.4): "Cannot create Gallery Image Version from: <id> since the OS State in the
/// parent gallery image ('Specialized') is not 'Generalized'" (managed images are always
/// generalized); "Confidential VM is not supported for the source id <id>. Currently Snapshot,
/// Disk and VM sources are supported"; "The security type 'TrustedLaunchSupported' is not
/// supported for the source id <id>. Currently only Vhd Blob, User Image and Gallery Image
/// Version sources are supported".
fn source_fits(source_type: &str, def: &crate::model::ImageDefinition) -> Option<&'static str> {
    use crate::model::{ImageSecurityType as S, OsState};
    let t = source_type.to_lowercase();
    let managed_image = t == "microsoft.compute/images";
    if def.os_state.value == OsState::Specialized && managed_image {
        return Some("a managed image is generalized, but the image definition is Specialized");
    }
    match def.security_type.as_ref().map(|s| s.value) {
        Some(S::ConfidentialVm | S::ConfidentialVmSupported)
            if managed_image || t.ends_with("/versions") =>
        {
            Some("confidential VM images are built from a disk, snapshot or VM")
        }
        Some(S::TrustedLaunchSupported)
            if matches!(
                t.as_str(),
                "microsoft.compute/virtualmachines"
                    | "microsoft.compute/disks"
                    | "microsoft.compute/snapshots"
            ) =>
        {
            Some("TrustedLaunchSupported images are built from a managed image or an image version")
        }
        _ => None,
    }
}

/// Runs the image rules.
pub fn check(m: &Manifest, out: &mut Vec<Diagnostic>) {
    for (gkey, item) in &m.galleries {
        let file = item.file;
        let gallery_region = m
            .resource_groups
            .get(&item.value.resource_group.value)
            .map(|rg| rg.value.location.value.clone());
        for (ikey, def) in item.value.images.iter() {
            for (vkey, v) in def.versions.iter() {
                let what = format!("image version `{gkey}/{}/{}`", ikey.value, vkey.value);
                match &v.source {
                    None => out.push(
                        Diagnostic::at(Code::InvalidImageSource, file, vkey.loc, format!("{what} has no source"))
                            .label("missing `source`")
                            .help("set `source:` to the ARM id of a managed image, VM, disk, snapshot or image version"),
                    ),
                    Some(s) => match arm_type(&s.value) {
                        None => out.push(
                            Diagnostic::at(
                                Code::InvalidImageSource,
                                file,
                                s.loc,
                                format!("source of {what} is not an ARM resource id"),
                            )
                            .label("expected /subscriptions/<id>/resourceGroups/<rg>/providers/<type>/<name>"),
                        ),
                        Some(t) if !SOURCE_TYPES.contains(&t.to_lowercase().as_str()) => out.push(
                            Diagnostic::at(
                                Code::InvalidImageSource,
                                file,
                                s.loc,
                                format!("source of {what} is a {t}, which cannot be an image source"),
                            )
                            .label("unsupported source type")
                            .help("use a managed image, virtual machine, disk, snapshot or gallery image version"),
                        ),
                        Some(t) => {
                            if let Some(why) = source_fits(&t, def) {
                                out.push(
                                    Diagnostic::at(
                                        Code::InvalidImageSource,
                                        file,
                                        s.loc,
                                        format!("source of {what} is a {t}: {why}"),
                                    )
                                    .label("source does not fit the image definition"),
                                );
                            }
                        }
                    },
                }
                let mut seen: Vec<&str> = Vec::new();
                for t in &v.target_regions {
                    if seen.iter().any(|r| same_region(r, &t.region.value)) {
                        out.push(
                            Diagnostic::at(
                                Code::InvalidValue,
                                file,
                                t.region.loc,
                                format!("region `{}` is listed twice in {what}", t.region.value),
                            )
                            .label("duplicate target region"),
                        );
                    }
                    seen.push(&t.region.value);
                    if let Some(r) = &t.replicas
                        && !(1..=100).contains(&r.value)
                    {
                        out.push(
                            Diagnostic::at(
                                Code::InvalidValue,
                                file,
                                r.loc,
                                "replicas must be between 1 and 100",
                            )
                            .label("out of range"),
                        );
                    }
                }
                if let Some(region) = &gallery_region
                    && !v
                        .target_regions
                        .iter()
                        .any(|t| same_region(&t.region.value, region))
                {
                    out.push(
                        Diagnostic::at(
                            Code::GalleryRegionMissing,
                            file,
                            vkey.loc,
                            format!("target regions of {what} must include the gallery's region `{region}`"),
                        )
                        .label("gallery region not replicated")
                        .help(format!("add `- region: {region}` to target_regions")),
                    );
                }
                if let Some(eol) = &v.end_of_life
                    && Date::parse(&eol.value, format_description!("[year]-[month]-[day]")).is_err()
                {
                    out.push(
                        Diagnostic::at(
                            Code::InvalidValue,
                            file,
                            eol.loc,
                            format!("end_of_life `{}` is not a date", eol.value),
                        )
                        .label("expected YYYY-MM-DD"),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arm_types() {
        assert_eq!(
            arm_type("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i/versions/1.0.0").as_deref(),
            Some("Microsoft.Compute/galleries/images/versions")
        );
        assert_eq!(
            arm_type("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/images/base")
                .as_deref(),
            Some("Microsoft.Compute/images")
        );
        assert_eq!(arm_type("/subscriptions/s/resourceGroups/rg"), None);
        assert_eq!(arm_type("ubuntu-2204"), None);
        assert_eq!(
            arm_type("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/images/"),
            None
        );
    }

    #[test]
    fn regions_compare_loosely() {
        assert!(same_region("West Europe", "westeurope"));
        assert!(!same_region("westeurope", "northeurope"));
    }
}
