//! The whole library pipeline on the seed scenario, against the emulator: the example
//! workspace is planned by `galleon-plan` and applied by this crate, concurrently and under
//! the lock; the VM's PUT carries the publisher tenant's token; planning again finds nothing
//! to do; the first plan, now stale, is refused; destroy removes exactly what galleon owns.

use std::path::Path;
use std::time::Duration;

use galleon_apply::{
    ApplyError, ApplyOptions, AzureContext, Outcome, RecordingSink, StaleError, apply, destroy_plan,
};
use galleon_azure::{
    ArmClient, ClientOptions, Cloud, CredentialSource, CredentialSpec, LroConfig, RetryConfig,
    Secret, SecretSource, TenantId,
};
use galleon_emulator::{Emulator, EmulatorConfig, RunningEmulator, Seed};
use galleon_manifest::Workspace;
use galleon_plan::{Action, CheckStatus, Plan, PlanOptions};
use serde_json::json;

const APP: &str = "0a0a0a0a-3333-4333-8333-333333333333";
const SECRET: &str = "conformance-secret-value";
const PUBLISHER: &str = "11111111-1111-4111-8111-111111111111";
const CONSUMER: &str = "22222222-2222-4222-8222-222222222222";
const STATE_RG: &str =
    "/subscriptions/aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa/resourceGroups/rg-state";
const BUILD_RG: &str =
    "/subscriptions/aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa/resourceGroups/rg-image-build";

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// The seed scenario's Azure before anyone ran anything (as in tests/conformance): two
/// tenants, one multi-tenant app consented in both, a subscription in each, a managed image to
/// publish; plus a storage account for the lock.
fn seed() -> Seed {
    let sp = |tenant: &str| json!({"app_id": APP, "tenant": tenant});
    serde_json::from_value(json!({
        "tenants": [
            {"id": PUBLISHER, "display_name": "Publisher"},
            {"id": CONSUMER, "display_name": "Consumer"},
        ],
        "apps": [{"app_id": APP, "home_tenant": PUBLISHER, "secrets": [{"value": SECRET}]}],
        "service_principals": [sp(PUBLISHER), sp(CONSUMER)],
        "subscriptions": [
            {"id": "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa", "tenant": PUBLISHER},
            {"id": "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb", "tenant": CONSUMER},
        ],
        "role_assignments": [
            {"principal": sp(PUBLISHER), "role": "Owner",
             "scope": "/subscriptions/aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa"},
            {"principal": sp(CONSUMER), "role": "Contributor",
             "scope": "/subscriptions/bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb"},
            {"principal": sp(PUBLISHER), "role": "Storage Blob Data Contributor", "scope": STATE_RG},
        ],
        "resources": [
            {"id": BUILD_RG, "location": "westeurope"},
            {"id": format!("{BUILD_RG}/providers/Microsoft.Compute/images/ubuntu-2204-base"),
             "location": "westeurope",
             "properties": {"hyperVGeneration": "V2", "storageProfile": {
                 "osDisk": {"osType": "Linux", "osState": "Generalized", "diskSizeGB": 30}}}},
            {"id": STATE_RG, "location": "westeurope"},
            {"id": format!("{STATE_RG}/providers/Microsoft.Storage/storageAccounts/galleonstate"),
             "location": "westeurope"},
        ],
        "settings": {"lro_default_ms": 30, "retry_after_secs": 0},
    }))
    .expect("seed")
}

struct World {
    emu: RunningEmulator,
    plan_ctx: galleon_plan::AzureContext,
    apply_ctx: AzureContext,
    workspace: Workspace,
}

async fn world() -> World {
    world_with(|_| {}).await
}

async fn world_with(edit: impl FnOnce(&mut Seed)) -> World {
    world_tuned(edit, |_| {}).await
}

