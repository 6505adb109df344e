//! The four scenarios and the table they print.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use futures::{StreamExt as _, stream};
use galleon_manifest::{Kind, RenderStyle, Workspace};
use serde_json::{Value, json};

use crate::Args;
use crate::bound::{self, Bound};
use crate::emulator::{Emulator, SECRET, throttled};
use crate::fleet;

/// One line of the table.
pub struct Row {
    pub scenario: String,
    pub figure: String,
    pub against: String,
    pub ratio: String,
    pub bound_by: String,
}

pub fn table(rows: &[Row]) -> String {
    let head = [
        "scenario",
        "figure",
        "compared with",
        "ratio",
        "what bounds it",
    ];
    let cells: Vec<[&str; 5]> = rows
        .iter()
        .map(|r| {
            [
                &*r.scenario,
                &*r.figure,
                &*r.against,
                &*r.ratio,
                &*r.bound_by,
            ]
        })
        .collect();
    let mut out = format!("| {} |\n|---|---|---|---|---|\n", head.join(" | "));
    for c in cells {
        out.push_str(&format!("| {} |\n", c.join(" | ")));
    }
    out
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// A workspace directory holding the generated fleet.
fn write_fleet(dir: &Path, vms: usize, subs: usize) -> anyhow::Result<(PathBuf, Workspace)> {
    let ws = dir.join("ws");
    std::fs::create_dir_all(&ws)?;
    std::fs::write(ws.join("bench.yaml"), fleet::workspace(vms, subs))?;
    let workspace = Workspace::load(&ws).map_err(|d| {
        anyhow::anyhow!(
            "{}",
            d.render(RenderStyle {
                color: false,
                width: 100
            })
        )
    })?;
    Ok((ws, workspace))
}

/// Emulator settings of a timed run: latency per request, scaled LRO durations, polls every
/// second (ARM's Retry-After is in whole seconds), ARM's throttling on.
async fn timed_settings(emu: &Emulator, scale: f64, latency_ms: u64) -> anyhow::Result<()> {
    emu.settings(|s| {
        s["faults"]["latency_ms"] = json!(latency_ms);
        s["retry_after_secs"] = json!(1);
        s["lro_default_ms"] = json!(0);
        let mut lro = serde_json::Map::new();
        for kind in Kind::ALL {
            if let Some(t) = bound::arm_type(kind) {
                lro.insert(
                    t.into(),
                    json!(bound::scaled(kind, scale).as_millis() as u64),
                );
            }
        }
        s["lro_ms"] = Value::Object(lro);
        s["throttling"]["enabled"] = json!(true);
    })
    .await
}

/// Runs galleon against the emulator; returns its wall time.
fn galleon(bin: &Path, ws: &Path, emu: &Emulator, args: &[&str]) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let out = Command::new(bin)
        .args(args)
        .current_dir(ws)
        .env("GALLEON_ENDPOINT", &emu.endpoint)
        .env("GALLEON_CA_FILE", &emu.ca_file)
        .env("GALLEON_APP_SECRET", SECRET)
        .env("NO_COLOR", "1")
        .output()?;
    let wall = start.elapsed();
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let log = String::from_utf8_lossy(&out.stdout);
        let tail: Vec<&str> = log.lines().rev().take(15).collect();
        bail!(
            "galleon {} failed:\n{err}\n{}",
            args.join(" "),
            tail.join("\n")
        );
    }
    Ok(wall)
}

/// Scenarios 1 and 2.
pub async fn apply(bin: &Path, args: &Args, baselines: bool) -> anyhow::Result<Vec<Row>> {
    let latency = Duration::from_millis(args.latency_ms);
    let tmp = tempfile::tempdir()?;
    let (ws, workspace) = write_fleet(tmp.path(), args.vms, args.subscriptions)?;
    let bound = bound::lower_bound(&workspace, args.scale, latency);
    let emu = Emulator::start(bin, &ws, &tmp.path().join("emu"))?;
    timed_settings(&emu, args.scale, args.latency_ms).await?;
    emu.take_requests().await?;
    let wall = galleon(bin, &ws, &emu, &["apply", "--auto-approve"])?;
    let log = emu.take_requests().await?;
    let mut rows = vec![apply_row(&workspace, args, wall, &bound, throttled(&log))];
    drop(emu);
    if baselines {
        rows.extend(side_by_side(bin, args).await?);
    }
    Ok(rows)
}

