//! Paths into ARM JSON bodies and the patterns the rules table is written in.
//!
//! A concrete path names one value: `properties.subnets[default].properties.addressPrefix`.
//! A pattern names a family of values: `properties.subnets[].properties.addressPrefix`, where
//! `[]` is any list element and `*` any object key. Keeping patterns as plain strings keeps
//! the rules table readable next to the Azure specs it cites.

/// One step of a concrete path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    /// An object key.
    Key(String),
    /// A list element: its key for keyed lists, its index otherwise.
    Elem(String),
}

/// A concrete path, built while walking a body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Path(Vec<Seg>);

impl Path {
    pub(crate) fn key(&self, key: &str) -> Path {
        let mut next = self.0.clone();
        next.push(Seg::Key(key.to_owned()));
        Path(next)
    }

    pub(crate) fn elem(&self, elem: impl Into<String>) -> Path {
        let mut next = self.0.clone();
        next.push(Seg::Elem(elem.into()));
        Path(next)
    }

    /// The last object key on the path, which decides the global comparison rules.
    pub(crate) fn last_key(&self) -> Option<&str> {
        self.0.iter().rev().find_map(|s| match s {
            Seg::Key(k) => Some(k.as_str()),
            Seg::Elem(_) => None,
        })
    }

    fn tokens(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|s| match s {
            Seg::Key(k) => k.as_str(),
            Seg::Elem(_) => "[]",
        })
    }

    /// True when the pattern names exactly this path.
    pub(crate) fn matches(&self, pattern: &str) -> bool {
        let (mut tokens, mut pat) = (self.tokens(), pattern_tokens(pattern));
        loop {
            match (tokens.next(), pat.next()) {
                (None, None) => return true,
                (Some(t), Some(p)) if token_eq(t, p) => {}
                _ => return false,
            }
        }
    }

    /// True when the pattern names this path or one of its ancestors.
    pub(crate) fn within(&self, pattern: &str) -> bool {
        let mut tokens = self.tokens();
        pattern_tokens(pattern).all(|p| tokens.next().is_some_and(|t| token_eq(t, p)))
    }
}

impl std::fmt::Display for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => f.write_str(k)?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Elem(e) => write!(f, "[{e}]")?,
            }
        }
        Ok(())
    }
}

fn token_eq(token: &str, pattern: &str) -> bool {
    pattern == token || (pattern == "*" && token != "[]")
}

/// A pattern's steps, without allocating: every node of every body is matched against the
/// rules table, which made tokenising into a Vec a tenth of a 10,000-resource plan's CPU.
fn pattern_tokens(pattern: &str) -> impl Iterator<Item = &str> {
    pattern.split('.').flat_map(|part| {
        let rest = part.trim_end_matches("[]");
        let brackets = (part.len() - rest.len()) / 2;
        (!rest.is_empty())
            .then_some(rest)
            .into_iter()
            .chain(std::iter::repeat_n("[]", brackets))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subnet_prefix() -> Path {
        Path::default()
            .key("properties")
            .key("subnets")
            .elem("default")
            .key("properties")
            .key("addressPrefix")
    }

    #[test]
    fn displays_keys_dotted_and_elements_bracketed() {
        assert_eq!(
            subnet_prefix().to_string(),
            "properties.subnets[default].properties.addressPrefix"
        );
    }

    #[test]
    fn patterns_match_elements_and_wildcards() {
        let p = subnet_prefix();
        assert!(p.matches("properties.subnets[].properties.addressPrefix"));
        assert!(p.matches("properties.*[].properties.addressPrefix"));
        assert!(!p.matches("properties.subnets"));
        assert!(!p.matches("properties.subnets[].properties.addressPrefix.x"));
        assert!(p.within("properties.subnets"));
        assert!(p.within("properties.subnets[]"));
        assert!(!p.within("properties.addressSpace"));
    }

    #[test]
    fn wildcard_never_matches_a_list_element() {
        let p = Path::default().key("zones").elem("0");
        assert!(p.matches("zones[]"));
        assert!(!p.matches("zones.*"));
    }
}
