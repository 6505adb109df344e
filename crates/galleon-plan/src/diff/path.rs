//! Paths into ARM JSON bodies and the patterns the rules table is written in.
//!
//! A concrete path names one value: `properties.subnets[default].properties.addressPrefix`.
//! A pattern names a family of values: `properties.subnets[].properties.addressPrefix`, where
//! `[]` is any list element and `*` any object key. Keeping patterns as plain strings keeps
//! the rules table readable next to the Azure specs it cites.
//!
//! A path is a chain of borrowed steps on the walker's stack: every node of every body gets
//! one, and an owned `Vec<String>` per node was a third of a 10,000-resource plan's CPU.

/// One step of a concrete path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seg<'a> {
    /// The root of a body.
    Root,
    /// An object key.
    Key(&'a str),
    /// A list element: its key for keyed lists, its index otherwise.
    Elem(&'a str),
}

/// A concrete path, built while walking a body: the last step and the path it extends.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    seg: Seg<'a>,
    depth: usize,
}

impl Default for Path<'_> {
    fn default() -> Self {
        Path {
            parent: None,
            seg: Seg::Root,
            depth: 0,
        }
    }
}

/// Deeper than any ARM body galleon compares; deeper paths still work, through the heap.
const STACK_DEPTH: usize = 32;

impl<'a> Path<'a> {
    pub(crate) fn key<'b>(&'b self, key: &'b str) -> Path<'b> {
        self.child(Seg::Key(key))
    }

    pub(crate) fn elem<'b>(&'b self, label: &'b str) -> Path<'b> {
        self.child(Seg::Elem(label))
    }

    fn child<'b>(&'b self, seg: Seg<'b>) -> Path<'b> {
        Path {
            parent: Some(self),
            seg,
            depth: self.depth + 1,
        }
    }

    /// The last object key on the path, which decides the global comparison rules.
    pub(crate) fn last_key(&self) -> Option<&'a str> {
        let mut at = Some(self);
        while let Some(p) = at {
            if let Seg::Key(k) = p.seg {
                return Some(k);
            }
            at = p.parent;
        }
        None
    }

    /// Calls `f` with the steps from the root, list elements as `[]`, without allocating.
    fn with_tokens<R>(&self, f: impl FnOnce(&[&str]) -> R) -> R {
        fn fill<'t>(mut at: Option<&Path<'t>>, out: &mut [&'t str]) {
            let mut i = out.len();
            while let Some(p) = at {
                let token = match p.seg {
                    Seg::Root => break,
                    Seg::Key(k) => k,
                    Seg::Elem(_) => "[]",
                };
                i -= 1;
                out[i] = token;
                at = p.parent;
            }
        }
        if self.depth <= STACK_DEPTH {
            let mut buf = [""; STACK_DEPTH];
            fill(Some(self), &mut buf[..self.depth]);
            f(&buf[..self.depth])
        } else {
            let mut buf = vec![""; self.depth];
            fill(Some(self), &mut buf);
            f(&buf)
        }
    }

    /// True when the pattern names exactly this path. Compared from the leaf up, so that
    /// the usual answer (no) comes from the first step.
    pub(crate) fn matches(&self, pattern: &str) -> bool {
        let mut at = self;
        for p in pattern_tokens_rev(pattern) {
            let token = match at.seg {
                Seg::Root => return false,
                Seg::Key(k) => k,
                Seg::Elem(_) => "[]",
            };
            if !token_eq(token, p) {
                return false;
            }
            match at.parent {
                Some(parent) => at = parent,
                None => return false,
            }
        }
        at.seg == Seg::Root
    }

    /// True when the pattern names this path or one of its ancestors.
    pub(crate) fn within(&self, pattern: &str) -> bool {
        self.with_tokens(|tokens| {
            let mut tokens = tokens.iter();
            pattern_tokens(pattern).all(|p| tokens.next().is_some_and(|t| token_eq(t, p)))
        })
    }

    /// True when the pattern names something strictly below this path.
    pub(crate) fn leads_to(&self, pattern: &str) -> bool {
        self.with_tokens(|tokens| {
            let mut pat = pattern_tokens(pattern);
            tokens
                .iter()
                .all(|t| pat.next().is_some_and(|p| token_eq(t, p)))
                && pat.next().is_some()
        })
    }
}

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut segs = Vec::with_capacity(self.depth);
        let mut at = Some(self);
        while let Some(p) = at {
            segs.push(p.seg);
            at = p.parent;
        }
        let mut first = true;
        for seg in segs.into_iter().rev() {
            match seg {
                Seg::Root => continue,
                Seg::Key(k) if first => f.write_str(k)?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Elem(e) => write!(f, "[{e}]")?,
            }
            first = false;
        }
        Ok(())
    }
}

