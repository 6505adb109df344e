//! Reading a workspace from disk: file discovery, hard limits, YAML parsing and merging.
//!
//! Manifests may come from untrusted pull requests, so the parser runs with explicit budgets
//! (size checked before reading, depth, node/event counts, scalar bytes, anchors and aliases) and
//! rejects duplicate keys. Every parse error becomes a [`Diagnostic`] with file:line:col; all
//! files are parsed even when one fails, so the user sees every problem at once.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde_saphyr::budget::Budget;
use serde_saphyr::options::{AliasLimits, DuplicateKeyPolicy};

use crate::diag::{Code, Diagnostic, Sources};
use crate::model::{
    Gallery, KeyedMap, Lock, ManifestFile, Network, NetworkInterface, NetworkSecurityGroup,
    PublicIp, ResourceGroup, SecretSource, SshKey, Tenant, TokenFile, VirtualMachine,
};
use crate::span::{FileId, Loc, Sp};

/// Largest manifest file accepted, checked before the file is read.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// A top-level entry with the file it came from.
#[derive(Clone, Debug)]
pub struct Item<T> {
    /// File the entry is in.
    pub file: FileId,
    /// The key, with its position.
    pub key: Sp<String>,
    /// The entry.
    pub value: T,
}

/// One section merged across files, keyed by manifest name, in load order.
pub type Section<T> = IndexMap<String, Item<T>>;

/// All files of a workspace merged into one manifest (still raw: no defaults, no resolution).
#[derive(Clone, Debug, Default)]
pub struct Manifest {
    /// Workspace name: the `workspace:` field, else the directory name.
    pub workspace: String,
    /// Tenants.
    pub tenants: Section<Tenant>,
    /// Resource groups.
    pub resource_groups: Section<ResourceGroup>,
    /// Galleries.
    pub galleries: Section<Gallery>,
    /// Networks.
    pub networks: Section<Network>,
    /// NSGs.
    pub network_security_groups: Section<NetworkSecurityGroup>,
    /// Public IPs.
    pub public_ips: Section<PublicIp>,
    /// NICs.
    pub network_interfaces: Section<NetworkInterface>,
    /// VMs.
    pub virtual_machines: Section<VirtualMachine>,
    /// Apply lock.
    pub lock: Option<Item<Lock>>,
}

/// Parser options: strict and bounded. Budgets are far above any real manifest (a 500-VM fleet
/// is ~10k nodes) and far below what an attack needs.
pub fn parser_options() -> serde_saphyr::Options {
    let mut budget = Budget::default();
    budget.max_depth = 32;
    budget.max_nodes = 100_000;
    budget.max_events = 200_000;
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_total_scalar_bytes = 8 * 1024 * 1024;
    budget.max_documents = 1;
    budget.max_merge_keys = 1_000;
    budget.max_reader_input_bytes = Some(MAX_FILE_BYTES as usize);
    let mut aliases = AliasLimits::default();
    aliases.max_total_replayed_events = 100_000;
    aliases.max_replay_stack_depth = 16;
    aliases.max_alias_expansions_per_anchor = 100;
    serde_saphyr::options! {
        budget: Some(budget),
        duplicate_keys: DuplicateKeyPolicy::Error,
        alias_limits: aliases,
    }
}

/// Finds the YAML files of a workspace: `path` itself, or the `*.yaml`/`*.yml` directly in it,
/// sorted by name so merge order (and thus error order) is stable.
pub fn discover(path: &Path) -> Result<Vec<PathBuf>, Box<Diagnostic>> {
    let meta = std::fs::metadata(path).map_err(|e| {
        Box::new(Diagnostic::global(
            Code::Io,
            format!("cannot read {}: {e}", path.display()),
        ))
    })?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let entries = std::fs::read_dir(path).map_err(|e| {
        Box::new(Diagnostic::global(
            Code::Io,
            format!("cannot list {}: {e}", path.display()),
        ))
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file() && matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Box::new(
            Diagnostic::global(
                Code::NoFiles,
                format!("no *.yaml or *.yml file in {}", path.display()),
            )
            .help("point galleon at a workspace directory or a manifest file"),
        ));
    }
    Ok(files)
}

/// Parses one file's text. An empty file (or one with only comments) is an empty manifest.
pub fn parse_file(file: FileId, text: &str) -> Result<ManifestFile, Box<Diagnostic>> {
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(Box::new(too_large(file, text.len() as u64)));
    }
    if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#') || l.trim() == "---")
    {
        return Ok(ManifestFile::default());
    }
    serde_saphyr::from_str_with_options::<ManifestFile>(text, parser_options())
        .map_err(|e| Box::new(parse_error(file, text, &e)))
}

