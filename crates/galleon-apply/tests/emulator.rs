//! The applier against galleon's emulator over HTTPS: real requests through `galleon-azure`,
//! the real blob-lease lock, stale-plan detection against a world that moved, convergence
//! after a partial failure, and destroy's refusal to empty a group it does not fully own. The
//! emulator's state and request log are the witnesses.

use std::sync::Arc;
use std::time::Duration;

use galleon_apply::{
    ApplyError, ApplyOptions, AzureContext, BlobLockBackend, LockBackend, LockError, LockInfo,
    Outcome, RecordingSink, StaleError, apply, destroy_plan, force_unlock,
};
use galleon_azure::{
    ArmClient, ClientOptions, Cloud, CredentialSource, CredentialSpec, LroConfig, RetryConfig,
    Secret, SecretSource, TenantId,
};
use galleon_emulator::faults::Injector;
use galleon_emulator::seed::Faults;
use galleon_emulator::{Emulator, EmulatorConfig, RunningEmulator, Seed};
use galleon_plan::{Action, Plan, fixtures};
use serde_json::json;

const TENANT_A: &str = "11111111-1111-4111-8111-111111111111";
const TENANT_B: &str = "22222222-2222-4222-8222-222222222222";
const APP: &str = "0a0a0a0a-3333-4333-8333-333333333333";
const SUB_A: &str = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa";
const SUB_B: &str = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb";
const SECRET: &str = "apply-test-secret-never-printed";
const IMAGES_RG: &str =
    "/subscriptions/aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa/resourceGroups/rg-golden-images";
const STATE_RG: &str =
    "/subscriptions/aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa/resourceGroups/rg-state";

/// Both tenants, the app consented in both with Owner/Contributor, and a storage account for
/// the lock with the data role a lease needs.
fn seed() -> Seed {
    let sp = |tenant: &str| json!({"app_id": APP, "tenant": tenant});
    serde_json::from_value(json!({
        "tenants": [{"id": TENANT_A}, {"id": TENANT_B}],
        "apps": [{"app_id": APP, "home_tenant": TENANT_A, "secrets": [{"value": SECRET}]}],
        "service_principals": [sp(TENANT_A), sp(TENANT_B)],
        "subscriptions": [{"id": SUB_A, "tenant": TENANT_A}, {"id": SUB_B, "tenant": TENANT_B}],
        "role_assignments": [
            {"principal": sp(TENANT_A), "role": "Owner", "scope": format!("/subscriptions/{SUB_A}")},
            {"principal": sp(TENANT_B), "role": "Contributor", "scope": format!("/subscriptions/{SUB_B}")},
            {"principal": sp(TENANT_A), "role": "Storage Blob Data Contributor", "scope": STATE_RG},
        ],
        "resources": [
            {"id": STATE_RG, "location": "westeurope"},
            {"id": format!("{STATE_RG}/providers/Microsoft.Storage/storageAccounts/galleonstate"),
             "location": "westeurope"},
        ],
        "settings": {"lro_default_ms": 30, "retry_after_secs": 0},
    }))
    .expect("seed")
}

struct Ctx {
    emu: RunningEmulator,
    azure: AzureContext,
}

impl Ctx {
    async fn start() -> Ctx {
        let emu = Emulator::start(EmulatorConfig {
            seed: seed(),
            ..EmulatorConfig::default()
        })
        .await
        .expect("emulator starts");
        let azure = Self::context(&emu).await;
        Ctx { emu, azure }
    }

    /// A second galleon process: its own client and lock context.
    async fn context(emu: &RunningEmulator) -> AzureContext {
        let endpoint = url::Url::parse(emu.endpoint()).unwrap();
        let cloud = Cloud::discover(&endpoint, Some(emu.ca_pem()))
            .await
            .expect("metadata");
        let options = ClientOptions {
            retry: RetryConfig {
                min_delay: Duration::from_millis(10),
                max_delay: Duration::from_millis(50),
                max_attempts: 2,
                ..RetryConfig::default()
            },
            lro: LroConfig {
                default_interval: Duration::from_millis(20),
                min_interval: Duration::from_millis(10),
                ..LroConfig::default()
            },
            ..ClientOptions::default()
        };
        let client = ArmClient::new(cloud, options).unwrap();
        let spec = |tenant: &str| CredentialSpec {
            tenant_id: TenantId::new(tenant),
            client_id: APP.into(),
            source: CredentialSource::ClientSecret(SecretSource::Value(Secret::new(SECRET))),
        };
        client
            .configure_credentials(&[spec(TENANT_A), spec(TENANT_B)])
            .unwrap();
        AzureContext::new(
            client,
            "cross-tenant",
            TENANT_A,
            "galleonstate",
            "galleon-locks",
        )
        .unwrap()
    }

    async fn exists(&self, arm_id: &str) -> bool {
        let tenant = TenantId::new(if arm_id.contains(SUB_A) {
            TENANT_A
        } else {
            TENANT_B
        });
        self.azure
            .client
            .get_optional(&tenant, arm_id)
            .await
            .unwrap()
            .is_some()
    }

