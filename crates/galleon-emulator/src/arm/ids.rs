//! ARM resource ids and request paths, parsed once so that routing, RBAC and the providers agree
//! on what a path means.
//!
//! Shape: `{scope}/providers/{Namespace}/{type}/{name}[/{type}/{name}]...[/{action}]` where
//! `{scope}` is `""`, `/subscriptions/{s}`, `/subscriptions/{s}/resourceGroups/{rg}` or any
//! resource id (extension resources such as role assignments hang off the *last* `providers`).
//! Resource groups themselves are `Microsoft.Resources/resourceGroups` without a `providers`
//! segment, as in ARM.

/// A parsed ARM path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmPath {
    /// The path as sent, without a trailing slash.
    pub raw: String,
    /// Subscription id, when the path is under one.
    pub subscription: Option<String>,
    /// Resource group name, when the path is under one.
    pub resource_group: Option<String>,
    /// Everything before the last `/providers/` (or the RG/subscription path).
    pub scope: String,
    /// Provider namespace, e.g. `Microsoft.Compute`.
    pub namespace: Option<String>,
    /// Type segments below the namespace, e.g. `["galleries", "images"]`.
    pub types: Vec<String>,
    /// Name segments matching `types` (one fewer for a collection).
    pub names: Vec<String>,
    /// A trailing segment after a complete type/name chain (POST actions like `share`).
    pub action: Option<String>,
}

/// What kind of thing a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    /// One resource (`.../galleries/g`).
    Instance,
    /// A collection (`.../galleries`), or an action when the method is POST.
    Collection,
}

impl ArmPath {
    /// Parses a URL path. Returns `None` for paths that are not ARM-shaped.
    pub fn parse(path: &str) -> Option<Self> {
        let raw = path.trim_end_matches('/').to_owned();
        let owned: Vec<String> = raw.split('/').skip(1).map(str::to_owned).collect();
        let segs: Vec<&str> = owned.iter().map(String::as_str).collect();
        let mut subscription = None;
        let mut resource_group = None;
        let mut i = 0;
        if segs
            .first()
            .is_some_and(|s| s.eq_ignore_ascii_case("subscriptions"))
        {
            subscription = segs.get(1).map(|s| (*s).to_owned());
            i = 2;
            if segs
                .get(2)
                .is_some_and(|s| s.eq_ignore_ascii_case("resourceGroups"))
            {
                resource_group = segs.get(3).map(|s| (*s).to_owned());
                i = 4;
            }
        }
        // The last `providers` segment at an even offset from `i` starts the provider part.
        let last_providers = (i..segs.len())
            .rev()
            .find(|j| segs[*j].eq_ignore_ascii_case("providers") && j + 1 < segs.len());
        let (scope, namespace, rest) = match last_providers {
            Some(p) => {
                let scope = if p == 0 {
                    String::new()
                } else {
                    format!("/{}", segs[..p].join("/"))
                };
                (scope, Some(segs[p + 1].to_owned()), &segs[p + 2..])
            }
            None => {
                // Built-in Microsoft.Resources paths: /subscriptions[/s[/resourceGroups[/rg]]]
                let scope = String::new();
                return Some(Self::builtin(
                    raw,
                    subscription,
                    resource_group,
                    scope,
                    &segs,
                ));
            }
        };
        let mut types = Vec::new();
        let mut names = Vec::new();
        for (k, seg) in rest.iter().enumerate() {
            if k % 2 == 0 {
                types.push((*seg).to_owned());
            } else {
                names.push((*seg).to_owned());
            }
        }
        Some(Self {
            raw,
            subscription,
            resource_group,
            scope,
            namespace,
            types,
            names,
            action: None,
        })
    }

    fn builtin(
        raw: String,
        subscription: Option<String>,
        resource_group: Option<String>,
        scope: String,
        segs: &[&str],
    ) -> Self {
        let mut types = Vec::new();
        let mut names = Vec::new();
        if !segs.is_empty() {
            types.push(segs[0].to_owned());
        }
        if let Some(s) = segs.get(1) {
            names.push((*s).to_owned());
        }
        if let Some(t) = segs.get(2) {
            types.push((*t).to_owned());
        }
        if let Some(n) = segs.get(3) {
            names.push((*n).to_owned());
        }
        for (k, seg) in segs.iter().enumerate().skip(4) {
            if k % 2 == 0 {
                types.push((*seg).to_owned());
            } else {
                names.push((*seg).to_owned());
            }
        }
        Self {
            raw,
            subscription,
            resource_group,
            scope,
            namespace: Some("Microsoft.Resources".to_owned()),
            types,
            names,
            action: None,
        }
    }

    /// Instance or collection, by segment counts.
    pub fn kind(&self) -> PathKind {
        if self.names.len() == self.types.len() {
            PathKind::Instance
        } else {
            PathKind::Collection
        }
    }

