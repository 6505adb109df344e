//! `galleon doctor explain` through the built binary, for the rows galleon never causes itself
//! ("explained (other tools)" in docs/troubleshooting.md). Where the emulator can give Azure's
//! answer (a template deployment as `az vm create` sends it, arm-errors.md §7), the test asks
//! it over its socket and feeds the binary what came back; otherwise it feeds Azure's text as
//! arm-errors.md documents it, in the forms the tools print.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::world::*;

/// Runs `galleon doctor explain ARGS` with `stdin` (no emulator: explaining asks nothing).
fn explain(args: &[&str], stdin: &str) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_galleon"))
        .arg("doctor")
        .arg("explain")
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("galleon runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    Run {
        out: child.wait_with_output().expect("galleon finishes"),
    }
}

/// `doctor explain FILE` with `text` in a file, as a user saves what a tool printed.
fn explain_file(text: &str, json: bool) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("error.txt");
    std::fs::write(&path, text).unwrap();
    let path = path.to_str().unwrap();
    let args: Vec<&str> = if json {
        vec![path, "--json"]
    } else {
        vec![path]
    };
    explain(&args, "")
}

/// The row id a `--json` run names (`null` when none).
fn row_id(run: &Run) -> Value {
    run.json()["row"]["id"].clone()
}

