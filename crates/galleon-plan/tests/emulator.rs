//! The planner against galleon's emulator over HTTPS, seeded with the conformance world
//! (tests/conformance/seed.yaml): a fresh plan creates everything and passes preflight;
//! once its writes are applied, every kind plans as a no-op; drift plans as an update; an
//! unowned namesake is adopted, never deleted; an owned resource no longer declared is
//! deleted; a missing service principal fails preflight with the consent link.

use std::path::{Path, PathBuf};
use std::time::Duration;

use galleon_azure::{
    ArmClient, ArmRequest, ClientOptions, Cloud, CredentialSource, CredentialSpec, LroConfig,
    Method, RetryConfig, Secret, SecretSource, TenantId,
};
use galleon_emulator::seed::{SeedPrincipal, SeedResource, SeedRoleAssignment, SeedSubscription};
use galleon_emulator::{Emulator, EmulatorConfig, RunningEmulator, Seed};
use galleon_manifest::Workspace;
use galleon_plan::{
    Action, AzureContext, CheckStatus, Fingerprint, Plan, PlanOptions, ResourceKind, plan,
};
use serde_json::json;

const APP: &str = "0a0a0a0a-3333-4333-8333-333333333333";
const SECRET: &str = "conformance-secret-value";
const PUBLISHER: &str = "11111111-1111-4111-8111-111111111111";
const CONSUMER: &str = "22222222-2222-4222-8222-222222222222";
const RG_APP: &str = "/subscriptions/bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb/resourceGroups/rg-app";

struct World {
    emulator: RunningEmulator,
    azure: AzureContext,
}

async fn world(edit: impl FnOnce(&mut Seed)) -> World {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join("tests/conformance/seed.yaml")).unwrap();
    let mut seed = Seed::from_yaml(&text).expect("conformance seed parses");
    edit(&mut seed);
    let emulator = Emulator::start(EmulatorConfig {
        seed,
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts");
    let endpoint = url::Url::parse(emulator.endpoint()).unwrap();
    let cloud = Cloud::discover(&endpoint, Some(emulator.ca_pem()))
        .await
        .expect("metadata");
    let options = ClientOptions {
        retry: RetryConfig {
            min_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(100),
            total_cap: Duration::from_secs(20),
            max_attempts: 4,
        },
        lro: LroConfig {
            default_interval: Duration::from_millis(50),
            min_interval: Duration::from_millis(10),
            max_wait: Duration::from_secs(30),
        },
        ..ClientOptions::default()
    };
    let arm = ArmClient::new(cloud, options).unwrap();
    let spec = |tenant: &str| CredentialSpec {
        tenant_id: TenantId::new(tenant),
        client_id: APP.into(),
        source: CredentialSource::ClientSecret(SecretSource::Value(Secret::new(SECRET))),
    };
    arm.configure_credentials(&[spec(PUBLISHER), spec(CONSUMER)])
        .unwrap();
    World {
        emulator,
        azure: AzureContext {
            arm,
            resource_graph: true,
        },
    }
}

fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/cross-tenant")
}

/// The example with text replacements, in a temporary directory.
fn edited(files: &[&str], replacements: &[(&str, &str, &str)]) -> (tempfile::TempDir, Workspace) {
    let dir = tempfile::tempdir().unwrap();
    for name in files {
        let mut text = std::fs::read_to_string(example_dir().join(name)).unwrap();
        for (file, from, to) in replacements {
            if file == name {
                assert!(text.contains(from), "{from} not in {name}");
                text = text.replace(from, to);
            }
        }
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let ws = Workspace::load(dir.path()).expect("edited workspace loads");
    (dir, ws)
}

async fn plan_of(world: &World, workspace: &Workspace) -> Plan {
    plan(workspace, &world.azure, PlanOptions::default())
        .await
        .expect("plan")
}

/// What apply does, minus locking: the planned writes in waves, each wave the changes whose
/// dependencies are done (deletes last, in reverse plan order).
async fn apply(world: &World, plan: &Plan) {
    let mut pending: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| c.action.is_change() && c.action != Action::Delete)
        .collect();
    let planned: std::collections::BTreeSet<&str> =
        pending.iter().map(|c| c.address.as_str()).collect();
    let mut done = std::collections::BTreeSet::new();
    while !pending.is_empty() {
        let (ready, rest): (Vec<_>, Vec<_>) = pending.into_iter().partition(|c| {
            c.depends_on
                .iter()
                .all(|d| !planned.contains(d.as_str()) || done.contains(d.as_str()))
        });
        assert!(!ready.is_empty(), "dependency cycle in the plan");
        futures::future::join_all(ready.iter().map(|c| write(world, c))).await;
        done.extend(ready.iter().map(|c| c.address.as_str()));
        pending = rest;
    }
    for change in plan
        .changes
        .iter()
        .rev()
        .filter(|c| c.action == Action::Delete)
    {
        write(world, change).await;
    }
}

