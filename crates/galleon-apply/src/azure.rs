//! The applier's traits implemented over `galleon-azure`: writes and reads through
//! [`ArmClient`], the lock through its [`BlobLock`].
//!
//! Kept apart from the engine so that everything above this file is testable without Azure,
//! and so that the mapping of Azure's errors onto [`StepFailure`] lives in one place.

use std::collections::HashMap;
use std::time::Duration;

use galleon_azure::{
    ArmClient, ArmRequest, AzureError, BlobLock, Lease, Method, TenantId, subscription_of,
};
use galleon_plan::{Fingerprint, FingerprintState, Plan};
use serde_json::Value;

use crate::executor::Progress;
use crate::lock::{LockBackend, LockError, LockInfo};
use crate::runner::{ArmWriter, Write};
use crate::stale::LiveReader;
use crate::step::StepFailure;

/// How often a running write's resource is read, by default, to show its
/// `provisioningState` live. The client follows the operation itself; this only feeds the
/// progress view, so it can be rare: a VM takes minutes.
pub const STATUS_EVERY: Duration = Duration::from_secs(15);

/// Writes through an [`ArmClient`], reading the resource every `status_every` while its
/// operation runs to report progress.
#[derive(Debug, Clone)]
pub struct ArmWrites {
    /// The client.
    pub client: ArmClient,
    /// Interval of the progress reads.
    pub status_every: Duration,
}

impl ArmWrites {
    /// Writes through `client`, with progress reads every [`STATUS_EVERY`].
    pub fn new(client: ArmClient) -> Self {
        Self {
            client,
            status_every: STATUS_EVERY,
        }
    }
}

/// Keeps ARM's code, message, target and request id, and the client's hint.
pub fn failure_of(e: &AzureError) -> StepFailure {
    let hint = e.hint();
    match e {
        AzureError::Arm(arm) => StepFailure {
            code: Some(arm.code.clone()),
            message: arm.message.clone(),
            target: arm.target.clone(),
            request_id: arm.request_id.clone(),
            hint,
        },
        AzureError::LroFailed { status, error, .. } => StepFailure {
            code: Some(error.code.clone()).filter(|c| !c.is_empty()),
            message: format!("the operation ended {status}: {}", error.message),
            target: error.target.clone(),
            request_id: None,
            hint,
        },
        other => {
            let mut message = other.to_string();
            let mut source = std::error::Error::source(other);
            while let Some(s) = source {
                message.push_str(": ");
                message.push_str(&s.to_string());
                source = s.source();
            }
            StepFailure {
                message,
                hint,
                ..StepFailure::default()
            }
        }
    }
}

fn tenants(ids: &[String]) -> Vec<TenantId> {
    ids.iter().map(TenantId::new).collect()
}

/// Drives `write` to completion while reading the resource now and then for the live view.
async fn watching<T>(
    client: &ArmClient,
    tenant: &TenantId,
    arm_id: &str,
    api_version: &str,
    every: Duration,
    progress: &Progress<'_>,
    write: impl Future<Output = T>,
) -> T {
    let mut write = std::pin::pin!(write);
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tokio::select! {
            done = &mut write => return done,
            _ = ticks.tick() => {
                // Only a nicety: never spend the read bucket that polls and the plan's reads need.
                let sub = galleon_azure::subscription_of(arm_id).unwrap_or("");
                if !client.limiter().has_spare(sub, galleon_azure::OpKind::Read) {
                    continue;
                }
                let read = ArmRequest { api_version: Some(api_version), ..ArmRequest::new(Method::GET, tenant, arm_id) };
                // Keep driving the write while the read waits: the write may hold one of the
                // subscription's request slots the read is queued for, and once every slot is
                // held by a write whose task sits in this arm, nothing moves (seen at 10,000
                // resources: the apply stalled for good).
                let read = client.send(read);
                tokio::select! {
                    done = &mut write => return done,
                    resp = read => {
                        if let Ok(resp) = resp
                            && let Some(state) = resp.body.pointer("/properties/provisioningState").and_then(Value::as_str)
                        {
                            progress.lro(state);
                        }
                    }
                }
            }
        }
    }
}

