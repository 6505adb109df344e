//! One test per condition the issue lists: each breaks one thing in an all-green world and checks
//! that exactly the right check fails, with a fix that names the remedy, and that the dry run
//! predicts Azure's code for it.

use galleon_doctor::{AdminProfile, ImageRef, Report, SecurityType, Setup, SetupError, Status};
use serde_json::json;

use crate::doctor;
use crate::fake::{self, IMAGE_TENANT, TARGET_TENANT, World, setup};

fn fix(report: &Report, id: &str) -> String {
    let c = report.check(id).unwrap_or_else(|| panic!("no check {id}"));
    assert_eq!(c.status, Status::Fail, "{id}: {c:?}");
    c.fix.clone().unwrap()
}

fn predicted(report: &Report) -> (Option<u16>, String, String) {
    let d = report.check("dry_run").unwrap();
    assert_eq!(d.status, Status::Fail);
    let a = d
        .azure
        .clone()
        .expect("dry run carries the predicted answer");
    (a.status, a.code, a.message)
}

fn failures(w: &World, s: &Setup) -> (Report, Vec<&'static str>) {
    let r = doctor(w, s);
    let f = r.failures();
    (r, f)
}

#[test]
fn image_tenant_has_no_service_principal() {
    let mut w = World::green();
    w.service_principals.remove(IMAGE_TENANT);
    let (r, f) = failures(&w, &setup());
    assert_eq!(f, ["sign_in.image", "dry_run"]);
    let fix = fix(&r, "sign_in.image");
    assert!(
        fix.contains(&format!("az ad sp create --id {}", fake::APP)),
        "{fix}"
    );
    assert!(
        fix.contains(&format!(
            "{IMAGE_TENANT}/adminconsent?client_id={}",
            fake::APP
        )),
        "{fix}"
    );
    assert_eq!(
        r.check("sign_in.image")
            .unwrap()
            .azure
            .as_ref()
            .unwrap()
            .code,
        "AADSTS700016"
    );
    // Everything that needs the image tenant's token is skipped, the rest still runs.
    for id in ["image.read", "image.exists", "vm.os_state"] {
        assert_eq!(r.check(id).unwrap().status, Status::Skip, "{id}");
    }
    assert_eq!(r.check("target.vm_write").unwrap().status, Status::Pass);
    let (status, code, message) = predicted(&r);
    assert_eq!(
        (status, code.as_str()),
        (Some(403), "LinkedAuthorizationFailed")
    );
    assert!(message.contains(&format!("however the current tenant '{TARGET_TENANT}' is not authorized to access linked subscription '{}'", fake::IMAGE_SUB)), "{message}");
}

#[test]
fn target_tenant_has_no_service_principal() {
    let mut w = World::green();
    w.service_principals.remove(TARGET_TENANT);
    let (r, f) = failures(&w, &setup());
    assert_eq!(f, ["sign_in.target", "dry_run"]);
    assert!(fix(&r, "sign_in.target").contains("az ad sp create"));
    assert_eq!(r.check("target.vm_write").unwrap().status, Status::Skip);
    // No request could be sent: the dry run names the failed check instead of an Azure answer.
    let d = r.check("dry_run").unwrap();
    assert!(d.detail.contains("would not be sent"), "{}", d.detail);
}

#[test]
fn user_not_in_tenant() {
    let mut w = World::green();
    let text = "AADSTS50020: User account 'dev@contoso.com' from identity provider 'live.com' does not exist in tenant 'Fabrikam' and cannot access the application.";
    w.sign_in_errors
        .insert(TARGET_TENANT.into(), (50020, text.into()));
    let (r, f) = failures(&w, &setup());
    assert_eq!(f, ["sign_in.target", "dry_run"]);
    let c = r.check("sign_in.target").unwrap();
    assert_eq!(c.azure.as_ref().unwrap().code, "AADSTS50020");
    assert!(
        c.detail.contains("does not exist in tenant 'Fabrikam'"),
        "{}",
        c.detail
    );
}