async fn write(world: &World, change: &galleon_plan::ResourceChange) {
    let tenant = TenantId::new(&change.tenant_id);
    let request = change
        .request
        .as_ref()
        .expect("a change carries its request");
    let aux: Vec<TenantId> = request.aux_tenant_ids.iter().map(TenantId::new).collect();
    if matches!(change.action, Action::Delete | Action::Replace) {
        let del = ArmRequest {
            api_version: Some(&request.api_version),
            ..ArmRequest::new(Method::DELETE, &tenant, &change.arm_id)
        };
        world
            .azure
            .arm
            .send(del)
            .await
            .unwrap_or_else(|e| panic!("DELETE {}: {e}", change.address));
    }
    if request.method == galleon_plan::Method::Post {
        // An action (a gallery's `share`): `arm_id` is its path.
        let post = ArmRequest {
            api_version: Some(&request.api_version),
            body: request.body.as_ref(),
            ..ArmRequest::new(Method::POST, &tenant, &change.arm_id)
        };
        world
            .azure
            .arm
            .send(post)
            .await
            .unwrap_or_else(|e| panic!("POST {}: {e}", change.address));
        return;
    }
    if let Some(body) = &request.body {
        let put = ArmRequest {
            api_version: Some(&request.api_version),
            body: Some(body),
            aux_tenants: &aux,
            ..ArmRequest::new(Method::PUT, &tenant, &change.arm_id)
        };
        world
            .azure
            .arm
            .send(put)
            .await
            .unwrap_or_else(|e| panic!("PUT {}: {e}", change.address));
    }
}

fn actions(plan: &Plan) -> Vec<(String, Action)> {
    plan.changes
        .iter()
        .map(|c| (c.address.clone(), c.action))
        .collect()
}

fn failed_checks(plan: &Plan) -> Vec<String> {
    plan.preflight
        .iter()
        .filter(|c| c.status == CheckStatus::Fail)
        .map(|c| format!("{}: {}", c.id, c.message))
        .collect()
}

