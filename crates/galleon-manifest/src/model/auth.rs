//! Tenants and how galleon signs in to them.
//!
//! Secrets are only ever *referenced* (an environment variable or a file). A value that looks
//! like a secret written inline is recognised while parsing and dropped on the spot, leaving a
//! marker variant, so validation can report it with its position without the text ever being kept
//! in memory, logged, or echoed back in an error.

use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::span::Sp;

/// An Entra ID tenant galleon signs in to.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tenant {
    /// Directory (tenant) id, a GUID.
    #[schemars(pattern(crate::model::GUID_PATTERN))]
    pub tenant_id: Sp<String>,
    /// How to obtain tokens for this tenant.
    pub auth: Sp<Auth>,
}

/// Credentials for one tenant: `client_id` plus exactly one method.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    /// Application (client) id of the app registration, a GUID. Required for `client_secret`
    /// and `federated_token_file`; selects a user-assigned identity for `managed_identity`.
    #[schemars(pattern(crate::model::GUID_PATTERN))]
    pub client_id: Option<Sp<String>>,
    /// Where to read the client secret at run time: `{env: NAME}` or `{file: PATH}`.
    pub client_secret: Option<Sp<SecretSource>>,
    /// Workload identity federation: a token file path, or `{env: NAME}` naming a variable that
    /// holds the path (default variable: AZURE_FEDERATED_TOKEN_FILE).
    pub federated_token_file: Option<Sp<TokenFile>>,
    /// Use the signed-in Azure CLI account.
    pub azure_cli: Option<Sp<bool>>,
    /// Use the machine's managed identity (not allowed on either side of a cross-tenant edge).
    pub managed_identity: Option<Sp<bool>>,
}

/// A reference to a secret; never the secret itself.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// Read from this environment variable.
    Env(String),
    /// Read from this file.
    File(String),
    /// A literal was written in the manifest. Its text was discarded while parsing.
    Inline,
}

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Env(name) => write!(f, "Env({name})"),
            SecretSource::File(path) => write!(f, "File({path})"),
            SecretSource::Inline => f.write_str("Inline(***)"),
        }
    }
}

/// The federated token file for workload identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenFile {
    /// A path to the token file.
    Path(String),
    /// An environment variable holding the path.
    Env(String),
    /// A token (JWT) was written where a path belongs. Its text was discarded.
    Inline,
}

/// An SSH public key, inline or from a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SshKey {
    /// The public key text (`ssh-ed25519 AAAA... comment`).
    Inline(String),
    /// A file holding the public key.
    File(String),
    /// A private key was pasted here. Its text was discarded.
    PrivateKey,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefFields {
    env: Option<String>,
    file: Option<String>,
}

fn read_ref<'de, A: MapAccess<'de>>(map: A) -> Result<RefFields, A::Error> {
    RefFields::deserialize(de::value::MapAccessDeserializer::new(map))
}

fn looks_like_jwt(s: &str) -> bool {
    s.starts_with("eyJ") && s.matches('.').count() == 2 && !s.contains('/')
}

struct SecretVisitor;
impl<'de> Visitor<'de> for SecretVisitor {
    type Value = SecretSource;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{env: NAME} or {file: PATH}")
    }
    // Any scalar here is a secret written inline: keep nothing of it.
    fn visit_str<E: de::Error>(self, _: &str) -> Result<SecretSource, E> {
        Ok(SecretSource::Inline)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<SecretSource, E> {
        Ok(SecretSource::Inline)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<SecretSource, E> {
        Ok(SecretSource::Inline)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<SecretSource, E> {
        Ok(SecretSource::Inline)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<SecretSource, E> {
        Ok(SecretSource::Inline)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<SecretSource, A::Error> {
        match read_ref(map)? {
            RefFields {
                env: Some(env),
                file: None,
            } => Ok(SecretSource::Env(env)),
            RefFields {
                env: None,
                file: Some(file),
            } => Ok(SecretSource::File(file)),
            _ => Err(de::Error::custom(
                "a secret reference needs exactly one of `env` or `file`",
            )),
        }
    }
}
impl<'de> Deserialize<'de> for SecretSource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SecretVisitor)
    }
}

struct TokenVisitor;
impl<'de> Visitor<'de> for TokenVisitor {
    type Value = TokenFile;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a path or {env: NAME}")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<TokenFile, E> {
        Ok(if looks_like_jwt(v) {
            TokenFile::Inline
        } else {
            TokenFile::Path(v.to_owned())
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<TokenFile, A::Error> {
        match read_ref(map)? {
            RefFields {
                env: Some(env),
                file: None,
            } => Ok(TokenFile::Env(env)),
            _ => Err(de::Error::custom(
                "federated_token_file takes a path or {env: NAME}",
            )),
        }
    }
}
impl<'de> Deserialize<'de> for TokenFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TokenVisitor)
    }
}

struct SshVisitor;
impl<'de> Visitor<'de> for SshVisitor {
    type Value = SshKey;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a public key string or {file: PATH}")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<SshKey, E> {
        Ok(if v.contains("PRIVATE KEY") {
            SshKey::PrivateKey
        } else {
            SshKey::Inline(v.to_owned())
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<SshKey, A::Error> {
        match read_ref(map)? {
            RefFields {
                env: None,
                file: Some(file),
            } => Ok(SshKey::File(file)),
            _ => Err(de::Error::custom(
                "ssh_public_key takes a key or {file: PATH}",
            )),
        }
    }
}
impl<'de> Deserialize<'de> for SshKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SshVisitor)
    }
}

impl JsonSchema for SecretSource {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "SecretSource".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A reference to a secret, read at run time. Never the secret itself.",
            "oneOf": [
                {"type": "object", "properties": {"env": {"type": "string", "description": "Environment variable holding the secret."}}, "required": ["env"], "additionalProperties": false},
                {"type": "object", "properties": {"file": {"type": "string", "description": "File holding the secret."}}, "required": ["file"], "additionalProperties": false}
            ]
        })
    }
}

impl JsonSchema for TokenFile {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TokenFile".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Path of the federated token file, or an environment variable holding that path.",
            "oneOf": [
                {"type": "string"},
                {"type": "object", "properties": {"env": {"type": "string"}}, "required": ["env"], "additionalProperties": false}
            ]
        })
    }
}

impl JsonSchema for SshKey {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "SshKey".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "An SSH public key (`ssh-ed25519 AAAA...`), or `{file: PATH}`.",
            "oneOf": [
                {"type": "string"},
                {"type": "object", "properties": {"file": {"type": "string"}}, "required": ["file"], "additionalProperties": false}
            ]
        })
    }
}
