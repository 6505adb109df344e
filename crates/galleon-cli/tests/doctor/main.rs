//! `galleon doctor` through the built binary against the emulator started in this process: the
//! all-green run and one run per failing condition, each seeded so the emulator answers with
//! Azure's real status, code and message; snapshots of the text and JSON output; and the emitted
//! workspace, which `galleon validate` and `galleon plan` must accept.

mod explain;
mod world;

use serde_json::json;
use world::*;

#[tokio::test(flavor = "multi_thread")]
async fn doctor_all_green_text() {
    let run = galleon(seed(), &green_args()).await;
    assert_eq!(run.code(), Some(0), "{}{}", run.stdout(), run.stderr());
    insta::with_settings!({filters => filters()}, {
        insta::assert_snapshot!(run.stdout());
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_all_green_json() {
    let run = json_run(seed(), green_args()).await;
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    assert_eq!(run.failures(), Vec::<String>::new());
    insta::with_settings!({filters => filters()}, {
        insta::assert_json_snapshot!(run.json());
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_no_service_principal_in_image_tenant() {
    let mut s = without_image_tenant_roles(seed());
    s.service_principals.clear();
    let run = galleon(s, &green_args()).await;
    assert_eq!(run.code(), Some(1));
    insta::with_settings!({filters => filters()}, {
        insta::assert_snapshot!(run.stdout());
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_no_service_principal_in_image_tenant_json() {
    let mut s = without_image_tenant_roles(seed());
    s.service_principals.clear();
    let run = json_run(s, green_args()).await;
    assert_eq!(run.code(), Some(1));
    assert_eq!(run.failures(), ["sign_in.image", "dry_run"]);
    insta::with_settings!({filters => filters()}, {
        insta::assert_json_snapshot!(run.json());
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_image_tenant_is_not_the_subscription_owner() {
    let run = json_run(
        seed(),
        with(green_args(), "--image-tenant", Some(TARGET_TENANT)),
    )
    .await;
    assert!(
        run.failures()
            .starts_with(&["image.subscription_tenant".to_string()]),
        "{:?}",
        run.failures()
    );
    assert!(
        run.check("image.subscription_tenant")["fix"]
            .as_str()
            .unwrap()
            .contains(&format!("--image-tenant {IMAGE_TENANT}"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_image_not_readable() {
    let run = json_run(without_image_tenant_roles(seed()), green_args()).await;
    assert_eq!(run.failures(), ["image.read", "dry_run"]);
    assert_eq!(
        run.check("image.read")["azure"]["code"],
        "AuthorizationFailed"
    );
    assert_eq!(
        run.check("dry_run")["azure"]["code"],
        "LinkedAuthorizationFailed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_image_version_missing() {
    let args = with(
        green_args(),
        "--image",
        Some(&format!("{}/versions/9.9.9", image("ubuntu"))),
    );
    let run = json_run(seed(), args).await;
    assert_eq!(run.failures(), ["image.exists", "dry_run"]);
    assert_eq!(
        run.check("dry_run")["azure"]["code"],
        "GalleryImageNotFound"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_latest_with_every_version_excluded() {
    let mut s = seed();
    for r in &mut s.resources {
        if r.id.ends_with("/images/ubuntu/versions/1.0.0") {
            r.properties.as_mut().unwrap()["publishingProfile"]["excludeFromLatest"] = json!(true);
        }
    }
    let run = json_run(s, with(green_args(), "--image", Some(&image("ubuntu")))).await;
    assert_eq!(run.failures(), ["image.latest", "dry_run"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_image_not_replicated_to_region() {
    let run = json_run(seed(), with(green_args(), "--location", Some("eastus"))).await;
    // The app's role is on rg-app, which is in northeurope; only the image's region fails.
    assert_eq!(run.failures(), ["image.region", "dry_run"]);
    assert!(
        run.check("dry_run")["detail"]
            .as_str()
            .unwrap()
            .contains("is not available in eastus region")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_specialized_image_with_admin() {
    let run = json_run(
        seed(),
        with(
            green_args(),
            "--image",
            Some(&format!("{}/versions/1.0.0", image("snapshot"))),
        ),
    )
    .await;
    assert_eq!(run.failures(), ["vm.os_state", "dry_run"]);
    assert_eq!(
        run.check("dry_run")["azure"]["message"],
        "Parameter 'osProfile' is not allowed."
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_generalized_image_without_admin() {
    let args = with(
        with(green_args(), "--ssh-key", None),
        "--admin-username",
        None,
    );
    let run = json_run(seed(), args).await;
    assert_eq!(run.failures(), ["vm.os_state", "dry_run"]);
    assert_eq!(
        run.check("dry_run")["azure"]["message"],
        "Required parameter 'osProfile' is missing (null)."
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_gen2_image_on_gen1_size() {
    let args = with(
        with(green_args(), "--size", Some("Standard_A1_v2")),
        "--security-type",
        Some("Standard"),
    );
    let run = json_run(seed(), args).await;
    assert_eq!(run.failures(), ["vm.generation", "dry_run"]);
    assert_eq!(run.check("dry_run")["azure"]["code"], "BadRequest");
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_trusted_launch_image_standard_vm() {
    let args = with(
        with(
            green_args(),
            "--image",
            Some(&format!("{}/versions/1.0.0", image("tl"))),
        ),
        "--security-type",
        Some("Standard"),
    );
    let run = json_run(seed(), args).await;
    assert_eq!(run.failures(), ["vm.security_type", "dry_run"]);
    assert!(
        run.check("vm.security_type")["fix"]
            .as_str()
            .unwrap()
            .contains("--security-type TrustedLaunch")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_resource_group_missing() {
    let mut s = seed();
    s.role_assignments.pop();
    s.role_assignments.push(grant(
        TARGET_TENANT,
        "Contributor",
        format!("/subscriptions/{TARGET_SUB}"),
    ));
    let run = json_run(s, with(green_args(), "--resource-group", Some("rg-nope"))).await;
    assert_eq!(run.failures(), ["target.resource_group", "dry_run"]);
    assert_eq!(
        run.check("dry_run")["azure"]["code"],
        "ResourceGroupNotFound"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_no_role_to_create_the_vm() {
    let mut s = seed();
    s.role_assignments.pop();
    s.role_assignments.push(grant(
        TARGET_TENANT,
        "Reader",
        format!("/subscriptions/{TARGET_SUB}"),
    ));
    let run = json_run(s, green_args()).await;
    assert_eq!(
        run.failures(),
        ["target.vm_write", "target.network_join", "dry_run"]
    );
    assert_eq!(run.check("dry_run")["azure"]["code"], "AuthorizationFailed");
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_bad_image_id_is_refused_before_any_request() {
    let run = galleon(
        seed(),
        &with(green_args(), "--image", Some("golden/ubuntu/1.0.0")),
    )
    .await;
    assert_eq!(run.code(), Some(1));
    assert!(
        run.stderr().contains("is not a gallery image id"),
        "{}",
        run.stderr()
    );
    assert_eq!(run.stdout(), "");
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_emitted_manifest_validates_and_plans() {
    // `galleon plan` lists the subscription's resource groups, so it needs a role at the
    // subscription, where `az vm create` makes do with one on the group.
    let mut s = seed();
    s.role_assignments.pop();
    s.role_assignments.push(grant(
        TARGET_TENANT,
        "Contributor",
        format!("/subscriptions/{TARGET_SUB}"),
    ));
    let emu = Emu::start(s).await;
    let ws = emu.dir.path().join("ws");
    let mut args = green_args();
    args.extend(["--emit-manifest".to_string(), ws.display().to_string()]);
    let run = emu.run(&args).await;
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    assert!(run.stderr().contains("tenants.yaml"), "{}", run.stderr());
    let ws = ws.display().to_string();
    let validate = emu.run(&["validate".to_string(), ws.clone()]).await;
    assert_eq!(
        validate.code(),
        Some(0),
        "{}{}",
        validate.stdout(),
        validate.stderr()
    );
    // The user who came to debug leaves with a workspace `galleon plan` runs on: the VM, its NIC
    // and network are to be created, every preflight check passes.
    let plan = emu
        .run(&["plan".to_string(), ws, "--detailed-exitcode".to_string()])
        .await;
    assert_eq!(plan.code(), Some(2), "{}{}", plan.stdout(), plan.stderr());
    assert!(plan.stdout().contains("vm.vm"), "{}", plan.stdout());
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_target_tenant_is_not_the_subscription_owner() {
    // The VM's subscription belongs to the image's tenant in this seed; the app signs in to the
    // tenant the user named, so the PUT would carry the wrong tenant's token.
    let mut s = seed();
    s.subscriptions[1].tenant = IMAGE_TENANT.into();
    let run = json_run(s, green_args()).await;
    assert_eq!(
        run.failures().first().map(String::as_str),
        Some("target.subscription_tenant"),
        "{:?}",
        run.failures()
    );
    assert!(
        run.check("target.subscription_tenant")["fix"]
            .as_str()
            .unwrap()
            .contains(&format!("--target-tenant {IMAGE_TENANT}"))
    );
    let dry = run.check("dry_run");
    assert_eq!(dry["azure"]["code"], "InvalidAuthenticationTokenTenant");
    assert_eq!(dry["azure"]["status"], 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_unknown_target_subscription() {
    let args = with(
        green_args(),
        "--subscription",
        Some("cccccccc-3333-4333-8333-cccccccccccc"),
    );
    let run = json_run(seed(), args).await;
    // Whichever read meets the unknown subscription first reports it with Azure's code.
    let found: Vec<String> = ["target.subscription_tenant", "target.resource_group"]
        .iter()
        .map(|id| run.check(id))
        .filter(|c| c["status"] == "fail")
        .map(|c| c["azure"]["code"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(found, ["SubscriptionNotFound"], "{:?}", run.failures());
    assert_eq!(
        run.check("dry_run")["azure"]["code"],
        "SubscriptionNotFound"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_discovers_both_tenants_when_not_given() {
    let args = with(with(green_args(), "--image-tenant", None), "--tenant", None);
    let run = json_run(seed(), args).await;
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    for line in [
        format!("image tenant: {IMAGE_TENANT} (named by ARM for subscription {IMAGE_SUB})"),
        format!("tenant: {TARGET_TENANT} (named by ARM for subscription {TARGET_SUB})"),
    ] {
        assert!(run.stderr().contains(&line), "{}", run.stderr());
    }
    assert_eq!(run.failures(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_wrong_secret_fails_sign_in_and_is_never_printed() {
    let mut s = seed();
    s.apps[0].secrets = vec![galleon_emulator::seed::SeedSecret {
        value: "the-real-secret".into(),
        expired: false,
    }];
    let run = galleon(s, &green_args()).await;
    assert_eq!(run.code(), Some(1));
    let all = format!("{}{}", run.stdout(), run.stderr());
    assert!(all.contains("AADSTS7000215"), "{all}");
    assert!(
        all.contains("use the secret's Value, not its Secret ID"),
        "{all}"
    );
    for secret in [SECRET, "the-real-secret"] {
        assert!(!all.contains(secret), "the secret was printed: {all}");
    }
    // No token either: a JWT starts with eyJ.
    assert!(!all.contains("eyJ"), "{all}");
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_group_without_any_role_is_hidden_behind_a_403() {
    // Contributor on rg-app only: ARM will not say whether rg-nope exists.
    let run = json_run(
        seed(),
        with(green_args(), "--resource-group", Some("rg-nope")),
    )
    .await;
    assert_eq!(
        run.failures(),
        [
            "target.resource_group",
            "target.vm_write",
            "target.network_join",
            "dry_run"
        ]
    );
    let rg = run.check("target.resource_group");
    assert_eq!(rg["azure"]["code"], "AuthorizationFailed");
    assert!(
        rg["fix"]
            .as_str()
            .unwrap()
            .contains("grant the app a role on the resource group")
    );
    assert_eq!(run.check("dry_run")["azure"]["code"], "AuthorizationFailed");
}
