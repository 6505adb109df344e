//! HTTPS on 127.0.0.1: a local CA (generated with rcgen, kept in the state dir as `ca.pem` so
//! clients that trust it keep working across restarts), a server certificate for `127.0.0.1`
//! and `localhost`, and a hyper accept loop speaking HTTP/1.1 and h2 (ALPN).
//!
//! Azure clients refuse bearer tokens over plain HTTP (official-clients.md §i/§ii), so TLS is
//! the default; `--http` exists for debugging with curl.

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt as _;

use crate::app::DropConnection;

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Certificate generation or parsing failed.
    #[error("certificate generation failed")]
    Cert(#[from] rcgen::Error),
    /// rustls refused the certificate or key.
    #[error("TLS configuration rejected")]
    Rustls(#[from] rustls::Error),
    /// The CA files could not be read or written.
    #[error("cannot access CA files")]
    Io(#[from] std::io::Error),
    /// A PEM file could not be parsed.
    #[error("cannot parse PEM")]
    Pem(#[from] rustls_pki_types::pem::Error),
}

/// TLS material.
pub struct Tls {
    /// The CA certificate clients must trust (PEM).
    pub ca_pem: String,
    /// rustls server configuration.
    pub config: Arc<ServerConfig>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls").finish_non_exhaustive()
    }
}

fn ca_params() -> Result<CertificateParams, rcgen::Error> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "galleon emulator local CA");
    dn.push(DnType::OrganizationName, "galleon");
    params.distinguished_name = dn;
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(2049, 12, 31);
    Ok(params)
}

/// Creates (or reloads from `dir`) the CA and issues a fresh server certificate.
///
/// # Errors
/// Key/certificate generation or file access failed.
pub fn make_tls(dir: Option<&Path>) -> Result<Tls, TlsError> {
    let (ca_key, ca_pem) = match dir {
        Some(d) if d.join("ca.pem").exists() && d.join("ca-key.pem").exists() => {
            let key = KeyPair::from_pem(&std::fs::read_to_string(d.join("ca-key.pem"))?)?;
            (key, std::fs::read_to_string(d.join("ca.pem"))?)
        }
        _ => {
            let key = KeyPair::generate()?;
            let cert = ca_params()?.self_signed(&key)?;
            let pem = cert.pem();
            if let Some(d) = dir {
                crate::state::write_private(&d.join("ca-key.pem"), key.serialize_pem().as_bytes())?;
                std::fs::write(d.join("ca.pem"), &pem)?;
            }
            (key, pem)
        }
    };
    let issuer = Issuer::new(ca_params()?, ca_key);
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])?;
    params
        .distinguished_name
        .push(DnType::CommonName, "127.0.0.1");
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(2049, 12, 31);
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &issuer)?;
    let chain = vec![
        CertificateDer::from(cert.der().to_vec()),
        CertificateDer::from_pem_slice(ca_pem.as_bytes())?,
    ];
    let key_der = PrivateKeyDer::from_pem_slice(key.serialize_pem().as_bytes())?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Tls {
        ca_pem,
        config: Arc::new(config),
    })
}

/// Accepts connections until `shutdown` turns true.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<Arc<ServerConfig>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.changed() => return,
        };
        let Ok((stream, _)) = accepted else { continue };
        let router = router.clone();
        let acceptor = acceptor.clone();
        let mut conn_shutdown = shutdown.clone();
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let router = router.clone();
                    async move {
                        let response = router
                            .oneshot(req.map(axum::body::Body::new))
                            .await
                            .unwrap_or_else(|e| match e {});
                        if response.extensions().get::<DropConnection>().is_some() {
                            // An error from the service makes hyper close the connection unanswered.
                            return Err(std::io::Error::other(
                                "fault injection: dropped connection",
                            ));
                        }
                        Ok(response)
                    }
                });
            let builder = Builder::new(TokioExecutor::new());
            let run = async {
                match acceptor {
                    Some(acceptor) => {
                        let Ok(tls) = acceptor.accept(stream).await else {
                            return;
                        };
                        let _ = builder.serve_connection(TokioIo::new(tls), service).await;
                    }
                    None => {
                        let _ = builder
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    }
                }
            };
            tokio::select! {
                () = run => {}
                _ = conn_shutdown.changed() => {}
            }
        });
    }
}