#[tokio::test]
async fn fresh_world_creates_everything_then_every_kind_is_a_no_op() {
    let world = world(|_| {}).await;
    let workspace = Workspace::load(&example_dir()).unwrap();
    let first = plan_of(&world, &workspace).await;
    assert!(
        first.changes.iter().all(|c| c.action == Action::Create),
        "{:?}",
        actions(&first)
    );
    assert_eq!(first.summary.add, workspace.resources().len());
    assert!(
        failed_checks(&first).is_empty(),
        "{:#?}",
        failed_checks(&first)
    );
    let grant = first
        .changes
        .iter()
        .find(|c| c.kind == ResourceKind::GalleryGrant)
        .unwrap();
    let principal = grant.after.as_ref().unwrap()["properties"]["principalId"]
        .as_str()
        .unwrap();
    assert!(
        !principal.is_empty(),
        "the grant names the app's service principal in the publisher tenant"
    );
    let vm = first.change("vm.web").unwrap();
    assert_eq!(vm.request.as_ref().unwrap().aux_tenant_ids, [PUBLISHER]);

    apply(&world, &first).await;
    let second = plan_of(&world, &workspace).await;
    let changed: Vec<_> = second
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| {
            (
                c.address.clone(),
                c.attribute_changes
                    .iter()
                    .map(|a| a.path.clone())
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    assert!(changed.is_empty(), "not idempotent: {changed:#?}");
    assert!(!second.has_changes());
    let kinds: std::collections::BTreeSet<_> = second.changes.iter().map(|c| c.kind).collect();
    // Direct sharing (gallery_share) has its own test: the example shares through RBAC.
    assert_eq!(
        kinds.len(),
        ResourceKind::ALL.len() - 1,
        "every kind is covered: {kinds:?}"
    );
    assert!(second.changes.iter().all(|c| c.owned_by_us));
    assert!(
        failed_checks(&second).is_empty(),
        "{:#?}",
        failed_checks(&second)
    );
    assert!(second.reads.len() >= workspace.resources().len());

    // apply refuses a plan whose reads moved, re-reading each with a GET: list bodies and GET
    // bodies must fingerprint the same, or every saved plan would look stale.
    for read in &second.reads {
        let change = second
            .changes
            .iter()
            .find(|c| c.arm_id == read.arm_id)
            .unwrap();
        let tenant = TenantId::new(&change.tenant_id);
        let api = change.kind.api_version();
        let req = ArmRequest {
            api_version: Some(api),
            ..ArmRequest::new(Method::GET, &tenant, &read.arm_id)
        };
        let body = world.azure.arm.send(req).await.unwrap().body;
        assert_eq!(
            Fingerprint::of(&read.arm_id, Some(&body)),
            *read,
            "{}",
            change.address
        );
    }
}

#[tokio::test]
async fn drift_plans_as_an_update_of_exactly_the_drifted_field() {
    let world = world(|_| {}).await;
    let workspace = Workspace::load(&example_dir()).unwrap();
    apply(&world, &plan_of(&world, &workspace).await).await;

    let nsg_id = format!("{RG_APP}/providers/Microsoft.Network/networkSecurityGroups/nsg-web");
    let tenant = TenantId::new(CONSUMER);
    let mut body = world.azure.arm.get(&tenant, &nsg_id).await.unwrap().body;
    body["properties"]["securityRules"][0]["properties"]["destinationPortRange"] = json!("2222");
    body["tags"]["owner"] = json!("someone");
    world
        .azure
        .arm
        .put(&tenant, &nsg_id, &body, &[])
        .await
        .unwrap();

    let plan = plan_of(&world, &workspace).await;
    let nsg = plan.change("nsg.web").unwrap();
    assert_eq!(nsg.action, Action::Update);
    let paths: Vec<_> = nsg
        .attribute_changes
        .iter()
        .map(|a| a.path.as_str())
        .collect();
    assert_eq!(
        paths,
        [
            "tags.owner",
            "properties.securityRules[allow-ssh].properties.destinationPortRange"
        ]
    );
    assert_eq!(plan.summary.change, 1, "{:?}", actions(&plan));
}

#[tokio::test]
async fn an_unowned_namesake_is_adopted_and_unowned_neighbours_are_never_deleted() {
    let world = world(|_| {}).await;
    let tenant = TenantId::new(CONSUMER);
    let arm = &world.azure.arm;
    arm.put(&tenant, RG_APP, &json!({"location": "northeurope"}), &[])
        .await
        .unwrap();
    for name in ["nsg-web", "nsg-someone-else"] {
        let id = format!("{RG_APP}/providers/Microsoft.Network/networkSecurityGroups/{name}");
        arm.put(
            &tenant,
            &id,
            &json!({"location": "northeurope", "properties": {"securityRules": []}}),
            &[],
        )
        .await
        .unwrap();
    }
    let workspace = Workspace::load(&example_dir()).unwrap();
    let plan = plan_of(&world, &workspace).await;
    assert_eq!(plan.change("nsg.web").unwrap().action, Action::Update);
    assert!(!plan.change("nsg.web").unwrap().owned_by_us);
    let warned: Vec<_> = plan
        .preflight
        .iter()
        .filter(|c| c.id == "name-taken-unowned")
        .filter_map(|c| c.address.clone())
        .collect();
    assert_eq!(warned, ["resource_group.app", "nsg.web"]);
    assert!(
        plan.changes.iter().all(|c| c.action != Action::Delete),
        "{:?}",
        actions(&plan)
    );
    assert!(
        !plan
            .changes
            .iter()
            .any(|c| c.arm_id.ends_with("nsg-someone-else"))
    );
}

#[tokio::test]
async fn an_owned_resource_no_longer_declared_is_deleted() {
    let world = world(|_| {}).await;
    let workspace = Workspace::load(&example_dir()).unwrap();
    apply(&world, &plan_of(&world, &workspace).await).await;

    let all = ["app.yaml", "images.yaml", "tenants.yaml"];
    let (_dir, smaller) = edited(&all, &[("app.yaml", "public_ip: true", "public_ip: false")]);
    let plan = plan_of(&world, &smaller).await;
    let pip = plan
        .change("public_ip.web")
        .expect("the old public IP is in the plan");
    assert_eq!(pip.action, Action::Delete);
    assert!(pip.owned_by_us);
    assert_eq!(
        pip.request.as_ref().unwrap().method,
        galleon_plan::Method::Delete
    );
    let nic = plan.change("nic.web").unwrap();
    assert_eq!(nic.action, Action::Update);
    assert_eq!(
        nic.attribute_changes[0].path,
        "properties.ipConfigurations[ipconfig1].properties.publicIPAddress"
    );
    assert_eq!(plan.summary.destroy, 1, "{:?}", actions(&plan));
}

#[tokio::test]
async fn an_app_without_a_service_principal_in_the_image_tenant_fails_preflight() {
    // App 0b0b… is registered in the publisher tenant and never consented to in the consumer
    // tenant. Here the VM lives in the publisher tenant and boots the consumer tenant's image.
    const LONELY: &str = "0b0b0b0b-4444-4444-8444-444444444444";
    let world = world(|seed| {
        seed.role_assignments.push(SeedRoleAssignment {
            principal: SeedPrincipal::App {
                app_id: LONELY.into(),
                tenant: PUBLISHER.into(),
            },
            role: "Contributor".into(),
            scope: "/subscriptions/aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa".into(),
            name: None,
        });
    })
    .await;
    let spec = |tenant: &str| CredentialSpec {
        tenant_id: TenantId::new(tenant),
        client_id: LONELY.into(),
        source: CredentialSource::ClientSecret(SecretSource::Value(Secret::new(
            "other-secret-value",
        ))),
    };
    let arm = ArmClient::new(world.azure.arm.cloud().clone(), ClientOptions::default()).unwrap();
    arm.configure_credentials(&[spec(PUBLISHER), spec(CONSUMER)])
        .unwrap();
    let world = World {
        azure: AzureContext {
            arm,
            resource_graph: true,
        },
        ..world
    };

    let version = "/subscriptions/bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb/resourceGroups/rg-shared/providers/Microsoft.Compute/galleries/shared/images/ubuntu/versions/1.0.0";
    let reference = format!("image: {version}\n    image_tenant: consumer");
    let (_dir, workspace) = edited(
        &["app.yaml", "tenants.yaml"],
        &[
            ("app.yaml", "tenant: consumer", "tenant: publisher"),
            (
                "app.yaml",
                "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb",
                "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa",
            ),
            // Last: the reference names the consumer tenant the edits above remove.
            ("app.yaml", "image: golden/ubuntu/1.0.0", &reference),
            ("tenants.yaml", APP, LONELY),
        ],
    );
    let plan = plan_of(&world, &workspace).await;
    let sign_in = plan
        .preflight
        .iter()
        .find(|c| c.id == "image-tenant-sign-in")
        .unwrap();
    assert_eq!(sign_in.status, CheckStatus::Fail, "{sign_in:#?}");
    assert!(
        sign_in.message.contains("AADSTS700016"),
        "{}",
        sign_in.message
    );
    let fix = sign_in.fix.as_deref().unwrap();
    assert!(
        fix.contains(&format!("adminconsent?client_id={LONELY}")),
        "{fix}"
    );
    assert!(
        fix.contains(&format!("az ad sp create --id {LONELY}")),
        "{fix}"
    );
    assert!(plan.has_failed_checks());
    assert_eq!(
        plan.summary.add,
        workspace.resources().len(),
        "the plan is still complete"
    );
}

#[tokio::test]
async fn the_fleet_plans_in_bulk_and_is_idempotent() {
    let world = world(|seed| {
        for n in 1..=5 {
            let id = format!("bbbbbbbb-000{n}-4000-8000-bbbbbbbbbbbb");
            seed.subscriptions.push(SeedSubscription {
                id: id.clone(),
                tenant: CONSUMER.into(),
                display_name: None,
                quotas: Default::default(),
            });
            seed.role_assignments.push(SeedRoleAssignment {
                principal: SeedPrincipal::App {
                    app_id: APP.into(),
                    tenant: CONSUMER.into(),
                },
                role: "Contributor".into(),
                scope: format!("/subscriptions/{id}"),
                name: None,
            });
        }
        let base = seed
            .resources
            .iter()
            .find(|r| r.id.ends_with("/images/ubuntu-2204-base"))
            .unwrap()
            .clone();
        for name in ["worker-base", "worker-base-next"] {
            seed.resources.push(SeedResource {
                id: base.id.replace("ubuntu-2204-base", name),
                ..base.clone()
            });
        }
    })
    .await;
    let workspace =
        Workspace::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/fleet"))
            .unwrap();
    let first = plan_of(&world, &workspace).await;
    assert_eq!(first.summary.add, workspace.resources().len());
    assert!(
        failed_checks(&first).is_empty(),
        "{:#?}",
        failed_checks(&first)
    );
    apply(&world, &first).await;

    let before = world.emulator.requests().len();
    let second = plan_of(&world, &workspace).await;
    let requests: Vec<_> = world
        .emulator
        .requests()
        .into_iter()
        .skip(before)
        .filter(|r| !r.path.contains("/oauth2/"))
        .collect();
    assert!(
        !second.has_changes(),
        "{:?}",
        actions(&second)
            .into_iter()
            .filter(|(_, a)| *a != Action::NoOp)
            .collect::<Vec<_>>()
    );
    // Lists, not one GET per resource: 2 lists of subscriptions, 2 Resource Graph queries, 7
    // lists of groups (one per visible subscription), 16 lists of the types each group holds,
    // the gallery's images and role assignments, the versions: 30.
    let resources = workspace.resources().len();
    assert_eq!(resources, 56);
    assert!(
        requests.len() <= 30,
        "{} requests for {resources} resources: {:#?}",
        requests.len(),
        requests
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect::<Vec<_>>()
    );
    assert!(requests.iter().all(|r| {
        r.method == "GET"
            || r.path
                .ends_with("/providers/Microsoft.ResourceGraph/resources")
    }));
}

#[tokio::test]
async fn an_owned_group_is_deleted_with_its_contents_unless_something_foreign_lives_there() {
    let world = world(|_| {}).await;
    let workspace = Workspace::load(&example_dir()).unwrap();
    apply(&world, &plan_of(&world, &workspace).await).await;

    // The consumer half leaves the workspace: its group and everything in it are deleted,
    // the VM's OS disk (managed by the VM) included.
    let (_dir, publisher_only) = edited(&["images.yaml", "tenants.yaml"], &[]);
    let plan = plan_of(&world, &publisher_only).await;
    let deleted: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .map(|c| c.address.as_str())
        .collect();
    assert_eq!(deleted.len(), 6, "{deleted:?}");
    assert!(deleted.contains(&"resource_group.app") && deleted.contains(&"vm.web"));
    assert!(!plan.has_failed_checks(), "{:#?}", failed_checks(&plan));

    // Someone keeps their own NSG in that group: deleting the group would take it along.
    let tenant = TenantId::new(CONSUMER);
    let theirs = format!("{RG_APP}/providers/Microsoft.Network/networkSecurityGroups/not-galleons");
    world
        .azure
        .arm
        .put(&tenant, &theirs, &json!({"location": "northeurope"}), &[])
        .await
        .unwrap();
    let plan = plan_of(&world, &publisher_only).await;
    let refused = plan
        .preflight
        .iter()
        .find(|c| c.id == "resource-group-not-empty")
        .expect("refused");
    assert_eq!(refused.status, CheckStatus::Fail);
    assert!(
        refused.message.contains("not-galleons"),
        "{}",
        refused.message
    );
    assert!(
        !plan.changes.iter().any(|c| c.arm_id == theirs),
        "never planned for deletion"
    );
}

#[tokio::test]
async fn new_vms_beyond_the_regional_cores_quota_fail_preflight_with_the_increase_link() {
    let quota = |limit: u64| {
        move |seed: &mut Seed| {
            let consumer = seed
                .subscriptions
                .iter_mut()
                .find(|s| s.tenant == CONSUMER)
                .unwrap();
            consumer.quotas.insert(
                "cores".into(),
                [("northeurope".to_owned(), limit)].into_iter().collect(),
            );
        }
    };
    let workspace = Workspace::load(&example_dir()).unwrap();
    // The example's one VM is a Standard_D2s_v5: 2 vCPUs.
    let tight = world(quota(1)).await;
    let plan = plan_of(&tight, &workspace).await;
    let c = plan.preflight.iter().find(|c| c.id == "vm-quota").unwrap();
    assert_eq!(c.status, CheckStatus::Fail, "{c:#?}");
    assert!(
        c.message
            .contains("Current Limit: 1, Current Usage: 0, Additional Required: 2"),
        "{}",
        c.message
    );
    assert!(
        c.fix
            .as_deref()
            .unwrap()
            .contains("https://aka.ms/ProdportalCRP/#blade/Microsoft_Azure_Capacity/UsageAndQuota"),
        "{c:#?}"
    );

    let enough = world(quota(2)).await;
    let plan = plan_of(&enough, &workspace).await;
    let c = plan.preflight.iter().find(|c| c.id == "vm-quota").unwrap();
    assert_eq!(c.status, CheckStatus::Pass, "{c:#?}");
    // Applied, the VM exists: a second plan creates nothing and reads no usages.
    apply(&enough, &plan).await;
    let again = plan_of(&enough, &workspace).await;
    assert!(again.preflight.iter().all(|c| c.id != "vm-quota"));
}

#[tokio::test]
async fn role_assignments_at_a_gallery_are_read_past_the_first_page() {
    // One item per page: the gallery's atScope() list holds the app's Owner assignment on the
    // subscription as well as the grant galleon made, so the grant is on a later page.
    let world = world(|seed| seed.settings.page_size = 1).await;
    let workspace = Workspace::load(&example_dir()).unwrap();
    let first = plan_of(&world, &workspace).await;
    apply(&world, &first).await;
    let second = plan_of(&world, &workspace).await;
    let grant = second
        .change("gallery_grant.golden/consumer/Reader")
        .unwrap();
    assert_eq!(grant.action, Action::NoOp, "{:#?}", grant.attribute_changes);
    assert!(!second.has_changes(), "{:?}", actions(&second));
}

#[tokio::test]
async fn direct_sharing_members_are_added_then_converge_then_follow_the_manifest() {
    const SUB_B: &str = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb";
    let world = world(|_| {}).await;
    let direct = |members: &str| {
        edited(
            &["app.yaml", "tenants.yaml", "images.yaml"],
            &[(
                "images.yaml",
                "    sharing:\n",
                &format!("    sharing:\n      direct:\n{members}"),
            )],
        )
    };
    let (_d1, workspace) = direct(&format!("        tenants: [{CONSUMER}]\n"));
    let first = plan_of(&world, &workspace).await;
    let share = first.change("gallery_share.golden").unwrap();
    assert_eq!(share.action, Action::Create);
    let request = share.request.as_ref().unwrap();
    assert_eq!(request.method, galleon_plan::Method::Post);
    assert!(share.arm_id.ends_with("/galleries/golden_images/share"));
    assert_eq!(
        request.body,
        Some(
            json!({"operationType": "Add", "groups": [{"type": "AADTenants", "ids": [CONSUMER]}]})
        )
    );
    assert!(share.depends_on.contains(&"gallery.golden".to_owned()));
    assert!(
        first
            .preflight
            .iter()
            .all(|c| c.id != "direct-sharing-groups")
    );
    apply(&world, &first).await;

    // The members are read back with $expand=sharingProfile/Groups: nothing left to do.
    let second = plan_of(&world, &workspace).await;
    assert_eq!(
        second.change("gallery_share.golden").unwrap().action,
        Action::NoOp,
        "{:?}",
        actions(&second)
    );
    assert!(!second.has_changes(), "{:?}", actions(&second));
    assert!(
        second.reads.iter().all(|r| !r.arm_id.ends_with("/share")),
        "an action path is not re-read"
    );

    // The manifest now shares with a subscription instead of the tenant.
    let (_d2, workspace) = direct(&format!("        subscriptions: [{SUB_B}]\n"));
    let third = plan_of(&world, &workspace).await;
    let add = third.change("gallery_share.golden").unwrap();
    assert_eq!(add.action, Action::Update);
    assert_eq!(
        add.request.as_ref().unwrap().body,
        Some(
            json!({"operationType": "Add", "groups": [{"type": "Subscriptions", "ids": [SUB_B]}]})
        )
    );
    let remove = third.change("gallery_share.golden/remove").unwrap();
    assert_eq!(
        remove.request.as_ref().unwrap().body,
        Some(
            json!({"operationType": "Remove", "groups": [{"type": "AADTenants", "ids": [CONSUMER]}]})
        )
    );
    assert_eq!(remove.depends_on, ["gallery_share.golden"]);
    assert_eq!(
        (
            remove.attribute_changes[0].path.as_str(),
            &remove.attribute_changes[0].before
        ),
        ("groups[AADTenants].ids", &json!([CONSUMER]))
    );
    apply(&world, &third).await;
    let fourth = plan_of(&world, &workspace).await;
    assert!(!fourth.has_changes(), "{:?}", actions(&fourth));
    assert!(fourth.change("gallery_share.golden/remove").is_none());
}
