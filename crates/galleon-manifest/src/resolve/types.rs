//! The resolved, expanded workspace: what the planner builds on.
//!
//! Every value here is final: defaults applied, names computed, references replaced by the
//! target's address and ARM id, `count` and the VM `network:` shorthand expanded into concrete
//! instances. Secrets remain references; nothing is read from the environment at load time.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::address::{Address, Kind};
use crate::model::{
    Access, Allocation, Architecture, Caching, Direction, DiskStorage, HyperVGeneration,
    ImageSecurityType, OsState, OsType, Protocol, PublicIpSku, ReplicaStorage, SecretSource,
    SshKey, TokenFile, VmSecurityType,
};
use crate::span::{FileId, Loc};

/// Where a resource was defined, for diagnostics in later stages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// File id in the workspace's sources.
    pub file: FileId,
    /// Path of that file.
    pub path: PathBuf,
    /// Position of the definition (its key).
    pub loc: Loc,
}

/// A reference to another managed resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ref {
    /// Its address.
    pub address: Address,
    /// Its ARM id.
    pub arm_id: String,
}

/// A tenant with its resolved credentials (references only).
#[derive(Clone, Debug)]
pub struct TenantSpec {
    /// Manifest key.
    pub key: String,
    /// Directory id.
    pub tenant_id: String,
    /// How to sign in.
    pub auth: AuthMethod,
}

/// How galleon signs in to a tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    /// Client credentials with a secret read at run time.
    ClientSecret {
        /// App (client) id.
        client_id: String,
        /// Where the secret is.
        secret: SecretSource,
    },
    /// Workload identity federation.
    FederatedToken {
        /// App (client) id.
        client_id: String,
        /// Token file (default: `{env: AZURE_FEDERATED_TOKEN_FILE}`).
        token_file: TokenFile,
    },
    /// The Azure CLI's signed-in account.
    AzureCli,
    /// The machine's managed identity (user-assigned when `client_id` is set).
    ManagedIdentity {
        /// Client id of a user-assigned identity.
        client_id: Option<String>,
    },
}

impl AuthMethod {
    /// The app's client id, when the method has one.
    pub fn client_id(&self) -> Option<&str> {
        match self {
            AuthMethod::ClientSecret { client_id, .. }
            | AuthMethod::FederatedToken { client_id, .. } => Some(client_id),
            AuthMethod::ManagedIdentity { client_id } => client_id.as_deref(),
            AuthMethod::AzureCli => None,
        }
    }
}

/// The apply lock location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockSpec {
    /// Tenant key.
    pub tenant: String,
    /// Subscription id.
    pub subscription: String,
    /// Resource group (Azure name).
    pub resource_group: String,
    /// Storage account name.
    pub storage_account: String,
    /// Blob container (default `galleon-locks`).
    pub container: String,
}

/// One concrete Azure resource the workspace manages.
#[derive(Clone, Debug)]
pub struct Resource {
    /// Address, e.g. `vm.east[3]`.
    pub address: Address,
    /// Tenant key.
    pub tenant: String,
    /// Tenant id.
    pub tenant_id: String,
    /// Subscription id.
    pub subscription: String,
    /// Resource group Azure name.
    pub resource_group: String,
    /// Azure name (for a grant: the role assignment's UUID).
    pub name: String,
    /// Azure region.
    pub location: String,
    /// Full ARM id.
    pub arm_id: String,
    /// Typed desired state.
    pub spec: Spec,
    /// Addresses this resource needs to exist first (explicit and implicit).
    pub depends_on: Vec<Address>,
    /// For VMs whose image lives in another tenant: that tenant (its token goes in
    /// `x-ms-authorization-auxiliary`).
    pub image_tenant: Option<TenantRef>,
    /// Where it was defined.
    pub origin: Origin,
}

impl Resource {
    /// Kind of the resource.
    pub fn kind(&self) -> Kind {
        self.address.kind
    }
}

/// A tenant by key and id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantRef {
    /// Manifest key.
    pub key: String,
    /// Directory id.
    pub tenant_id: String,
}

