//! Gallery images a workspace references without managing them, read with one GET each in
//! their own tenant: that read is the very permission the VM write will need.

use std::collections::{BTreeMap, BTreeSet};

use futures::{StreamExt, stream};
use galleon_azure::{ArmClient, TenantId};

use crate::live::LiveResource;

/// A gallery image this workspace only references, to read in its own tenant.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ExternalImage {
    /// Tenant key the image lives in (`image_tenant`, else the VM's).
    pub tenant: String,
    /// That tenant's id.
    pub tenant_id: String,
    /// The version or definition id the VM names.
    pub arm_id: String,
}

/// Reads referenced gallery images (each version and its definition) with one GET each, in
/// parallel: the app's own read of the image is the permission the VM write will need.
pub async fn read_external(
    arm: &ArmClient,
    images: &[ExternalImage],
    concurrency: usize,
) -> (
    Vec<LiveResource>,
    BTreeMap<String, crate::preflight::ExternalRead>,
) {
    use crate::preflight::ExternalRead;
    let mut ids: BTreeSet<ExternalImage> = BTreeSet::new();
    for image in images {
        ids.insert(image.clone());
        if let Some(i) = image.arm_id.to_ascii_lowercase().find("/versions/") {
            ids.insert(ExternalImage {
                arm_id: image.arm_id[..i].to_owned(),
                ..image.clone()
            });
        }
    }
    let results: Vec<_> = stream::iter(ids)
        .map(|image| async move {
            let tenant = TenantId::new(&image.tenant_id);
            let result = arm.get_optional(&tenant, &image.arm_id).await;
            (image, result)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut found = Vec::new();
    let mut outcomes = BTreeMap::new();
    for (image, result) in results {
        let outcome = match result {
            Ok(Some(resp)) => {
                found.push(LiveResource::new(
                    image.arm_id.clone(),
                    image.tenant.clone(),
                    image.tenant_id.clone(),
                    resp.body,
                ));
                ExternalRead::Found
            }
            Ok(None) => ExternalRead::NotFound,
            Err(e) => ExternalRead::Refused(match e.hint() {
                Some(hint) => format!("{e}\nhint: {hint}"),
                None => e.to_string(),
            }),
        };
        outcomes.insert(image.arm_id.to_ascii_lowercase(), outcome);
    }
    (found, outcomes)
}