/// The template `az vm create` deploys for a VM from a gallery image (arm-errors.md §7).
fn az_vm_template(image_id: &str) -> Value {
    json!({"properties": {"mode": "Incremental", "template": {
    "$schema": "https://schema.management.azure.com/schemas/2015-01-01/deploymentTemplate.json#",
    "contentVersion": "1.0.0.0",
    "resources": [
        {"name": "webVNET", "type": "Microsoft.Network/virtualNetworks", "apiVersion": "2022-01-01", "location": "northeurope",
         "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}, "subnets": [{"name": "webSubnet", "properties": {"addressPrefix": "10.0.0.0/24"}}]}},
        {"name": "webVMNic", "type": "Microsoft.Network/networkInterfaces", "apiVersion": "2022-01-01", "location": "northeurope",
         "dependsOn": ["Microsoft.Network/virtualNetworks/webVNET"],
         "properties": {"ipConfigurations": [{"name": "ipconfigweb", "properties": {"privateIPAllocationMethod": "Dynamic",
            "subnet": {"id": "[resourceId('Microsoft.Network/virtualNetworks/subnets', 'webVNET', 'webSubnet')]"}}}]}},
        {"name": "web", "type": "Microsoft.Compute/virtualMachines", "apiVersion": "2024-11-01", "location": "northeurope",
         "dependsOn": ["Microsoft.Network/networkInterfaces/webVMNic"],
         "properties": {"hardwareProfile": {"vmSize": "Standard_D2s_v5"},
            "networkProfile": {"networkInterfaces": [{"id": "[resourceId('Microsoft.Network/networkInterfaces', 'webVMNic')]"}]},
            "storageProfile": {"osDisk": {"createOption": "fromImage"}, "imageReference": {"id": image_id}},
            "osProfile": {"computerName": "web", "adminUsername": "azureuser",
                "linuxConfiguration": {"disablePasswordAuthentication": true,
                    "ssh": {"publicKeys": [{"path": "/home/azureuser/.ssh/authorized_keys", "keyData": SSH_KEY}]}}},
            "securityProfile": {"securityType": "TrustedLaunch", "uefiSettings": {"secureBootEnabled": true, "vTpmEnabled": true}}}}
    ]}}})
}

/// What `az vm create` gets back when it deploys a VM from the image in the other tenant
/// without `--aux-subscriptions` (no auxiliary token): the emulator's deployment operation
/// status, `{"status":"Failed","error":{"code":"DeploymentFailed",...,"details":[...]}}`.
async fn deployment_without_aux_token() -> Value {
    let emu = Emu::start(seed()).await;
    let http = emu.http();
    let url = |path: &str| format!("{}{path}", emu.endpoint());
    let token: Value = http
        .post(url(&format!("/{TARGET_TENANT}/oauth2/v2.0/token")))
        .form(&[
            ("client_id", APP),
            ("client_secret", SECRET),
            ("grant_type", "client_credentials"),
            ("scope", "https://management.azure.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = format!("Bearer {}", token["access_token"].as_str().expect("token"));
    let put = http
        .put(url(&format!(
            "/subscriptions/{TARGET_SUB}/resourceGroups/rg-app/providers/Microsoft.Resources/deployments/vm_deploy_1?api-version=2024-11-01"
        )))
        .header("authorization", &bearer)
        .json(&az_vm_template(&format!("{}/versions/1.0.0", image("ubuntu"))))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 201, "the deployment is accepted, then fails");
    let status_url = put.headers()["azure-asyncoperation"]
        .to_str()
        .unwrap()
        .to_owned();
    for _ in 0..200 {
        let status: Value = http
            .get(&status_url)
            .header("authorization", &bearer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if !matches!(status["status"].as_str(), Some("Running" | "InProgress")) {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the deployment never finished");
}

/// The Azure CLI's rendering of an ARM error (azure-core's `HttpResponseError`), with the inner
/// errors under `Exception Details:`.
fn az_text(error: &Value) -> String {
    let mut out = format!(
        "ERROR: ({code}) {message}\nCode: {code}\nMessage: {message}\n",
        code = error["code"].as_str().unwrap(),
        message = error["message"].as_str().unwrap()
    );
    if let Some(target) = error["target"].as_str() {
        out += &format!("Target: {target}\n");
    }
    for (i, d) in error["details"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let (code, message) = (d["code"].as_str().unwrap(), d["message"].as_str().unwrap());
        let head = if i == 0 { "Exception Details:" } else { "" };
        out += &format!("{head}\t({code}) {message}\n\tCode: {code}\n\tMessage: {message}\n");
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_explain_names_the_row_inside_an_emulator_deployment_failure() {
    let status = deployment_without_aux_token().await;
    assert_eq!(status["error"]["code"], "DeploymentFailed", "{status}");
    let run = explain_file(&status.to_string(), true);
    assert_eq!(run.code(), Some(0), "{}{}", run.stdout(), run.stderr());
    let out = run.json();
    assert_eq!(out["azure"]["code"], "DeploymentFailed");
    assert_eq!(row_id(&run), "linked_tenant");
    assert_eq!(out["row"]["matched"]["code"], "LinkedAuthorizationFailed");
    insta::with_settings!({filters => filters()}, {
        insta::assert_json_snapshot!(out);
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_explain_reads_the_az_cli_text_of_a_deployment_failure() {
    let status = deployment_without_aux_token().await;
    let run = explain_file(&az_text(&status["error"]), false);
    assert_eq!(run.code(), Some(0), "{}{}", run.stdout(), run.stderr());
    let text = run.stdout();
    assert!(
        text.starts_with("Azure's answer: DeploymentFailed: "),
        "{text}"
    );
    assert!(text.contains("\n  detail: LinkedAuthorizationFailed: The client has permission"));
    assert!(
        text.contains("(linked_tenant), for LinkedAuthorizationFailed:"),
        "{text}"
    );
    assert!(
        text.contains("  manifest   `vm.<key>` (`image_tenant`)"),
        "{text}"
    );
    // A deployment whose details galleon does not know is still explained, by its own row.
    let unknown = json!({"code": "DeploymentFailed", "message": "At least one resource deployment operation failed.",
        "details": [{"code": "Conflict", "message": "Another operation is in progress."}]});
    let run = explain_file(&az_text(&unknown), true);
    assert_eq!(
        (run.code(), row_id(&run)),
        (Some(0), json!("deployment_failed"))
    );
}

#[test]
fn doctor_explain_multiple_errors_by_their_details() {
    // arm-errors.md §6, captured body.
    let body = json!({"error": {"code": "MultipleErrorsOccurred",
        "message": "Multiple error occurred: NotFound,NotFound. Please see details.",
        "details": [{"code": "ResourceGroupNotFound", "message": "Resource group 'rg-app' could not be found."},
                    {"code": "ResourceGroupNotFound", "message": "Resource group 'rg-net' could not be found."}]}});
    let run = explain_file(&body.to_string(), true);
    assert_eq!(
        (run.code(), row_id(&run)),
        (Some(0), json!("resource_group_not_found"))
    );
    assert_eq!(run.json()["azure"]["details"].as_array().unwrap().len(), 2);
    let opaque = json!({"error": {"code": "MultipleErrorsOccurred",
        "message": "Multiple error occurred: NotFound,NotFound. Please see details.",
        "details": [{"code": "NotFound", "message": "x"}]}});
    let run = explain_file(&opaque.to_string(), true);
    assert_eq!(
        (run.code(), row_id(&run)),
        (Some(0), json!("multiple_errors"))
    );
}

#[test]
fn doctor_explain_invalid_template_deployment_by_its_inner_error() {
    // arm-errors.md §7 (preflight, synchronous 400) with §4.2's inner error, as az prints it.
    let error = json!({"code": "InvalidTemplateDeployment",
        "message": "The template deployment 'vm_deploy_x' is not valid according to the validation procedure. The tracking id is '0000'. See inner errors for details.",
        "details": [{"code": "InvalidParameter", "message": "Parameter 'osProfile' is not allowed."}]});
    let run = explain_file(&az_text(&error), true);
    assert_eq!(
        (run.code(), row_id(&run)),
        (Some(0), json!("os_profile_not_allowed"))
    );
    let alone = json!({"code": "InvalidTemplateDeployment", "message": error["message"]});
    let run = explain_file(&az_text(&alone), true);
    assert_eq!(
        (run.code(), row_id(&run)),
        (Some(0), json!("invalid_template_deployment"))
    );
}

#[test]
fn doctor_explain_image_version_deprecated() {
    // arm-errors.md §4.8: a Marketplace image, 404 with target imageReference.
    let error = json!({"code": "ImageVersionDeprecated", "target": "imageReference",
        "message": "The platform image 'canonical:ubuntu:18_04-lts-gen2:18.04.202101010' is deprecated."});
    let run = explain_file(&az_text(&error), false);
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    insta::assert_snapshot!(run.stdout());
}

#[test]
fn doctor_explain_vmss_os_state_change() {
    // arm-errors.md §5.1 row 8 gives only the message; galleon's row matches it whatever the
    // code, so Terraform's go-azure-sdk text with an assumed code is enough.
    let text = "Error: updating Linux Virtual Machine Scale Set \"web\": performing CreateOrUpdate: unexpected status 409 (409 Conflict) with error: OperationNotAllowed: Cannot update Virtual Machine Scale Set web as the current OS state of the VM Scale Set is Generalized which is different from the updated gallery image OS state which is Specialized";
    let run = explain_file(text, true);
    assert_eq!(
        (run.code(), row_id(&run)),
        (Some(0), json!("vmss_os_state_change"))
    );
    assert_eq!(
        run.json()["row"]["address"],
        "none (scale sets are outside galleon)"
    );
}

#[test]
fn doctor_explain_aadsts50020_from_az_login() {
    // arm-errors.md §10, as `az login --tenant` prints it, piped on stdin.
    let text = "AADSTS50020: User account 'dev@contoso.com' from identity provider 'live.com' does not exist in tenant 'Fabrikam' and cannot access the application '04b07795'(Azure CLI) in that tenant.\nTrace ID: 0000\nCorrelation ID: 1111\n";
    let run = explain(&["--json"], text);
    assert_eq!((run.code(), row_id(&run)), (Some(0), json!("aadsts50020")));
    assert_eq!(run.json()["azure"]["code"], "AADSTS50020");
    let run = explain(&["-"], text);
    assert!(
        run.stdout()
            .contains("  fix        invite the user as a guest"),
        "{}",
        run.stdout()
    );
}

#[test]
fn doctor_explain_unknown_error_exits_1_and_points_to_the_checks() {
    let run = explain(
        &[],
        r#"{"error":{"code":"SomethingElse","message":"no row"}}"#,
    );
    assert_eq!(run.code(), Some(1));
    assert!(
        run.stdout()
            .contains("galleon has no row for SomethingElse."),
        "{}",
        run.stdout()
    );
    assert!(run.stdout().contains("galleon doctor --image ID"));
    let run = explain(&["--json"], "it just did not work");
    assert_eq!(run.code(), Some(1));
    assert_eq!(run.json()["explained"], false);
    assert_eq!(run.json()["azure"], Value::Null);
}
