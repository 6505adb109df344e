//! Steps 1 and 2: can galleon sign in to each tenant, do the subscriptions belong to the tenants
//! the user named, and may the principal read the image.

use galleon_azure::hints::GALLERY_IMAGE_READER_ROLE;

use super::Facts;
use crate::azure_text as text;
use crate::probe::{Probe, SignedIn};
use crate::report::Check;
use crate::setup::Setup;

/// Step 1: a token in each tenant (one check when both are the same tenant).
pub(super) async fn sign_in<P: Probe>(setup: &Setup, probe: &P, facts: &mut Facts) -> Vec<Check> {
    let mut out = Vec::new();
    let target = setup.target_tenant_id();
    let (check, who) = one_sign_in("sign_in.target", "the VM's tenant", &target, probe).await;
    facts.target_principal = who.clone();
    out.push(check);
    if setup.cross_tenant() {
        let image = setup.image_tenant_id();
        let (check, who) = one_sign_in("sign_in.image", "the image's tenant", &image, probe).await;
        facts.image_principal = who;
        // Without a token for the image's tenant, az sends no usable auxiliary token and ARM
        // answers variant B (arm-errors.md §1.2, decision table row 10).
        out.push(if check.status == crate::Status::Fail {
            check.predicting(
                403,
                "LinkedAuthorizationFailed",
                text::linked_tenant(
                    setup.image.linked_action(),
                    &setup.vm_id(),
                    &setup.target_tenant,
                    &setup.image.subscription,
                ),
            )
        } else {
            check
        });
    } else {
        facts.image_principal = who;
    }
    out
}

async fn one_sign_in<P: Probe>(
    id: &'static str,
    what: &str,
    tenant: &galleon_azure::TenantId,
    probe: &P,
) -> (Check, Option<SignedIn>) {
    let title = format!("a token can be had in {what} ({tenant})");
    match probe.sign_in(tenant).await {
        Ok(who) => {
            let detail = format!(
                "signed in as app {} (object id {})",
                who.app_id.as_deref().unwrap_or("?"),
                who.object_id.as_deref().unwrap_or("?")
            );
            (Check::pass(id, 1, title, detail), Some(who))
        }
        Err(f) => {
            // AADSTS700016's hint (galleon-azure) carries the admin-consent link and the
            // `az ad sp create --id` command for this tenant (entra.md §5).
            let fix = f.hint.clone().unwrap_or_else(|| {
                format!(
                    "check the credential for tenant {tenant}: {}",
                    f.answer.message
                )
            });
            let message = first_line(&f.answer.message);
            // Entra's description already starts with its AADSTS code.
            let detail = if message.starts_with(f.code()) {
                message.to_string()
            } else {
                format!("{}: {message}", f.code())
            };
            (
                Check::fail(id, 1, title, detail, fix).with_azure(Some(f.answer)),
                None,
            )
        }
    }
}

/// Step 2 (and the target side of it): the tenant owning each subscription, from ARM's 401
/// challenge to an unauthenticated GET (entra.md §4), against the tenant the user named.
pub(super) async fn subscription_tenants<P: Probe>(setup: &Setup, probe: &P) -> Vec<Check> {
    let vm_id = setup.vm_id();
    let action = setup.image.linked_action();
    let image = one_tenant(
        "image.subscription_tenant",
        &setup.image.subscription,
        &setup.image_tenant,
        "--image-tenant",
        probe,
    )
    .await;
    let image = match image.status {
        crate::Status::Fail if image.azure.as_ref().is_some_and(|a| a.status == Some(404)) => image
            .predicting(
                403,
                "LinkedAuthorizationFailed",
                text::linked_subscription_missing(action, &vm_id, &setup.image.subscription),
            ),
        crate::Status::Fail => image.predicting(
            403,
            "LinkedAuthorizationFailed",
            text::linked_tenant(
                action,
                &vm_id,
                &setup.target_tenant,
                &setup.image.subscription,
            ),
        ),
        _ => image,
    };
    let target = one_tenant(
        "target.subscription_tenant",
        &setup.target_subscription,
        &setup.target_tenant,
        "--target-tenant",
        probe,
    )
    .await;
    let target = match (&target.status, &target.azure) {
        (crate::Status::Fail, Some(a)) if a.status == Some(404) => target.predicting(
            404,
            "SubscriptionNotFound",
            text::subscription_not_found(&setup.target_subscription),
        ),
        (crate::Status::Fail, _) => {
            let owner = owner_in(&target.detail).unwrap_or("?").to_string();
            target.predicting(
                401,
                "InvalidAuthenticationTokenTenant",
                text::wrong_issuer(&setup.target_tenant, &owner),
            )
        }
        _ => target,
    };
    vec![image, target]
}

