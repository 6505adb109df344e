//! The five lease actions of "Lease Blob" (acquire, renew, release, break, change) with
//! Storage's state machine: available, leased, expired, breaking, broken.

use super::{BlobReply, BlobRequest, Container, LeaseRecord, LeaseState, error, state_of};

pub(super) fn lease_op(
    container: &mut Container,
    name: &str,
    req: &BlobRequest,
    now: i64,
) -> BlobReply {
    let Some(b) = container.blobs.get_mut(name) else {
        return error(
            404,
            "BlobNotFound",
            "The specified blob does not exist.",
            now,
        );
    };
    let state = state_of(b.lease.as_ref(), now);
    let current = b.lease.as_ref().map(|l| l.id.clone());
    let given = req.header("x-ms-lease-id").map(str::to_owned);
    let matches_current = |g: &Option<String>| match (g, &current) {
        (Some(g), Some(c)) => g.eq_ignore_ascii_case(c),
        _ => false,
    };
    let mismatch = || {
        error(
            409,
            "LeaseIdMismatchWithLeaseOperation",
            "The lease ID specified did not match the lease ID for the blob.",
            now,
        )
    };
    let not_present = || {
        error(
            409,
            "LeaseNotPresentWithLeaseOperation",
            "There is currently no lease on the blob.",
            now,
        )
    };
    let need_id = || {
        error(
            400,
            "MissingRequiredHeader",
            "An HTTP header that's mandatory for this request is not specified.",
            now,
        )
        .h("x-ms-header-name", "x-ms-lease-id")
    };
    match req
        .header("x-ms-lease-action")
        .unwrap_or_default()
        .to_ascii_lowercase()
        .as_str()
    {
        "acquire" => {
            let duration: i64 = match req
                .header("x-ms-lease-duration")
                .and_then(|d| d.parse().ok())
            {
                Some(d) if d == -1 || (15..=60).contains(&d) => d,
                _ => {
                    return error(
                        400,
                        "InvalidHeaderValue",
                        "The value for one of the HTTP headers is not in the correct format.",
                        now,
                    )
                    .h("x-ms-header-name", "x-ms-lease-duration");
                }
            };
            let proposed = req.header("x-ms-proposed-lease-id").map(str::to_owned);
            match state {
                LeaseState::Leased if !matches_current(&proposed) => {
                    return error(
                        409,
                        "LeaseAlreadyPresent",
                        "There is already a lease present.",
                        now,
                    );
                }
                LeaseState::Breaking => {
                    return error(
                        409,
                        "LeaseIsBreakingAndCannotBeAcquired",
                        "There is already a breaking lease present.",
                        now,
                    );
                }
                _ => {}
            }
            let id = proposed.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            b.lease = Some(LeaseRecord {
                id: id.clone(),
                duration,
                expires_ms: (duration > 0).then(|| now + duration * 1000),
                broken_at_ms: None,
                released: false,
            });
            BlobReply::new(201)
                .h("x-ms-lease-id", id)
                .h("ETag", b.etag.clone())
        }
        "renew" => {
            if given.is_none() {
                return need_id();
            }
            match state {
                LeaseState::Available => not_present(),
                _ if !matches_current(&given) => mismatch(),
                LeaseState::Broken | LeaseState::Breaking => error(
                    409,
                    "LeaseIsBrokenAndCannotBeRenewed",
                    "The lease ID matched, but the lease has been broken explicitly and cannot be renewed.",
                    now,
                ),
                _ => {
                    let l = b.lease.as_mut().expect("state says leased");
                    l.expires_ms = (l.duration > 0).then(|| now + l.duration * 1000);
                    BlobReply::new(200).h("x-ms-lease-id", l.id.clone())
                }
            }
        }
        "release" => {
            if given.is_none() {
                return need_id();
            }
            match state {
                LeaseState::Available => not_present(),
                _ if !matches_current(&given) => mismatch(),
                _ => {
                    if let Some(l) = b.lease.as_mut() {
                        l.released = true;
                    }
                    BlobReply::new(200)
                }
            }
        }
        "break" => match state {
            LeaseState::Available => not_present(),
            LeaseState::Broken | LeaseState::Expired => {
                let l = b.lease.as_mut().expect("has a lease");
                l.broken_at_ms.get_or_insert(now);
                BlobReply::new(202).h("x-ms-lease-time", "0")
            }
            _ => {
                let remaining = match b.lease.as_ref().and_then(|l| l.expires_ms) {
                    Some(e) => (e - now).max(0) / 1000,
                    None => i64::MAX,
                };
                // "Lease Blob": without a break period a fixed lease breaks when its remaining
                // time elapses and an infinite lease breaks immediately; a given period (0-60)
                // never extends the lease.
                let default = if remaining == i64::MAX { 0 } else { remaining };
                let period: i64 = req
                    .header("x-ms-lease-break-period")
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(default)
                    .min(remaining);
                let l = b.lease.as_mut().expect("has a lease");
                if l.broken_at_ms.is_none() {
                    l.broken_at_ms = Some(now + period * 1000);
                }
                let left = (l.broken_at_ms.unwrap_or(now) - now).max(0) / 1000;
                BlobReply::new(202).h("x-ms-lease-time", left.to_string())
            }
        },
        "change" => {
            let Some(proposed) = req.header("x-ms-proposed-lease-id").map(str::to_owned) else {
                return need_id();
            };
            match state {
                LeaseState::Leased
                    if matches_current(&given) || matches_current(&Some(proposed.clone())) =>
                {
                    let l = b.lease.as_mut().expect("leased");
                    l.id = proposed.clone();
                    BlobReply::new(200).h("x-ms-lease-id", proposed)
                }
                LeaseState::Leased => mismatch(),
                _ => not_present(),
            }
        }
        _ => error(
            400,
            "InvalidHeaderValue",
            "The value for one of the HTTP headers is not in the correct format.",
            now,
        )
        .h("x-ms-header-name", "x-ms-lease-action"),
    }
}
