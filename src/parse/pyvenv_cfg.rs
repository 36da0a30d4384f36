//! `pyvenv.cfg` (PEP 405), parsed the way CPython's `site.py` reads it.

use std::collections::BTreeMap;

/// The keys of one pyvenv.cfg, lower-cased, in file order of last occurrence.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PyvenvCfg {
    entries: BTreeMap<String, String>,
}

impl PyvenvCfg {
    /// Parse the text of a pyvenv.cfg. Lines without `=` are ignored, as site.py does.
    pub fn parse(text: &str) -> Self {
        let mut entries = BTreeMap::new();
        for line in text.lines() {
            if let Some((k, v)) = line.split_once('=') {
                let key = k.trim().to_ascii_lowercase();
                if !key.is_empty() {
                    entries.insert(key, v.trim().to_owned());
                }
            }
        }
        PyvenvCfg { entries }
    }

    /// A value by (lower-case) key; empty values count as absent.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries.get(key).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// `include-system-site-packages`, false unless `true` (case-insensitive), as site.py.
    pub fn include_system_site_packages(&self) -> bool {
        self.get("include-system-site-packages").is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// The full Python version: `version_info` (virtualenv, uv) or `version` (stdlib venv).
    pub fn version(&self) -> Option<(&'static str, &str)> {
        if let Some(v) = self.get("version_info") {
            return Some(("pyvenv.cfg:version_info", v));
        }
        self.get("version").map(|v| ("pyvenv.cfg:version", v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_site_py() {
        let cfg = PyvenvCfg::parse(
            "home = /usr/bin\nInclude-System-Site-Packages = TRUE\nversion_info = 3.12.1.final.0\nuv = 0.5.1\nnonsense\n",
        );
        assert_eq!(cfg.get("home"), Some("/usr/bin"));
        assert!(cfg.include_system_site_packages());
        assert_eq!(cfg.version(), Some(("pyvenv.cfg:version_info", "3.12.1.final.0")));
        assert_eq!(cfg.get("uv"), Some("0.5.1"));
    }
}
