//! Structured diagnostics with file:line:col, collected so a user sees every problem at once.
//!
//! The library never prints. It returns [`Diagnostics`], which carries the source texts so that
//! any front end can show a snippet; [`Diagnostics::render`] does that with miette's graphical
//! handler (without colour for snapshots, with colour for terminals).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode};

use crate::span::{FileId, Loc};

/// One loaded file: its path as given (so messages match what the user typed) and its text,
/// with any secret written inline already masked (see [`Sources::redact`]).
#[derive(Clone)]
pub struct SourceFile {
    /// Path of the file, as found from the path the user gave.
    pub path: PathBuf,
    /// Full text.
    pub text: String,
}

/// All files of a workspace, indexed by [`FileId`]. Debug lists paths only: file texts are
/// never dumped into logs.
#[derive(Clone, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl fmt::Debug for Sources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.files.iter().map(|s| s.path.display()))
            .finish()
    }
}

impl Sources {
    /// Registers a file and returns its id.
    pub fn add(&mut self, path: PathBuf, text: String) -> FileId {
        self.files.push(SourceFile { path, text });
        self.files.len() - 1
    }
    /// Overwrites the non-space characters of `len` bytes at `offset` with `*` (keeping byte
    /// offsets valid) so snippets never show a secret written inline. A zero length masks to
    /// the end of the line.
    pub fn redact(&mut self, id: FileId, offset: usize, len: usize) {
        let text = &self.files[id].text;
        if offset >= text.len() || !text.is_char_boundary(offset) {
            return;
        }
        let mut end = if len == 0 {
            text[offset..].find('\n').map_or(text.len(), |i| offset + i)
        } else {
            (offset + len).min(text.len())
        };
        while !text.is_char_boundary(end) {
            end += 1;
        }
        let masked: String = text[offset..end]
            .chars()
            .map(|c| {
                if c.is_whitespace() {
                    c.to_string()
                } else {
                    "*".repeat(c.len_utf8())
                }
            })
            .collect();
        self.files[id].text.replace_range(offset..end, &masked);
    }
    /// The file with this id.
    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id]
    }
    /// Every file, in load order.
    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }
}

macro_rules! codes {
    ($($(#[doc = $doc:literal])* $variant:ident => $text:literal,)*) => {
        /// What kind of problem a diagnostic reports; stable, shown as `galleon::<name>`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Code {
            $($(#[doc = $doc])* $variant,)*
        }
        impl Code {
            /// The code as shown to users, e.g. `galleon::dangling_reference`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $text,)* }
            }
        }
    };
}

codes! {
    /// A file could not be read.
    Io => "galleon::io",
    /// A file is larger than the loader accepts.
    FileTooLarge => "galleon::file_too_large",
    /// YAML syntax, an unknown field, a wrong type, or an exceeded parser budget.
    Parse => "galleon::parse",
    /// No YAML file found at the given path.
    NoFiles => "galleon::no_files",
    /// A key or Azure name is defined twice.
    DuplicateName => "galleon::duplicate_name",
    /// A reference names something that does not exist.
    DanglingReference => "galleon::dangling_reference",
    /// A reference is not of the expected shape.
    InvalidReference => "galleon::invalid_reference",
    /// An Azure name breaks Azure's naming rules.
    InvalidName => "galleon::invalid_name",
    /// A GUID field is not a GUID.
    InvalidGuid => "galleon::invalid_guid",
    /// A CIDR is malformed or has host bits set.
    InvalidCidr => "galleon::invalid_cidr",
    /// A subnet prefix lies outside its network's address space.
    SubnetOutsideAddressSpace => "galleon::subnet_outside_address_space",
    /// A number or other value is out of range.
    InvalidValue => "galleon::invalid_value",
    /// Resources depend on each other in a loop.
    ReferenceCycle => "galleon::reference_cycle",
    /// A secret was written in the manifest instead of referenced.
    InlineSecret => "galleon::inline_secret",
    /// Tenant credentials are incomplete or ambiguous.
    InvalidAuth => "galleon::invalid_auth",
    /// A VM's region has no replica of its image version.
    RegionNotReplicated => "galleon::region_not_replicated",
    /// `latest` cannot resolve: every version is excluded from latest.
    NoLatestVersion => "galleon::no_latest_version",
    /// Generalized/Specialized image used with the wrong OS profile.
    OsStateMismatch => "galleon::os_state_mismatch",
    /// VM security type does not fit the image definition.
    SecurityTypeMismatch => "galleon::security_type_mismatch",
    /// VM size does not support the image's Hyper-V generation or architecture.
    HyperVGenerationMismatch => "galleon::hyper_v_generation_mismatch",
    /// A cross-tenant VM's tenant has no access to the image's gallery.
    CrossTenantAccess => "galleon::cross_tenant_access",
    /// Managed identity used by a tenant on a cross-tenant edge.
    ManagedIdentityCrossTenant => "galleon::managed_identity_cross_tenant",
    /// Image version source missing or not an ARM id.
    InvalidImageSource => "galleon::invalid_image_source",
    /// The gallery's region is not among an image version's target regions.
    GalleryRegionMissing => "galleon::gallery_region_missing",
    /// Resources that must share a region or subscription (VM, NIC, network) do not.
    LocationMismatch => "galleon::location_mismatch",
}

/// One problem, tied to a place in a file when known.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    /// Kind of problem.
    pub code: Code,
    /// What is wrong, one line.
    pub message: String,
    /// File the problem is in.
    pub file: Option<FileId>,
    /// Position in that file.
    pub loc: Option<Loc>,
    /// Short text under the snippet's underline.
    pub label: Option<String>,
    /// How to fix it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic at a place in a file.
    pub fn at(code: Code, file: FileId, loc: Loc, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            message: message.into(),
            file: Some(file),
            loc: (!loc.is_unknown()).then_some(loc),
            label: None,
            help: None,
        }
    }
    /// A diagnostic with no position (e.g. a missing directory).
    pub fn global(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            message: message.into(),
            file: None,
            loc: None,
            label: None,
            help: None,
        }
    }
    /// Adds the underline label.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }
    /// Adds a hint.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// How [`Diagnostics::render`] draws.
