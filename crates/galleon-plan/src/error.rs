//! Why `galleon plan` could not produce a plan at all (as opposed to a plan whose preflight
//! checks failed, which is still a plan and is rendered).

use crate::lower::LowerError;

/// A plan could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A `--target` names no declared or owned resource.
    #[error("--target {address} matches no resource of this workspace")]
    UnknownTarget {
        /// The address given.
        address: String,
        /// Every address the plan knows, for a suggestion.
        known: Vec<String>,
    },
    /// A resource's inputs could not be read.
    #[error(transparent)]
    Lower(#[from] LowerError),
    /// Reading live state from Azure failed.
    #[error("cannot read {what} in tenant {tenant}")]
    Read {
        /// What was being read (a collection path).
        what: String,
        /// Tenant key.
        tenant: String,
        /// The Azure failure.
        #[source]
        source: Box<galleon_azure::AzureError>,
    },
}