    fn set_faults(&self, faults: Faults) {
        *self.emu.shared().faults.lock().unwrap() = Injector::new(faults);
    }

    fn writes(&self) -> Vec<(String, String)> {
        self.emu
            .requests()
            .into_iter()
            .filter(|e| matches!(e.method.as_str(), "PUT" | "DELETE") && !e.path.contains("/blob/"))
            .map(|e| (e.method, e.path))
            .collect()
    }
}

fn options() -> ApplyOptions {
    ApplyOptions::default()
}

async fn run(
    plan: &Plan,
    ctx: &Ctx,
    options: ApplyOptions,
) -> Result<galleon_apply::Summary, ApplyError> {
    run_with(plan, &ctx.azure, options).await
}

/// Applies and prints any failure event, so a failing assertion shows ARM's answer.
async fn run_with(
    plan: &Plan,
    azure: &AzureContext,
    options: ApplyOptions,
) -> Result<galleon_apply::Summary, ApplyError> {
    let sink = RecordingSink::default();
    let result = apply(plan, azure, options, &sink).await;
    for e in sink.events() {
        if let galleon_apply::EventKind::Failed { error, .. } = &e.kind {
            eprintln!("{}: {error}", e.step);
        }
    }
    result
}

#[tokio::test]
async fn applies_a_plan_then_refuses_it_once_the_world_moved() {
    let ctx = Ctx::start().await;
    let plan = fixtures::create_only();
    let summary = run(&plan, &ctx, options()).await.unwrap();
    assert_eq!((summary.outcome, summary.created), (Outcome::Success, 3));
    for c in &plan.changes {
        assert!(ctx.exists(&c.arm_id).await, "{} exists", c.address);
    }
    // The same saved plan again: everything it saw absent now exists.
    let writes_before = ctx.writes().len();
    let err = run(&plan, &ctx, options()).await.unwrap_err();
    let ApplyError::Stale(StaleError::Stale(moved)) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(moved.len(), 3);
    assert!(err.to_string().contains("resource_group.images"), "{err}");
    assert!(err.to_string().contains("appeared"), "{err}");
    assert_eq!(
        ctx.writes().len(),
        writes_before,
        "a refused plan writes nothing"
    );
    // The lock was released both times: a third party can take it at once.
    let lock = BlobLockBackend::new(ctx.azure.lock.clone());
    let id = lock
        .try_acquire(
            &LockInfo::new("cross-tenant", "apply"),
            Duration::from_secs(60),
        )
        .await;
    assert!(id.is_ok(), "{id:?}");
}

#[tokio::test]
async fn a_partial_failure_skips_dependents_and_a_second_apply_converges() {
    let ctx = Ctx::start().await;
    let plan = fixtures::create_only();
    // The gallery's operation fails: its image must be skipped, the group still created.
    ctx.set_faults(Faults {
        lro_failure_rate: 1.0,
        path_contains: Some("/galleries/golden_images".into()),
        method: Some("PUT".into()),
        ..Faults::default()
    });
    let sink = RecordingSink::default();
    let summary = apply(&plan, &ctx.azure, options(), &sink).await.unwrap();
    assert_eq!(
        (
            summary.outcome,
            summary.created,
            summary.failed,
            summary.skipped
        ),
        (Outcome::Failed, 1, 1, 1)
    );
    let failed = sink
        .events()
        .into_iter()
        .find_map(|e| match e.kind {
            galleon_apply::EventKind::Failed { error, .. } => Some((e.step.address, error)),
            _ => None,
        })
        .unwrap();
    assert_eq!(failed.0, "gallery.golden");
    assert!(
        failed.1.code.is_some(),
        "ARM's code is kept: {:?}",
        failed.1
    );
    assert!(
        !ctx.exists(&plan.change("gallery_image.golden/ubuntu").unwrap().arm_id)
            .await
    );

    // Fixed; the same requests again (PUT is idempotent), without the freshness check that
    // would rightly object to the group now existing.
    ctx.set_faults(Faults::default());
    let again = ApplyOptions {
        check_fresh: false,
        ..options()
    };
    let summary = run(&plan, &ctx, again).await.unwrap();
    assert_eq!((summary.outcome, summary.created), (Outcome::Success, 3));
    for c in &plan.changes {
        assert!(ctx.exists(&c.arm_id).await, "{} exists", c.address);
    }
}