impl ArmWriter for ArmWrites {
    async fn put(&self, w: &Write<'_>, progress: &Progress<'_>) -> Result<(), StepFailure> {
        let tenant = TenantId::new(w.tenant_id);
        let aux = tenants(w.aux_tenant_ids);
        let request = ArmRequest {
            api_version: Some(w.api_version),
            body: w.body,
            aux_tenants: &aux,
            ..ArmRequest::new(Method::PUT, &tenant, w.arm_id)
        };
        let result = watching(
            &self.client,
            &tenant,
            w.arm_id,
            w.api_version,
            self.status_every,
            progress,
            self.client.send(request),
        )
        .await;
        match result {
            // The final state is the Succeeded event itself; no progress line for it.
            Ok(_) => Ok(()),
            Err(e) => Err(failure_of(&e)),
        }
    }

    async fn delete(&self, w: &Write<'_>, progress: &Progress<'_>) -> Result<(), StepFailure> {
        let tenant = TenantId::new(w.tenant_id);
        let aux = tenants(w.aux_tenant_ids);
        let request = ArmRequest {
            api_version: Some(w.api_version),
            aux_tenants: &aux,
            ..ArmRequest::new(Method::DELETE, &tenant, w.arm_id)
        };
        match watching(
            &self.client,
            &tenant,
            w.arm_id,
            w.api_version,
            self.status_every,
            progress,
            self.client.send(request),
        )
        .await
        {
            Ok(_) => Ok(()),
            // Gone already (a previous, partly failed apply; or someone else): the goal holds.
            Err(e) if e.is_not_found() => {
                progress.lro("AlreadyAbsent");
                Ok(())
            }
            Err(e) => Err(failure_of(&e)),
        }
    }

    /// Actions answer 200 with their result, or 202 and an operation to poll (which `send`
    /// follows); a gallery's `share` is one (Gallery_AddToSharingProfile.json).
    async fn post(&self, w: &Write<'_>, _progress: &Progress<'_>) -> Result<(), StepFailure> {
        let tenant = TenantId::new(w.tenant_id);
        let aux = tenants(w.aux_tenant_ids);
        let request = ArmRequest {
            api_version: Some(w.api_version),
            body: w.body,
            aux_tenants: &aux,
            // Adding a member already there, or removing one already gone, changes nothing:
            // the action may be retried like a PUT.
            idempotent: true,
            ..ArmRequest::new(Method::POST, &tenant, w.arm_id)
        };
        self.client
            .send(request)
            .await
            .map(|_| ())
            .map_err(|e| failure_of(&e))
    }

    async fn resources_in_group(
        &self,
        tenant_id: &str,
        group_id: &str,
    ) -> Result<Vec<String>, StepFailure> {
        let tenant = TenantId::new(tenant_id);
        let path = format!("{group_id}/resources");
        let request = ArmRequest {
            api_version: Some(galleon_azure::api_version::RESOURCES),
            ..ArmRequest::new(Method::GET, &tenant, &path)
        };
        match self.client.send(request).await {
            Ok(resp) => Ok(resp
                .body
                .get("value")
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|i| i.get("id")?.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()),
            Err(e) if e.is_not_found() => Ok(Vec::new()),
            Err(e) => Err(failure_of(&e)),
        }
    }
}

/// Re-reads resources for the stale-plan check, each with its subscription's tenant token.
///
/// Reads use the client's pinned api-versions, as the planner's list calls do, so that the
/// same resource yields the same body (a newer api-version can add defaulted properties and
/// would make an untouched resource look changed).
#[derive(Debug)]
pub struct ArmReader {
    client: ArmClient,
    tenant_of_subscription: HashMap<String, TenantId>,
}

impl ArmReader {
    /// A reader for the resources `plan` read; tenants are known per subscription from the
    /// plan's changes (the planner fingerprints exactly the resources it changes or keeps).
    pub fn for_plan(client: ArmClient, plan: &Plan) -> Self {
        let tenant_of_subscription = plan
            .changes
            .iter()
            .map(|c| {
                (
                    c.subscription.to_ascii_lowercase(),
                    TenantId::new(&c.tenant_id),
                )
            })
            .collect();
        Self {
            client,
            tenant_of_subscription,
        }
    }
}

/// A resource the plan read in a subscription none of its changes names.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// No tenant is known for the resource's subscription.
    #[error("no tenant of the plan owns the subscription of {0}")]
    UnknownTenant(String),
    /// The GET failed.
    #[error(transparent)]
    Azure(#[from] AzureError),
}

impl LiveReader for ArmReader {
    type Error = ReadError;

