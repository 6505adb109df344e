//! The provider routing table: which functions answer which `{namespace, type path}`, plus LRO
//! completion hooks and non-ARM (data plane) handlers.
//!
//! A provider registers, per type, plain functions for GET/PUT/PATCH/DELETE, collection GET
//! (list) and POST actions. The ARM front door (`arm::dispatch`) does everything generic first —
//! authentication, subscription and tenant checks, throttling, auxiliary tokens, api-version,
//! RBAC on the target scope, resource group existence — so handlers only implement the
//! provider's own behaviour. See `providers/README.md` for the contract.

use std::collections::BTreeMap;

use axum::http::Method;
use serde_json::Value;
use time::OffsetDateTime;

use crate::arm::context::{ArmRequest, Ctx, Reply};
use crate::arm::errors::ArmError;
use crate::state::State;

/// A handler for one method on one resource type.
pub type Handler = fn(&mut Ctx<'_>, &ArmRequest) -> Result<Reply, ArmError>;

/// What a completion hook sees: the state, the registry and the clock; no caller (operations
/// complete outside any request).
pub struct HookCtx<'a> {
    /// The world.
    pub state: &'a mut State,
    /// The provider table.
    pub registry: &'a Registry,
    /// Current emulator time.
    pub now: OffsetDateTime,
    /// Base URL of the emulator.
    pub endpoint: &'a str,
}

/// An LRO completion hook: `(ctx, name, data) -> final result body (None = 204)`.
pub type Hook = fn(&mut HookCtx<'_>, &str, &Value) -> Result<Option<Value>, ArmError>;

/// How the front door authorizes requests to a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rbac {
    /// `{Namespace}/{type path}/read|write|delete` or `.../{action}/action` on the request path.
    Standard,
    /// The handler authorizes itself (tags, subscriptions, Resource Graph).
    Handler,
}

/// One resource type's routes.
#[derive(Debug, Clone, Copy)]
pub struct ResourceType {
    /// Namespace as ARM spells it (`Microsoft.Compute`).
    pub namespace: &'static str,
    /// Type path below the namespace, ARM casing (`galleries/images/versions`).
    pub type_path: &'static str,
    /// Accepted api-versions; others get `NoRegisteredProviderFound`/`InvalidApiVersionParameter`.
    pub api_versions: &'static [&'static str],
    /// GET on an instance.
    pub get: Option<Handler>,
    /// PUT on an instance.
    pub put: Option<Handler>,
    /// PATCH on an instance.
    pub patch: Option<Handler>,
    /// DELETE on an instance.
    pub delete: Option<Handler>,
    /// GET on the collection (list by parent, resource group or subscription).
    pub list: Option<Handler>,
    /// POST actions by name (`share`, `start`...).
    pub actions: &'static [(&'static str, Handler)],
    /// Authorization mode.
    pub rbac: Rbac,
    /// Requests need `/subscriptions/{s}/resourceGroups/{rg}` to exist when the path has one.
    pub needs_resource_group: bool,
    /// The list handler drops items the caller cannot read (as `generic::list` does), so the
    /// front door lets a caller with any role in the subscription list without read on the
    /// collection's scope — ARM's RBAC-filtered lists (a Reader on one resource group sees that
    /// group in `az group list`).
    pub filtered_list: bool,
}

impl ResourceType {
    /// A type with no handlers yet; fill the ones you support with struct update syntax.
    pub const fn new(
        namespace: &'static str,
        type_path: &'static str,
        api_versions: &'static [&'static str],
    ) -> Self {
        Self {
            namespace,
            type_path,
            api_versions,
            get: None,
            put: None,
            patch: None,
            delete: None,
            list: None,
            actions: &[],
            rbac: Rbac::Standard,
            needs_resource_group: true,
            filtered_list: false,
        }
    }

    /// `Namespace/type/path` in ARM casing.
    pub fn full_type(&self) -> String {
        format!("{}/{}", self.namespace, self.type_path)
    }

    /// The handler for a method on an instance (or collection GET when `collection`).
    pub fn handler(&self, method: &Method, collection: bool) -> Option<Handler> {
        match (method.as_str(), collection) {
            ("GET", true) => self.list,
            // HEAD is ARM's CheckExistence: answered from GET, turned into 204 by the front door.
            ("GET" | "HEAD", false) => self.get,
            ("PUT", false) => self.put,
            ("PATCH", false) => self.patch,
            ("DELETE", false) => self.delete,
            _ => None,
        }
    }
}