fn apply_row(ws: &Workspace, args: &Args, wall: Duration, bound: &Bound, n429: usize) -> Row {
    let limit = bound.value();
    let bound_by = if bound.critical_path >= bound.write_rate {
        format!("critical path {}", bound.path.join(" → "))
    } else {
        format!(
            "ARM write bucket: {} writes in the busiest subscription",
            bound.writes.values().max().unwrap_or(&0)
        )
    };
    Row {
        scenario: format!(
            "1. apply {} VMs ({} resources, {} subscriptions, LROs ÷{})",
            args.vms,
            ws.resources().len(),
            args.subscriptions,
            args.scale
        ),
        figure: secs(wall),
        against: format!("lower bound {}", secs(limit)),
        ratio: format!("{:.2}x", wall.as_secs_f64() / limit.as_secs_f64().max(1e-9)),
        bound_by: format!("{bound_by}; 429s provoked: {n429}"),
    }
}

/// Scenario 2: the same workspace applied three ways, each on a fresh emulator.
async fn side_by_side(bin: &Path, args: &Args) -> anyhow::Result<Vec<Row>> {
    let ways: [(&str, &[&str]); 3] = [
        ("galleon (defaults)", &[]),
        (
            "one create after another (the az way)",
            &["--parallelism", "1", "--parallelism-per-subscription", "1"],
        ),
        (
            "concurrency 10 (Terraform's default)",
            &[
                "--parallelism",
                "10",
                "--parallelism-per-subscription",
                "10",
            ],
        ),
    ];
    let ways: Vec<(&str, &[&str])> = ways
        .into_iter()
        .filter(|(label, _)| !(args.no_serial_baseline && label.starts_with("one create")))
        .collect();
    let mut times = Vec::new();
    for &(_, extra) in &ways {
        let tmp = tempfile::tempdir()?;
        let (ws, _) = write_fleet(tmp.path(), args.baseline_vms, args.subscriptions)?;
        let emu = Emulator::start(bin, &ws, &tmp.path().join("emu"))?;
        timed_settings(&emu, args.scale, args.latency_ms).await?;
        let mut argv = vec!["apply", "--auto-approve"];
        argv.extend_from_slice(extra);
        times.push(galleon(bin, &ws, &emu, &argv)?);
    }
    let ours = times[0];
    Ok(ways
        .iter()
        .zip(&times)
        .map(|((label, _), t)| Row {
            scenario: format!("2. apply {} VMs: {label}", args.baseline_vms),
            figure: secs(*t),
            against: format!("galleon {}", secs(ours)),
            ratio: format!(
                "galleon {:.1}x faster",
                t.as_secs_f64() / ours.as_secs_f64()
            ),
            bound_by: "sum of steps vs. overlap of LROs".into(),
        })
        .collect())
}

/// Scenarios 3 and 4 (plan): a large in-sync workspace, refreshed.
pub async fn refresh(
    bin: &Path,
    args: &Args,
    timed: bool,
    local: bool,
) -> anyhow::Result<Vec<Row>> {
    let subs = args.refresh_subscriptions.max(1);
    // Per subscription: a resource group and a network, then a VM and its NIC per VM.
    let vms = (args.refresh_resources.saturating_sub(2 * subs + 6) / 2).max(subs);
    let tmp = tempfile::tempdir()?;
    let (ws, workspace) = write_fleet(tmp.path(), vms, subs)?;
    let emu = Emulator::start(bin, &ws, &tmp.path().join("emu"))?;
    // Setup, not measured: create everything as fast as the emulator allows.
    emu.settings(|s| {
        s["faults"]["latency_ms"] = json!(0);
        s["lro_default_ms"] = json!(0);
        s["lro_ms"] = json!({});
        s["retry_after_secs"] = json!(0);
        s["throttling"]["enabled"] = json!(false);
    })
    .await?;
    galleon(
        bin,
        &ws,
        &emu,
        &[
            "apply",
            "--auto-approve",
            "--parallelism",
            "256",
            "--parallelism-per-subscription",
            "64",
        ],
    )?;
    let n = workspace.resources().len();
    let mut rows = Vec::new();
    if local {
        emu.settings(|s| s["throttling"]["enabled"] = json!(true))
            .await?;
        rows.extend(local_cost(bin, &ws, &emu, n)?);
    }
    if timed {
        emu.settings(|s| {
            s["faults"]["latency_ms"] = json!(args.latency_ms);
            s["throttling"]["enabled"] = json!(true);
        })
        .await?;
        emu.take_requests().await?;
        let ours = galleon(bin, &ws, &emu, &["plan"])?;
        let ours_429 = throttled(&emu.take_requests().await?);
        let (theirs, theirs_429) = get_each(&emu, &workspace).await?;
        rows.push(Row {
            scenario: format!("3. plan (refresh) {n} resources over {subs} subscriptions"),
            figure: secs(ours),
            against: format!("one GET per resource, 10 at a time: {}", secs(theirs)),
            ratio: format!("{:.1}x faster", theirs.as_secs_f64() / ours.as_secs_f64()),
            bound_by: format!(
                "pages of 100 per list; 429s provoked: galleon {ours_429}, GET-per-resource {theirs_429}"
            ),
        });
    }
    Ok(rows)
}

