//! Azure naming rules per resource type, and GUID fields.
//!
//! Source for lengths and characters: "Naming rules and restrictions for Azure resources",
//! <https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules>
//! (Microsoft.Resources, Microsoft.Compute, Microsoft.Network, Microsoft.Storage sections), and
//! the gallery error texts quoted in "Troubleshoot images in an Azure Compute Gallery"
//! (see /work/shared/azure/arm-errors.md §5.3). Names are checked after defaults and `count`
//! stamping, i.e. exactly as they will be sent to Azure.

use std::sync::LazyLock;

use regex::Regex;

use crate::address::Kind;
use crate::diag::{Code, Diagnostic};
use crate::load::Manifest;
use crate::model::OsType;
use crate::resolve::{Resource, Spec};
use crate::span::{FileId, Loc, Sp};

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("static regex")
}

static RG: LazyLock<Regex> = LazyLock::new(|| re(r"^[-\w._()]+$"));
static GALLERY: LazyLock<Regex> =
    LazyLock::new(|| re(r"^[A-Za-z0-9]([A-Za-z0-9_.]{0,78}[A-Za-z0-9])?$"));
static IMAGE: LazyLock<Regex> =
    LazyLock::new(|| re(r"^[A-Za-z0-9]([A-Za-z0-9_.-]{0,78}[A-Za-z0-9])?$"));
static VERSION: LazyLock<Regex> = LazyLock::new(|| re(r"^[0-9]+\.[0-9]+\.[0-9]+$"));
static IDENT: LazyLock<Regex> = LazyLock::new(|| re(r"^[A-Za-z0-9._-]+$"));
static NETWORK: LazyLock<Regex> =
    LazyLock::new(|| re(r"^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$"));
static STORAGE: LazyLock<Regex> = LazyLock::new(|| re(r"^[a-z0-9]{3,24}$"));

/// Checks `name` for `kind`; `Err` says which rule it breaks.
pub fn check_name(kind: Kind, name: &str, os: Option<OsType>) -> Result<(), String> {
    let len = name.chars().count();
    let (min, max, ok, rule): (usize, usize, bool, &str) = match kind {
        Kind::ResourceGroup => (
            1,
            90,
            RG.is_match(name) && !name.ends_with('.'),
            "letters, digits, `_`, `-`, `.`, `(`, `)`; not ending in `.`",
        ),
        Kind::Gallery => (
            1,
            80,
            GALLERY.is_match(name),
            "letters, digits, `_` and `.`, starting and ending with a letter or digit; no dashes",
        ),
        Kind::GalleryImage => (
            1,
            80,
            IMAGE.is_match(name),
            "letters, digits, `_`, `-`, `.`, starting and ending with a letter or digit",
        ),
        Kind::ImageVersion => {
            let ints_fit = name.split('.').all(|p| p.parse::<i32>().is_ok());
            (
                1,
                usize::MAX,
                VERSION.is_match(name) && ints_fit,
                "Major.Minor.Patch with 32-bit integers, e.g. 1.0.0",
            )
        }
        Kind::Network => (
            2,
            64,
            NETWORK.is_match(name),
            "letters, digits, `_`, `-`, `.`; start with a letter or digit, end with a letter, digit or `_`",
        ),
        Kind::Nsg | Kind::PublicIp | Kind::Nic => (
            1,
            80,
            NETWORK.is_match(name),
            "letters, digits, `_`, `-`, `.`; start with a letter or digit, end with a letter, digit or `_`",
        ),
        Kind::Vm => {
            let max = if os == Some(OsType::Windows) { 15 } else { 64 };
            let bad = name
                .chars()
                .any(|c| c.is_whitespace() || "\\/\"[]:|<>+=;,?*@&~!#$%^'{}".contains(c));
            let numeric = os == Some(OsType::Windows) && name.chars().all(|c| c.is_ascii_digit());
            (
                1,
                max,
                !bad && !numeric && !name.starts_with('_') && !name.ends_with(['.', '-']),
                if os == Some(OsType::Windows) {
                    "no spaces or \\/\"[]:|<>+=;,?*@&~!#$%^'{}; not starting with `_`, not ending in `.` or `-`; Windows computer names are at most 15 characters and not all digits"
                } else {
                    "no spaces or \\/\"[]:|<>+=;,?*@&~!#$%^'{}; not starting with `_`, not ending in `.` or `-`"
                },
            )
        }
        Kind::GalleryGrant => return Ok(()),
    };
    if len < min || len > max {
        let bounds = if max == usize::MAX {
            format!("at least {min}")
        } else {
            format!("{min}-{max}")
        };
        return Err(format!("must be {bounds} characters long (is {len})"));
    }
    if !ok {
        return Err(format!("allowed: {rule}"));
    }
    Ok(())
}

