//! A programmable HTTPS server for tests that need exact control of what Azure answers (a 429
//! with a given Retry-After, an operation that polls twice, a nextLink to another host). It
//! records every request so tests can assert on headers, like the emulator's request log.
//!
//! The emulator covers realistic behaviour; this stub covers the client's corner cases
//! deterministically. It shares no code with the client.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use base64::Engine;
use galleon_azure::{Cloud, CustomCloud};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use url::Url;

/// A request the stub saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
    pub fn form(&self, key: &str) -> Option<String> {
        url::form_urlencoded::parse(self.body.as_bytes())
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    }
    pub fn is_token_request(&self) -> bool {
        self.path.ends_with("/oauth2/v2.0/token")
    }
}

/// What the stub answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string(),
        }
    }
    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: String::new(),
        }
    }
    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.into(), v.into()));
        self
    }
}

type Handler = dyn Fn(&Seen) -> Option<Reply> + Send + Sync;

struct Shared {
    handler: Box<Handler>,
    seen: Mutex<Vec<Seen>>,
    /// `expires_in` of issued tokens.
    token_lifetime: Mutex<u64>,
    issued: Mutex<u64>,
}

pub struct Stub {
    pub endpoint: Url,
    pub ca_pem: String,
    shared: Arc<Shared>,
}

/// A JWT-shaped token (unsigned) with the claims galleon reads. The marker makes leaks greppable.
pub fn fake_token(tenant: &str, app: &str, n: u64) -> String {
    let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    let claims = serde_json::json!({"tid": tenant, "appid": app, "oid": format!("oid-{app}-in-{tenant}"), "n": n, "marker": "canary-access-token"});
    format!(
        "{}.{}.c2ln",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(claims.to_string().as_bytes())
    )
}

impl Stub {
    pub async fn start(handler: impl Fn(&Seen) -> Option<Reply> + Send + Sync + 'static) -> Stub {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let key = rcgen::generate_simple_self_signed(vec![
            "127.0.0.1".to_string(),
            "localhost".to_string(),
        ])
        .unwrap();
        let ca_pem = key.cert.pem();
        let cert_der = key.cert.der().clone();
        let key_der =
            rustls_pki_types::PrivateKeyDer::Pkcs8(key.signing_key.serialize_der().into());
        let mut tls = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![cert_der], key_der)
            .unwrap();
        tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            handler: Box::new(handler),
            seen: Mutex::new(Vec::new()),
            token_lifetime: Mutex::new(3599),
            issued: Mutex::new(0),
        });
        let router = axum::Router::new()
            .fallback(handle)
            .with_state(shared.clone());
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                let router = router.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tls), TowerToHyperService::new(router))
                        .await;
                });
            }
        });
        Stub {
            endpoint: Url::parse(&format!("https://127.0.0.1:{port}/")).unwrap(),
            ca_pem,
            shared,
        }
    }

    pub fn cloud(&self) -> Cloud {
        Cloud::Custom(Box::new(CustomCloud {
            name: "Stub".into(),
            arm_endpoint: self.endpoint.clone(),
            authority_host: self.endpoint.clone(),
            audience: "https://management.core.windows.net".into(),
            storage_suffix: None,
            ca_pem: Some(self.ca_pem.clone()),
        }))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.endpoint.as_str().trim_end_matches('/'), path)
    }

    pub fn set_token_lifetime(&self, secs: u64) {
        *self.shared.token_lifetime.lock().unwrap() = secs;
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    /// Requests other than token requests.
    pub fn arm_seen(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| !s.is_token_request())
            .collect()
    }

    pub fn token_requests(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(Seen::is_token_request)
            .collect()
    }
}

async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let seen = Seen {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or("").to_string(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    // HTTP/2 carries the host in `:authority`, not a Host header: give tests one place to look.
    let mut seen = seen;
    if let Some(authority) = parts.uri.authority() {
        seen.headers
            .entry("host".into())
            .or_insert_with(|| authority.to_string());
    }
    shared.seen.lock().unwrap().push(seen.clone());
    let reply = (shared.handler)(&seen).unwrap_or_else(|| default_reply(&shared, &seen));
    let mut resp = Response::builder().status(reply.status);
    for (k, v) in &reply.headers {
        resp = resp.header(k, v);
    }
    resp.body(Body::from(reply.body)).unwrap()
}

fn default_reply(shared: &Shared, seen: &Seen) -> Reply {
    if seen.is_token_request() {
        let tenant = seen
            .path
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or("")
            .to_string();
        let app = seen.form("client_id").unwrap_or_default();
        let n = {
            let mut i = shared.issued.lock().unwrap();
            *i += 1;
            *i
        };
        let lifetime = *shared.token_lifetime.lock().unwrap();
        return Reply::json(
            200,
            serde_json::json!({"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": fake_token(&tenant, &app, n)}),
        );
    }
    Reply::json(
        404,
        serde_json::json!({"error": {"code": "ResourceNotFound", "message": format!("nothing at {}", seen.path)}}),
    )
}
