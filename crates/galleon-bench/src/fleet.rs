//! Generates fleet workspaces of any size: two image versions published in tenant 1, VMs with
//! implied NICs spread over the subscriptions of tenant 2, like `examples/fleet` scaled up.

use std::fmt::Write as _;

/// Tenant, app and subscription ids shared with the emulator seed `galleon emulator serve
/// --workspace` derives from the generated manifest.
pub const PUBLISHER_SUB: &str = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa";

/// The subscription of the `i`-th consumer resource group.
pub fn consumer_sub(i: usize) -> String {
    format!("bbbbbbbb-{:04}-4000-8000-bbbbbbbbbbbb", i + 1)
}

/// A workspace with `vms` VMs over `subs` subscriptions (each VM implies a NIC).
pub fn workspace(vms: usize, subs: usize) -> String {
    let subs = subs.max(1);
    let mut y = String::from(
        "workspace: bench\n\
         tenants:\n  images:\n    tenant_id: 11111111-1111-4111-8111-111111111111\n    auth: {client_id: 0a0a0a0a-3333-4333-8333-333333333333, client_secret: {env: GALLEON_APP_SECRET}}\n\
         \x20 fleet:\n    tenant_id: 22222222-2222-4222-8222-222222222222\n    auth: {client_id: 0a0a0a0a-3333-4333-8333-333333333333, client_secret: {env: GALLEON_APP_SECRET}}\n",
    );
    let _ = writeln!(
        y,
        "lock: {{tenant: images, subscription: {PUBLISHER_SUB}, resource_group: rg-state, storage_account: galleonbench}}"
    );
    y.push_str("resource_groups:\n");
    let _ = writeln!(
        y,
        "  images: {{tenant: images, subscription: {PUBLISHER_SUB}, name: rg-images, location: westeurope}}"
    );
    for s in 0..subs {
        let _ = writeln!(
            y,
            "  rg{s}: {{tenant: fleet, subscription: {}, name: rg-fleet-{s}, location: westeurope}}",
            consumer_sub(s)
        );
    }
    let _ = write!(
        y,
        "galleries:\n  fleet:\n    resource_group: images\n    name: fleet_images\n    sharing: {{grants: [{{app: fleet, role: Reader}}]}}\n    images:\n      worker:\n        os_type: Linux\n        os_state: Generalized\n        hyper_v_generation: V2\n        identifier: {{publisher: contoso, offer: worker, sku: \"2026\"}}\n        versions:\n"
    );
    for v in ["1.0.0", "1.1.0"] {
        let _ = writeln!(
            y,
            "          \"{v}\":\n            source: /subscriptions/{PUBLISHER_SUB}/resourceGroups/rg-build/providers/Microsoft.Compute/images/worker-{v}\n            target_regions: [{{region: westeurope, replicas: 2}}]"
        );
    }
    y.push_str("networks:\n");
    for s in 0..subs {
        let _ = writeln!(
            y,
            "  net{s}: {{resource_group: rg{s}, address_space: [10.{s}.0.0/16], subnets: {{workers: {{address_prefix: 10.{s}.0.0/18}}}}}}"
        );
    }
    y.push_str("virtual_machines:\n");
    for s in 0..subs {
        let count = vms / subs + usize::from(s < vms % subs);
        if count == 0 {
            continue;
        }
        let version = if s % 2 == 0 { "1.0.0" } else { "1.1.0" };
        let _ = writeln!(
            y,
            "  vm{s}: {{resource_group: rg{s}, count: {count}, size: Standard_D2s_v5, image: fleet/worker/{version}, admin_username: fleet, ssh_public_key: \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGalleonExampleKeyOnlyForDocsAndTestsXXXXXXX bench\", network: {{subnet: net{s}/workers}}}}"
        );
    }
    y
}
