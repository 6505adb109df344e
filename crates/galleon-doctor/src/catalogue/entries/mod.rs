//! The rows of the catalogue, in the order of arm-errors.md, one file per part of it. Samples are
//! Azure's text with example ids; rows arm-errors.md marks [R] are reconstructed there and say so
//! in `section`. Order matters: [`super::explain`] takes the first row that matches.

use std::sync::LazyLock;

use super::Entry;

mod access;
mod compute;
mod resources;

/// Every row, in document order.
pub(super) static ENTRIES: LazyLock<Vec<Entry>> =
    LazyLock::new(|| [access::ENTRIES, compute::ENTRIES, resources::ENTRIES].concat());
