//! Tags and availability zones.
//!
//! Azure allows 50 tags per resource (galleon adds two ownership tags, so users get 48), tag
//! names up to 512 characters without `<>%&\?/`, values up to 256 characters, and reserves the
//! `azure`, `microsoft` and `windows` prefixes
//! (learn.microsoft.com/azure/azure-resource-manager/management/tag-resources#limitations).
//! Zones are "1", "2" or "3"
//! (learn.microsoft.com/azure/reliability/availability-zones-overview).

use std::collections::BTreeMap;

use crate::address::Kind;
use crate::diag::{Code, Diagnostic};
use crate::load::Manifest;
use crate::resolve::{Resource, Spec, TAG_ADDRESS, TAG_WORKSPACE};
use crate::span::Sp;

/// Tags a user may set beside galleon's two ownership tags.
pub const MAX_USER_TAGS: usize = 48;

/// What is wrong with a tag set, if anything.
pub fn check_tags(tags: &BTreeMap<String, String>) -> Result<(), String> {
    if tags.len() > MAX_USER_TAGS {
        return Err(format!(
            "has {} tags; Azure allows 50 and galleon uses 2 for ownership, so at most {MAX_USER_TAGS}",
            tags.len()
        ));
    }
    for (name, value) in tags {
        if name == TAG_WORKSPACE || name == TAG_ADDRESS {
            return Err(format!(
                "sets `{name}`, which galleon manages to track ownership"
            ));
        }
        let lower = name.to_lowercase();
        if ["azure", "microsoft", "windows"]
            .iter()
            .any(|p| lower.starts_with(p))
        {
            return Err(format!("tag `{name}` uses a prefix Azure reserves"));
        }
        if name.is_empty()
            || name.chars().count() > 512
            || name.contains(['<', '>', '%', '&', '\\', '?', '/'])
        {
            return Err(format!(
                "tag name `{name}` is empty, longer than 512 or contains <>%&\\?/"
            ));
        }
        if value.chars().count() > 256 {
            return Err(format!(
                "tag `{name}` has a value longer than 256 characters"
            ));
        }
    }
    Ok(())
}

fn user_tags(spec: &Spec) -> Option<&BTreeMap<String, String>> {
    Some(match spec {
        Spec::ResourceGroup(s) => &s.tags,
        Spec::Gallery(s) => &s.tags,
        Spec::GalleryImage(s) => &s.tags,
        Spec::ImageVersion(s) => &s.tags,
        Spec::Network(s) => &s.tags,
        Spec::Nsg(s) => &s.tags,
        Spec::PublicIp(s) => &s.tags,
        Spec::Nic(s) => &s.tags,
        Spec::Vm(s) => &s.tags,
        Spec::GalleryGrant(_) => return None,
    })
}

fn zone(file: usize, z: &Sp<String>, out: &mut Vec<Diagnostic>) {
    if !matches!(z.value.as_str(), "1" | "2" | "3") {
        out.push(
            Diagnostic::at(
                Code::InvalidValue,
                file,
                z.loc,
                format!("`{}` is not an availability zone", z.value),
            )
            .label("expected \"1\", \"2\" or \"3\""),
        );
    }
}

/// Runs the tag and zone rules. Tag problems are reported once per manifest entry (stamped VMs
/// and implied NICs share their VM's tags).
pub fn check(m: &Manifest, resources: &[Resource], out: &mut Vec<Diagnostic>) {
    let mut seen = std::collections::BTreeSet::new();
    for r in resources {
        let Some(tags) = user_tags(&r.spec) else {
            continue;
        };
        // NICs and public IPs implied by a VM's `network:` carry the VM's tags: report the VM.
        let implied = match r.address.kind {
            Kind::Nic => !m.network_interfaces.contains_key(&r.address.name),
            Kind::PublicIp => !m.public_ips.contains_key(&r.address.name),
            _ => false,
        };
        if implied {
            continue;
        }
        if let Err(why) = check_tags(tags)
            && seen.insert((r.origin.file, r.origin.loc.offset))
        {
            out.push(
                Diagnostic::at(
                    Code::InvalidValue,
                    r.origin.file,
                    r.origin.loc,
                    format!("{} {why}", r.address),
                )
                .label("tags of this resource"),
            );
        }
    }
    for item in m.virtual_machines.values() {
        if let Some(z) = &item.value.zone {
            zone(item.file, z, out);
        }
    }
    for item in m.public_ips.values() {
        for z in &item.value.zones {
            zone(item.file, z, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn rules() {
        assert!(check_tags(&tags(&[("team", "platform")])).is_ok());
        assert!(check_tags(&tags(&[("galleon-address", "x")])).is_err());
        assert!(check_tags(&tags(&[("Microsoft.Owner", "x")])).is_err());
        assert!(check_tags(&tags(&[("a/b", "x")])).is_err());
        let long = "v".repeat(257);
        assert!(check_tags(&tags(&[("k", long.as_str())])).is_err());
        let many: BTreeMap<String, String> =
            (0..49).map(|i| (format!("t{i}"), String::new())).collect();
        assert!(check_tags(&many).is_err());
    }
}