#[test]
fn image_subscription_in_another_tenant() {
    let mut w = World::green();
    let other = "33333333-3333-4333-8333-333333333333";
    w.subscriptions.insert(fake::IMAGE_SUB.into(), other.into());
    let (r, f) = failures(&w, &setup());
    assert!(f.starts_with(&["image.subscription_tenant"]), "{f:?}");
    assert!(fix(&r, "image.subscription_tenant").contains(&format!("--image-tenant {other}")));
    let (_, code, message) = predicted(&r);
    assert_eq!(code, "LinkedAuthorizationFailed");
    assert!(
        message.contains("is not authorized to access linked subscription"),
        "{message}"
    );
}

#[test]
fn image_subscription_unknown() {
    let mut w = World::green();
    w.subscriptions.remove(fake::IMAGE_SUB);
    let (r, _) = failures(&w, &setup());
    assert!(fix(&r, "image.subscription_tenant").contains("does not exist"));
    let (_, code, message) = predicted(&r);
    assert_eq!(code, "LinkedAuthorizationFailed");
    assert!(
        message.contains(&format!(
            "the linked subscription '{}' was not found",
            fake::IMAGE_SUB
        )),
        "{message}"
    );
}

#[test]
fn target_subscription_in_another_tenant() {
    let mut w = World::green();
    w.subscriptions
        .insert(fake::TARGET_SUB.into(), IMAGE_TENANT.into());
    let (r, f) = failures(&w, &setup());
    assert_eq!(f[0], "target.subscription_tenant");
    assert!(
        fix(&r, "target.subscription_tenant").contains(&format!("--target-tenant {IMAGE_TENANT}"))
    );
    let (status, code, message) = predicted(&r);
    assert_eq!(
        (status, code.as_str()),
        (Some(401), "InvalidAuthenticationTokenTenant")
    );
    assert!(
        message.contains(&format!(
            "It must match the tenant 'https://sts.windows.net/{IMAGE_TENANT}/'"
        )),
        "{message}"
    );
}

#[test]
fn target_subscription_unknown() {
    let mut w = World::green();
    w.subscriptions.remove(fake::TARGET_SUB);
    let (r, _) = failures(&w, &setup());
    assert!(fix(&r, "target.subscription_tenant").contains("does not exist"));
    let (status, code, _) = predicted(&r);
    assert_eq!((status, code.as_str()), (Some(404), "SubscriptionNotFound"));
}

#[test]
fn image_not_readable() {
    let mut w = World::green();
    w.denied.insert(fake::GALLERY.to_ascii_lowercase());
    let (r, f) = failures(&w, &setup());
    assert_eq!(f, ["image.read", "dry_run"]);
    let fix = fix(&r, "image.read");
    assert!(
        fix.contains(&format!(
            "--assignee {} --role \"Compute Gallery Image Reader\" --scope {}",
            fake::APP,
            fake::GALLERY
        )),
        "{fix}"
    );
    assert_eq!(
        r.check("image.read").unwrap().azure.as_ref().unwrap().code,
        "AuthorizationFailed"
    );
    let (_, code, message) = predicted(&r);
    assert_eq!(code, "LinkedAuthorizationFailed");
    assert!(message.contains("does not have permission to perform action(s) 'Microsoft.Compute/galleries/images/versions/read' on the linked scope(s)"), "{message}");
    assert!(
        message.contains(&fake::object_id(IMAGE_TENANT)),
        "{message}"
    );
}

#[test]
fn image_version_missing() {
    let mut w = World::green();
    w.remove(&fake::version_id("1.0.0"));
    let (r, f) = failures(&w, &setup());
    assert_eq!(f, ["image.exists", "dry_run"]);
    assert!(
        r.check("image.exists")
            .unwrap()
            .detail
            .contains("version 1.0.0 does not exist")
    );
    let (status, code, message) = predicted(&r);
    assert_eq!((status, code.as_str()), (Some(404), "GalleryImageNotFound"));
    assert!(
        message.starts_with("\"The gallery image ") && message.ends_with("region.\""),
        "{message}"
    );
}

