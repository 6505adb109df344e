//! A string that must never be printed: client secrets, assertions and access tokens.
//!
//! Every credential and token in galleon lives in [`Secret`], so that a stray `{:?}` in a log
//! line, an error message or a panic cannot leak it (the pattern of uv's `uv-redacted`). There is
//! deliberately no `Serialize` implementation: writing a secret anywhere has to go through
//! [`Secret::expose`], which is easy to grep for.

use std::fmt;
use std::sync::Arc;

/// A secret string. `Debug` and `Display` print `***`; [`Secret::expose`] gives the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Secret {
    /// Wraps a secret value. Surrounding whitespace is kept: a secret is used as given.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Arc::from(value.into()))
    }

    /// The secret itself, for the one place that must send it (a form field, a header).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string (an unset environment variable, an empty file).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_value() {
        let s = Secret::new("canary-Sup3rS3cret");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{:#?}", Some(s.clone())), "Some(\n    ***,\n)");
        assert_eq!(s.expose(), "canary-Sup3rS3cret");
    }

    #[test]
    fn nested_in_a_derived_debug_stays_hidden() {
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Holder {
            name: &'static str,
            secret: Secret,
        }
        let h = Holder {
            name: "x",
            secret: Secret::new("canary-value"),
        };
        let text = format!("{h:?}");
        assert!(!text.contains("canary-value"), "{text}");
        assert!(text.contains("***"));
    }
}