    async fn fingerprint(&self, arm_id: &str) -> Result<FingerprintState, ReadError> {
        let sub = subscription_of(arm_id)
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        let tenant = self
            .tenant_of_subscription
            .get(&sub)
            .ok_or_else(|| ReadError::UnknownTenant(arm_id.to_owned()))?;
        match self.client.get(tenant, arm_id).await {
            Ok(resp) => Ok(Fingerprint::of(arm_id, Some(&resp.body)).state),
            Err(e) if e.is_not_found() => Ok(FingerprintState::Absent),
            Err(e) => Err(e.into()),
        }
    }
}

/// The apply lock over a blob lease (`{container}/{workspace}.lock`). The lease length is the
/// client's fixed 60 s, Azure's longest finite lease.
#[derive(Debug)]
pub struct BlobLockBackend {
    blob: BlobLock,
}

impl BlobLockBackend {
    /// A backend over `blob` (from `ArmClient::blob_lock`).
    pub fn new(blob: BlobLock) -> Self {
        Self { blob }
    }
}

fn backend(action: &'static str) -> impl FnOnce(AzureError) -> LockError {
    move |e| LockError::Backend {
        action,
        source: Box::new(e),
    }
}

impl LockBackend for BlobLockBackend {
    async fn try_acquire(&self, info: &LockInfo, _duration: Duration) -> Result<String, LockError> {
        let holder = serde_json::to_string(info).unwrap_or_default();
        match self.blob.lock(&holder).await {
            Ok(lease) => Ok(lease.id),
            Err(AzureError::LockHeld { holder }) => Err(LockError::Held {
                workspace: info.workspace.clone(),
                holder: serde_json::from_str(&holder).ok().map(Box::new),
            }),
            Err(e) => Err(backend("acquire")(e)),
        }
    }

    async fn renew(&self, lease_id: &str) -> Result<(), LockError> {
        self.blob
            .renew(&Lease {
                id: lease_id.to_owned(),
            })
            .await
            .map_err(backend("renew"))
    }

    async fn release(&self, lease_id: &str) -> Result<(), LockError> {
        self.blob
            .release(&Lease {
                id: lease_id.to_owned(),
            })
            .await
            .map_err(backend("release"))
    }

    async fn force_unlock(&self) -> Result<Option<LockInfo>, LockError> {
        let holder = self.blob.read().await.map_err(backend("read"))?;
        self.blob.break_lease().await.map_err(backend("break"))?;
        Ok(holder.and_then(|h| serde_json::from_str(&h).ok()))
    }
}

#[cfg(test)]
mod tests {
    use galleon_azure::{ArmError, ArmErrorBody};

    use super::*;

    #[test]
    fn arm_errors_keep_code_message_target_request_id_and_hint() {
        let body = br#"{"error":{"code":"GalleryImageNotFound","message":"The gallery image is not available in northeurope region.","target":"imageReference"}}"#;
        let e = AzureError::from(ArmError::from_response(
            404,
            "PUT",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web",
            Some("req-42".into()),
            None,
            body,
        ));
        let f = failure_of(&e);
        assert_eq!(f.code.as_deref(), Some("GalleryImageNotFound"));
        assert_eq!(
            f.message,
            "The gallery image is not available in northeurope region."
        );
        assert_eq!(f.target.as_deref(), Some("imageReference"));
        assert_eq!(f.request_id.as_deref(), Some("req-42"));
        assert!(f.hint.unwrap().contains("target_regions"));
    }

    #[test]
    fn failed_operations_keep_the_operation_error() {
        let e = AzureError::LroFailed {
            method: "PUT".into(),
            resource_id: "/subscriptions/s/x".into(),
            status: "Failed".into(),
            error: ArmErrorBody {
                code: "OSProvisioningTimedOut".into(),
                message: "OS Provisioning did not finish in the allotted time.".into(),
                ..ArmErrorBody::default()
            }
            .into(),
        };
        let f = failure_of(&e);
        assert_eq!(f.code.as_deref(), Some("OSProvisioningTimedOut"));
        assert_eq!(
            f.message,
            "the operation ended Failed: OS Provisioning did not finish in the allotted time."
        );
        let other = failure_of(&AzureError::Config("bad endpoint".into()));
        assert_eq!(
            (other.code, other.message.as_str()),
            (None, "invalid configuration: bad endpoint")
        );
    }
}
