//! The `galleon-emulator serve` binary and the README's seed example: the documented YAML
//! parses and builds, and the binary prints its ready line, writes the ready file and the CA,
//! and serves.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use galleon_emulator::Seed;
use serde_json::Value;

use crate::common::*;

fn readme_seed() -> String {
    let readme = include_str!("../../README.md");
    let start = readme.find("```yaml\n").expect("README has a yaml block") + "```yaml\n".len();
    let end = start + readme[start..].find("```").expect("block ends");
    readme[start..end].to_owned()
}

#[test]
fn readme_seed_example_parses_and_builds() {
    let seed = Seed::from_yaml(&readme_seed()).expect("README seed parses");
    assert_eq!(seed.tenants.len(), 2);
    assert!(seed.apps[0].secrets[1].expired);
    assert_eq!(
        seed.settings.lro_ms["Microsoft.Compute/virtualMachines"],
        200
    );
    let state = seed
        .build(time::OffsetDateTime::now_utc())
        .expect("README seed builds");
    // Home-tenant principal plus the consented one, with different object ids.
    let app = "0a0a0a0a-3333-4333-8333-333333333333";
    let a = state
        .service_principal(app, "11111111-1111-4111-8111-111111111111")
        .unwrap();
    let b = state
        .service_principal(app, "22222222-2222-4222-8222-222222222222")
        .unwrap();
    assert_ne!(a.object_id, b.object_id);
    assert_eq!(b.object_id, "5a5a5a5a-0000-4000-8000-000000000001");
    assert_eq!(state.subscriptions[1].quotas["cores"]["westeurope"], 20);
    let image = state
        .resource("/subscriptions/aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa/resourcegroups/rg-image-build/providers/microsoft.compute/images/ubuntu-2204-base")
        .unwrap();
    assert_eq!(image.resource_type, "Microsoft.Compute/images");
    assert_eq!(image.provisioning_state(), Some("Succeeded"));
}

#[test]
fn seed_with_dangling_references_is_refused() {
    let yaml = "subscriptions:\n  - id: aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa\n    tenant: nowhere.example\n";
    let err = Seed::from_yaml(yaml)
        .unwrap()
        .build(time::OffsetDateTime::now_utc())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "subscription aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa names unknown tenant 'nowhere.example'"
    );
    assert!(
        Seed::from_yaml("tenants: [{id: x, colour: blue}]").is_err(),
        "unknown fields are rejected"
    );
}

#[tokio::test]
async fn binary_prints_ready_line_and_serves() {
    let dir = tempfile::tempdir().unwrap();
    let seed_file = dir.path().join("seed.yaml");
    std::fs::write(&seed_file, readme_seed()).unwrap();
    let ready = dir.path().join("ready.json");
    let state = dir.path().join("state");
    let mut child = Command::new(env!("CARGO_BIN_EXE_galleon-emulator"))
        .args(["serve", "--seed"])
        .arg(&seed_file)
        .arg("--state-dir")
        .arg(&state)
        .arg("--ready-file")
        .arg(&ready)
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let info: Value = serde_json::from_str(&line).unwrap();
    let endpoint = info["endpoint"].as_str().unwrap().to_owned();
    assert!(endpoint.starts_with("https://127.0.0.1:"));
    assert_eq!(info["admin"], format!("{endpoint}/_emulator"));
    let ca_file = info["ca_file"].as_str().unwrap();
    assert_eq!(std::fs::read_to_string(&ready).unwrap().trim(), line.trim());
    let http = client(&std::fs::read_to_string(ca_file).unwrap());
    let health: Value = http
        .get(format!("{endpoint}/_emulator/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    let token = http
        .post(format!(
            "{endpoint}/publisher.onmicrosoft.com/oauth2/v2.0/token"
        ))
        .form(&[
            ("client_id", "0a0a0a0a-3333-4333-8333-333333333333"),
            ("client_secret", "a-test-secret"),
            ("grant_type", "client_credentials"),
            ("scope", ARM_SCOPE),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), reqwest::StatusCode::OK);
    assert!(state.join("state.json").exists());
    child.kill().unwrap();
    child.wait().unwrap();
}