#[test]
fn image_version_still_replicating() {
    let mut w = World::green();
    w.put(fake::version(
        "1.0.0",
        &["westeurope", "northeurope"],
        "Creating",
        false,
    ));
    let (r, f) = failures(&w, &setup());
    assert_eq!(f, ["image.provisioned", "dry_run"]);
    assert!(
        r.check("image.provisioned")
            .unwrap()
            .detail
            .contains("1.0.0 is Creating")
    );
    assert_eq!(predicted(&r).1, "GalleryImageNotFound");
}

#[test]
fn latest_with_every_version_excluded() {
    let mut w = World::green();
    w.put(fake::version("1.0.0", &["northeurope"], "Succeeded", true));
    w.put(fake::version("1.1.0", &["northeurope"], "Succeeded", true));
    let mut s = setup();
    s.image = ImageRef::parse(&fake::definition_id()).unwrap();
    let (r, f) = failures(&w, &s);
    assert_eq!(f, ["image.latest", "dry_run"]);
    assert!(fix(&r, "image.latest").contains("excludeFromLatest"));
    let (_, code, message) = predicted(&r);
    assert_eq!(code, "GalleryImageNotFound");
    assert!(message.contains(&fake::definition_id()), "{message}");
}

#[test]
fn latest_uses_only_eligible_versions() {
    let mut w = World::green();
    w.put(fake::version("1.0.0", &["northeurope"], "Succeeded", false));
    w.put(fake::version("2.0.0", &["westeurope"], "Succeeded", true));
    let mut s = setup();
    s.image = ImageRef::parse(&fake::definition_id()).unwrap();
    let r = doctor(&w, &s);
    assert_eq!(
        r.failures(),
        Vec::<&str>::new(),
        "{}",
        galleon_doctor::render_text(&r)
    );
    assert_eq!(r.check("image.latest").unwrap().status, Status::Pass);
    // The excluded version is the only one outside northeurope; moving the VM there fails.
    s.region = "West Europe".into();
    let r = doctor(&w, &s);
    assert_eq!(r.failures(), ["image.region", "dry_run"]);
}

#[test]
fn image_not_replicated_to_region() {
    let mut s = setup();
    s.region = "eastus".into();
    let (r, f) = failures(&World::green(), &s);
    assert_eq!(f, ["image.region", "dry_run"]);
    assert!(
        r.check("image.region")
            .unwrap()
            .detail
            .contains("westeurope, northeurope")
    );
    assert!(fix(&r, "image.region").contains("add eastus to the version's target regions"));
    let (_, code, message) = predicted(&r);
    assert_eq!(code, "GalleryImageNotFound");
    assert!(
        message.contains("is not available in eastus region"),
        "{message}"
    );
}

#[test]
fn specialized_image_with_admin() {
    let mut w = World::green();
    w.put(fake::definition(
        "Specialized",
        "V2",
        "TrustedLaunchSupported",
    ));
    let (r, f) = failures(&w, &setup());
    assert_eq!(f, ["vm.os_state", "dry_run"]);
    assert_eq!(
        predicted(&r),
        (
            Some(400),
            "InvalidParameter".into(),
            "Parameter 'osProfile' is not allowed.".into()
        )
    );
    // And the same image without admin credentials is fine.
    let mut s = setup();
    s.admin = AdminProfile::None;
    assert_eq!(doctor(&w, &s).failures(), Vec::<&str>::new());
}

#[test]
fn generalized_image_without_admin() {
    let mut s = setup();
    s.admin = AdminProfile::None;
    let (r, f) = failures(&World::green(), &s);
    assert_eq!(f, ["vm.os_state", "dry_run"]);
    assert_eq!(
        predicted(&r).2,
        "Required parameter 'osProfile' is missing (null)."
    );
}

#[test]
fn gen2_image_on_gen1_size() {
    let mut s = setup();
    s.vm_size = "Standard_A1_v2".into();
    s.security_type = SecurityType::Standard;
    let (r, f) = failures(&World::green(), &s);
    assert_eq!(f, ["vm.generation", "dry_run"]);
    assert!(fix(&r, "vm.generation").contains("boots generation 2"));
    let (status, code, message) = predicted(&r);
    assert_eq!((status, code.as_str()), (Some(400), "BadRequest"));
    assert!(
        message.starts_with(
            "The selected VM size 'Standard_A1_v2' cannot boot Hypervisor Generation '2'."
        ),
        "{message}"
    );
}

