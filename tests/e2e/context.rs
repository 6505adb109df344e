//! `TestContext`: a copy of an example workspace, an emulator process standing in for the Azure
//! it expects (`galleon emulator serve --workspace`), and the real `galleon` binary pointed at it
//! over a loopback socket. Tests drive the binary and look inside the emulator through its admin
//! API, never through galleon's own code.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The client secret the emulator's apps accept; manifests reference it as `$GALLEON_APP_SECRET`.
pub const SECRET: &str = "e2e-canary-secret-7f3a9c";

/// The galleon binary under test.
pub fn galleon_bin() -> &'static str {
    env!("CARGO_BIN_EXE_galleon")
}

/// Repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub struct TestContext {
    _tmp: tempfile::TempDir,
    /// The workspace copy the tests edit.
    pub workspace: PathBuf,
    state_dir: PathBuf,
    emulator: Option<Child>,
    /// ARM endpoint of the emulator.
    pub endpoint: String,
    /// The emulator's CA.
    pub ca_file: PathBuf,
    admin: String,
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
}

impl TestContext {
    /// Copies `examples/<name>` and starts an emulator seeded for it.
    pub fn new(example: &str) -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let workspace = tmp.path().join("ws");
        copy_dir(&repo().join("examples").join(example), &workspace);
        let state_dir = tmp.path().join("emulator");
        let mut ctx = TestContext {
            workspace,
            state_dir,
            emulator: None,
            endpoint: String::new(),
            ca_file: PathBuf::new(),
            admin: String::new(),
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime"),
            http: galleon_azure::build_client(None).expect("http client"),
            _tmp: tmp,
        };
        ctx.start_emulator();
        ctx
    }

    /// Starts (or restarts, from its persisted state) the emulator process.
    pub fn start_emulator(&mut self) {
        self.start_emulator_on(0);
    }

    /// Kills the emulator and starts it again from its persisted state on the same port, so a
    /// galleon process already running sees an outage rather than a different server.
    pub fn restart_emulator(&mut self) {
        let port: u16 = self
            .endpoint
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("the endpoint has a port");
        self.stop_emulator();
        self.start_emulator_on(port);
    }

    /// Starts the emulator on `port` (0: any free port).
    pub fn start_emulator_on(&mut self, port: u16) {
        let ready = self.state_dir.join("ready.json");
        let _ = std::fs::remove_file(&ready);
        let child = Command::new(galleon_bin())
            .args(["emulator", "serve", "--workspace"])
            .arg(&self.workspace)
            .arg("--state-dir")
            .arg(&self.state_dir)
            .arg("--ready-file")
            .arg(&ready)
            .arg("--port")
            .arg(port.to_string())
            .env("GALLEON_APP_SECRET", SECRET)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the emulator");
        self.emulator = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        let line = loop {
            if let Ok(text) = std::fs::read_to_string(&ready)
                && text.ends_with('\n')
            {
                break text;
            }
            assert!(Instant::now() < deadline, "the emulator did not start");
            std::thread::sleep(Duration::from_millis(20));
        };
        let info: Value = serde_json::from_str(line.trim()).expect("ready line");
        self.endpoint = info["endpoint"].as_str().unwrap().to_owned();
        self.admin = info["admin"].as_str().unwrap().to_owned();
        self.ca_file = PathBuf::from(info["ca_file"].as_str().unwrap());
        let ca = std::fs::read_to_string(&self.ca_file).expect("CA file");
        self.http = galleon_azure::build_client(Some(&ca)).expect("http client");
    }

    /// Kills the emulator process (its state stays on disk).
    pub fn stop_emulator(&mut self) {
        if let Some(mut child) = self.emulator.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// A `galleon` command pointed at the emulator, run in the workspace, no colour.
    pub fn galleon(&self) -> Command {
        let mut cmd = Command::new(galleon_bin());
        cmd.current_dir(&self.workspace)
            .env("GALLEON_ENDPOINT", &self.endpoint)
            .env("GALLEON_CA_FILE", &self.ca_file)
            .env("GALLEON_APP_SECRET", SECRET)
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `galleon ARGS` to completion.
    pub fn run(&self, args: &[&str]) -> Run {
        Run(self.galleon().args(args).output().expect("run galleon"))
    }

    /// `GET {admin}/{path}`.
    pub fn admin_get(&self, path: &str) -> Value {
        self.runtime.block_on(async {
            let resp = self
                .http
                .get(format!("{}/{path}", self.admin))
                .send()
                .await
                .expect("admin GET");
            resp.json().await.expect("admin JSON")
        })
    }

    /// `POST {admin}/{path}` with a JSON body.
    pub fn admin_post(&self, path: &str, body: &Value) -> Value {
        self.runtime.block_on(async {
            let resp = self
                .http
                .post(format!("{}/{path}", self.admin))
                .json(body)
                .send()
                .await
                .expect("admin POST");
            assert!(
                resp.status().is_success(),
                "admin POST {path}: {}",
                resp.status()
            );
            resp.json().await.expect("admin JSON")
        })
    }

    /// `PUT {admin}/{path}` with a JSON body (faults, settings).
    pub fn admin_put(&self, path: &str, body: &Value) {
        self.runtime.block_on(async {
            let resp = self
                .http
                .put(format!("{}/{path}", self.admin))
                .json(body)
                .send()
                .await
                .expect("admin PUT");
            assert!(
                resp.status().is_success(),
                "admin PUT {path}: {}",
                resp.status()
            );
        });
    }

    /// The emulator's request log.
    pub fn requests(&self) -> Vec<Value> {
        match self.admin_get("requests") {
            Value::Array(items) => items,
            other => panic!("unexpected request log {other}"),
        }
    }

    /// Every resource body the emulator holds.
    pub fn resources(&self) -> Vec<Value> {
        self.admin_get("state")["resources"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The resource whose id ends with `suffix` (case-insensitive), if any.
    pub fn resource(&self, suffix: &str) -> Option<Value> {
        let suffix = suffix.to_lowercase();
        self.resources().into_iter().find(|r| {
            r["id"]
                .as_str()
                .is_some_and(|id| id.to_lowercase().ends_with(&suffix))
        })
    }

    /// Replaces `from` by `to` in a workspace file (the test's way to edit the manifest).
    pub fn edit(&self, file: &str, from: &str, to: &str) {
        let path = self.workspace.join(file);
        let text = std::fs::read_to_string(&path).expect("manifest file");
        assert!(text.contains(from), "{file} does not contain {from:?}");
        std::fs::write(&path, text.replacen(from, to, 1)).expect("write manifest");
    }
}

impl Drop for TestContext {
    fn drop(&mut self) {
        self.stop_emulator();
    }
}

/// A finished galleon run.
pub struct Run(pub Output);

impl Run {
    pub fn code(&self) -> i32 {
        self.0.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }
    /// Asserts the exit code, showing both streams when it differs.
    #[track_caller]
    pub fn expect(self, code: i32) -> Self {
        assert_eq!(
            self.code(),
            code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read example") {
        let entry = entry.expect("entry");
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}
