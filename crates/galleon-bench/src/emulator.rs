//! The emulator as a separate process (so its CPU is not counted as galleon's), started with
//! `galleon emulator serve --workspace`, and the few admin calls the benchmarks need.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::Value;

/// The secret the emulator's app accepts and galleon is given.
pub const SECRET: &str = "bench-secret";

pub struct Emulator {
    child: Child,
    pub endpoint: String,
    pub ca_file: PathBuf,
    admin: String,
    http: reqwest::Client,
}

impl Emulator {
    /// Starts an emulator standing in for the Azure `workspace` expects.
    pub fn start(galleon: &Path, workspace: &Path, state: &Path) -> anyhow::Result<Emulator> {
        let ready = state.join("ready.json");
        std::fs::create_dir_all(state)?;
        let child = Command::new(galleon)
            .args(["emulator", "serve", "--workspace"])
            .arg(workspace)
            .arg("--state-dir")
            .arg(state)
            .arg("--ready-file")
            .arg(&ready)
            .env("GALLEON_APP_SECRET", SECRET)
            .stdout(Stdio::null())
            .spawn()
            .context("cannot start the emulator")?;
        let deadline = Instant::now() + Duration::from_secs(60);
        let line = loop {
            if let Ok(text) = std::fs::read_to_string(&ready)
                && text.ends_with('\n')
            {
                break text;
            }
            if Instant::now() > deadline {
                bail!("the emulator did not start");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let info: Value = serde_json::from_str(line.trim())?;
        let ca_file = PathBuf::from(info["ca_file"].as_str().unwrap_or_default());
        let ca = std::fs::read_to_string(&ca_file)?;
        Ok(Emulator {
            child,
            endpoint: info["endpoint"].as_str().unwrap_or_default().to_owned(),
            admin: info["admin"].as_str().unwrap_or_default().to_owned(),
            ca_file,
            http: galleon_azure::build_client(Some(&ca))?,
        })
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Changes the emulator's settings (latency, LRO durations, throttling) in place.
    pub async fn settings(&self, change: impl FnOnce(&mut Value)) -> anyhow::Result<()> {
        let url = format!("{}/settings", self.admin);
        let mut settings: Value = self.http.get(&url).send().await?.json().await?;
        change(&mut settings);
        let resp = self.http.put(&url).json(&settings).send().await?;
        if !resp.status().is_success() {
            bail!("settings refused: {}", resp.text().await?);
        }
        Ok(())
    }

    /// The request log since the last call (which clears it).
    pub async fn take_requests(&self) -> anyhow::Result<Vec<Value>> {
        let url = format!("{}/requests", self.admin);
        let log: Vec<Value> = self.http.get(&url).send().await?.json().await?;
        self.http.delete(&url).send().await?;
        Ok(log)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Requests answered 429 in a request log.
pub fn throttled(log: &[Value]) -> usize {
    log.iter().filter(|r| r["status"] == 429).count()
}