fn too_large(file: FileId, len: u64) -> Diagnostic {
    Diagnostic::at(
        Code::FileTooLarge,
        file,
        Loc::default(),
        format!("file is {len} bytes; manifests are limited to {MAX_FILE_BYTES} bytes"),
    )
    .help("split the workspace into several files")
}

fn parse_error(file: FileId, text: &str, err: &serde_saphyr::Error) -> Diagnostic {
    let loc = err.location().map(Loc::from_location).unwrap_or_default();
    let loc = with_byte_offset(text, loc);
    let render = serde_saphyr::render_options! {
        snippets: serde_saphyr::SnippetMode::Off,
    };
    let message = err.render_with_options(render);
    // The plain rendering appends " at line L column C"; the diagnostic shows that itself.
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(&message)
        .trim()
        .to_owned();
    Diagnostic::at(Code::Parse, file, loc, message).label("here")
}

/// Parser errors may carry only line/column; the snippet needs a byte offset.
fn with_byte_offset(text: &str, mut loc: Loc) -> Loc {
    if loc.is_unknown() || loc.offset != 0 {
        return loc;
    }
    let line_start: usize = text
        .split_inclusive('\n')
        .take(loc.line as usize - 1)
        .map(str::len)
        .sum();
    let line = text[line_start.min(text.len())..]
        .lines()
        .next()
        .unwrap_or("");
    let col_bytes: usize = line
        .chars()
        .take(loc.col.saturating_sub(1) as usize)
        .map(char::len_utf8)
        .sum();
    loc.offset = (line_start + col_bytes).min(text.len());
    loc
}

/// Reads and parses every file of the workspace at `path`. Returns the sources (for rendering),
/// the merged manifest unless a file failed to parse, and every problem found. Keys defined
/// twice do not prevent merging (the first definition wins), so later rules still run and the
/// user sees all problems in one go.
pub fn load(path: &Path) -> (Sources, Option<Manifest>, Vec<Diagnostic>) {
    let mut sources = Sources::default();
    let files = match discover(path) {
        Ok(f) => f,
        Err(d) => return (sources, None, vec![*d]),
    };
    let mut diags = Vec::new();
    let mut parsed = Vec::new();
    for p in files {
        match std::fs::metadata(&p) {
            Ok(m) if m.len() > MAX_FILE_BYTES => {
                let id = sources.add(p, String::new());
                diags.push(too_large(id, m.len()));
                continue;
            }
            Err(e) => {
                diags.push(Diagnostic::global(
                    Code::Io,
                    format!("cannot read {}: {e}", p.display()),
                ));
                continue;
            }
            Ok(_) => {}
        }
        let text = match read_capped(&p).map(String::from_utf8) {
            Ok(Ok(t)) if t.len() as u64 > MAX_FILE_BYTES => {
                let id = sources.add(p, String::new());
                diags.push(too_large(id, t.len() as u64));
                continue;
            }
            Ok(Ok(t)) => t,
            Ok(Err(_)) => {
                let id = sources.add(p, String::new());
                diags.push(Diagnostic::at(
                    Code::Parse,
                    id,
                    Loc::default(),
                    "file is not valid UTF-8",
                ));
                continue;
            }
            Err(e) => {
                diags.push(Diagnostic::global(
                    Code::Io,
                    format!("cannot read {}: {e}", p.display()),
                ));
                continue;
            }
        };
        let id = sources.add(p, text);
        match parse_file(id, &sources.get(id).text) {
            Ok(m) => {
                for loc in inline_secrets(&m) {
                    sources.redact(id, loc.offset, loc.len);
                }
                parsed.push((id, m));
            }
            Err(d) => diags.push(*d),
        }
    }
    if !diags.is_empty() {
        return (sources, None, diags);
    }
    let default_name = default_workspace_name(path);
    let manifest = merge(&sources, parsed, default_name, &mut diags);
    (sources, Some(manifest), diags)
}

/// Reads at most one byte more than the cap: the size from metadata is not trusted, since a
/// device or FIFO (`/dev/zero`) reports 0 and never ends.
fn read_capped(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut buf = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut buf)?;
    Ok(buf)
}