#[derive(Clone, Copy, Debug)]
pub struct RenderStyle {
    /// Use ANSI colours.
    pub color: bool,
    /// Wrap width in columns.
    pub width: usize,
}

/// Every problem found, with the sources needed to show them.
#[derive(Clone, Debug)]
pub struct Diagnostics {
    sources: Arc<Sources>,
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Bundles diagnostics with their sources.
    pub fn new(sources: Arc<Sources>, items: Vec<Diagnostic>) -> Self {
        Diagnostics { sources, items }
    }
    /// The diagnostics, in the order found.
    pub fn items(&self) -> &[Diagnostic] {
        &self.items
    }
    /// Number of diagnostics.
    pub fn len(&self) -> usize {
        self.items.len()
    }
    /// True when there is nothing to report.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    /// Path of the file a diagnostic points into.
    pub fn path(&self, d: &Diagnostic) -> Option<&Path> {
        d.file.map(|f| self.sources.get(f).path.as_path())
    }
    /// `file:line:col` of a diagnostic, when known.
    pub fn position(&self, d: &Diagnostic) -> Option<String> {
        let path = self.path(d)?;
        Some(match d.loc {
            Some(loc) => format!("{}:{}:{}", path.display(), loc.line, loc.col),
            None => path.display().to_string(),
        })
    }

    /// Machine-readable form for CI and editors: one object per diagnostic with `code`,
    /// `message`, `file`, `line`, `column`, `offset`, `length`, `label` and `help`.
    pub fn to_json(&self) -> serde_json::Value {
        let items: Vec<serde_json::Value> = self
            .items
            .iter()
            .map(|d| {
                serde_json::json!({
                    "code": d.code.as_str(),
                    "message": d.message,
                    "file": self.path(d).map(|p| p.display().to_string()),
                    "line": d.loc.map(|l| l.line),
                    "column": d.loc.map(|l| l.col),
                    "offset": d.loc.map(|l| l.offset),
                    "length": d.loc.map(|l| l.len),
                    "label": d.label,
                    "help": d.help,
                })
            })
            .collect();
        serde_json::Value::Array(items)
    }

    /// Renders all diagnostics with source snippets, one after another.
    pub fn render(&self, style: RenderStyle) -> String {
        let theme = if style.color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = GraphicalReportHandler::new_themed(theme)
            .with_width(style.width)
            .with_context_lines(1);
        let mut out = String::new();
        for d in &self.items {
            let file = d.file.map(|f| self.sources.get(f));
            // A file refused before its text was kept (too large, not UTF-8) has no snippet to
            // carry its name, so the message carries it.
            let unread = file.filter(|f| f.text.is_empty());
            let report = Report {
                d,
                source: file.filter(|f| !f.text.is_empty()).map(|file| {
                    NamedSource::new(file.path.display().to_string(), file.text.clone())
                }),
                file: unread.map(|f| f.path.display().to_string()),
            };
            if handler.render_report(&mut out, &report).is_err() {
                out.push_str(&d.message);
            }
            out.push('\n');
        }
        out
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.items {
            match self.position(d) {
                Some(pos) => writeln!(f, "{pos}: {}: {}", d.code.as_str(), d.message)?,
                None => writeln!(f, "{}: {}", d.code.as_str(), d.message)?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// Adapter giving one diagnostic miette's view of it.
struct Report<'a> {
    d: &'a Diagnostic,
    source: Option<NamedSource<String>>,
    /// The file's name when there is no source to show it.
    file: Option<String>,
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.d, f)
    }
}
impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}: ")?;
        }
        f.write_str(&self.d.message)
    }
}
impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.d.code.as_str()))
    }
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.d
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.source.as_ref()?;
        let loc = self.d.loc?;
        let span = LabeledSpan::new(self.d.label.clone(), loc.offset, loc.len);
        Some(Box::new(std::iter::once(span)))
    }
}