    /// Lower-cased `type/type/...` used to find the provider (`galleries/images`).
    pub fn type_path(&self) -> String {
        self.types.join("/").to_ascii_lowercase()
    }

    /// `Namespace/type/type` as ARM spells it in errors and RBAC actions.
    pub fn full_type(&self) -> String {
        format!(
            "{}/{}",
            self.namespace.as_deref().unwrap_or(""),
            self.types.join("/")
        )
    }

    /// Treats the last type segment of a collection path as a POST action (`.../g/share`):
    /// returns the action name and turns the path into the instance it applies to.
    pub fn into_action(mut self) -> Self {
        if self.kind() == PathKind::Collection
            && let Some(action) = self.types.pop()
        {
            self.raw = self.raw[..self.raw.len() - action.len() - 1].to_owned();
            self.action = Some(action);
        }
        self
    }

    /// The id of the resource this path names (instance) or of the parent (collection).
    pub fn resource_id(&self) -> &str {
        &self.raw
    }

    /// The parent resource id of an instance path with nested types (`.../galleries/g` for an
    /// image), or `None` for a top-level resource.
    pub fn parent_id(&self) -> Option<String> {
        if self.types.len() < 2 || self.kind() != PathKind::Instance {
            return None;
        }
        let cut = self.types.last()?.len() + self.names.last()?.len() + 2;
        let parent = &self.raw[..self.raw.len() - cut];
        // A resource group's "parent" is its subscription, which is not a stored resource.
        let is_subscription = parent.matches('/').count() == 2 && self.scope.is_empty();
        (!is_subscription).then(|| parent.to_owned())
    }

    /// The resource group's id, when the path is under one.
    pub fn resource_group_id(&self) -> Option<String> {
        Some(format!(
            "/subscriptions/{}/resourceGroups/{}",
            self.subscription.as_deref()?,
            self.resource_group.as_deref()?
        ))
    }

    /// The resource name (last name segment).
    pub fn name(&self) -> Option<&str> {
        self.names.last().map(String::as_str)
    }
}

/// The type of a stored resource id (`Microsoft.Compute/galleries/images`), or `None` when the
/// id is not a resource id.
pub fn type_of(id: &str) -> Option<String> {
    let p = ArmPath::parse(id)?;
    if p.kind() != PathKind::Instance || p.types.is_empty() {
        return None;
    }
    if p.namespace.as_deref() == Some("Microsoft.Resources") && p.scope.is_empty() {
        // `/subscriptions/s/resourceGroups/rg` parses as types [subscriptions, resourceGroups].
        return match p.types.len() {
            1 => Some("Microsoft.Resources/subscriptions".into()),
            2 => Some("Microsoft.Resources/resourceGroups".into()),
            _ => None,
        };
    }
    Some(p.full_type())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_resource_parses_with_parent() {
        let p = ArmPath::parse(
            "/subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/galleries/g/images/i",
        )
        .unwrap();
        assert_eq!(p.subscription.as_deref(), Some("S"));
        assert_eq!(p.resource_group.as_deref(), Some("RG"));
        assert_eq!(p.type_path(), "galleries/images");
        assert_eq!(p.kind(), PathKind::Instance);
        assert_eq!(
            p.parent_id().unwrap(),
            "/subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/galleries/g"
        );
        assert_eq!(p.full_type(), "Microsoft.Compute/galleries/images");
    }

    #[test]
    fn extension_resource_uses_last_providers() {
        let p = ArmPath::parse(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/providers/Microsoft.Authorization/roleAssignments/x",
        )
        .unwrap();
        assert_eq!(p.namespace.as_deref(), Some("Microsoft.Authorization"));
        assert_eq!(
            p.scope,
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g"
        );
        assert_eq!(p.name(), Some("x"));
    }

    #[test]
    fn action_is_split_off() {
        let p = ArmPath::parse(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/share",
        )
        .unwrap()
        .into_action();
        assert_eq!(p.action.as_deref(), Some("share"));
        assert_eq!(p.kind(), PathKind::Instance);
        assert!(p.raw.ends_with("/galleries/g"));
    }

    #[test]
    fn builtin_paths_and_types() {
        let p = ArmPath::parse("/subscriptions/s/resourcegroups/rg").unwrap();
        assert_eq!(p.type_path(), "subscriptions/resourcegroups");
        assert_eq!(p.kind(), PathKind::Instance);
        assert_eq!(
            type_of("/subscriptions/s/resourceGroups/rg").unwrap(),
            "Microsoft.Resources/resourceGroups"
        );
        assert_eq!(
            type_of("/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/a")
                .unwrap(),
            "Microsoft.Authorization/roleAssignments"
        );
        let list =
            ArmPath::parse("/subscriptions/s/providers/Microsoft.Compute/virtualMachines").unwrap();
        assert_eq!(list.kind(), PathKind::Collection);
        assert_eq!(list.scope, "/subscriptions/s");
    }
}
