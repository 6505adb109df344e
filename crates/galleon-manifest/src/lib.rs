//! Workspace manifest: YAML to a typed, validated model with file:line:col diagnostics and a
//! JSON Schema.
//!
//! Layers, each usable on its own: [`model`] (what users write, spans kept), [`load`] (files to a
//! merged [`Manifest`]), [`resolve`] (defaults applied, references followed, `count` and
//! shorthands expanded into concrete [`Resource`]s with ARM ids), [`validate`] (Azure rules), and
//! [`schema`] (the JSON Schema editors use). [`Workspace::load`] runs them all.

pub mod diag;
pub mod load;
pub mod model;
pub mod span;

pub use diag::{Code, Diagnostic, Diagnostics, RenderStyle, SourceFile, Sources};
pub use load::{Item, Manifest, Section};
pub use span::{FileId, Loc, Sp};
pub mod address;
pub mod resolve;
pub mod validate;

pub use address::{Address, AddressError, Kind};
pub use resolve::{Resource, Spec, Workspace};
pub mod reference;
pub mod schema;
