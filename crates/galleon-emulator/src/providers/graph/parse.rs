//! The parser of the supported KQL subset (see the parent module for the grammar): splits the
//! pipeline on `|`, tokenises each operator and builds a [`Query`], refusing anything outside
//! the subset with a 400 that names the offending part.

use serde_json::json;

use crate::providers::rp::RpError;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Expr {
    Field(Vec<String>),
    Lower(Box<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Term {
    pub(super) expr: Expr,
    pub(super) op: String,
    pub(super) values: Vec<String>,
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Query {
    pub(super) wheres: Vec<Term>,
    pub(super) project: Option<Vec<String>>,
    pub(super) order: Option<(String, bool)>,
    pub(super) limit: Option<usize>,
}

pub(super) fn invalid(what: impl Into<String>) -> RpError {
    // ARG's envelope: a generic message with the parser's complaint in `details`.
    RpError::service(
        400,
        "BadRequest",
        "Please provide below info when asking for support: the query is not supported by the emulator's Resource Graph subset.",
    )
    .with_detail(json!({"code": "InvalidQuery", "message": "Query is invalid. Please refer to the documentation for the Azure Resource Graph service and fix the error before retrying."}))
    .with_detail(json!({"code": "UnsupportedQuery", "message": what.into()}))
}

/// Splits on `|` outside quotes.
fn split_pipes(q: &str) -> Vec<String> {
    let (mut out, mut cur, mut quote) = (Vec::new(), String::new(), None);
    for c in q.chars() {
        match (c, quote) {
            ('\'' | '"', None) => {
                quote = Some(c);
                cur.push(c);
            }
            (c2, Some(qc)) if c2 == qc => {
                quote = None;
                cur.push(c);
            }
            ('|', None) => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter().map(|s| s.trim().to_owned()).collect()
}

/// Tokenises one operator's text: identifiers, strings, punctuation and comparison operators.
fn tokens(s: &str) -> Result<Vec<String>, RpError> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' || c == '"' {
            let end = chars[i + 1..]
                .iter()
                .position(|x| *x == c)
                .ok_or_else(|| invalid("unterminated string literal"))?;
            out.push(format!(
                "'{}",
                chars[i + 1..i + 1 + end].iter().collect::<String>()
            ));
            i += end + 2;
        } else if "()[],.".contains(c) {
            out.push(c.to_string());
            i += 1;
        } else if "=!<>~".contains(c) {
            let mut j = i;
            while j < chars.len() && "=!<>~".contains(chars[j]) {
                j += 1;
            }
            out.push(chars[i..j].iter().collect());
            i = j;
        } else {
            let mut j = i;
            while j < chars.len() && (chars[j].is_alphanumeric() || "_-$".contains(chars[j])) {
                j += 1;
            }
            if j == i {
                return Err(invalid(format!("unexpected character '{c}'")));
            }
            out.push(chars[i..j].iter().collect());
            i = j;
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<String>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&str> {
        self.toks.get(self.pos).map(String::as_str)
    }
    fn next(&mut self) -> Option<String> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn expect(&mut self, t: &str) -> Result<(), RpError> {
        match self.next() {
            Some(x) if x == t => Ok(()),
            other => Err(invalid(format!(
                "expected '{t}', found '{}'",
                other.unwrap_or_default()
            ))),
        }
    }
    fn expr(&mut self) -> Result<Expr, RpError> {
        let first = self.next().ok_or_else(|| invalid("expected a column"))?;
        if first.eq_ignore_ascii_case("tolower") {
            self.expect("(")?;
            let inner = self.expr()?;
            self.expect(")")?;
            return Ok(Expr::Lower(Box::new(inner)));
        }
        if first.starts_with('\'') || !first.chars().next().is_some_and(char::is_alphabetic) {
            return Err(invalid(format!("expected a column, found '{first}'")));
        }
        let mut path = vec![first];
        loop {
            match self.peek() {
                Some(".") => {
                    self.pos += 1;
                    path.push(
                        self.next()
                            .ok_or_else(|| invalid("expected a name after '.'"))?,
                    );
                }
                Some("[") => {
                    self.pos += 1;
                    let key = self.next().unwrap_or_default();
                    let key = key
                        .strip_prefix('\'')
                        .ok_or_else(|| invalid("expected a quoted key in []"))?;
                    path.push(key.to_owned());
                    self.expect("]")?;
                }
                _ => break,
            }
        }
        Ok(Expr::Field(path))
    }
    fn value_list(&mut self) -> Result<Vec<String>, RpError> {
        if self.peek() == Some("(") {
            self.pos += 1;
            let mut out = Vec::new();
            loop {
                let v = self.next().unwrap_or_default();
                out.push(
                    v.strip_prefix('\'')
                        .ok_or_else(|| invalid("expected a string in the list"))?
                        .to_owned(),
                );
                match self.next().as_deref() {
                    Some(",") => continue,
                    Some(")") => break,
                    _ => return Err(invalid("expected ',' or ')' in the list")),
                }
            }
            return Ok(out);
        }
        let v = self.next().unwrap_or_default();
        Ok(vec![
            v.strip_prefix('\'')
                .ok_or_else(|| invalid(format!("expected a string literal, found '{v}'")))?
                .to_owned(),
        ])
    }
}

const OPS: &[&str] = &[
    "==",
    "!=",
    "=~",
    "!~",
    "contains",
    "startswith",
    "in",
    "in~",
    "!in",
];

/// Parses a query of the supported subset.
///
/// # Errors
/// 400 `BadRequest` with the reason in `details`.
pub fn parse(query: &str) -> Result<Query, RpError> {
    let parts = split_pipes(query);
    let table = parts.first().map(String::as_str).unwrap_or_default();
    if !table.eq_ignore_ascii_case("resources") {
        return Err(invalid(format!(
            "only the 'Resources' table is supported, not '{table}'"
        )));
    }
    let mut q = Query::default();
    for part in &parts[1..] {
        let mut p = Parser {
            toks: tokens(part)?,
            pos: 0,
        };
        let op = p.next().unwrap_or_default().to_ascii_lowercase();
        match op.as_str() {
            "where" => loop {
                let expr = p.expr()?;
                let mut o = p.next().unwrap_or_default().to_ascii_lowercase();
                if o == "!" && p.peek() == Some("in") {
                    p.pos += 1;
                    o = "!in".into();
                } else if o == "in" && p.peek() == Some("~") {
                    p.pos += 1;
                    o = "in~".into();
                }
                if !OPS.contains(&o.as_str()) {
                    return Err(invalid(format!("operator '{o}' is not supported")));
                }
                let values = p.value_list()?;
                q.wheres.push(Term {
                    expr,
                    op: o,
                    values,
                });
                match p.next() {
                    None => break,
                    Some(a) if a.eq_ignore_ascii_case("and") => continue,
                    Some(other) => {
                        return Err(invalid(format!(
                            "'{other}' is not supported in where (only 'and')"
                        )));
                    }
                }
            },
            "project" => {
                let mut cols = Vec::new();
                loop {
                    let c = p.next().ok_or_else(|| invalid("project needs columns"))?;
                    cols.push(c);
                    match p.next() {
                        None => break,
                        Some(x) if x == "," => continue,
                        Some(x) => return Err(invalid(format!("unexpected '{x}' in project"))),
                    }
                }
                q.project = Some(cols);
            }
            "order" | "sort" => {
                p.expect("by")?;
                let col = p.next().ok_or_else(|| invalid("order by needs a column"))?;
                let desc = match p.next().map(|d| d.to_ascii_lowercase()) {
                    Some(d) if d == "desc" => true,
                    Some(d) if d == "asc" => false,
                    None => true, // KQL sorts descending by default
                    Some(d) => return Err(invalid(format!("unexpected '{d}' after order by"))),
                };
                q.order = Some((col, desc));
            }
            "limit" | "take" => {
                let n = p
                    .next()
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| invalid("limit needs a number"))?;
                q.limit = Some(n);
            }
            other => return Err(invalid(format!("operator '{other}' is not supported"))),
        }
    }
    Ok(q)
}
