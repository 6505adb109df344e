//! Compute usages (`locations/{loc}/usages`, ComputeRP.json `Usage_List`): the regional cores
//! row counts what the VM PUT counts, so a planner reading it predicts `OperationNotAllowed`.

use reqwest::{Method, StatusCode};

use crate::common::*;
use crate::world::*;

fn usages(region: &str) -> String {
    format!(
        "/subscriptions/{SUB_B}/providers/Microsoft.Compute/locations/{region}/usages?{COMPUTE_API}"
    )
}

#[tokio::test]
async fn the_cores_row_has_the_seeded_limit_and_grows_with_each_vm() {
    let ctx = TestContext::start(seed()).await;
    let (a, b) = (ctx.token_a().await, ctx.token_b().await);
    let before = ctx.get(&usages("northeurope"), &b).await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.body);
    let row = &before.body["value"][0];
    assert_eq!(row["name"]["value"], "cores", "{}", before.body);
    assert_eq!(row["name"]["localizedValue"], "Total Regional vCPUs");
    assert_eq!(
        (row["limit"].as_u64(), row["currentValue"].as_u64()),
        (Some(6), Some(0))
    );
    assert_eq!(row["unit"], "Count");

    let nic = consumer_network(&ctx, &b).await;
    let path = format!(
        "{}?{COMPUTE_API}",
        b_path("Microsoft.Compute/virtualMachines/web")
    );
    let aux = format!("Bearer {a}");
    let body = vm_body(&version(RG_GOLDEN, "ubuntu"), "Standard_D2s_v5", &nic);
    let r = ctx
        .call(
            Method::PUT,
            &path,
            Some(&b),
            &[("x-ms-authorization-auxiliary", &aux)],
            Some(body),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let after = ctx.get(&usages("NorthEurope"), &b).await;
    assert_eq!(after.body["value"][0]["currentValue"], 2, "{}", after.body);

    // No seeded limit in that region: nothing to run out of, no row.
    let other = ctx.get(&usages("westeurope"), &b).await;
    assert_eq!(other.status, StatusCode::OK);
    assert_eq!(
        other.body["value"].as_array().map(Vec::len),
        Some(0),
        "{}",
        other.body
    );
}
