//! One error type for everything ARM answers with a non-2xx status, rendered as ARM's envelope
//! `{"error":{"code","message"[,"target"][,"details"]}}` with the headers ARM adds.
//!
//! Constructors carry the verbatim message templates from `/work/shared/azure/arm-errors.md` so
//! that providers cannot drift from Azure's wording. Who produced the error matters on the wire:
//! ARM's front door marks its own errors `x-ms-failure-cause: gateway`, errors passed through
//! from a resource provider `service` (arm-errors.md §0).

use axum::http::StatusCode;
use serde_json::{Value, json};

/// Who produced an error (`x-ms-failure-cause`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureCause {
    /// ARM itself: authentication, authorization, routing, not-found.
    Gateway,
    /// The resource provider (Compute validation etc.).
    Service,
}

/// An ARM error response.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ArmError {
    /// HTTP status.
    pub status: StatusCode,
    /// `error.code`.
    pub code: String,
    /// `error.message`.
    pub message: String,
    /// `error.target` (RP errors such as `imageReference`).
    pub target: Option<String>,
    /// `error.details`.
    pub details: Vec<Value>,
    /// Origin marker.
    pub cause: FailureCause,
    /// Extra response headers (`WWW-Authenticate`, `Retry-After`).
    pub headers: Vec<(String, String)>,
}

impl ArmError {
    /// A gateway error with a status, code and message.
    pub fn new(status: StatusCode, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            target: None,
            details: Vec::new(),
            cause: FailureCause::Gateway,
            headers: Vec::new(),
        }
    }

    /// A resource-provider error (marked `x-ms-failure-cause: service`).
    pub fn service(
        status: StatusCode,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            cause: FailureCause::Service,
            ..Self::new(status, code, message)
        }
    }

    /// Replaces the error code (to refine a generic constructor).
    #[must_use]
    pub fn with_code(mut self, code: &str) -> Self {
        self.code = code.to_owned();
        self
    }

    /// Sets `error.target`.
    #[must_use]
    pub fn with_target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    /// Adds an `error.details` entry.
    #[must_use]
    pub fn with_detail(mut self, detail: Value) -> Self {
        self.details.push(detail);
        self
    }

    /// Adds a response header.
    #[must_use]
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// The `error` object (without the envelope), as used inside LRO status documents and
    /// deployment `details`.
    pub fn to_error_object(&self) -> Value {
        let mut e = json!({"code": self.code, "message": self.message});
        if let Some(t) = &self.target {
            e["target"] = json!(t);
        }
        if !self.details.is_empty() {
            e["details"] = json!(self.details);
        }
        e
    }

    /// The response body.
    pub fn body(&self) -> Value {
        json!({"error": self.to_error_object()})
    }

    /// 400 `BadRequest`-family error from ARM.
    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 400 `MissingApiVersionParameter`.
    pub fn missing_api_version() -> Self {
        Self::bad_request(
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
    }

    /// 400 `InvalidApiVersionParameter` (ARM's own types) listing the supported versions.
    pub fn invalid_api_version(version: &str, supported: &[&str]) -> Self {
        Self::bad_request(
            "InvalidApiVersionParameter",
            format!(
                "The api-version '{version}' is invalid. The supported versions are '{}'. Supported versions are the ones listed.",
                supported.join(",")
            ),
        )
    }

    /// 400 `NoRegisteredProviderFound` for a provider type and an unknown api-version.
    pub fn no_registered_provider(
        location: &str,
        version: &str,
        full_type: &str,
        supported: &[&str],
    ) -> Self {
        Self::bad_request(
            "NoRegisteredProviderFound",
            format!(
                "No registered resource provider found for location '{location}' and API version '{version}' for type '{}'. The supported api-versions are '{}'. The supported locations are ''.",
                full_type.split_once('/').map_or(full_type, |(_, t)| t),
                supported.join(", ")
            ),
        )
    }

    /// 400 `InvalidResourceType`: ARM does not know this type in the namespace.
    pub fn invalid_resource_type(namespace: &str, type_path: &str, version: &str) -> Self {
        Self::bad_request(
            "InvalidResourceType",
            format!(
                "The resource type '{type_path}' could not be found in the namespace '{namespace}' for api version '{version}'."
            ),
        )
    }

    /// 400 `InvalidResourceNamespace`.
    pub fn invalid_namespace(namespace: &str) -> Self {
        Self::bad_request(
            "InvalidResourceNamespace",
            format!("The resource namespace '{namespace}' is invalid."),
        )
    }

    /// 400 `InvalidRequestContent`: the body is not JSON.
    pub fn invalid_content(detail: &str) -> Self {
        Self::bad_request(
            "InvalidRequestContent",
            format!("The request content was invalid and could not be deserialized: '{detail}'."),
        )
    }

    /// 404 `SubscriptionNotFound`.
    pub fn subscription_not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "SubscriptionNotFound",
            format!("The subscription '{id}' could not be found."),
        )
    }

    /// 404 `ResourceGroupNotFound`.
    pub fn resource_group_not_found(name: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "ResourceGroupNotFound",
            format!("Resource group '{name}' could not be found."),
        )
    }

    /// 404 `ResourceNotFound` for a tracked resource:
    /// `The Resource 'Microsoft.Compute/galleries/g/images/i' under resource group 'rg' was not found.`
    pub fn resource_not_found(full_type_with_names: &str, resource_group: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            format!(
                "The Resource '{full_type_with_names}' under resource group '{resource_group}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
            ),
        )
    }

    /// 404 `ParentResourceNotFound` (`parent` is `g` or `g/i`).
    pub fn parent_not_found(parent: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "ParentResourceNotFound",
            format!(
                "Can not perform requested operation on nested resource. Parent resource '{parent}' not found."
            ),
        )
    }

    /// 403 `AuthorizationFailed` (arm-errors.md §2, current form).
    pub fn authorization_failed(client: &str, object_id: &str, action: &str, scope: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "AuthorizationFailed",
            format!(
                "The client '{client}' with object id '{object_id}' does not have authorization to perform action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials."
            ),
        )
    }

    /// 405 for a method the type does not support.
    pub fn method_not_allowed(method: &str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("The requested resource does not support http method '{method}'."),
        )
    }

    /// 409 `Conflict`-family error.
    pub fn conflict(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// 500 `InternalServerError`, for emulator bugs that should never reach a client.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            message,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_has_target_only_when_set() {
        let e = ArmError::resource_group_not_found("rg1");
        assert_eq!(
            e.body(),
            json!({"error":{"code":"ResourceGroupNotFound","message":"Resource group 'rg1' could not be found."}})
        );
        let e = ArmError::service(StatusCode::NOT_FOUND, "GalleryImageNotFound", "m")
            .with_target("imageReference");
        assert_eq!(e.body()["error"]["target"], "imageReference");
        assert_eq!(e.cause, FailureCause::Service);
    }
}