async fn world_tuned(edit: impl FnOnce(&mut Seed), tune: impl FnOnce(&mut ClientOptions)) -> World {
    let mut seed = seed();
    edit(&mut seed);
    let emu = Emulator::start(EmulatorConfig {
        seed,
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts");
    let endpoint = url::Url::parse(emu.endpoint()).unwrap();
    let cloud = Cloud::discover(&endpoint, Some(emu.ca_pem()))
        .await
        .expect("metadata");
    let options = ClientOptions {
        retry: RetryConfig {
            min_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
            max_attempts: 3,
            ..RetryConfig::default()
        },
        lro: LroConfig {
            default_interval: Duration::from_millis(20),
            min_interval: Duration::from_millis(10),
            ..LroConfig::default()
        },
        ..ClientOptions::default()
    };
    let mut options = options;
    tune(&mut options);
    let client = ArmClient::new(cloud, options).unwrap();
    let spec = |tenant: &str| CredentialSpec {
        tenant_id: TenantId::new(tenant),
        client_id: APP.into(),
        source: CredentialSource::ClientSecret(SecretSource::Value(Secret::new(SECRET))),
    };
    client
        .configure_credentials(&[spec(PUBLISHER), spec(CONSUMER)])
        .unwrap();
    let workspace = Workspace::load(&root().join("examples/cross-tenant")).expect("example loads");
    let apply_ctx = AzureContext::new(
        client.clone(),
        workspace.name(),
        PUBLISHER,
        "galleonstate",
        "locks",
    )
    .unwrap();
    let plan_ctx = galleon_plan::AzureContext {
        arm: client,
        resource_graph: true,
    };
    World {
        emu,
        plan_ctx,
        apply_ctx,
        workspace,
    }
}

async fn plan_of(w: &World) -> Plan {
    galleon_plan::plan(&w.workspace, &w.plan_ctx, PlanOptions::default())
        .await
        .expect("plan")
}

async fn run(
    w: &World,
    plan: &Plan,
    operation: &str,
) -> Result<galleon_apply::Summary, ApplyError> {
    let sink = RecordingSink::default();
    let options = ApplyOptions {
        operation: operation.into(),
        ..ApplyOptions::default()
    };
    let result = apply(plan, &w.apply_ctx, options, &sink).await;
    for e in sink.events() {
        if let galleon_apply::EventKind::Failed { error, .. } = &e.kind {
            eprintln!("{}: {error}", e.step);
        }
    }
    result
}

#[tokio::test]
async fn plan_apply_replan_destroy_on_the_seed_scenario() {
    let w = world().await;
    let first = plan_of(&w).await;
    let failed: Vec<_> = first
        .preflight
        .iter()
        .filter(|c| c.status == CheckStatus::Fail)
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert!(first.summary.add > 5, "{:?}", first.summary);

    let summary = run(&w, &first, "apply").await.unwrap();
    assert_eq!(
        (summary.outcome, summary.created),
        (Outcome::Success, first.summary.add)
    );

    // The VM's PUT, and only writes that reference the other tenant, carried its token.
    let log = w.emu.requests();
    let vm_put = log
        .iter()
        .find(|e| e.method == "PUT" && e.path.contains("/virtualMachines/"))
        .expect("the VM was written");
    assert!(
        vm_put.auxiliary,
        "x-ms-authorization-auxiliary on the VM PUT"
    );
    assert!(
        log.iter()
            .filter(|e| e.method == "GET")
            .all(|e| !e.auxiliary),
        "reads never carry the auxiliary header"
    );

    // Converged: nothing left to do.
    let second = plan_of(&w).await;
    assert!(!second.has_changes(), "{:?}", second.summary);

    // The first plan saw an empty world: applying it again is refused, naming what appeared.
    let err = run(&w, &first, "apply").await.unwrap_err();
    let ApplyError::Stale(StaleError::Stale(moved)) = &err else {
        panic!("{err:?}")
    };
    assert!(
        moved.iter().any(|m| m.address.as_deref() == Some("vm.web")),
        "{err}"
    );

    // Destroy what the workspace owns, in reverse order; the seeded build group and managed
    // image (not galleon's) stay.
    let destroy = destroy_plan(&second);
    assert_eq!(destroy.summary.destroy, first.summary.add);
    let summary = run(&w, &destroy, "destroy").await.unwrap();
    assert_eq!(
        (summary.outcome, summary.deleted),
        (Outcome::Success, first.summary.add)
    );
    let third = plan_of(&w).await;
    assert!(
        third.changes.iter().all(|c| c.action == Action::Create),
        "everything is gone"
    );
    let build = w
        .apply_ctx
        .client
        .get_optional(&TenantId::new(PUBLISHER), BUILD_RG)
        .await
        .unwrap();
    assert!(build.is_some(), "the unowned build group survives destroy");
}

/// Cancels the apply as soon as the first write starts (a Ctrl-C at the worst moment).
struct CtrlCAtFirstWrite {
    token: galleon_apply::CancellationToken,
    inner: RecordingSink,
}

impl galleon_apply::EventSink for CtrlCAtFirstWrite {
    fn emit(&self, event: &galleon_apply::Event) {
        if matches!(event.kind, galleon_apply::EventKind::Started) {
            self.token.cancel();
        }
        self.inner.emit(event);
    }
}

#[tokio::test]
async fn ctrl_c_finishes_in_flight_writes_releases_the_lock_and_a_rerun_converges() {
    let w = world().await;
    let first = plan_of(&w).await;
    let token = galleon_apply::CancellationToken::new();
    let sink = CtrlCAtFirstWrite {
        token: token.clone(),
        inner: RecordingSink::default(),
    };
    let options = ApplyOptions {
        cancel: token,
        ..ApplyOptions::default()
    };
    let summary = apply(&first, &w.apply_ctx, options, &sink).await.unwrap();
    assert_eq!(summary.outcome, Outcome::Cancelled);
    assert_eq!(summary.outcome.exit_code(), 130);
    // What had started finished; nothing else started.
    let events = sink.inner.events();
    let started = events
        .iter()
        .filter(|e| matches!(e.kind, galleon_apply::EventKind::Started));
    let started: Vec<&str> = started.map(|e| e.step.address.as_str()).collect();
    assert!(
        !started.is_empty() && started.len() < first.summary.add,
        "{started:?}"
    );
    assert_eq!(summary.created, started.len());
    assert_eq!(summary.cancelled, first.summary.add - started.len());

    // The lock was released: a new plan and apply proceed at once and converge.
    let second = plan_of(&w).await;
    assert_eq!(second.summary.add, first.summary.add - started.len());
    let summary = run(&w, &second, "apply").await.unwrap();
    assert_eq!(
        (summary.outcome, summary.created),
        (Outcome::Success, second.summary.add)
    );
    assert!(!plan_of(&w).await.has_changes());
}

/// Shows every event in both human and machine form, into memory.
struct BothViews {
    plain: galleon_apply::PlainSink<Vec<u8>>,
    json: galleon_apply::JsonSink<Vec<u8>>,
}

impl galleon_apply::EventSink for BothViews {
    fn emit(&self, event: &galleon_apply::Event) {
        self.plain.emit(event);
        self.json.emit(event);
    }
    fn finish(&self, summary: &galleon_apply::Summary) {
        self.plain.finish(summary);
        self.json.finish(summary);
    }
}

#[tokio::test]
async fn no_output_or_lock_blob_ever_holds_the_secret_or_a_token() {
    let w = world().await;
    // A failure too, so that ARM error texts are part of what is shown.
    let mut plan = plan_of(&w).await;
    let vm = plan
        .changes
        .iter_mut()
        .find(|c| c.address == "vm.web")
        .unwrap();
    vm.request.as_mut().unwrap().aux_tenant_ids.clear();
    let sink = BothViews {
        plain: galleon_apply::PlainSink::new(Vec::new()),
        json: galleon_apply::JsonSink::new(Vec::new()),
    };
    let summary = apply(&plan, &w.apply_ctx, ApplyOptions::default(), &sink)
        .await
        .unwrap();
    assert_eq!((summary.outcome, summary.failed), (Outcome::Failed, 1));
    let plain = String::from_utf8(sink.plain.into_inner()).unwrap();
    let json = String::from_utf8(sink.json.into_inner()).unwrap();
    assert!(plain.contains("vm.web: failed"), "{plain}");
    assert!(plain.contains("LinkedAuthorizationFailed"), "{plain}");
    let blob = w.apply_ctx.lock.read().await.unwrap().unwrap_or_default();
    assert!(blob.contains("\"operation\":\"apply\""), "{blob}");
    for (what, text) in [
        ("plain output", plain),
        ("json output", json),
        ("lock blob", blob),
        ("context Debug", format!("{:?}", w.apply_ctx)),
    ] {
        assert!(!text.contains(SECRET), "{what} holds the client secret");
        assert!(!text.contains("eyJ"), "{what} holds a token: {text}");
    }
}

#[tokio::test]
async fn a_slow_vm_shows_its_provisioning_state_while_it_runs() {
    let w = world_with(|seed| {
        seed.settings
            .lro_ms
            .insert("Microsoft.Compute/virtualMachines".into(), 700);
    })
    .await;
    let plan = plan_of(&w).await;
    let sink = RecordingSink::default();
    let options = ApplyOptions {
        status_every: Duration::from_millis(100),
        ..ApplyOptions::default()
    };
    let summary = apply(&plan, &w.apply_ctx, options, &sink).await.unwrap();
    assert_eq!(summary.outcome, Outcome::Success);
    let vm_states: Vec<String> = sink
        .events()
        .into_iter()
        .filter(|e| e.step.address == "vm.web")
        .filter_map(|e| match e.kind {
            galleon_apply::EventKind::LroProgress { status } => Some(status),
            _ => None,
        })
        .collect();
    assert!(
        !vm_states.is_empty(),
        "no progress for a 700 ms VM creation"
    );
    // The last read may land between the operation's end and the client noticing it.
    assert!(vm_states.iter().any(|s| s == "Creating"), "{vm_states:?}");
    assert!(
        vm_states
            .iter()
            .all(|s| s == "Creating" || s == "Succeeded"),
        "{vm_states:?}"
    );
}

/// A status read waits for one of the subscription's request slots; the write it watches may hold
/// the last one. The write must keep being driven meanwhile, or neither ever finishes (an apply
/// of 10,000 resources stalled for good this way). One slot per subscription and reads due every
/// millisecond make every write hit it.
#[tokio::test]
async fn status_reads_never_starve_the_write_they_watch() {
    let w = world_tuned(
        |seed| seed.settings.faults.latency_ms = 30,
        |options| options.limiter.max_concurrency = 1,
    )
    .await;
    let plan = plan_of(&w).await;
    let sink = RecordingSink::default();
    let options = ApplyOptions {
        status_every: Duration::from_millis(1),
        ..ApplyOptions::default()
    };
    // A deadlock shows as no end at all; the timeout only turns it into a failure.
    let summary = tokio::time::timeout(
        Duration::from_secs(120),
        apply(&plan, &w.apply_ctx, options, &sink),
    )
    .await
    .expect("the apply stalled: a status read starved the write it watches")
    .unwrap();
    assert_eq!(summary.outcome, Outcome::Success);
    let again = plan_of(&w).await;
    assert_eq!(
        again.summary.add + again.summary.change,
        0,
        "{:?}",
        again.summary
    );
}
