//! Resource addresses (`kind.name[i]`): the one way plans, errors, tags and `--target` name a
//! resource. The format is a contract (docs/architecture.md), so parsing and printing live here.

use std::fmt;
use std::str::FromStr;

/// Kind of a managed resource; the prefix of its address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `resource_group.<key>`
    ResourceGroup,
    /// `gallery.<key>`
    Gallery,
    /// `gallery_image.<gallery>/<image>`
    GalleryImage,
    /// `image_version.<gallery>/<image>/<version>`
    ImageVersion,
    /// `gallery_grant.<gallery>/<principal>/<role>`
    GalleryGrant,
    /// `network.<key>` (subnets inline)
    Network,
    /// `nsg.<key>`
    Nsg,
    /// `public_ip.<key>`
    PublicIp,
    /// `nic.<key>`
    Nic,
    /// `vm.<key>`
    Vm,
}

impl Kind {
    /// Every kind, in the order resources are listed.
    pub const ALL: [Kind; 10] = [
        Kind::ResourceGroup,
        Kind::Gallery,
        Kind::GalleryImage,
        Kind::ImageVersion,
        Kind::GalleryGrant,
        Kind::Nsg,
        Kind::Network,
        Kind::PublicIp,
        Kind::Nic,
        Kind::Vm,
    ];

    /// The address prefix, e.g. `gallery_image`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ResourceGroup => "resource_group",
            Kind::Gallery => "gallery",
            Kind::GalleryImage => "gallery_image",
            Kind::ImageVersion => "image_version",
            Kind::GalleryGrant => "gallery_grant",
            Kind::Network => "network",
            Kind::Nsg => "nsg",
            Kind::PublicIp => "public_ip",
            Kind::Nic => "nic",
            Kind::Vm => "vm",
        }
    }

    /// ARM resource type, e.g. `Microsoft.Compute/galleries/images`.
    pub fn arm_type(self) -> &'static str {
        match self {
            Kind::ResourceGroup => "Microsoft.Resources/resourceGroups",
            Kind::Gallery => "Microsoft.Compute/galleries",
            Kind::GalleryImage => "Microsoft.Compute/galleries/images",
            Kind::ImageVersion => "Microsoft.Compute/galleries/images/versions",
            Kind::GalleryGrant => "Microsoft.Authorization/roleAssignments",
            Kind::Network => "Microsoft.Network/virtualNetworks",
            Kind::Nsg => "Microsoft.Network/networkSecurityGroups",
            Kind::PublicIp => "Microsoft.Network/publicIPAddresses",
            Kind::Nic => "Microsoft.Network/networkInterfaces",
            Kind::Vm => "Microsoft.Compute/virtualMachines",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `kind.name` or `kind.name[i]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address {
    /// Resource kind.
    pub kind: Kind,
    /// Manifest name: a key, or `gallery/image[/version]` for gallery children.
    pub name: String,
    /// Index when the resource is stamped out with `count`.
    pub index: Option<u32>,
}

impl Address {
    /// An unindexed address.
    pub fn new(kind: Kind, name: impl Into<String>) -> Self {
        Address {
            kind,
            name: name.into(),
            index: None,
        }
    }
    /// The same address with an index.
    pub fn indexed(mut self, index: Option<u32>) -> Self {
        self.index = index;
        self
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.kind, self.name)?;
        if let Some(i) = self.index {
            write!(f, "[{i}]")?;
        }
        Ok(())
    }
}

/// Why a string is not an address.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AddressError {
    /// No `.` separating kind and name.
    #[error("`{0}` is not an address (expected kind.name, e.g. vm.web)")]
    Shape(String),
    /// The kind before the `.` is unknown.
    #[error("unknown resource kind `{0}`")]
    Kind(String),
    /// The `[i]` suffix is malformed.
    #[error("bad index in `{0}`")]
    Index(String),
}

impl FromStr for Address {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, rest) = s
            .split_once('.')
            .ok_or_else(|| AddressError::Shape(s.to_owned()))?;
        let kind = Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == kind)
            .ok_or_else(|| AddressError::Kind(kind.to_owned()))?;
        if rest.is_empty() {
            return Err(AddressError::Shape(s.to_owned()));
        }
        let (name, index) = match rest.strip_suffix(']').and_then(|r| r.rsplit_once('[')) {
            Some((name, i)) => (
                name,
                Some(i.parse().map_err(|_| AddressError::Index(s.to_owned()))?),
            ),
            None => (rest, None),
        };
        Ok(Address {
            kind,
            name: name.to_owned(),
            index,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for s in [
            "vm.web",
            "vm.east[3]",
            "image_version.golden/ubuntu/1.0.0",
            "gallery_grant.golden/consumer/Reader",
        ] {
            assert_eq!(s.parse::<Address>().unwrap().to_string(), s);
        }
        let a: Address = "vm.east[3]".parse().unwrap();
        assert_eq!(
            (a.kind, a.name.as_str(), a.index),
            (Kind::Vm, "east", Some(3))
        );
    }

    #[test]
    fn rejects_garbage() {
        assert!(matches!(
            "web".parse::<Address>(),
            Err(AddressError::Shape(_))
        ));
        assert!(matches!(
            "vmm.web".parse::<Address>(),
            Err(AddressError::Kind(_))
        ));
        assert!(matches!(
            "vm.web[x]".parse::<Address>(),
            Err(AddressError::Index(_))
        ));
    }
}
