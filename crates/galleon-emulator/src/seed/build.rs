//! Seed -> initial state: resolves tenant references (id or domain), creates home-tenant and
//! consented service principals, subscriptions, pre-existing resources and role assignments,
//! refusing dangling references with a clear error.

use serde_json::Value;

use super::{Seed, SeedPrincipal, SeedResource};

/// A seed that cannot become a state.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The YAML is not a valid seed.
    #[error("invalid seed YAML")]
    Yaml(#[source] serde_saphyr::Error),
    /// Something names a tenant that is not declared.
    #[error("{what} names unknown tenant '{tenant}'")]
    UnknownTenant {
        /// What referred to it.
        what: String,
        /// The tenant reference.
        tenant: String,
    },
    /// A role assignment names a role the emulator does not know.
    #[error("role assignment at '{scope}' names unknown role '{role}'")]
    UnknownRole {
        /// Scope of the assignment.
        scope: String,
        /// The role reference.
        role: String,
    },
    /// A role assignment names an app with no service principal in the scope's tenant.
    #[error(
        "role assignment at '{scope}' names app '{app_id}' which has no service principal in tenant '{tenant}'"
    )]
    UnknownPrincipal {
        /// Scope of the assignment.
        scope: String,
        /// The app.
        app_id: String,
        /// The tenant.
        tenant: String,
    },
    /// A resource id that is not an ARM resource id.
    #[error("'{0}' is not an ARM resource id")]
    BadResourceId(String),
}

impl Seed {
    /// Builds the initial state. Every app gets a service principal in its home tenant (as the
    /// portal's app registration does); other tenants need an explicit `service_principals`
    /// entry (consent).
    ///
    /// # Errors
    /// Dangling references (tenant, role, principal) or malformed resource ids.
    pub fn build(&self, now: time::OffsetDateTime) -> Result<crate::state::State, SeedError> {
        use crate::state::{App, State, Subscription, Tenant};
        let mut state = State {
            settings: self.settings.clone(),
            ..State::default()
        };
        for t in &self.tenants {
            state.tenants.push(Tenant {
                id: t.id.to_ascii_lowercase(),
                display_name: t.display_name.clone().unwrap_or_else(|| t.id.clone()),
                domain: t.domain.clone(),
            });
        }
        let tenant_id = |state: &State, what: &str, t: &str| {
            state
                .tenant(t)
                .map(|t| t.id.clone())
                .ok_or_else(|| SeedError::UnknownTenant {
                    what: what.to_owned(),
                    tenant: t.to_owned(),
                })
        };
        for sp in &self.service_principals {
            let tid = tenant_id(
                &state,
                &format!("service principal of {}", sp.app_id),
                &sp.tenant,
            )?;
            state.ensure_service_principal(&sp.app_id, &tid, sp.object_id.as_deref());
        }
        for a in &self.apps {
            let home = tenant_id(&state, &format!("app {}", a.app_id), &a.home_tenant)?;
            state.apps.push(App {
                app_id: a.app_id.to_ascii_lowercase(),
                home_tenant: home.clone(),
                display_name: a.display_name.clone().unwrap_or_else(|| a.app_id.clone()),
                // Only digests are kept (and persisted): the seed file stays the one place the
                // literal lives.
                secrets: a
                    .secrets
                    .iter()
                    .map(|sec| super::SeedSecret {
                        value: crate::state::secret_digest(&sec.value),
                        expired: sec.expired,
                    })
                    .collect(),
                federated_credentials: a.federated_credentials.clone(),
            });
            state.ensure_service_principal(&a.app_id, &home, None);
        }
        for s in &self.subscriptions {
            let tid = tenant_id(&state, &format!("subscription {}", s.id), &s.tenant)?;
            state.subscriptions.push(Subscription {
                id: s.id.to_ascii_lowercase(),
                tenant: tid,
                display_name: s.display_name.clone().unwrap_or_else(|| s.id.clone()),
                quotas: s.quotas.clone(),
            });
        }
        for r in &self.resources {
            state.insert_resource(resource_from_seed(r, now)?);
        }
        for ra in &self.role_assignments {
            let role =
                crate::arm::rbac::find_role(&ra.role).ok_or_else(|| SeedError::UnknownRole {
                    scope: ra.scope.clone(),
                    role: ra.role.clone(),
                })?;
            let object_id = match &ra.principal {
                SeedPrincipal::ObjectId { object_id } => object_id.to_ascii_lowercase(),
                SeedPrincipal::App { app_id, tenant } => {
                    let tid =
                        tenant_id(&state, &format!("role assignment at {}", ra.scope), tenant)?;
                    state
                        .service_principal(app_id, &tid)
                        .map(|sp| sp.object_id.clone())
                        .ok_or_else(|| SeedError::UnknownPrincipal {
                            scope: ra.scope.clone(),
                            app_id: app_id.clone(),
                            tenant: tid.clone(),
                        })?
                }
            };
            let name = ra.name.clone().unwrap_or_else(|| {
                crate::state::derived_guid(&["ra", &ra.scope, role.id, &object_id])
            });
            state.insert_resource(crate::providers::authorization::assignment(
                &ra.scope,
                &name,
                role.id,
                &object_id,
                "ServicePrincipal",
                None,
                now,
            ));
        }
        Ok(state)
    }
}

/// Builds a stored resource from a seed (or admin) resource description.
///
/// # Errors
/// The id is not an ARM resource id.
pub fn resource_from_seed(
    r: &SeedResource,
    now: time::OffsetDateTime,
) -> Result<crate::state::Resource, SeedError> {
    let resource_type =
        crate::arm::ids::type_of(&r.id).ok_or_else(|| SeedError::BadResourceId(r.id.clone()))?;
    let name =
        r.id.trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
    let mut body = serde_json::Map::new();
    body.insert("id".into(), r.id.clone().into());
    body.insert("name".into(), name.into());
    body.insert("type".into(), resource_type.clone().into());
    if let Some(loc) = &r.location {
        let loc = crate::providers::generic::normalize_location(loc);
        body.insert("location".into(), loc.into());
    }
    if let Some(tags) = &r.tags {
        body.insert(
            "tags".into(),
            serde_json::to_value(tags).unwrap_or_default(),
        );
    }
    for (k, v) in &r.extra {
        body.insert(k.clone(), v.clone());
    }
    let mut props = r
        .properties
        .clone()
        .unwrap_or_else(|| serde_json::json!({}));
    if let Some(p) = props.as_object_mut() {
        p.entry("provisioningState")
            .or_insert_with(|| "Succeeded".into());
    }
    body.insert("properties".into(), props);
    Ok(crate::state::Resource {
        id: r.id.clone(),
        resource_type,
        body: Value::Object(body),
        internal: Value::Null,
        created: now,
        updated: now,
    })
}
