//! A local Azure Resource Manager and Microsoft Entra ID, for tests, demos and the sandbox.
//!
//! It keeps state, enforces identity and RBAC, and answers with Azure's status codes, error
//! codes, messages and headers, so that galleon (and Azure's own clients) can be exercised
//! end to end without a cloud. Start it in-process with [`Emulator::start`] or as the
//! `galleon-emulator serve` binary; see the crate README for the seed format.
//!
//! Layout: `server` (TLS, accept loop), `app` (shared parts, router, faults and request log),
//! `entra` (identity), `arm` (the front door: auth, RBAC, throttling, LROs, errors, routing
//! table), `providers` (resource types), `admin` (`/_emulator/`), `seed`/`state` (world).

// `ArmError` carries status, code, message, target, details and headers by value: it is the
// product of every request, not a rare failure on a hot path, so its size does not matter.
#![allow(clippy::result_large_err)]

pub mod admin;
pub mod app;
pub mod arm;
pub mod entra;
pub mod faults;
pub mod metadata;
pub mod providers;
pub mod seed;
pub mod server;
pub mod state;
pub mod token;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;
use tokio::sync::watch;

pub use seed::Seed;

use crate::app::Shared;
use crate::arm::registry::Registry;
use crate::arm::throttle::Throttler;
use crate::faults::Injector;
use crate::token::Signer;

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The seed does not describe a consistent world.
    #[error("invalid seed")]
    Seed(#[from] seed::SeedError),
    /// The state dir could not be created or read.
    #[error("cannot use state dir {}", .path.display())]
    StateDir {
        /// The directory.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The signing key could not be created or loaded.
    #[error("signing key unavailable")]
    Key(#[from] token::TokenError),
    /// TLS could not be set up.
    #[error("TLS setup failed")]
    Tls(#[from] server::TlsError),
    /// The port could not be bound.
    #[error("cannot listen on 127.0.0.1:{port}")]
    Bind {
        /// The port.
        port: u16,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

/// How to start an emulator.
#[derive(Debug, Clone, Default)]
pub struct EmulatorConfig {
    /// The initial world (ignored when `state_dir` already holds a `state.json`).
    pub seed: Seed,
    /// Where to persist state, keys and the CA; in memory only when `None`.
    pub state_dir: Option<PathBuf>,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Serve plain HTTP instead of HTTPS (debugging only: Azure clients refuse it).
    pub http: bool,
}

/// Entry point.
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    /// Builds the world, binds 127.0.0.1 and starts serving in the background.
    ///
    /// # Errors
    /// Invalid seed, unusable state dir, key or TLS failure, port in use.
    pub async fn start(config: EmulatorConfig) -> Result<RunningEmulator, StartError> {
        Self::start_with(config, Registry::standard()).await
    }

    /// Like [`Emulator::start`] with a custom provider table (tests of a single provider).
    ///
    /// # Errors
    /// As [`Emulator::start`].
    pub async fn start_with(
        config: EmulatorConfig,
        registry: Registry,
    ) -> Result<RunningEmulator, StartError> {
        let dir = config.state_dir.as_deref();
        if let Some(d) = dir {
            std::fs::create_dir_all(d).map_err(|source| StartError::StateDir {
                path: d.to_owned(),
                source,
            })?;
        }
        let world = match dir.map(state::load).transpose() {
            Ok(Some(Some(saved))) => saved,
            Ok(_) => config.seed.build(time::OffsetDateTime::now_utc())?,
            Err(source) => {
                return Err(StartError::StateDir {
                    path: dir.unwrap_or(Path::new(".")).to_owned(),
                    source,
                });
            }
        };
        let signer = Signer::load_or_create(dir)?;
        let tls = if config.http {
            None
        } else {
            Some(server::make_tls(dir)?)
        };
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], config.port)))
            .await
            .map_err(|source| StartError::Bind {
                port: config.port,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            port: config.port,
            source,
        })?;
        let scheme = if config.http { "http" } else { "https" };
        let endpoint = format!("{scheme}://127.0.0.1:{}", addr.port());
        let ca_pem = tls.as_ref().map(|t| t.ca_pem.clone()).unwrap_or_default();
        let ca_file = match (dir, &tls) {
            (Some(d), Some(_)) => Some(d.join("ca.pem")),
            _ => None,
        };
        let shared = Arc::new(Shared {
            faults: Mutex::new(Injector::new(world.settings.faults.clone())),
            state: Mutex::new(world),
            registry,
            signer,
            endpoint: endpoint.clone(),
            state_dir: config.state_dir.clone(),
            throttler: Mutex::new(Throttler::default()),
            log: Mutex::new(Vec::new()),
            dirty: std::sync::atomic::AtomicBool::new(true),
            last_persist: Mutex::new((std::time::Instant::now(), std::time::Duration::ZERO)),
        });
        shared.flush_now();
        let flusher = Arc::downgrade(&shared);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(app::PERSIST_EVERY).await;
                match flusher.upgrade() {
                    Some(shared) => shared.flush(),
                    None => break,
                }
            }
        });
        let (stop, stopped) = watch::channel(false);
        let router = app::router(shared.clone());
        let task = tokio::spawn(server::serve(
            listener,
            router,
            tls.map(|t| t.config),
            stopped,
        ));
        Ok(RunningEmulator {
            shared,
            endpoint,
            ca_pem,
            ca_file,
            stop,
            task: Some(task),
        })
    }
}

/// A running emulator. Dropping it stops the server.
#[derive(Debug)]
pub struct RunningEmulator {
    shared: Arc<Shared>,
    endpoint: String,
    ca_pem: String,
    ca_file: Option<PathBuf>,
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl RunningEmulator {
    /// Base URL, e.g. `https://127.0.0.1:PORT` (no trailing slash).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The admin API base URL (`{endpoint}/_emulator`).
    pub fn admin(&self) -> String {
        format!("{}/_emulator", self.endpoint)
    }

    /// The CA certificate to trust (PEM); empty with `http`.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Path of `ca.pem` when a state dir is used.
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_deref()
    }

    /// The ready line the binary prints: `{"endpoint","ca_file","admin"}`.
    pub fn ready_line(&self) -> String {
        serde_json::json!({
            "endpoint": self.endpoint,
            "ca_file": self.ca_file.as_ref().map(|p| p.display().to_string()),
            "admin": self.admin(),
        })
        .to_string()
    }

    /// Direct access to the shared parts (state, log) for in-process tests.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Moves the emulator clock forward.
    pub fn advance_clock(&self, seconds: i64) {
        let mut world = self.shared.world();
        world.clock_offset_secs += seconds;
        self.shared.persist(&world);
    }

    /// The request log so far.
    pub fn requests(&self) -> Vec<app::LogEntry> {
        self.shared
            .log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Stops accepting connections and waits for the accept loop to end.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.shared.flush_now();
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        self.shared.flush_now();
    }
}