/// [`pattern_tokens`] from the last step to the first.
fn pattern_tokens_rev(pattern: &str) -> impl Iterator<Item = &str> {
    pattern.rsplit('.').flat_map(|part| {
        let (key, brackets) = split_brackets(part);
        std::iter::repeat_n("[]", brackets).chain(key)
    })
}

fn token_eq(token: &str, pattern: &str) -> bool {
    pattern == token || (pattern == "*" && token != "[]")
}

/// A pattern's steps, without allocating: every node of every body is matched against the
/// rules table, which made tokenising into a Vec a tenth of a 10,000-resource plan's CPU.
fn pattern_tokens(pattern: &str) -> impl Iterator<Item = &str> {
    pattern.split('.').flat_map(|part| {
        let (key, brackets) = split_brackets(part);
        key.into_iter().chain(std::iter::repeat_n("[]", brackets))
    })
}

/// `subnets[]` -> (`subnets`, 1); `[][]` -> (none, 2). Not `trim_end_matches`: its substring
/// searcher cost more than the match itself.
fn split_brackets(part: &str) -> (Option<&str>, usize) {
    let mut rest = part;
    let mut brackets = 0;
    while let Some(r) = rest.strip_suffix("[]") {
        rest = r;
        brackets += 1;
    }
    ((!rest.is_empty()).then_some(rest), brackets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_subnet_prefix(f: impl FnOnce(&Path<'_>)) {
        let root = Path::default();
        let props = root.key("properties");
        let subnets = props.key("subnets");
        let elem = subnets.elem("default");
        let inner = elem.key("properties");
        f(&inner.key("addressPrefix"));
    }

    #[test]
    fn displays_keys_dotted_and_elements_bracketed() {
        with_subnet_prefix(|p| {
            assert_eq!(
                p.to_string(),
                "properties.subnets[default].properties.addressPrefix"
            );
        });
        assert_eq!(Path::default().to_string(), "");
        assert_eq!(Path::default().elem("0").to_string(), "[0]");
    }

    #[test]
    fn patterns_match_elements_and_wildcards() {
        with_subnet_prefix(|p| {
            assert!(p.matches("properties.subnets[].properties.addressPrefix"));
            assert!(p.matches("properties.*[].properties.addressPrefix"));
            assert!(!p.matches("properties.subnets"));
            assert!(!p.matches("properties.subnets[].properties.addressPrefix.x"));
            assert!(p.within("properties.subnets"));
            assert!(p.within("properties.subnets[]"));
            assert!(!p.within("properties.addressSpace"));
            assert_eq!(p.last_key(), Some("addressPrefix"));
        });
    }

    #[test]
    fn leads_to_only_strictly_deeper_patterns() {
        let root = Path::default();
        let props = root.key("properties");
        assert!(props.leads_to("properties.provisioningState"));
        assert!(root.leads_to("id"));
        assert!(!props.leads_to("properties"));
        assert!(!props.key("x").leads_to("properties.provisioningState"));
    }

    #[test]
    fn pattern_steps_read_the_same_both_ways() {
        for pattern in ["a.b[].c", "zones[]", "x[][].y", "properties.*[].name", "id"] {
            let mut forward: Vec<&str> = pattern_tokens(pattern).collect();
            forward.reverse();
            assert_eq!(pattern_tokens_rev(pattern).collect::<Vec<_>>(), forward);
        }
    }

    #[test]
    fn wildcard_never_matches_a_list_element() {
        let root = Path::default();
        let zones = root.key("zones");
        let p = zones.elem("0");
        assert!(p.matches("zones[]"));
        assert!(!p.matches("zones.*"));
        assert_eq!(p.last_key(), Some("zones"));
    }

    #[test]
    fn paths_deeper_than_the_stack_buffer_still_match() {
        fn deep(path: &Path<'_>, left: usize) -> (bool, String) {
            if left == 0 {
                let pattern = vec!["k"; STACK_DEPTH + 5].join(".");
                return (path.matches(&pattern), path.to_string());
            }
            deep(&path.key("k"), left - 1)
        }
        let (matched, shown) = deep(&Path::default(), STACK_DEPTH + 5);
        assert!(matched);
        assert_eq!(shown.matches('k').count(), STACK_DEPTH + 5);
    }
}
