//! Azure's error as a user pastes it from another tool, read back into code, message and
//! details so [`super::explain`] can find its row (`galleon doctor explain`).
//!
//! The forms read, each as Azure or its tools print it:
//! - ARM's JSON error body `{"error":{"code","message","details":[...]}}` and the bare
//!   `{"code",...}` (arm-errors.md §0); a deployment's operation status
//!   `{"status":"Failed","error":{...}}` and the deployment itself `{"properties":{"error":...}}`
//!   (§7); a detail whose message is the resource provider's body as a JSON string (§7, older
//!   form); Entra's token error `{"error":"invalid_request","error_description":"AADSTS..."}`
//!   (entra.md §2). JSON may follow a prefix (`ERROR: `, `Deployment failed. ...`).
//! - The Azure CLI's text (azure-core's `HttpResponseError`): `(Code) message`, then `Code:`,
//!   `Message:`, `Target:` lines, and `Exception Details:` with the inner errors indented.
//! - Go SDK texts of Terraform: `Code="X" Message="..."` (autorest) and `with error: X: ...`
//!   (go-azure-sdk).
//! - An Entra message anywhere: `AADSTS50020: User account ...`.

use serde_json::Value;

use super::Entry;

/// One error and the errors nested in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pasted {
    /// Azure's code (`LinkedAuthorizationFailed`, `AADSTS50020`).
    pub code: String,
    /// Azure's message.
    pub message: String,
    /// Nested errors (`error.details`, az's `Exception Details`).
    pub details: Vec<Pasted>,
}

impl Pasted {
    /// Reads `text` in any of the forms above; `None` when no error code can be found in it.
    pub fn parse(text: &str) -> Option<Pasted> {
        let text = text.trim().trim_start_matches('\u{feff}');
        from_json_text(text)
            .or_else(|| from_az_text(text))
            .or_else(|| from_sdk_text(text))
            .or_else(|| from_aadsts(text))
    }

    /// The row explaining this error, and the error (this one or a nested one) it explains.
    /// Wrappers (`DeploymentFailed`, ...) are explained by the first detail that has a row, at
    /// any depth, and by their own row only when none has.
    pub fn explain(&self) -> Option<(&'static Entry, &Pasted)> {
        if super::is_wrapper(&self.code) {
            for d in &self.details {
                if let Some(found) = d.explain() {
                    return Some(found);
                }
            }
        }
        super::explain(&self.code, &self.message).map(|e| (e, self))
    }
}

fn from_json_text(text: &str) -> Option<Pasted> {
    let v = serde_json::from_str::<Value>(text).ok().or_else(|| {
        let (start, end) = (text.find('{')?, text.rfind('}')?);
        serde_json::from_str(text.get(start..=end)?).ok()
    })?;
    from_value(&v)
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    let obj = v.as_object()?;
    obj.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .and_then(|(_, v)| v.as_str())
}

fn from_value(v: &Value) -> Option<Pasted> {
    if let Some(error) = v.get("error") {
        if error.is_object() {
            return from_value(error);
        }
        if let Some(oauth) = error.as_str() {
            let description = str_of(v, "error_description").unwrap_or_default();
            return Some(entra(oauth, description));
        }
    }
    if let Some(error) = v.pointer("/properties/error").filter(|e| e.is_object()) {
        return from_value(error);
    }
    let code = str_of(v, "code").filter(|c| !c.is_empty())?;
    let message = str_of(v, "message").unwrap_or_default();
    // The older deployment detail carries the provider's whole body as its message, under a
    // code that only names the HTTP status (`Forbidden`, `Conflict`): the body is the error.
    if let Some(inner) = serde_json::from_str::<Value>(message.trim())
        .ok()
        .and_then(|m| from_value(&m))
    {
        return Some(inner);
    }
    let details = v
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("details"))
        .and_then(|(_, d)| d.as_array())
        .map(|ds| ds.iter().filter_map(from_value).collect())
        .unwrap_or_default();
    Some(with_aadsts(Pasted {
        code: code.to_string(),
        message: message.to_string(),
        details,
    }))
}