#[tokio::test]
async fn destroy_deletes_in_reverse_order_and_an_absent_resource_is_already_done() {
    let ctx = Ctx::start().await;
    let created = fixtures::create_only();
    run(&created, &ctx, options()).await.unwrap();
    // What a full plan would say now: everything exists; the group was adopted, not owned.
    let mut seen = created.clone();
    for c in &mut seen.changes {
        c.before = c.after.clone();
        c.action = Action::NoOp;
        c.owned_by_us = c.address != "resource_group.images";
    }
    let destroy = destroy_plan(&seen);
    // Someone already deleted the image definition by hand.
    let image = created
        .change("gallery_image.golden/ubuntu")
        .unwrap()
        .arm_id
        .clone();
    let deleted = ctx
        .azure
        .client
        .delete(&TenantId::new(TENANT_A), &image, &[])
        .await
        .unwrap();
    assert!(deleted);
    let opts = ApplyOptions {
        operation: "destroy".into(),
        check_fresh: false,
        ..options()
    };
    let summary = run(&destroy, &ctx, opts).await.unwrap();
    assert_eq!((summary.outcome, summary.deleted), (Outcome::Success, 2));
    let deletes: Vec<String> = ctx
        .writes()
        .into_iter()
        .filter(|w| w.0 == "DELETE")
        .map(|w| w.1.to_lowercase())
        .collect();
    let pos = |needle: &str| deletes.iter().rposition(|d| d.ends_with(needle)).unwrap();
    assert!(pos("/images/ubuntu") < pos("/galleries/golden_images"));
    for c in &created.changes {
        let kept = c.address == "resource_group.images";
        assert_eq!(ctx.exists(&c.arm_id).await, kept, "{}", c.address);
    }
}

#[tokio::test]
async fn destroy_never_empties_a_group_holding_resources_it_does_not_own() {
    let ctx = Ctx::start().await;
    run(&fixtures::create_only(), &ctx, options())
        .await
        .unwrap();
    let mut seen = fixtures::create_only();
    let group = seen.change("resource_group.images").unwrap().clone();
    seen.changes
        .retain(|c| c.address == "resource_group.images");
    seen.changes[0].before = group.after.clone();
    seen.changes[0].action = Action::NoOp;
    seen.changes[0].owned_by_us = true;
    let sink = RecordingSink::default();
    let opts = ApplyOptions {
        operation: "destroy".into(),
        check_fresh: false,
        ..options()
    };
    let summary = apply(&destroy_plan(&seen), &ctx.azure, opts, &sink)
        .await
        .unwrap();
    assert_eq!((summary.outcome, summary.failed), (Outcome::Failed, 1));
    let text = format!("{:?}", sink.events());
    assert!(
        text.contains("refusing to delete resource group rg-golden-images"),
        "{text}"
    );
    assert!(ctx.exists(&group.arm_id).await);
    assert!(
        ctx.writes().iter().all(|w| w.0 != "DELETE"),
        "nothing deleted"
    );
}

#[tokio::test]
async fn two_applies_exclude_each_other_through_the_blob_lease() {
    let ctx = Ctx::start().await;
    let other = Ctx::context(&ctx.emu).await;
    let mine = Arc::new(BlobLockBackend::new(ctx.azure.lock.clone()));
    let info = LockInfo::new("cross-tenant", "apply");
    let guard = galleon_apply::lock::acquire(Arc::clone(&mine), &info, &Default::default())
        .await
        .unwrap();
    // The other process's apply is refused with my details, and writes nothing.
    let err = run_with(&fixtures::create_only(), &other, options())
        .await
        .unwrap_err();
    let ApplyError::Lock(LockError::Held {
        holder: Some(holder),
        ..
    }) = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(**holder, info);
    assert!(ctx.writes().is_empty());
    // force-unlock breaks my lease and reports whose it was; the other apply can now run.
    assert_eq!(force_unlock(&other).await.unwrap(), Some(info));
    let summary = run_with(&fixtures::create_only(), &other, options())
        .await
        .unwrap();
    assert_eq!(summary.outcome, Outcome::Success);
    drop(guard);
}

#[tokio::test]
async fn a_plan_fingerprinted_from_list_bodies_is_fresh_when_nothing_moved() {
    let ctx = Ctx::start().await;
    let created = fixtures::create_only();
    run(&created, &ctx, options()).await.unwrap();
    // The planner reads in bulk (list calls) and fingerprints those bodies; apply re-reads one
    // by one (GET). Both must agree on an untouched resource, or every saved plan is "stale".
    let tenant = TenantId::new(TENANT_A);
    let galleries = ctx
        .azure
        .client
        .list(
            &tenant,
            &format!("{IMAGES_RG}/providers/Microsoft.Compute/galleries"),
        )
        .await
        .unwrap();
    let gallery_id = created.change("gallery.golden").unwrap().arm_id.clone();
    let images = ctx
        .azure
        .client
        .list(&tenant, &format!("{gallery_id}/images"))
        .await
        .unwrap();
    let mut plan = created.clone();
    plan.reads = galleries
        .iter()
        .chain(&images)
        .map(|body| {
            let id = body["id"].as_str().unwrap().to_owned();
            galleon_plan::Fingerprint::of(id, Some(body))
        })
        .collect();
    assert_eq!(plan.reads.len(), 2);
    let reader = galleon_apply::ArmReader::for_plan(ctx.azure.client.clone(), &plan);
    galleon_apply::check_fresh(&plan, &reader, 4).await.unwrap();
}
