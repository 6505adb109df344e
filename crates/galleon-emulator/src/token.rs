//! The emulator's signing key: issues RS256 JWTs (access tokens, test OIDC tokens) and verifies
//! them on the way back in.
//!
//! One RSA key signs everything, published as a JWK whose `kid` equals `x5t` as Entra's keys do.
//! The key is kept in the state dir so that tokens issued before a restart stay valid. Time
//! checks (`exp`, `nbf`) are not done here: callers compare against the emulator's own clock,
//! which the admin API can move forward.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rsa::RsaPrivateKey;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Why a token was refused.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The string is not a JWT, or its signature does not verify with the emulator's key.
    #[error("token is malformed or its signature is invalid")]
    Invalid(#[source] jsonwebtoken::errors::Error),
    /// The key could not be generated, read or written.
    #[error("signing key unavailable: {0}")]
    Key(String),
}

/// The RSA signing key and its public JWK.
pub struct Signer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    pem: String,
    kid: String,
    n: String,
    e: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("kid", &self.kid)
            .field("key", &"***")
            .finish()
    }
}

impl Signer {
    /// Generates a fresh 2048-bit key.
    ///
    /// # Errors
    /// Key generation failed.
    pub fn generate() -> Result<Self, TokenError> {
        let key = RsaPrivateKey::new(&mut rand::thread_rng(), 2048)
            .map_err(|e| TokenError::Key(e.to_string()))?;
        let pem = key
            .to_pkcs1_pem(LineEnding::LF)
            .map_err(|e| TokenError::Key(e.to_string()))?;
        Self::from_pem(&pem)
    }

    /// Loads a PKCS#1 PEM key.
    ///
    /// # Errors
    /// The PEM is not an RSA private key.
    pub fn from_pem(pem: &str) -> Result<Self, TokenError> {
        let key = RsaPrivateKey::from_pkcs1_pem(pem).map_err(|e| TokenError::Key(e.to_string()))?;
        let n = URL_SAFE_NO_PAD.encode(key.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(key.e().to_bytes_be());
        // Entra's kid is the base64url SHA-1 cert thumbprint (27 chars); we have no cert, so a
        // truncated SHA-256 of the modulus gives an id of the same shape.
        let digest = Sha256::digest(key.n().to_bytes_be());
        let kid = URL_SAFE_NO_PAD.encode(&digest[..20]);
        let encoding = EncodingKey::from_rsa_pem(pem.as_bytes())
            .map_err(|e| TokenError::Key(e.to_string()))?;
        let decoding =
            DecodingKey::from_rsa_components(&n, &e).map_err(|e| TokenError::Key(e.to_string()))?;
        Ok(Self {
            encoding,
            decoding,
            pem: pem.to_owned(),
            kid,
            n,
            e,
        })
    }

    /// Reuses `dir/signing-key.pem` or creates it; without a dir, generates a key in memory.
    ///
    /// # Errors
    /// The file exists but is unreadable, or cannot be written.
    pub fn load_or_create(dir: Option<&Path>) -> Result<Self, TokenError> {
        let Some(dir) = dir else {
            return Self::generate();
        };
        let path = dir.join("signing-key.pem");
        if path.exists() {
            let pem = std::fs::read_to_string(&path).map_err(|e| TokenError::Key(e.to_string()))?;
            return Self::from_pem(&pem);
        }
        let signer = Self::generate()?;
        crate::state::write_private(&path, signer.pem.as_bytes())
            .map_err(|e| TokenError::Key(e.to_string()))?;
        Ok(signer)
    }

    /// The key id (`kid` == `x5t`).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Signs claims as an RS256 JWT with `typ`, `kid` and `x5t` headers like Entra's v1 tokens.
    ///
    /// # Panics
    /// Never in practice: signing JSON claims with a valid RSA key cannot fail.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        header.x5t = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("RS256 signing cannot fail")
    }

    /// Verifies the signature and returns the claims; does not check times or audience.
    ///
    /// # Errors
    /// Malformed token, other algorithm, or bad signature.
    pub fn verify(&self, token: &str) -> Result<Value, TokenError> {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        jsonwebtoken::decode::<Value>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(TokenError::Invalid)
    }

    /// The public key as a JWK, with an `issuer` member when given (Entra's v2 keys carry one).
    pub fn jwk(&self, issuer: Option<&str>) -> Value {
        let mut jwk = json!({
            "kty": "RSA", "use": "sig", "kid": self.kid, "x5t": self.kid,
            "n": self.n, "e": self.e,
        });
        if let Some(iss) = issuer {
            jwk["issuer"] = json!(iss);
        }
        jwk
    }
}

/// Reads a JWT's claims without verifying it (to name the app/tenant of a bad token).
pub fn peek_claims(token: &str) -> Option<Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies_and_rejects_tampering() {
        let s = Signer::generate().unwrap();
        let t = s.sign(&json!({"tid": "t1", "exp": 1}));
        assert_eq!(s.verify(&t).unwrap()["tid"], "t1");
        let other = Signer::generate().unwrap();
        assert!(other.verify(&t).is_err());
        assert!(s.verify("not.a.jwt").is_err());
        assert_eq!(peek_claims(&t).unwrap()["tid"], "t1");
        let reloaded = Signer::from_pem(&s.pem).unwrap();
        assert_eq!(reloaded.kid(), s.kid());
        assert!(reloaded.verify(&t).is_ok());
    }
}
