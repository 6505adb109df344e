//! The checks of `galleon doctor`, in the six steps, run one after the other without
//! stopping at the first failure: a check whose input an earlier failure hid is skipped with the
//! reason, every other one still runs, so one run lists everything to fix.
//!
//! Step 6 is a prediction: Azure has no dry run for a single VM PUT (a template deployment's
//! `validate` POST exists, but `az vm create`'s answer comes from the PUT itself, and for the
//! cross-tenant case from the deployment's async status, arm-errors.md §7). The doctor therefore
//! derives the answer from steps 1-5, in the order ARM and Compute check them (§8).

mod access;
mod image;
mod rbac;
mod target;
mod vm;

use serde_json::Value;

use crate::probe::{Probe, SignedIn};
use crate::report::{Check, REPORT_FORMAT, Report, Status};
use crate::setup::Setup;

pub use rbac::{action_matches, allows};
pub use vm::{SIZES, size_generations};

/// What earlier checks learned, for later ones.
#[derive(Debug, Default)]
struct Facts {
    /// Who galleon is in the image's tenant, when a token could be had.
    image_principal: Option<SignedIn>,
    /// Who galleon is in the target tenant.
    target_principal: Option<SignedIn>,
    /// The image definition document, when it could be read.
    definition: Option<Value>,
    /// The versions that matter: the referenced one, or for "latest" every version.
    versions: Vec<Value>,
    /// Whether the image could be read at all (false after a 401/403).
    image_readable: bool,
}

/// Runs every check against `probe` and returns the report.
pub async fn run<P: Probe>(setup: &Setup, probe: &P) -> Report {
    let mut facts = Facts::default();
    let mut checks = Vec::new();
    checks.extend(access::sign_in(setup, probe, &mut facts).await);
    checks.extend(access::subscription_tenants(setup, probe).await);
    checks.push(access::image_read(setup, probe, &mut facts).await);
    checks.extend(image::checks(setup, probe, &mut facts).await);
    checks.extend(vm::checks(setup, &facts));
    checks.extend(target::target_rights(setup, probe, &facts).await);
    checks.push(dry_run(setup, &checks));
    Report {
        format: REPORT_FORMAT,
        image: setup.image.id.clone(),
        vm: setup.vm_id(),
        checks,
    }
}

/// The order in which ARM's front door and then Compute reject a VM PUT (arm-errors.md §8):
/// authentication, authorization on the target, the resource group, linked access to the image,
/// then Compute's own validation.
const PUT_ORDER: &[&str] = &[
    "sign_in.target",
    "target.subscription_tenant",
    "target.vm_write",
    "target.resource_group",
    "sign_in.image",
    "image.subscription_tenant",
    "image.read",
    "image.exists",
    "image.provisioned",
    "image.latest",
    "image.region",
    "vm.os_state",
    "vm.generation",
    "vm.security_type",
    "target.network_join",
];

fn dry_run(setup: &Setup, checks: &[Check]) -> Check {
    const TITLE: &str =
        "what `az vm create` would answer (predicted: Azure has no dry run for a VM PUT)";
    let first = PUT_ORDER.iter().find_map(|id| {
        checks
            .iter()
            .find(|c| c.id == *id && c.status == Status::Fail)
    });
    match first {
        Some(c) => match &c.predicted {
            Some(p) => Check::fail(
                "dry_run",
                6,
                TITLE,
                format!(
                    "{} {}: {}",
                    p.status.map(|s| s.to_string()).unwrap_or_default(),
                    p.code,
                    p.message
                ),
                format!("fix `{}` first (see above)", c.id),
            )
            .with_azure(c.predicted.clone()),
            None => Check::fail(
                "dry_run",
                6,
                TITLE,
                format!("the request would not be sent: `{}` failed", c.id),
                format!("fix `{}` first (see above)", c.id),
            ),
        },
        None if checks.iter().any(|c| c.status == Status::Fail) => Check::fail(
            "dry_run",
            6,
            TITLE,
            "Azure would accept the PUT, but a check above failed",
            "see the failed checks above",
        ),
        None => Check::pass(
            "dry_run",
            6,
            TITLE,
            format!(
                "Azure would accept PUT {} (201 Created){}",
                setup.vm_id(),
                if setup.cross_tenant() {
                    " with the image tenant's token in x-ms-authorization-auxiliary"
                } else {
                    ""
                }
            ),
        ),
    }
}
