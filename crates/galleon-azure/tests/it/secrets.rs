//! The canary: a client secret and the issued tokens must appear in no output: not in Debug of
//! any public type that holds them, not in error messages or hints, not in TRACE-level logs.

use std::io::Write;
use std::sync::{Arc, Mutex};

use galleon_azure::{
    AccessToken, ArmClient, CredentialSource, CredentialSpec, Secret, SecretSource,
};
use serde_json::json;

use crate::stub::{Reply, Stub};
use crate::{CANARY, SUB_A, SUB_B, a, b, stub_client};

#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

pub fn assert_clean(text: &str, what: &str) {
    assert!(
        !text.contains(CANARY),
        "{what} leaked the client secret: {text}"
    );
    assert!(
        !text.contains("canary-access-token"),
        "{what} leaked an access token (marker)"
    );
    // The fake tokens' payload segment is base64; the marker inside is not greppable as-is, so
    // also look for the token's header segment, which every issued token starts with.
    assert!(
        !text.contains("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"),
        "{what} leaked an access token: {text}"
    );
}

/// One TRACE-level subscriber for the whole test binary, installed by the first test that asks.
/// Global rather than per-test: a thread-local default misses events from callsites whose
/// interest was cached by tests running on other threads, and a global one sees every test's
/// requests, which only makes the leak check stronger.
pub fn global_capture() -> &'static Capture {
    static CAPTURE: std::sync::OnceLock<Capture> = std::sync::OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture = Capture::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(capture.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other global subscriber in this test binary");
        capture
    })
}

#[tokio::test]
async fn no_secret_or_token_in_logs_errors_or_debug_output() {
    let capture = global_capture();

    let stub = Stub::start(|s| {
        if s.is_token_request() {
            if s.path.contains("33333333") {
                return Some(Reply::json(401, json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.", "error_codes": [7000215]})));
            }
            return None;
        }
        Some(match s.method.as_str() {
            "PUT" => Reply::json(403, json!({"error": {"code": "LinkedAuthorizationFailed", "message": format!("The client has permission to perform action 'a' on scope 's', however the current tenant 't' is not authorized to access linked subscription '{SUB_A}'.")}})),
            "DELETE" => Reply::json(429, json!({"error": {"code": "SubscriptionRequestsThrottled", "message": "m"}})).header("retry-after", "9999"),
            _ => Reply::json(200, json!({"value": []})),
        })
    })
    .await;
    let client = stub_client(&stub);
    let vm = format!(
        "/subscriptions/{SUB_B}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web"
    );
    client.get(&b(), &vm).await.unwrap();
    let mut outputs: Vec<(String, String)> = Vec::new();
    let errors = [
        client.put(&b(), &vm, &json!({}), &[a()]).await.unwrap_err(),
        client.delete(&b(), &vm, &[]).await.unwrap_err(),
    ];
    let bad = ArmClient::new(stub.cloud(), crate::fast_options()).unwrap();
    let bad_tenant = galleon_azure::TenantId::new("33333333-3333-4333-8333-333333333333");
    bad.configure_credentials(&[crate::secret_spec("33333333-3333-4333-8333-333333333333")])
        .unwrap();
    let entra = bad.get(&bad_tenant, &vm).await.unwrap_err();
    for e in errors.iter().chain(std::iter::once(&entra)) {
        outputs.push(("error Display".into(), e.to_string()));
        outputs.push(("error Debug".into(), format!("{e:?}")));
        outputs.push(("hint".into(), e.hint().unwrap_or_default()));
    }
    let token = client
        .tokens()
        .token(&b(), &client.cloud().arm_scope())
        .await
        .unwrap();
    let spec = CredentialSpec {
        tenant_id: b(),
        client_id: "x".into(),
        source: CredentialSource::ClientSecret(SecretSource::Value(Secret::new(CANARY))),
    };
    outputs.push((
        "Secret".into(),
        format!("{:?} {}", Secret::new(CANARY), Secret::new(CANARY)),
    ));
    outputs.push(("AccessToken".into(), format!("{token:?}")));
    outputs.push(("CredentialSpec".into(), format!("{spec:?}")));
    outputs.push(("ArmClient".into(), format!("{client:?}")));
    let lock = client
        .blob_lock(&b(), "galleonstate", "locks", "ws.lock")
        .unwrap();
    outputs.push(("BlobLock".into(), format!("{lock:?}")));
    outputs.push(("TokenCache".into(), format!("{:?}", client.tokens())));
    outputs.push(("Cloud".into(), format!("{:?}", client.cloud())));
    let body = json!({"properties": {"osProfile": {"adminPassword": CANARY}}});
    let tenant = b();
    let req = galleon_azure::ArmRequest {
        body: Some(&body),
        ..galleon_azure::ArmRequest::new(galleon_azure::Method::PUT, &tenant, &vm)
    };
    outputs.push(("ArmRequest".into(), format!("{req:?}")));
    let _: &AccessToken = &token;
    for (what, text) in &outputs {
        assert_clean(text, what);
    }
    let logs = capture.text();
    assert!(logs.contains("azure request"), "the capture works: {logs}");
    assert_clean(&logs, "TRACE logs");
    assert!(
        !logs.to_ascii_lowercase().contains("bearer "),
        "an Authorization value was logged"
    );
    // Sanity: the canary really was sent, so a clean output is meaningful.
    assert!(
        stub.token_requests()
            .iter()
            .any(|t| t.form("client_secret").as_deref() == Some(CANARY))
    );
    assert!(
        stub.arm_seen()
            .iter()
            .any(|s| s.header("x-ms-authorization-auxiliary").is_some())
    );
}