/// A handler outside ARM (the blob data plane): gets the raw request, answers raw.
pub type RawHandler = fn(&mut RawCtx<'_>, &RawRequest) -> RawReply;

/// What a raw handler sees.
pub struct RawCtx<'a> {
    /// The world.
    pub state: &'a mut State,
    /// Token verification.
    pub signer: &'a crate::token::Signer,
    /// Current emulator time.
    pub now: OffsetDateTime,
    /// Base URL of the emulator.
    pub endpoint: &'a str,
}

/// A raw request.
#[derive(Debug, Clone)]
pub struct RawRequest {
    /// Method.
    pub method: Method,
    /// Path, as sent.
    pub path: String,
    /// Query pairs, as sent.
    pub query: Vec<(String, String)>,
    /// Headers.
    pub headers: axum::http::HeaderMap,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// A raw reply.
#[derive(Debug, Clone)]
pub struct RawReply {
    /// Status.
    pub status: axum::http::StatusCode,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// The routing table.
#[derive(Default)]
pub struct Registry {
    types: Vec<ResourceType>,
    hooks: BTreeMap<String, Hook>,
    raw: Vec<(&'static str, RawHandler)>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("types", &self.types.len())
            .finish()
    }
}

impl Registry {
    /// Every provider the emulator implements.
    pub fn standard() -> Self {
        let mut r = Self::default();
        crate::providers::resources::register(&mut r);
        crate::providers::authorization::register(&mut r);
        // Every other provider registers in `crate::providers::register_all`.
        crate::providers::register_all(&mut r);
        r
    }

    /// Adds a resource type.
    pub fn register(&mut self, t: ResourceType) {
        self.types.push(t);
    }

    /// Adds an LRO completion hook for a namespace (one per namespace; dispatch on `name`).
    pub fn register_hook(&mut self, namespace: &str, hook: Hook) {
        self.hooks.insert(namespace.to_ascii_lowercase(), hook);
    }

    /// Adds a non-ARM handler for every path starting with `prefix` (e.g. `/blob/`).
    pub fn register_raw(&mut self, prefix: &'static str, handler: RawHandler) {
        self.raw.push((prefix, handler));
    }

    /// Finds a type by namespace and type path, case-insensitively.
    pub fn find(&self, namespace: &str, type_path: &str) -> Option<&ResourceType> {
        self.types.iter().find(|t| {
            t.namespace.eq_ignore_ascii_case(namespace)
                && t.type_path.eq_ignore_ascii_case(type_path)
        })
    }

    /// Whether any type is registered under a namespace.
    pub fn knows_namespace(&self, namespace: &str) -> bool {
        self.types
            .iter()
            .any(|t| t.namespace.eq_ignore_ascii_case(namespace))
    }

    /// Every registered type (for provider metadata).
    pub fn types(&self) -> &[ResourceType] {
        &self.types
    }

    /// The completion hook of a namespace.
    pub fn hook(&self, namespace: &str) -> Option<Hook> {
        self.hooks.get(&namespace.to_ascii_lowercase()).copied()
    }

    /// The raw handler whose prefix matches a path.
    pub fn raw_handler(&self, path: &str) -> Option<RawHandler> {
        self.raw
            .iter()
            .find(|(p, _)| path.starts_with(p))
            .map(|(_, h)| *h)
    }

    /// Runs a request through the handler of its type (no front-door checks): used by
    /// deployments to create their resources with the same code as direct calls.
    ///
    /// # Errors
    /// Unknown type or method, or whatever the handler returns.
    pub fn call(&self, ctx: &mut Ctx<'_>, req: &ArmRequest) -> Result<Reply, ArmError> {
        let ns = req.path.namespace.as_deref().unwrap_or_default();
        let tp = req.path.type_path();
        let t = self
            .find(ns, &tp)
            .ok_or_else(|| ArmError::invalid_resource_type(ns, &tp, &ctx.api_version))?;
        let handler = match &req.path.action {
            Some(a) => t
                .actions
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(a))
                .map(|(_, h)| *h),
            None => t.handler(
                &req.method,
                req.path.kind() == crate::arm::ids::PathKind::Collection,
            ),
        };
        let handler = handler.ok_or_else(|| ArmError::method_not_allowed(req.method.as_str()))?;
        handler(ctx, req)
    }
}