/// Identifier parts: `Asset name ... Allowed characters are uppercase or lowercase letters,
/// digits, hyphen(-), period (.), underscore (_). Names are not allowed to end with period(.)`
/// (publisher at most 128, offer and SKU at most 64).
fn check_identifier(part: &str, max: usize) -> Result<(), String> {
    if part.is_empty() || part.len() > max {
        return Err(format!(
            "must be 1-{max} characters long (is {})",
            part.len()
        ));
    }
    if !IDENT.is_match(part) || part.ends_with('.') {
        return Err("allowed: letters, digits, `-`, `.`, `_`; not ending in `.`".into());
    }
    Ok(())
}

/// Names of every resolved resource, plus subnets, rules, identifiers and the lock account.
pub fn check(m: &Manifest, resources: &[Resource], out: &mut Vec<Diagnostic>) {
    for r in resources {
        let os = match &r.spec {
            Spec::Vm(v) => v.os_type,
            _ => None,
        };
        if let Err(why) = check_name(r.address.kind, &r.name, os) {
            out.push(
                Diagnostic::at(
                    Code::InvalidName,
                    r.origin.file,
                    name_field(m, r).unwrap_or(r.origin.loc),
                    format!("`{}` is not a valid {} name: {why}", r.name, r.address.kind.arm_type()),
                )
                .label(format!("defines {}", r.address))
                .help("see https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules"),
            );
        }
    }
    for item in m.networks.values() {
        for (key, s) in item.value.subnets.iter() {
            let name = s.name.as_ref().unwrap_or(key);
            if let Err(why) = check_name(Kind::Nsg, &name.value, None) {
                out.push(invalid(item.file, name, "subnet", &why));
            }
        }
    }
    for item in m.network_security_groups.values() {
        for rule in &item.value.rules {
            if let Err(why) = check_name(Kind::Nsg, &rule.name.value, None) {
                out.push(invalid(item.file, &rule.name, "security rule", &why));
            }
        }
    }
    for item in m.galleries.values() {
        for (_, def) in item.value.images.iter() {
            let id = &def.identifier;
            for (part, max, what) in [
                (&id.publisher, 128, "publisher"),
                (&id.offer, 64, "offer"),
                (&id.sku, 64, "sku"),
            ] {
                if let Err(why) = check_identifier(&part.value, max) {
                    out.push(invalid(item.file, part, what, &why));
                }
            }
        }
    }
    if let Some(lock) = &m.lock
        && !STORAGE.is_match(&lock.value.storage_account.value)
    {
        out.push(invalid(
            lock.file,
            &lock.value.storage_account,
            "storage account",
            "must be 3-24 lowercase letters and digits",
        ));
    }
    guids(m, out);
    keys(m, out);
}

/// Manifest keys become part of addresses (`gallery_image.<gallery>/<image>`, `vm.<key>[i]`), so
/// they may not contain the characters that delimit an address.
fn keys(m: &Manifest, out: &mut Vec<Diagnostic>) {
    fn bad(key: &str) -> bool {
        key.is_empty()
            || key
                .chars()
                .any(|c| c.is_whitespace() || "/[]\"'".contains(c))
    }
    let mut check = |file: FileId, key: &Sp<String>| {
        if bad(&key.value) {
            out.push(
                Diagnostic::at(
                    Code::InvalidName,
                    file,
                    key.loc,
                    format!("key `{}` cannot be part of an address", key.value),
                )
                .label("contains a space, quote, `/`, `[` or `]`")
                .help("keys name resources in addresses like vm.<key>[0]; set `name:` for the Azure name"),
            );
        }
    };
    macro_rules! section {
        ($s:expr) => {
            for item in $s.values() {
                check(item.file, &item.key);
            }
        };
    }
    section!(m.tenants);
    section!(m.resource_groups);
    section!(m.networks);
    section!(m.network_security_groups);
    section!(m.public_ips);
    section!(m.network_interfaces);
    section!(m.virtual_machines);
    for item in m.galleries.values() {
        check(item.file, &item.key);
        for (ikey, def) in item.value.images.iter() {
            check(item.file, ikey);
            for (vkey, _) in def.versions.iter() {
                check(item.file, vkey);
            }
        }
    }
}