async fn one_tenant<P: Probe>(
    id: &'static str,
    subscription: &str,
    expected: &str,
    flag: &str,
    probe: &P,
) -> Check {
    let title = format!("subscription {subscription} belongs to tenant {expected}");
    match probe.subscription_tenant(subscription).await {
        Ok(Some(owner)) if owner.eq_ignore_ascii_case(expected) => Check::pass(
            id,
            2,
            title,
            format!("ARM names tenant {owner} as its owner"),
        ),
        Ok(Some(owner)) => Check::fail(
            id,
            2,
            title,
            format!("ARM names tenant '{owner}' as its owner, not {expected}"),
            format!("pass {flag} {owner} (and make sure the app can sign in there)"),
        ),
        // Domain names cannot be compared with the GUID ARM names; say so rather than guess.
        Ok(None) => Check::skip(id, 2, title, "ARM did not name the subscription's tenant"),
        Err(f) if f.status() == Some(404) => Check::fail(
            id,
            2,
            title,
            format!("{}: {}", f.code(), f.answer.message),
            format!("check the subscription id {subscription}: it does not exist in this cloud"),
        )
        .with_azure(Some(f.answer)),
        Err(f) => Check::skip(id, 2, title, format!("lookup failed: {}", f.answer.message)),
    }
}

fn owner_in(detail: &str) -> Option<&str> {
    let start = detail.find("tenant '")? + "tenant '".len();
    let len = detail[start..].find('\'')?;
    Some(&detail[start..start + len])
}

/// Step 2: the principal, seen from the image's tenant, can read the image.
pub(super) async fn image_read<P: Probe>(setup: &Setup, probe: &P, facts: &mut Facts) -> Check {
    const ID: &str = "image.read";
    let title = format!(
        "the app can read the image ({})",
        setup.image.linked_action()
    );
    let Some(who) = facts.image_principal.clone() else {
        return Check::skip(ID, 2, title, "no token for the image's tenant (see step 1)");
    };
    let target = setup
        .image
        .version
        .as_ref()
        .map_or_else(|| setup.image.definition_id(), |_| setup.image.id.clone());
    match probe
        .get(&setup.image_tenant_id(), &target, None, &[])
        .await
    {
        Ok(_) => {
            facts.image_readable = true;
            Check::pass(ID, 2, title, "the image's tenant answered the read")
        }
        Err(f) if f.status() == Some(404) => {
            // Readable (ARM checks the role before the resource exists); whether it exists is
            // step 3's question.
            facts.image_readable = true;
            Check::pass(ID, 2, title, "the app may read in the gallery")
        }
        Err(f) if matches!(f.status(), Some(401 | 403)) => {
            let app = who.app_id.clone().unwrap_or_else(|| "<app id>".into());
            let oid = who
                .object_id
                .clone()
                .unwrap_or_else(|| "<object id>".into());
            let gallery = setup.image.gallery_id();
            let fix = format!(
                "in tenant {}, grant the app Reader or {GALLERY_IMAGE_READER_ROLE} on the gallery: `az role assignment create --assignee {app} --role \"Compute Gallery Image Reader\" --scope {gallery}`",
                setup.image_tenant
            );
            Check::fail(
                ID,
                2,
                title,
                format!("{}: {}", f.code(), first_line(&f.answer.message)),
                fix,
            )
            .with_azure(Some(f.answer))
            .predicting(
                403,
                "LinkedAuthorizationFailed",
                text::linked_role(
                    &app,
                    &oid,
                    &setup.vm_id(),
                    setup.image.linked_action(),
                    &setup.image.id,
                ),
            )
        }
        Err(f) => Check::skip(
            ID,
            2,
            title,
            format!("the read failed: {}", f.answer.message),
        ),
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}