#[test]
fn trusted_launch_image_standard_vm() {
    let mut w = World::green();
    w.put(fake::definition("Generalized", "V2", "TrustedLaunch"));
    let mut s = setup();
    s.security_type = SecurityType::Standard;
    let (r, f) = failures(&w, &s);
    assert_eq!(f, ["vm.security_type", "dry_run"]);
    assert!(fix(&r, "vm.security_type").contains("--security-type TrustedLaunch"));
    assert_eq!(
        predicted(&r).2,
        "The provided gallery image only supports creation of VMs and VM Scale Sets with 'TrustedLaunch' security type."
    );
}

#[test]
fn trusted_launch_vm_needs_gen2_image() {
    let mut w = World::green();
    w.put(fake::definition(
        "Generalized",
        "V1",
        "TrustedLaunchSupported",
    ));
    let (r, f) = failures(&w, &setup());
    assert_eq!(f, ["vm.security_type", "dry_run"]);
    assert!(fix(&r, "vm.security_type").contains("V2 image"));
}

#[test]
fn resource_group_missing() {
    let mut w = World::green();
    w.remove(fake::TARGET_RG);
    let (r, f) = failures(&w, &setup());
    assert_eq!(f, ["target.resource_group", "dry_run"]);
    assert!(fix(&r, "target.resource_group").contains("az group create --subscription"));
    assert_eq!(
        predicted(&r),
        (
            Some(404),
            "ResourceGroupNotFound".into(),
            "Resource group 'rg-app' could not be found.".into()
        )
    );
}

#[test]
fn no_vm_write_role() {
    let mut w = World::green();
    // Network Contributor only.
    w.rights.insert(
        TARGET_TENANT.into(),
        vec![json!({"actions": ["Microsoft.Network/*", "*/read"], "notActions": []})],
    );
    let (r, f) = failures(&w, &setup());
    assert_eq!(f, ["target.vm_write", "dry_run"]);
    let fix = fix(&r, "target.vm_write");
    assert!(
        fix.contains("Microsoft.Compute/virtualMachines/write")
            && fix.contains("--role Contributor --scope /subscriptions/"),
        "{fix}"
    );
    let (status, code, message) = predicted(&r);
    assert_eq!((status, code.as_str()), (Some(403), "AuthorizationFailed"));
    assert!(message.contains("'Microsoft.Compute/virtualMachines/write' over scope '/subscriptions/bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/web'"), "{message}");
}

#[test]
fn no_network_join_role() {
    let mut w = World::green();
    // Virtual Machine Contributor plus deployments, without network rights.
    w.rights.insert(TARGET_TENANT.into(), vec![json!({"actions": ["Microsoft.Compute/*", "Microsoft.Resources/deployments/*"], "notActions": []})]);
    let (r, f) = failures(&w, &setup());
    assert_eq!(f, ["target.network_join", "dry_run"]);
    assert!(
        r.check("target.network_join")
            .unwrap()
            .detail
            .contains("Microsoft.Network/virtualNetworks/subnets/join/action")
    );
    assert_eq!(predicted(&r).1, "AuthorizationFailed");
}

#[test]
fn rights_from_role_assignments() {
    let mut w = World::green();
    w.permissions_api = false;
    let oid = fake::object_id(TARGET_TENANT);
    let reader = "/subscriptions/bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7";
    w.assignments.push(json!({"properties": {"principalId": oid, "scope": "/subscriptions/bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb", "roleDefinitionId": reader}}));
    w.put(json!({"id": reader, "properties": {"roleName": "Reader", "permissions": [{"actions": ["*/read"], "notActions": []}]}}));
    let (r, f) = failures(&w, &setup());
    assert_eq!(f, ["target.vm_write", "target.network_join", "dry_run"]);
    assert!(
        r.check("target.vm_write")
            .unwrap()
            .detail
            .contains("role assignments")
    );
    // Contributor on the resource group, inherited from the subscription, passes.
    let contributor = reader.replace(
        "acdd72a7-3385-48ef-bd42-f606fba81ae7",
        "b24988ac-6180-42a0-ab88-20f7382dd24c",
    );
    w.assignments.push(json!({"properties": {"principalId": oid, "scope": "/subscriptions/bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb", "roleDefinitionId": contributor}}));
    w.put(json!({"id": contributor, "properties": {"permissions": [{"actions": ["*"], "notActions": ["Microsoft.Authorization/*/Write"]}]}}));
    assert_eq!(doctor(&w, &setup()).failures(), Vec::<&str>::new());
}

