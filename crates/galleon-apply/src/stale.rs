//! Stale-plan refusal: before a saved plan writes anything, every resource it read is read
//! again, and the apply stops if any of them moved since.
//!
//! A plan's requests were computed from what it saw; applying them to a different world can
//! undo someone's change or fail half-way (terraform #24078: a saved plan applied twice).
//! Terraform checks a state serial; galleon has no state file, so it checks the live
//! resources themselves, by the fingerprints the plan recorded (`Plan::reads`).

use std::fmt;
use std::future::Future;

use futures::StreamExt;
use galleon_plan::{FingerprintState, Plan};

/// Reads the current fingerprint of a resource, computed the way the planner computed it.
pub trait LiveReader: Sync {
    /// The reader's failure.
    type Error: std::error::Error + Send + Sync + 'static;
    /// `Absent` for a 404, the etag and content digest otherwise.
    fn fingerprint(
        &self,
        arm_id: &str,
    ) -> impl Future<Output = Result<FingerprintState, Self::Error>> + Send;
}

/// How a resource moved since the plan read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drift {
    /// It did not exist when planned; it does now.
    Appeared,
    /// It existed when planned; it is gone.
    Disappeared,
    /// It exists but its etag or content differs.
    Changed,
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Drift::Appeared => "appeared (it did not exist when the plan was made)",
            Drift::Disappeared => "disappeared (it was deleted since the plan was made)",
            Drift::Changed => "changed since the plan was made",
        })
    }
}

/// One resource that moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// Manifest address, when the plan changes this resource.
    pub address: Option<String>,
    /// ARM id read.
    pub arm_id: String,
    /// How it moved.
    pub drift: Drift,
}

impl fmt::Display for Moved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.address {
            Some(a) => write!(f, "{a} ({}) {}", self.arm_id, self.drift),
            None => write!(f, "{} {}", self.arm_id, self.drift),
        }
    }
}

/// Why a plan may not be applied.
#[derive(Debug, thiserror::Error)]
pub enum StaleError {
    /// Resources the plan read have moved; every one is listed.
    #[error("the plan is stale: {} resource(s) changed since it was made:{}", .0.len(), list(.0))]
    Stale(Vec<Moved>),
    /// A resource could not be read again, so freshness cannot be proven.
    #[error("cannot re-read {arm_id} to check that the plan is still current")]
    Read {
        /// The resource.
        arm_id: String,
        /// The read failure.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl StaleError {
    /// The `hint:` line.
    pub fn hint(&self) -> &'static str {
        match self {
            StaleError::Stale(_) => "run `galleon plan` again, review the new plan, and apply that",
            StaleError::Read { .. } => "check connectivity and permissions, then retry",
        }
    }
}

fn list(moved: &[Moved]) -> String {
    moved.iter().map(|m| format!("\n  {m}")).collect()
}

/// Compares one recorded fingerprint with the live one. Etags decide when both sides have one
/// (they cover the whole resource and are immune to how the body was normalised); otherwise
/// the content digests do.
pub fn drift(planned: &FingerprintState, live: &FingerprintState) -> Option<Drift> {
    use FingerprintState::{Absent, Present};
    match (planned, live) {
        (Absent, Absent) => None,
        (Absent, Present { .. }) => Some(Drift::Appeared),
        (Present { .. }, Absent) => Some(Drift::Disappeared),
        (
            Present {
                etag: Some(a),
                content_sha256: _,
            },
            Present {
                etag: Some(b),
                content_sha256: _,
            },
        ) => (a != b).then_some(Drift::Changed),
        (
            Present {
                content_sha256: a, ..
            },
            Present {
                content_sha256: b, ..
            },
        ) => (a != b).then_some(Drift::Changed),
    }
}

/// Re-reads every resource in `plan.reads` (at most `parallel` at once) and refuses the plan
/// if any moved.
///
/// A resource cannot exist outside its resource group, so a group the plan saw absent and
/// that is still absent answers for every resource the plan saw absent inside it: those are
/// not read one by one (a plan creating a fleet in new groups would otherwise cost one GET
/// per resource, draining ARM's read bucket before the first write).
///
/// # Errors
/// [`StaleError::Stale`] naming every moved resource, in plan order;
/// [`StaleError::Read`] when a read failed.
pub async fn check_fresh<R: LiveReader>(
    plan: &Plan,
    reader: &R,
    parallel: usize,
) -> Result<(), StaleError> {
    let read_all = |indexes: Vec<usize>| {
        futures::stream::iter(indexes)
            .map(|i| async move { (i, reader.fingerprint(&plan.reads[i].arm_id).await) })
            .buffered(parallel.max(1))
            .collect::<Vec<_>>()
    };
    let absent = |i: &usize| plan.reads[*i].state == FingerprintState::Absent;
    let (groups, others): (Vec<usize>, Vec<usize>) =
        (0..plan.reads.len()).partition(|i| absent(i) && is_group(&plan.reads[*i].arm_id));
    let mut results = read_all(groups).await;
    let still_absent: std::collections::HashSet<String> = results
        .iter()
        .filter(|(_, live)| matches!(live, Ok(FingerprintState::Absent)))
        .map(|(i, _)| plan.reads[*i].arm_id.to_ascii_lowercase())
        .collect();
    let others = others
        .into_iter()
        .filter(|i| {
            !(absent(i)
                && group_of(&plan.reads[*i].arm_id).is_some_and(|g| still_absent.contains(&g)))
        })
        .collect();
    results.extend(read_all(others).await);
    results.sort_by_key(|(i, _)| *i);
    let results = results.into_iter().map(|(i, live)| (&plan.reads[i], live));
    let mut moved = Vec::new();
    for (fp, live) in results {
        let live = live.map_err(|e| StaleError::Read {
            arm_id: fp.arm_id.clone(),
            source: Box::new(e),
        })?;
        if let Some(drift) = drift(&fp.state, &live) {
            let address = plan
                .changes
                .iter()
                .find(|c| c.arm_id.eq_ignore_ascii_case(&fp.arm_id))
                .map(|c| c.address.clone());
            moved.push(Moved {
                address,
                arm_id: fp.arm_id.clone(),
                drift,
            });
        }
    }
    if moved.is_empty() {
        Ok(())
    } else {
        Err(StaleError::Stale(moved))
    }
}

/// `/subscriptions/{s}/resourceGroups/{g}` of an id inside a group, lower-cased.
fn group_of(arm_id: &str) -> Option<String> {
    let parts: Vec<&str> = arm_id.trim_start_matches('/').splitn(5, '/').collect();
    match parts.as_slice() {
        [subs, sub, groups, group, rest]
            if subs.eq_ignore_ascii_case("subscriptions")
                && groups.eq_ignore_ascii_case("resourceGroups")
                && !rest.is_empty() =>
        {
            Some(format!("/subscriptions/{sub}/resourceGroups/{group}").to_ascii_lowercase())
        }
        _ => None,
    }
}

/// Whether `arm_id` is a resource group itself.
fn is_group(arm_id: &str) -> bool {
    let parts: Vec<&str> = arm_id.trim_matches('/').split('/').collect();
    matches!(parts.as_slice(), [subs, _, groups, _]
        if subs.eq_ignore_ascii_case("subscriptions") && groups.eq_ignore_ascii_case("resourceGroups"))
}

#[cfg(test)]
#[path = "stale_tests.rs"]
mod tests;