/// Where the `name:` of a resource is written, when it is (else the key is the name).
fn name_field(m: &Manifest, r: &Resource) -> Option<Loc> {
    let key = r.address.name.as_str();
    let name = match r.address.kind {
        Kind::ResourceGroup => m.resource_groups.get(key)?.value.name.as_ref(),
        Kind::Gallery => m.galleries.get(key)?.value.name.as_ref(),
        Kind::GalleryImage => {
            let (g, i) = key.split_once('/')?;
            m.galleries.get(g)?.value.images.get(i)?.name.as_ref()
        }
        Kind::Network => m.networks.get(key)?.value.name.as_ref(),
        Kind::Nsg => m.network_security_groups.get(key)?.value.name.as_ref(),
        Kind::PublicIp => m.public_ips.get(key)?.value.name.as_ref(),
        Kind::Nic => m.network_interfaces.get(key)?.value.name.as_ref(),
        Kind::Vm => m.virtual_machines.get(key)?.value.name.as_ref(),
        Kind::ImageVersion | Kind::GalleryGrant => None,
    };
    // Implied NICs and public IPs share their VM's key but not a `name:` field.
    if r.address.index.is_some() && matches!(r.address.kind, Kind::Nic | Kind::PublicIp) {
        return None;
    }
    name.map(|n| n.loc)
}

fn invalid(file: FileId, name: &Sp<String>, what: &str, why: &str) -> Diagnostic {
    Diagnostic::at(
        Code::InvalidName,
        file,
        name.loc,
        format!("`{}` is not a valid {what} name: {why}", name.value),
    )
    .label("invalid name")
}

fn guid(file: FileId, value: &Sp<String>, what: &str, out: &mut Vec<Diagnostic>) {
    if !super::is_guid(&value.value) {
        out.push(
            Diagnostic::at(
                Code::InvalidGuid,
                file,
                value.loc,
                format!("{what} `{}` is not a GUID", value.value),
            )
            .label("expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"),
        );
    }
}

fn guids(m: &Manifest, out: &mut Vec<Diagnostic>) {
    for t in m.tenants.values() {
        guid(t.file, &t.value.tenant_id, "tenant_id", out);
        if let Some(c) = &t.value.auth.client_id {
            guid(t.file, c, "client_id", out);
        }
    }
    for rg in m.resource_groups.values() {
        guid(rg.file, &rg.value.subscription, "subscription", out);
    }
    for g in m.galleries.values() {
        let Some(sharing) = &g.value.sharing else {
            continue;
        };
        for grant in &sharing.grants {
            if let Some(p) = &grant.principal_id {
                guid(g.file, p, "principal_id", out);
            }
        }
        if let Some(d) = &sharing.direct {
            for s in &d.subscriptions {
                guid(g.file, s, "subscription", out);
            }
            for t in &d.tenants {
                guid(g.file, t, "tenant", out);
            }
        }
    }
    if let Some(lock) = &m.lock {
        guid(lock.file, &lock.value.subscription, "subscription", out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gallery_rejects_dashes_and_accepts_underscores() {
        assert!(check_name(Kind::Gallery, "golden_images", None).is_ok());
        assert!(check_name(Kind::Gallery, "golden-images", None).is_err());
        assert!(check_name(Kind::Gallery, "golden.", None).is_err());
    }

    #[test]
    fn resource_group_rules() {
        assert!(check_name(Kind::ResourceGroup, "rg-app(1)", None).is_ok());
        assert!(check_name(Kind::ResourceGroup, "rg.", None).is_err());
        assert!(check_name(Kind::ResourceGroup, &"a".repeat(91), None).is_err());
    }

    #[test]
    fn versions_are_three_32_bit_ints() {
        assert!(check_name(Kind::ImageVersion, "2018.12.1", None).is_ok());
        assert!(check_name(Kind::ImageVersion, "1.0", None).is_err());
        assert!(check_name(Kind::ImageVersion, "1.0.99999999999", None).is_err());
    }

    #[test]
    fn vm_name_length_depends_on_os() {
        let name = "a-sixteen-chars1";
        assert!(check_name(Kind::Vm, name, Some(OsType::Linux)).is_ok());
        assert!(check_name(Kind::Vm, name, Some(OsType::Windows)).is_err());
        assert!(check_name(Kind::Vm, "web-", None).is_err());
    }

    #[test]
    fn network_names() {
        assert!(check_name(Kind::Network, "v", None).is_err());
        assert!(check_name(Kind::Nic, "n", None).is_ok());
        assert!(check_name(Kind::Nic, "nic-", None).is_err());
        assert!(check_name(Kind::Nic, "nic_", None).is_ok());
    }
}