/// Positions of secrets written inline, to be masked in the kept source text.
fn inline_secrets(m: &ManifestFile) -> Vec<Loc> {
    let mut out = Vec::new();
    for (_, t) in m.tenants.iter() {
        let auth = &t.auth.value;
        if let Some(s) = auth
            .client_secret
            .as_ref()
            .filter(|s| s.value == SecretSource::Inline)
        {
            out.push(s.loc);
        }
        if let Some(s) = auth
            .federated_token_file
            .as_ref()
            .filter(|s| s.value == TokenFile::Inline)
        {
            out.push(s.loc);
        }
    }
    for (_, vm) in m.virtual_machines.iter() {
        if let Some(k) = vm
            .ssh_public_key
            .as_ref()
            .filter(|k| k.value == SshKey::PrivateKey)
        {
            out.push(k.loc);
        }
    }
    out
}

fn default_workspace_name(path: &Path) -> String {
    let dir = if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
    dir.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("workspace")
        .to_owned()
}

/// Merges per-file manifests; a key defined in two places is an error naming both.
pub fn merge(
    sources: &Sources,
    files: Vec<(FileId, ManifestFile)>,
    default_name: String,
    diags: &mut Vec<Diagnostic>,
) -> Manifest {
    let mut m = Manifest {
        workspace: default_name,
        ..Manifest::default()
    };
    let mut workspace_at: Option<(FileId, Loc)> = None;
    let mut lock_at: Option<(FileId, Loc)> = None;
    for (file, f) in files {
        if let Some(ws) = f.workspace {
            if let Some((first, loc)) = workspace_at {
                diags.push(twice(
                    sources,
                    "workspace",
                    "`workspace`",
                    file,
                    ws.loc,
                    first,
                    loc,
                ));
            } else {
                workspace_at = Some((file, ws.loc));
                m.workspace = ws.value;
            }
        }
        if let Some(lock) = f.lock {
            if let Some((first, loc)) = lock_at {
                diags.push(twice(sources, "lock", "`lock`", file, lock.loc, first, loc));
            } else {
                lock_at = Some((file, lock.loc));
                m.lock = Some(Item {
                    file,
                    key: Sp {
                        value: "lock".into(),
                        loc: lock.loc,
                    },
                    value: lock.value,
                });
            }
        }
        let ctx = &mut MergeCtx {
            sources,
            file,
            diags,
        };
        ctx.section("tenants", f.tenants, &mut m.tenants);
        ctx.section("resource_groups", f.resource_groups, &mut m.resource_groups);
        ctx.section("galleries", f.galleries, &mut m.galleries);
        ctx.section("networks", f.networks, &mut m.networks);
        ctx.section(
            "network_security_groups",
            f.network_security_groups,
            &mut m.network_security_groups,
        );
        ctx.section("public_ips", f.public_ips, &mut m.public_ips);
        ctx.section(
            "network_interfaces",
            f.network_interfaces,
            &mut m.network_interfaces,
        );
        ctx.section(
            "virtual_machines",
            f.virtual_machines,
            &mut m.virtual_machines,
        );
    }
    m
}

struct MergeCtx<'a> {
    sources: &'a Sources,
    file: FileId,
    diags: &'a mut Vec<Diagnostic>,
}

impl MergeCtx<'_> {
    fn section<T>(&mut self, name: &str, entries: KeyedMap<T>, into: &mut Section<T>) {
        for (key, value) in entries.0 {
            if let Some(first) = into.get(&key.value) {
                let what = format!("`{name}.{}`", key.value);
                let d = twice(
                    self.sources,
                    name,
                    &what,
                    self.file,
                    key.loc,
                    first.file,
                    first.key.loc,
                );
                self.diags.push(d);
                continue;
            }
            into.insert(
                key.value.clone(),
                Item {
                    file: self.file,
                    key,
                    value,
                },
            );
        }
    }
}

fn twice(
    sources: &Sources,
    section: &str,
    what: &str,
    file: FileId,
    loc: Loc,
    first: FileId,
    first_loc: Loc,
) -> Diagnostic {
    let first_path = sources.get(first).path.display();
    Diagnostic::at(
        Code::DuplicateName,
        file,
        loc,
        format!(
            "{what} is defined twice: here and at {first_path}:{}:{}",
            first_loc.line, first_loc.col
        ),
    )
    .label("second definition")
    .help(match section {
        "workspace" | "lock" => format!("`{section}` may appear in one file only"),
        _ => "sections merge across files; each key may be defined once".to_owned(),
    })
}
