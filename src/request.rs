//! One request type for every front-end: the CLI's flags, the JSON request of `venvaudit
//! run`, the Ansible module's arguments and the Salt module's keyword arguments all become
//! a [`Request`]. Unknown keys and wrong types are rejected with the offending key named.

use serde::Deserialize;
use serde_json::Value;

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Discover environments and report their facts.
    Facts,
}

/// A scan request. Field names are the JSON request keys (documented in the README).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Request {
    /// What to do (required in JSON mode).
    pub action: Option<Action>,
    /// Directories to scan (view paths inside `root`); default `/`.
    pub paths: Vec<String>,
    /// Glob patterns not to walk.
    pub exclude: Vec<String>,
    /// Maximum directory depth below each path.
    pub max_depth: Option<usize>,
    /// Treat this directory as `/` (image, container rootfs, chroot).
    pub root: Option<String>,
    /// Worker threads (default: CPU count).
    pub jobs: Option<usize>,
    /// Follow symlinked directories (loops are detected).
    pub follow_symlinks: bool,
    /// Walk into other local filesystems below a path.
    pub cross_mounts: bool,
    /// Include package lists (default true).
    pub packages: bool,
    /// Only counts and versions: no package lists, no evidence.
    pub summary: bool,
}

impl Default for Request {
    fn default() -> Self {
        Request {
            action: None,
            paths: Vec::new(),
            exclude: Vec::new(),
            max_depth: None,
            root: None,
            jobs: None,
            follow_symlinks: false,
            cross_mounts: false,
            packages: true,
            summary: false,
        }
    }
}

/// The JSON keys a request accepts, for error messages.
pub const KEYS: &[&str] = &[
    "action", "paths", "exclude", "max_depth", "root", "jobs", "follow_symlinks", "cross_mounts", "packages", "summary",
];

impl Request {
    /// Parse a JSON request, naming the key at fault on error.
    pub fn from_json(v: Value) -> Result<Request, String> {
        let obj = v.as_object().ok_or_else(|| "request must be a JSON object".to_owned())?;
        if let Some(bad) = obj.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(format!("unsupported parameter: {bad}; supported parameters: {}", KEYS.join(", ")));
        }
        serde_path_to_error::deserialize(v).map_err(|e| {
            let path = e.path().to_string();
            format!("invalid value for {path}: {}", e.inner())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_keys_and_types_are_named() {
        let e = Request::from_json(json!({"action": "facts", "pathz": []})).unwrap_err();
        assert!(e.contains("pathz") && e.contains("paths"), "{e}");
        let e = Request::from_json(json!({"action": "facts", "max_depth": "x"})).unwrap_err();
        assert!(e.contains("max_depth"), "{e}");
        let r = Request::from_json(json!({"action": "facts"})).unwrap();
        assert!(r.packages);
    }
}