/// Typed desired state, one variant per kind.
#[derive(Clone, Debug)]
pub enum Spec {
    /// A resource group.
    ResourceGroup(ResourceGroupSpec),
    /// A gallery.
    Gallery(GallerySpec),
    /// An image definition.
    GalleryImage(GalleryImageSpec),
    /// An image version.
    ImageVersion(ImageVersionSpec),
    /// A role assignment on a gallery.
    GalleryGrant(GalleryGrantSpec),
    /// A virtual network with subnets.
    Network(NetworkSpec),
    /// A network security group.
    Nsg(NsgSpec),
    /// A public IP.
    PublicIp(PublicIpSpec),
    /// A NIC.
    Nic(NicSpec),
    /// A VM.
    Vm(Box<VmSpec>),
}

/// Resource group state.
#[derive(Clone, Debug, Default)]
pub struct ResourceGroupSpec {
    /// User tags (galleon adds its ownership tags when planning).
    pub tags: BTreeMap<String, String>,
}

/// Gallery state.
#[derive(Clone, Debug, Default)]
pub struct GallerySpec {
    /// Description.
    pub description: Option<String>,
    /// User tags.
    pub tags: BTreeMap<String, String>,
    /// Direct sharing, when configured.
    pub direct_share: Option<DirectShareSpec>,
}

/// Direct sharing of a gallery.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DirectShareSpec {
    /// Subscription ids.
    pub subscriptions: Vec<String>,
    /// Tenant ids.
    pub tenants: Vec<String>,
}

/// Image definition state.
#[derive(Clone, Debug)]
pub struct GalleryImageSpec {
    /// Gallery it belongs to.
    pub gallery: Ref,
    /// OS family.
    pub os_type: OsType,
    /// OS state.
    pub os_state: OsState,
    /// Hyper-V generation (default V1).
    pub hyper_v_generation: HyperVGeneration,
    /// Publisher.
    pub publisher: String,
    /// Offer.
    pub offer: String,
    /// SKU.
    pub sku: String,
    /// Security type (default Standard).
    pub security_type: ImageSecurityType,
    /// Architecture (default x64).
    pub architecture: Architecture,
    /// Description.
    pub description: Option<String>,
    /// User tags.
    pub tags: BTreeMap<String, String>,
}

/// Image version state.
#[derive(Clone, Debug)]
pub struct ImageVersionSpec {
    /// Image definition it belongs to.
    pub image: Ref,
    /// Source ARM id.
    pub source: String,
    /// The source's address when this workspace manages it (a VM or another version).
    pub source_managed: Option<Address>,
    /// Replication targets.
    pub target_regions: Vec<TargetRegionSpec>,
    /// Excluded from `latest`.
    pub exclude_from_latest: bool,
    /// End of life date, `YYYY-MM-DD`.
    pub end_of_life: Option<String>,
    /// User tags.
    pub tags: BTreeMap<String, String>,
}

/// One replication target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetRegionSpec {
    /// Region name as written.
    pub region: String,
    /// Replica count.
    pub replicas: u32,
    /// Replica storage.
    pub storage: ReplicaStorage,
}

/// Role assignment on a gallery.
#[derive(Clone, Debug)]
pub struct GalleryGrantSpec {
    /// The gallery (the assignment's scope).
    pub gallery: Ref,
    /// Who receives the role.
    pub principal: Principal,
    /// Role as written (`Reader`, ...).
    pub role: String,
    /// Role definition GUID.
    pub role_definition_id: String,
    /// `galleon:<workspace>:<address>`, the ownership marker of role assignments.
    pub description: String,
}

/// The receiver of a role assignment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// A tenant's app: its service principal in the gallery's tenant.
    App {
        /// Tenant key whose `auth.client_id` is the app.
        tenant: String,
        /// App (client) id; `None` when that tenant signs in without an app.
        client_id: Option<String>,
    },
    /// A principal by object id.
    ObjectId(String),
}

