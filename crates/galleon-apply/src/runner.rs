//! The real step runner: sends exactly the plan's request for each step and waits for Azure.
//!
//! Execution makes no choices the plan did not make (omicron's reconfigurator): the method,
//! api-version, body and auxiliary tenants all come from `ResourceChange::request`. The one
//! thing added here is safety: a resource group is deleted only when it is empty, because an
//! ARM resource-group DELETE takes every resource inside with it, owned by galleon or not.
//! Re-running after a partial failure converges: PUT is idempotent and a DELETE of something
//! already gone counts as success.

use std::future::Future;

use galleon_plan::{Method, ResourceChange, ResourceKind};
use serde_json::Value;

use crate::executor::{Progress, StepRunner};
use crate::step::{Op, StepFailure, StepId};

/// One ARM write, as the plan specified it.
#[derive(Debug, Clone, Copy)]
pub struct Write<'a> {
    /// Entra tenant of the target subscription (whose token authorizes the call).
    pub tenant_id: &'a str,
    /// The resource.
    pub arm_id: &'a str,
    /// The plan's api-version.
    pub api_version: &'a str,
    /// The PUT or POST body; `None` for a DELETE.
    pub body: Option<&'a Value>,
    /// Tenants whose tokens go into `x-ms-authorization-auxiliary`.
    pub aux_tenant_ids: &'a [String],
}

/// The ARM operations the runner needs; implemented for `galleon_azure::ArmClient` and by
/// test fakes.
pub trait ArmWriter: Sync {
    /// PUT and wait for the long-running operation, reporting its status to `progress`.
    fn put(
        &self,
        write: &Write<'_>,
        progress: &Progress<'_>,
    ) -> impl Future<Output = Result<(), StepFailure>> + Send;
    /// DELETE and wait until the resource is gone; an already absent resource is success.
    fn delete(
        &self,
        write: &Write<'_>,
        progress: &Progress<'_>,
    ) -> impl Future<Output = Result<(), StepFailure>> + Send;
    /// POST an action (`arm_id` is its path) with the body, waiting for its operation.
    fn post(
        &self,
        write: &Write<'_>,
        progress: &Progress<'_>,
    ) -> impl Future<Output = Result<(), StepFailure>> + Send;
    /// Ids of the resources still inside a resource group (at most one page suffices).
    fn resources_in_group(
        &self,
        tenant_id: &str,
        group_id: &str,
    ) -> impl Future<Output = Result<Vec<String>, StepFailure>> + Send;
}

/// Runs plan steps through an [`ArmWriter`].
#[derive(Debug)]
pub struct ArmRunner<W> {
    writer: W,
}

impl<W: ArmWriter> ArmRunner<W> {
    /// A runner sending through `writer`.
    pub fn new(writer: W) -> Self {
        Self { writer }
    }

    /// The writer (tests inspect what it sent).
    pub fn writer(&self) -> &W {
        &self.writer
    }
}

impl<W: ArmWriter> StepRunner<ResourceChange> for ArmRunner<W> {
    async fn run(
        &self,
        step: &StepId,
        change: &ResourceChange,
        progress: &Progress<'_>,
    ) -> Result<(), StepFailure> {
        let request = change.request.as_ref().ok_or_else(|| {
            StepFailure::message(format!("the plan has no request for {}", change.address))
        })?;
        let write = Write {
            tenant_id: &change.tenant_id,
            arm_id: &change.arm_id,
            api_version: &request.api_version,
            body: None,
            aux_tenant_ids: &request.aux_tenant_ids,
        };
        match step.op {
            Op::Delete => {
                // A replacement's DELETE belongs to the PUT that follows: its auxiliary tenants
                // authorize the new body's references, not the removal of the old resource.
                let aux: &[String] = if step.replace {
                    &[]
                } else {
                    &request.aux_tenant_ids
                };
                if change.kind == ResourceKind::ResourceGroup {
                    self.refuse_non_empty_group(change).await?;
                }
                self.writer
                    .delete(
                        &Write {
                            aux_tenant_ids: aux,
                            ..write
                        },
                        progress,
                    )
                    .await
            }
            Op::Create | Op::Update => {
                let body = match (request.method, request.body.as_ref()) {
                    (Method::Post, Some(body)) => {
                        return self
                            .writer
                            .post(
                                &Write {
                                    body: Some(body),
                                    ..write
                                },
                                progress,
                            )
                            .await;
                    }
                    (Method::Put, Some(body)) => body,
                    _ => {
                        return Err(StepFailure::message(format!(
                            "the plan's request for {} is not a PUT with a body",
                            change.address
                        )));
                    }
                };
                self.writer
                    .put(
                        &Write {
                            body: Some(body),
                            ..write
                        },
                        progress,
                    )
                    .await
            }
        }
    }
}

impl<W: ArmWriter> ArmRunner<W> {
    async fn refuse_non_empty_group(&self, change: &ResourceChange) -> Result<(), StepFailure> {
        let left = self
            .writer
            .resources_in_group(&change.tenant_id, &change.arm_id)
            .await?;
        if left.is_empty() {
            return Ok(());
        }
        let shown: Vec<&str> = left.iter().take(5).map(String::as_str).collect();
        let more = left.len().saturating_sub(shown.len());
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        Err(StepFailure {
            message: format!(
                "refusing to delete resource group {}: it still holds {} resource(s) galleon \
                 does not manage, which ARM would delete with it: {}{more}",
                change.resource_group,
                left.len(),
                shown.join(", ")
            ),
            hint: Some(
                "move or delete those resources yourself, or remove the resource group from \
                 the workspace's ownership (its galleon-workspace tag), then run again"
                    .into(),
            ),
            ..StepFailure::default()
        })
    }
}