/// An Entra answer: the `AADSTS` code of its description names it better than the OAuth error.
fn entra(oauth_error: &str, description: &str) -> Pasted {
    // Entra appends `\r\nTrace ID: ...` and timestamps: noise for the explanation.
    let message = description.split(['\r', '\n']).next().unwrap_or_default();
    Pasted {
        code: aadsts_code(message).unwrap_or_else(|| oauth_error.to_string()),
        message: message.to_string(),
        details: Vec::new(),
    }
}

fn with_aadsts(mut p: Pasted) -> Pasted {
    if let Some(code) = aadsts_code(&p.message).filter(|_| !p.code.starts_with("AADSTS")) {
        p.code = code;
    }
    p
}

/// `AADSTS50020` when `text` contains one.
fn aadsts_code(text: &str) -> Option<String> {
    let at = text.find("AADSTS")?;
    let digits: String = text[at + 6..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (!digits.is_empty()).then(|| format!("AADSTS{digits}"))
}

fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

/// The Azure CLI's form. The first error found is the outer one; later ones are its details
/// (`Exception Details:` lists the inner errors, each as `(Code) message` with `Code:` and
/// `Message:` lines indented under it).
fn from_az_text(text: &str) -> Option<Pasted> {
    let mut found: Vec<Pasted> = Vec::new();
    for raw in text.lines() {
        let line = raw.trim();
        let line = line.strip_prefix("ERROR:").unwrap_or(line).trim_start();
        let line = line
            .strip_prefix("Exception Details:")
            .unwrap_or(line)
            .trim_start();
        if let Some(rest) = line.strip_prefix('(')
            && let Some((code, message)) = rest.split_once(')')
            && is_code(code)
        {
            found.push(Pasted {
                code: code.to_string(),
                message: message.trim().to_string(),
                details: Vec::new(),
            });
        } else if let Some(code) = line.strip_prefix("Code:").map(str::trim) {
            let same = found.last().is_some_and(|p| p.code == code);
            if !same && is_code(code) {
                found.push(Pasted {
                    code: code.to_string(),
                    ..Pasted::default()
                });
            }
        } else if let Some(message) = line.strip_prefix("Message:")
            && let Some(last) = found.last_mut()
        {
            last.message = message.trim().to_string();
        }
    }
    let mut found = found.into_iter().map(with_aadsts);
    let mut outer = found.next()?;
    outer.details = found.collect();
    Some(outer)
}

/// Terraform's azurerm through the Go SDKs.
fn from_sdk_text(text: &str) -> Option<Pasted> {
    let quoted = |key: &str| {
        let at = text.find(key)? + key.len();
        let rest = &text[at..];
        rest.find('"').map(|end| rest[..end].to_string())
    };
    if let Some(code) = quoted("Code=\"").filter(|c| is_code(c)) {
        let message = quoted("Message=\"").unwrap_or_default();
        return Some(with_aadsts(Pasted {
            code,
            message,
            details: Vec::new(),
        }));
    }
    let at = text.find("with error: ")? + "with error: ".len();
    let (code, message) = text[at..].split_once(':')?;
    is_code(code.trim()).then(|| Pasted {
        code: code.trim().to_string(),
        message: message
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_string(),
        details: Vec::new(),
    })
}

fn from_aadsts(text: &str) -> Option<Pasted> {
    let at = text.find("AADSTS")?;
    let p = entra("", &text[at..]);
    p.code.starts_with("AADSTS").then_some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> (String, Vec<String>) {
        let p = Pasted::parse(text).expect("parses");
        (p.code, p.details.into_iter().map(|d| d.code).collect())
    }

    fn row(text: &str) -> Option<&'static str> {
        Pasted::parse(text)?.explain().map(|(e, _)| e.id)
    }

    const LINKED: &str = "The client has permission to perform action 'Microsoft.Compute/galleries/images/versions/read' on scope '/subscriptions/bbbb/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web', however the current tenant '2222' is not authorized to access linked subscription 'aaaa'.";

    #[test]
    fn reads_arm_json_bodies_and_deployment_statuses() {
        let body =
            format!(r#"{{"error":{{"code":"LinkedAuthorizationFailed","message":"{LINKED}"}}}}"#);
        assert_eq!(row(&body), Some("linked_tenant"));
        let status = format!(
            r#"ERROR: {{"status":"Failed","error":{{"code":"DeploymentFailed","message":"At least one resource deployment operation failed.","details":[{{"code":"LinkedAuthorizationFailed","message":"{LINKED}"}}]}}}}"#
        );
        assert_eq!(
            parsed(&status),
            (
                "DeploymentFailed".into(),
                vec!["LinkedAuthorizationFailed".into()]
            )
        );
        assert_eq!(row(&status), Some("linked_tenant"));
        let deployment = r#"{"properties":{"provisioningState":"Failed","error":{"code":"DeploymentFailed","message":"x","details":[{"code":"Whatever","message":"y"}]}}}"#;
        assert_eq!(row(deployment), Some("deployment_failed"));
    }

    #[test]
    fn a_detail_holding_the_provider_body_as_a_string_is_that_body() {
        let inner =
            format!(r#"{{"error":{{"code":"LinkedAuthorizationFailed","message":"{LINKED}"}}}}"#);
        let outer = serde_json::json!({"error": {"code": "DeploymentFailed", "message": "m",
            "details": [{"code": "Forbidden", "message": inner}]}});
        assert_eq!(row(&outer.to_string()), Some("linked_tenant"));
    }

    #[test]
    fn reads_the_azure_cli_text_with_exception_details() {
        let az = format!(
            "ERROR: (DeploymentFailed) At least one resource deployment operation failed.\nCode: DeploymentFailed\nMessage: At least one resource deployment operation failed.\nTarget: /subscriptions/bbbb/resourceGroups/rg/providers/Microsoft.Resources/deployments/vm_deploy_x\nException Details:\t(LinkedAuthorizationFailed) {LINKED}\n\tCode: LinkedAuthorizationFailed\n\tMessage: {LINKED}\n"
        );
        assert_eq!(
            parsed(&az),
            (
                "DeploymentFailed".into(),
                vec!["LinkedAuthorizationFailed".into()]
            )
        );
        assert_eq!(row(&az), Some("linked_tenant"));
        let only_lines =
            "Code: ImageVersionDeprecated\nMessage: The platform image 'a:b:c:1' is deprecated.";
        assert_eq!(row(only_lines), Some("image_version_deprecated"));
    }

    #[test]
    fn reads_terraform_and_entra_texts() {
        let autorest = format!(
            "compute.VirtualMachinesClient#CreateOrUpdate: Failure sending request: StatusCode=403 -- Original Error: Code=\"LinkedAuthorizationFailed\" Message=\"{LINKED}\""
        );
        assert_eq!(row(&autorest), Some("linked_tenant"));
        let go = format!(
            "performing CreateOrUpdate: unexpected status 403 (403 Forbidden) with error: LinkedAuthorizationFailed: {LINKED}"
        );
        assert_eq!(row(&go), Some("linked_tenant"));
        let msal = r#"{"error":"invalid_request","error_description":"AADSTS50020: User account 'dev@contoso.com' from identity provider 'live.com' does not exist in tenant 'Fabrikam'.\r\nTrace ID: 1","error_codes":[50020]}"#;
        assert_eq!(parsed(msal).0, "AADSTS50020");
        assert_eq!(
            row("az login: AADSTS50020: User account 'x' does not exist"),
            Some("aadsts50020")
        );
    }

    #[test]
    fn text_without_an_error_code_is_not_read() {
        assert_eq!(Pasted::parse("it did not work"), None);
        assert_eq!(Pasted::parse("{\"status\": \"Succeeded\"}"), None);
        assert_eq!(
            row(r#"{"error":{"code":"NoSuchCode","message":"x"}}"#),
            None
        );
    }
}