/// Scenario 4: CPU and peak memory of a plan with no added latency (GNU time measures the
/// galleon process alone; the emulator is another process).
fn local_cost(bin: &Path, ws: &Path, emu: &Emulator, n: usize) -> anyhow::Result<Vec<Row>> {
    let report = ws.join("time.txt");
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%U %S %M", "-o"])
        .arg(&report)
        .arg(bin)
        .arg("plan")
        .current_dir(ws)
        .env("GALLEON_ENDPOINT", &emu.endpoint)
        .env("GALLEON_CA_FILE", &emu.ca_file)
        .env("GALLEON_APP_SECRET", SECRET)
        .env("NO_COLOR", "1")
        .output()
        .context("GNU time (/usr/bin/time) is needed for the local-cost figures")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || !stdout.contains("No changes.") {
        bail!("plan of the in-sync workspace did not say No changes:\n{stdout}");
    }
    let text = std::fs::read_to_string(&report)?;
    let f: Vec<f64> = text
        .lines()
        .last()
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    let (cpu, rss_mb) = match f.as_slice() {
        [u, s, m] => (u + s, m / 1024.0),
        _ => bail!("unexpected GNU time output: {text}"),
    };
    Ok(vec![
        Row {
            scenario: format!("4. plan {n} resources, in sync, no latency: CPU"),
            figure: format!("{cpu:.2} s"),
            against: "target < 1 s".into(),
            ratio: format!("{:.2}x of target", cpu),
            bound_by: "CPU: parse, lower, diff, render".into(),
        },
        Row {
            scenario: format!("4. plan {n} resources, in sync, no latency: peak memory"),
            figure: format!("{rss_mb:.0} MB"),
            against: "target < 200 MB".into(),
            ratio: format!("{:.2}x of target", rss_mb / 200.0),
            bound_by: "the plan's before and after of every resource, and the manifest".into(),
        },
    ])
}

/// The baseline of scenario 3: every resource read by its own GET, ten at a time, honouring
/// `Retry-After` on 429 like a careful client.
async fn get_each(emu: &Emulator, ws: &Workspace) -> anyhow::Result<(Duration, usize)> {
    let mut tokens = std::collections::HashMap::new();
    for t in ws.tenants() {
        let body: Value = emu
            .http()
            .post(format!(
                "{}/{}/oauth2/v2.0/token",
                emu.endpoint, t.tenant_id
            ))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", t.auth.client_id().unwrap_or_default()),
                ("client_secret", SECRET),
                ("scope", "https://management.azure.com/.default"),
            ])
            .send()
            .await?
            .json()
            .await?;
        let token = body["access_token"]
            .as_str()
            .context("no token")?
            .to_owned();
        tokens.insert(t.tenant_id.clone(), token);
    }
    let targets: Vec<(String, String)> = ws
        .resources()
        .iter()
        .filter(|r| r.kind() != Kind::GalleryGrant)
        .map(|r| (r.arm_id.clone(), tokens[&r.tenant_id].clone()))
        .collect();
    let start = Instant::now();
    let results: Vec<anyhow::Result<usize>> = stream::iter(targets)
        .map(|(id, token)| async move {
            let version = galleon_azure::api_version::for_id(&id).unwrap_or("2025-04-01");
            let url = format!("{}{id}?api-version={version}", emu.endpoint);
            let mut throttled = 0;
            loop {
                let resp = emu.http().get(&url).bearer_auth(&token).send().await?;
                if resp.status() != 429 {
                    return Ok(throttled);
                }
                throttled += 1;
                let wait = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok()?.parse().ok())
                    .unwrap_or(1u64);
                tokio::time::sleep(Duration::from_secs(wait)).await;
            }
        })
        .buffer_unordered(10)
        .collect()
        .await;
    let wall = start.elapsed();
    let mut n429 = 0;
    for r in results {
        n429 += r?;
    }
    Ok((wall, n429))
}

/// Scenario 4: `galleon validate` of the examples, best of five.
pub fn validate(bin: &Path) -> anyhow::Result<Vec<Row>> {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut rows = Vec::new();
    for name in ["cross-tenant", "fleet"] {
        let mut best = Duration::MAX;
        for _ in 0..5 {
            let start = Instant::now();
            let ok = Command::new(bin)
                .arg("validate")
                .arg(examples.join(name))
                .output()?
                .status
                .success();
            anyhow::ensure!(ok, "validate {name} failed");
            best = best.min(start.elapsed());
        }
        rows.push(Row {
            scenario: format!("4. validate examples/{name}"),
            figure: format!("{} ms", best.as_millis()),
            against: "target < 50 ms".into(),
            ratio: format!("{:.2}x of target", best.as_secs_f64() / 0.05),
            bound_by: "process start, YAML parse, validation (best of 5)".into(),
        });
    }
    Ok(rows)
}