/// Virtual network state.
#[derive(Clone, Debug)]
pub struct NetworkSpec {
    /// Address prefixes.
    pub address_space: Vec<String>,
    /// Subnets.
    pub subnets: Vec<SubnetSpec>,
    /// User tags.
    pub tags: BTreeMap<String, String>,
}

/// A subnet (owned through its network).
#[derive(Clone, Debug)]
pub struct SubnetSpec {
    /// Manifest key.
    pub key: String,
    /// Azure name.
    pub name: String,
    /// ARM id.
    pub arm_id: String,
    /// Address prefix.
    pub address_prefix: String,
    /// Attached NSG.
    pub nsg: Option<Ref>,
}

/// NSG state.
#[derive(Clone, Debug)]
pub struct NsgSpec {
    /// Rules in manifest order.
    pub rules: Vec<RuleSpec>,
    /// User tags.
    pub tags: BTreeMap<String, String>,
}

/// One security rule, defaults applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleSpec {
    /// Name.
    pub name: String,
    /// Priority.
    pub priority: u32,
    /// Direction.
    pub direction: Direction,
    /// Access.
    pub access: Access,
    /// Protocol.
    pub protocol: Protocol,
    /// Source prefix.
    pub source: String,
    /// Source port range.
    pub source_port: String,
    /// Destination prefix.
    pub destination: String,
    /// Destination port range.
    pub destination_port: String,
}

/// Public IP state.
#[derive(Clone, Debug)]
pub struct PublicIpSpec {
    /// SKU.
    pub sku: PublicIpSku,
    /// Allocation.
    pub allocation: Allocation,
    /// Zones.
    pub zones: Vec<String>,
    /// User tags.
    pub tags: BTreeMap<String, String>,
}

/// NIC state.
#[derive(Clone, Debug)]
pub struct NicSpec {
    /// The network owning the subnet.
    pub network: Ref,
    /// Subnet ARM id.
    pub subnet_id: String,
    /// Public IP.
    pub public_ip: Option<Ref>,
    /// NSG.
    pub nsg: Option<Ref>,
    /// User tags.
    pub tags: BTreeMap<String, String>,
}

/// What a VM boots from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageRef {
    /// A specific managed version; `arm_id` of the version.
    Version {
        /// The version.
        version: Ref,
        /// Its definition.
        definition: Ref,
    },
    /// The latest version of a managed definition; `definition.arm_id` is what Azure takes.
    Latest {
        /// The definition.
        definition: Ref,
        /// Versions eligible for latest.
        versions: Vec<Address>,
    },
    /// An image this workspace does not manage.
    External {
        /// Its ARM id.
        arm_id: String,
    },
}

impl ImageRef {
    /// The id to put in `storageProfile.imageReference.id`.
    pub fn arm_id(&self) -> &str {
        match self {
            ImageRef::Version { version, .. } => &version.arm_id,
            ImageRef::Latest { definition, .. } => &definition.arm_id,
            ImageRef::External { arm_id } => arm_id,
        }
    }
}

/// VM state.
#[derive(Clone, Debug)]
pub struct VmSpec {
    /// Size.
    pub size: String,
    /// Zone.
    pub zone: Option<String>,
    /// Image.
    pub image: ImageRef,
    /// OS type, when the image is managed here.
    pub os_type: Option<OsType>,
    /// Security type (default Standard).
    pub security_type: VmSecurityType,
    /// Admin user.
    pub admin_username: Option<String>,
    /// SSH public key.
    pub ssh_public_key: Option<SshKey>,
    /// OS disk size.
    pub os_disk_size_gb: Option<u32>,
    /// OS disk storage.
    pub os_disk_storage: Option<DiskStorage>,
    /// OS disk caching.
    pub os_disk_caching: Option<Caching>,
    /// The NIC.
    pub nic: Ref,
    /// For a cross-tenant image, the grant giving this VM's tenant access, when managed here.
    pub grant: Option<Address>,
    /// User tags.
    pub tags: BTreeMap<String, String>,
}
