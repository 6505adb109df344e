//! Tenants and the apply lock, resolved: credentials become an [`AuthMethod`] (still references).
//!
//! Credential mistakes are caught here because they are only visible at run time otherwise, in
//! the middle of an apply, and a secret written inline must never reach git history twice.

use crate::diag::{Code, Diagnostic};
use crate::load::Manifest;
use crate::model::{SecretSource, TokenFile};
use crate::resolve::types::{AuthMethod, LockSpec, TenantSpec};

/// The error text for any secret written where a reference belongs.
pub const INLINE_SECRET: &str = "secrets are referenced, never written in the manifest";

/// Resolves every tenant's credentials; problems go to `diags`.
pub fn resolve_tenants(m: &Manifest, diags: &mut Vec<Diagnostic>) -> Vec<TenantSpec> {
    let mut out = Vec::new();
    for (key, item) in &m.tenants {
        let file = item.file;
        let auth = &item.value.auth;
        let mut methods = Vec::new();
        let client_id = auth.client_id.as_ref().map(|c| c.value.clone());
        if let Some(secret) = &auth.client_secret {
            if secret.value == SecretSource::Inline {
                diags.push(
                    Diagnostic::at(Code::InlineSecret, file, secret.loc, INLINE_SECRET)
                        .label("secret written here")
                        .help("use `client_secret: { env: NAME }` or `client_secret: { file: PATH }`, and rotate this secret: it has been exposed"),
                );
            }
            methods.push(("client_secret", secret.loc));
        }
        if let Some(token) = &auth.federated_token_file {
            if token.value == TokenFile::Inline {
                diags.push(
                    Diagnostic::at(Code::InlineSecret, file, token.loc, INLINE_SECRET)
                        .label("a token, not a path")
                        .help("give the path of the token file, or `{ env: NAME }`"),
                );
            }
            methods.push(("federated_token_file", token.loc));
        }
        if let Some(cli) = auth.azure_cli.as_ref().filter(|b| b.value) {
            methods.push(("azure_cli", cli.loc));
        }
        if let Some(mi) = auth.managed_identity.as_ref().filter(|b| b.value) {
            methods.push(("managed_identity", mi.loc));
        }
        let method = match methods.as_slice() {
            [] => {
                diags.push(
                    Diagnostic::at(
                        Code::InvalidAuth,
                        file,
                        auth.loc,
                        format!("tenant `{key}` has no sign-in method"),
                    )
                    .help("set exactly one of client_secret, federated_token_file, azure_cli: true, managed_identity: true"),
                );
                continue;
            }
            [(name, _)] => *name,
            [_, (second, loc), ..] => {
                diags.push(
                    Diagnostic::at(
                        Code::InvalidAuth,
                        file,
                        *loc,
                        format!("tenant `{key}` sets more than one sign-in method"),
                    )
                    .label(format!("`{second}` conflicts with an earlier method"))
                    .help("set exactly one of client_secret, federated_token_file, azure_cli, managed_identity"),
                );
                continue;
            }
        };
        let needs_client = matches!(method, "client_secret" | "federated_token_file");
        let auth_method = match (method, client_id.clone()) {
            ("client_secret", Some(client_id)) => AuthMethod::ClientSecret {
                client_id,
                secret: auth
                    .client_secret
                    .as_ref()
                    .map(|s| s.value.clone())
                    .unwrap_or(SecretSource::Inline),
            },
            ("federated_token_file", Some(client_id)) => AuthMethod::FederatedToken {
                client_id,
                token_file: auth
                    .federated_token_file
                    .as_ref()
                    .map(|t| t.value.clone())
                    .unwrap_or_else(|| TokenFile::Env("AZURE_FEDERATED_TOKEN_FILE".into())),
            },
            ("azure_cli", _) => AuthMethod::AzureCli,
            ("managed_identity", client_id) => AuthMethod::ManagedIdentity { client_id },
            _ => {
                debug_assert!(needs_client);
                diags.push(
                    Diagnostic::at(
                        Code::InvalidAuth,
                        file,
                        auth.loc,
                        format!("tenant `{key}` uses {method} but has no client_id"),
                    )
                    .help("add `client_id: <app registration's application id>`"),
                );
                continue;
            }
        };
        out.push(TenantSpec {
            key: key.clone(),
            tenant_id: item.value.tenant_id.value.clone(),
            auth: auth_method,
        });
    }
    out
}

/// Resolves the lock section; a dangling tenant goes to `diags`.
pub fn resolve_lock(m: &Manifest, diags: &mut Vec<Diagnostic>) -> Option<LockSpec> {
    let item = m.lock.as_ref()?;
    let lock = &item.value;
    if !m.tenants.contains_key(&lock.tenant.value) {
        diags.push(super::build::dangling(
            item.file,
            &lock.tenant,
            "tenant",
            m.tenants.keys(),
        ));
        return None;
    }
    Some(LockSpec {
        tenant: lock.tenant.value.clone(),
        subscription: lock.subscription.value.clone(),
        resource_group: lock.resource_group.value.clone(),
        storage_account: lock.storage_account.value.clone(),
        container: lock
            .container
            .as_ref()
            .map(|c| c.value.clone())
            .unwrap_or_else(|| "galleon-locks".into()),
    })
}