#[test]
fn image_id_that_is_not_a_gallery_image() {
    for bad in [
        "golden/ubuntu/1.0.0",
        "/subscriptions/a/resourceGroups/rg/providers/Microsoft.Compute/images/base",
    ] {
        assert!(
            matches!(ImageRef::parse(bad), Err(SetupError::ImageId { .. })),
            "{bad}"
        );
    }
}

#[test]
fn same_tenant_setup_needs_no_auxiliary_token() {
    let mut s = setup();
    s.target_tenant = IMAGE_TENANT.into();
    s.target_subscription = fake::IMAGE_SUB.into();
    s.resource_group = "rg-golden-images".into();
    let mut w = World::green();
    let contributor = w.rights[TARGET_TENANT].clone();
    w.rights.insert(IMAGE_TENANT.into(), contributor);
    let r = doctor(&w, &s);
    assert!(r.check("sign_in.image").is_none());
    assert_eq!(
        r.failures(),
        Vec::<&str>::new(),
        "{}",
        galleon_doctor::render_text(&r)
    );
    assert!(!r.check("dry_run").unwrap().detail.contains("auxiliary"));
}

#[test]
fn every_failure_is_reported_in_one_run() {
    let mut w = World::green();
    w.put(fake::definition("Specialized", "V2", "TrustedLaunch"));
    w.remove(fake::TARGET_RG);
    let mut s = setup();
    s.region = "eastus".into();
    s.vm_size = "Standard_A2_v2".into();
    s.security_type = SecurityType::Standard;
    let (r, f) = failures(&w, &s);
    assert_eq!(
        f,
        [
            "image.region",
            "vm.os_state",
            "vm.generation",
            "vm.security_type",
            "target.resource_group",
            "dry_run"
        ]
    );
    // ARM checks the resource group before Compute looks at the image.
    assert_eq!(predicted(&r).1, "ResourceGroupNotFound");
}

#[test]
fn unknown_subscription_found_by_the_group_read() {
    // ARM's challenge named no tenant (step 2 skipped); the authenticated read of the group
    // meets the unknown subscription.
    struct NoChallenge(World);
    impl galleon_doctor::Probe for NoChallenge {
        async fn sign_in(
            &self,
            t: &galleon_azure::TenantId,
        ) -> Result<galleon_doctor::SignedIn, galleon_doctor::Failure> {
            self.0.sign_in(t).await
        }
        async fn subscription_tenant(
            &self,
            _: &str,
        ) -> Result<Option<String>, galleon_doctor::Failure> {
            Ok(None)
        }
        async fn get(
            &self,
            t: &galleon_azure::TenantId,
            path: &str,
            api: Option<&str>,
            q: &[(&str, &str)],
        ) -> Result<serde_json::Value, galleon_doctor::Failure> {
            if path.contains(fake::TARGET_SUB) {
                let msg = format!(
                    "The subscription '{}' could not be found.",
                    fake::TARGET_SUB
                );
                return Err(galleon_doctor::Failure::new(
                    Some(404),
                    "SubscriptionNotFound",
                    msg,
                ));
            }
            self.0.get(t, path, api, q).await
        }
    }
    let r = crate::block_on(galleon_doctor::run(&setup(), &NoChallenge(World::green())));
    assert_eq!(
        r.check("target.subscription_tenant").unwrap().status,
        Status::Skip
    );
    assert!(fix(&r, "target.resource_group").contains("does not exist in this cloud"));
    assert_eq!(predicted(&r).1, "SubscriptionNotFound");
}
