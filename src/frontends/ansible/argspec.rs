//! Option validation that behaves like AnsibleModule's `argument_spec`, so the binary module
//! answers a bad task the way every Python module does: an unknown option fails with the list
//! of valid ones, a wrong type names the option and the type it wanted, and the conversions
//! AnsibleModule makes (`"yes"` is a bool, `"3"` an int, `"a,b"` a list) are made here too.

use serde_json::{Map, Value};

/// The type of an option, as `argument_spec`'s `type` key.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// `type: str`; scalars are converted to strings.
    Str,
    /// `type: path`; a string with `~` and `$VAR` expanded on the managed host.
    Path,
    /// `type: bool`; accepts AnsibleModule's boolean spellings.
    Bool,
    /// `type: int`; accepts integral numbers and numeric strings.
    Int,
    /// `type: list` with `elements`; a comma-separated string is split into a list.
    List(Elem),
}

/// The type of the elements of a list option.
#[derive(Debug, Clone, Copy)]
pub enum Elem {
    /// `elements: str`.
    Str,
    /// `elements: path`.
    Path,
    /// `elements: dict` with these suboptions.
    Dict(&'static [Opt]),
}

/// One option of a module.
#[derive(Debug, Clone, Copy)]
pub struct Opt {
    /// Option name.
    pub name: &'static str,
    /// Its type.
    pub kind: Kind,
    /// Allowed values (for lists: allowed elements); empty means any.
    pub choices: &'static [&'static str],
    /// Whether it must be given.
    pub required: bool,
    /// Default as JSON text (`null` for none), reported in `invocation`.
    pub default: &'static str,
}

impl Opt {
    /// An optional option with no default.
    pub const fn new(name: &'static str, kind: Kind) -> Opt {
        Opt { name, kind, choices: &[], required: false, default: "null" }
    }

    /// Restrict values to `choices`.
    pub const fn choices(mut self, choices: &'static [&'static str]) -> Opt {
        self.choices = choices;
        self
    }

    /// Set the default (JSON text).
    pub const fn default(mut self, default: &'static str) -> Opt {
        self.default = default;
        self
    }

    /// Make the option required.
    pub const fn required(mut self) -> Opt {
        self.required = true;
        self
    }
}

/// `spec` as ansible-core's `argument_spec` (`{name: {type, elements, choices, default,
/// required, options}}`): what `NAME --argspec` prints, and where ansible/build.sh takes the
/// documented `choices` from.
pub fn to_json(spec: &[Opt]) -> Value {
    let mut out = Map::new();
    for o in spec {
        let mut d = Map::new();
        let (ty, elements) = match o.kind {
            Kind::Str => ("str", None),
            Kind::Path => ("path", None),
            Kind::Bool => ("bool", None),
            Kind::Int => ("int", None),
            Kind::List(Elem::Str) => ("list", Some("str")),
            Kind::List(Elem::Path) => ("list", Some("path")),
            Kind::List(Elem::Dict(sub)) => {
                d.insert("options".to_owned(), to_json(sub));
                ("list", Some("dict"))
            }
        };
        d.insert("type".to_owned(), Value::from(ty));
        if let Some(e) = elements {
            d.insert("elements".to_owned(), Value::from(e));
        }
        if !o.choices.is_empty() {
            d.insert("choices".to_owned(), Value::from(o.choices.to_vec()));
        }
        let default: Value = serde_json::from_str(o.default).unwrap_or(Value::Null);
        if !default.is_null() {
            d.insert("default".to_owned(), default);
        }
        d.insert("required".to_owned(), Value::Bool(o.required));
        out.insert(o.name.to_owned(), Value::Object(d));
    }
    Value::Object(out)
}

/// Arguments AnsibleModule would refuse, in its words (`Unsupported parameters for ...`,
/// `missing required arguments: ...`, `value of fail_on must be one of: ...`).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ArgError(pub String);

/// Validate `params` (without `_ansible_*` keys) against `spec` and return every option of
/// the spec with its converted value or default, as AnsibleModule's `module.params`.
/// Unknown options are an error unless `ignore_unknown` (`_ansible_ignore_unknown_opts`).
pub fn validate(
    module: &str,
    spec: &[Opt],
    params: &Map<String, Value>,
    ignore_unknown: bool,
) -> Result<Map<String, Value>, ArgError> {
    validate_in(module, spec, params, ignore_unknown, &[]).map_err(ArgError)
}

fn validate_in(
    module: &str,
    spec: &[Opt],
    params: &Map<String, Value>,
    ignore_unknown: bool,
    context: &[String],
) -> Result<Map<String, Value>, String> {
    let found_in = found_in(context);
    let mut unknown: Vec<&str> =
        params.keys().map(String::as_str).filter(|k| !spec.iter().any(|o| o.name == *k)).collect();
    if !unknown.is_empty() && !ignore_unknown {
        unknown.sort_unstable();
        let mut supported: Vec<&str> = spec.iter().map(|o| o.name).collect();
        supported.sort_unstable();
        return Err(format!(
            "Unsupported parameters for ({module}) module: {}{found_in}. Supported parameters include: {}.",
            unknown.join(", "),
            supported.join(", ")
        ));
    }
    let missing: Vec<&str> =
        spec.iter().filter(|o| o.required && params.get(o.name).is_none_or(Value::is_null)).map(|o| o.name).collect();
    if !missing.is_empty() {
        return Err(format!("missing required arguments: {}{found_in}", missing.join(", ")));
    }
    let mut out = Map::new();
    for opt in spec {
        let value = match params.get(opt.name) {
            None | Some(Value::Null) => serde_json::from_str(opt.default).unwrap_or(Value::Null),
            Some(v) => {
                let converted = convert(module, opt, v, context)?;
                check_choices(opt, &converted, &found_in)?;
                converted
            }
        };
        out.insert(opt.name.to_owned(), value);
    }
    Ok(out)
}

fn found_in(context: &[String]) -> String {
    if context.is_empty() { String::new() } else { format!(" found in {}", context.join(" -> ")) }
}

/// Python's name for a JSON value's type, as AnsibleModule's messages use.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

fn convert(module: &str, opt: &Opt, v: &Value, context: &[String]) -> Result<Value, String> {
    let fail = |wanted: &str, why: String| {
        format!(
            "argument '{}' is of type {}{} and we were unable to convert to {wanted}: {why}",
            opt.name,
            type_name(v),
            found_in(context)
        )
    };
    match opt.kind {
        Kind::Str => to_str(v).map(Value::String).map_err(|e| fail("str", e)),
        Kind::Path => to_str(v).map(|s| Value::String(expand_path(&s))).map_err(|e| fail("path", e)),
        Kind::Bool => to_bool(v).map(Value::Bool).map_err(|e| fail("bool", e)),
        Kind::Int => to_int(v).map(Value::from).map_err(|e| fail("int", e)),
        Kind::List(elem) => {
            let items = to_list(v).map_err(|e| fail("list", e))?;
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(convert_elem(module, opt.name, elem, &item, context)?);
            }
            Ok(Value::Array(out))
        }
    }
}

fn convert_elem(module: &str, name: &str, elem: Elem, v: &Value, context: &[String]) -> Result<Value, String> {
    let fail = |wanted: &str, why: String| {
        format!(
            "Elements value for option '{name}'{} is of type {} and we were unable to convert to {wanted}: {why}",
            found_in(context),
            type_name(v)
        )
    };
    match elem {
        Elem::Str => to_str(v).map(Value::String).map_err(|e| fail("str", e)),
        Elem::Path => to_str(v).map(|s| Value::String(expand_path(&s))).map_err(|e| fail("path", e)),
        Elem::Dict(sub) => {
            let obj = to_dict(v).map_err(|e| fail("dict", e))?;
            let mut ctx = context.to_vec();
            ctx.push(name.to_owned());
            validate_in(module, sub, &obj, false, &ctx).map(Value::Object)
        }
    }
}

fn check_choices(opt: &Opt, v: &Value, found_in: &str) -> Result<(), String> {
    if opt.choices.is_empty() {
        return Ok(());
    }
    let choices = opt.choices.join(", ");
    match v {
        Value::String(s) if !opt.choices.contains(&s.as_str()) => {
            Err(format!("value of {} must be one of: {choices}, got: {s}{found_in}", opt.name))
        }
        Value::Array(items) => {
            let bad: Vec<&str> = items.iter().filter_map(Value::as_str).filter(|s| !opt.choices.contains(s)).collect();
            if bad.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "value of {} must be one or more of: {choices}. Got no match for: {}{found_in}",
                    opt.name,
                    bad.join(", ")
                ))
            }
        }
        _ => Ok(()),
    }
}

fn to_str(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(if *b { "True" } else { "False" }.to_owned()),
        other => Err(format!("'{other}' is not a string")),
    }
}

/// AnsibleModule's boolean spellings (`BOOLEANS_TRUE` / `BOOLEANS_FALSE`).
fn to_bool(v: &Value) -> Result<bool, String> {
    const TRUE: &[&str] = &["y", "yes", "on", "1", "true", "t"];
    const FALSE: &[&str] = &["n", "no", "off", "0", "false", "f"];
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) => {
            let s = s.trim().to_lowercase();
            if TRUE.contains(&s.as_str()) {
                Ok(true)
            } else if FALSE.contains(&s.as_str()) {
                Ok(false)
            } else {
                Err(format!(
                    "The value '{s}' is not a valid boolean. Valid booleans include: {}",
                    [TRUE, FALSE].concat().join(", ")
                ))
            }
        }
        Value::Number(n) if n.as_f64() == Some(1.0) => Ok(true),
        Value::Number(n) if n.as_f64() == Some(0.0) => Ok(false),
        other => Err(format!("'{other}' cannot be converted to a bool")),
    }
}

fn to_int(v: &Value) -> Result<i64, String> {
    let bad = || {
        format!("'{}' cannot be converted to an int", v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()))
    };
    match v {
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Ok(i),
            (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
            _ => Err(bad()),
        },
        Value::String(s) => {
            let s = s.trim();
            if let Ok(i) = s.parse::<i64>() {
                return Ok(i);
            }
            match s.parse::<f64>() {
                Ok(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
                _ => Err(bad()),
            }
        }
        _ => Err(bad()),
    }
}

/// A list, or AnsibleModule's legacy conversions: a comma-separated string is split, a number
/// is a one-item list. Unlike AnsibleModule, items are trimmed and empty items dropped, so
/// `"/srv, /opt"` means two paths, not `/srv` and ` /opt`.
fn to_list(v: &Value) -> Result<Vec<Value>, String> {
    match v {
        Value::Array(items) => Ok(items.clone()),
        Value::String(s) => {
            Ok(s.split(',').map(str::trim).filter(|p| !p.is_empty()).map(|p| Value::String(p.to_owned())).collect())
        }
        Value::Number(n) => Ok(vec![Value::String(n.to_string())]),
        other => Err(format!("{} cannot be converted to a list", type_name(other))),
    }
}

/// A dict, or a string holding a JSON object or `k=v` pairs (as AnsibleModule's check_type_dict).
fn to_dict(v: &Value) -> Result<Map<String, Value>, String> {
    match v {
        Value::Object(m) => Ok(m.clone()),
        Value::String(s) if s.trim_start().starts_with('{') => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err("dictionary requested, could not parse JSON".to_owned()),
        },
        Value::String(s) => {
            let mut m = Map::new();
            for pair in s.split([',', ' ']).filter(|p| !p.is_empty()) {
                let (k, val) = pair
                    .split_once('=')
                    .ok_or_else(|| format!("dictionary requested, could not parse {pair:?} as key=value"))?;
                m.insert(k.trim().to_owned(), Value::String(val.trim().to_owned()));
            }
            Ok(m)
        }
        other => Err(format!("{} cannot be converted to a dict", type_name(other))),
    }
}

/// `~`, `~/x`, `$VAR` and `${VAR}` expanded as Python's `expanduser(expandvars(p))`, which
/// AnsibleModule applies to `type: path`. Unknown variables are left as written.
pub fn expand_path(p: &str) -> String {
    let vars = expand_vars(p);
    match vars.strip_prefix('~') {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => match std::env::var("HOME") {
            Ok(home) if !home.is_empty() => format!("{}{rest}", home.trim_end_matches('/')),
            _ => vars,
        },
        _ => vars,
    }
}

fn expand_vars(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    let mut rest = p;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, consumed) = if let Some(braced) = after.strip_prefix('{') {
            match braced.find('}') {
                Some(end) => (&braced[..end], end + 2),
                None => ("", 0),
            }
        } else {
            let end = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
            (&after[..end], end)
        };
        match std::env::var(name) {
            Ok(val) if !name.is_empty() => {
                out.push_str(&val);
                rest = &after[consumed..];
            }
            _ => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SUB: &[Opt] = &[Opt::new("id", Kind::Str), Opt::new("reason", Kind::Str).required()];
    const SPEC: &[Opt] = &[
        Opt::new("paths", Kind::List(Elem::Str)).default("[]"),
        Opt::new("max_depth", Kind::Int),
        Opt::new("packages", Kind::Bool).default("true"),
        Opt::new("fail_on", Kind::Str).choices(&["error", "warning", "never"]).default("\"error\""),
        Opt::new("checks", Kind::List(Elem::Str)).choices(&["eol", "interpreter"]),
        Opt::new("ignore", Kind::List(Elem::Dict(SUB))),
    ];

    fn run(v: Value) -> Result<Map<String, Value>, String> {
        validate("venv_check", SPEC, v.as_object().unwrap(), false).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_and_conversions() {
        let p = run(json!({"paths": "/srv, /opt,", "max_depth": "3", "packages": "no"})).unwrap();
        assert_eq!(p["paths"], json!(["/srv", "/opt"]));
        assert_eq!(p["max_depth"], json!(3));
        assert_eq!(p["packages"], json!(false));
        assert_eq!(p["fail_on"], json!("error"));
        assert_eq!(p["checks"], Value::Null);
        let p = run(json!({"max_depth": 2.0, "packages": null, "paths": 7})).unwrap();
        assert_eq!(p["max_depth"], json!(2));
        assert_eq!(p["packages"], json!(true));
        assert_eq!(p["paths"], json!(["7"]));
    }

    #[test]
    fn unknown_options_list_the_valid_ones() {
        let e = run(json!({"pathz": [], "zzz": 1})).unwrap_err();
        assert_eq!(
            e,
            "Unsupported parameters for (venv_check) module: pathz, zzz. Supported parameters include: checks, fail_on, ignore, max_depth, packages, paths."
        );
        assert!(validate("m", SPEC, json!({"pathz": 1}).as_object().unwrap(), true).is_ok());
    }

    #[test]
    fn wrong_types_name_option_and_type() {
        let e = run(json!({"max_depth": "deep"})).unwrap_err();
        assert!(e.starts_with("argument 'max_depth' is of type str and we were unable to convert to int"), "{e}");
        let e = run(json!({"packages": "maybe"})).unwrap_err();
        assert!(e.contains("'packages'") && e.contains("bool") && e.contains("maybe"), "{e}");
        let e = run(json!({"paths": {"a": 1}})).unwrap_err();
        assert!(e.contains("'paths' is of type dict") && e.contains("list"), "{e}");
        let e = run(json!({"paths": [["x"]]})).unwrap_err();
        assert!(e.starts_with("Elements value for option 'paths' is of type list"), "{e}");
        let e = run(json!({"max_depth": 1.5})).unwrap_err();
        assert!(e.contains("'max_depth' is of type float"), "{e}");
    }

    #[test]
    fn choices_are_enforced() {
        let e = run(json!({"fail_on": "fatal"})).unwrap_err();
        assert_eq!(e, "value of fail_on must be one of: error, warning, never, got: fatal");
        let e = run(json!({"checks": "eol,nope"})).unwrap_err();
        assert!(e.contains("Got no match for: nope"), "{e}");
    }

    #[test]
    fn suboptions_are_validated() {
        let p = run(json!({"ignore": [{"id": "x", "reason": "r"}, "id=y reason=known"]})).unwrap();
        assert_eq!(p["ignore"][1], json!({"id": "y", "reason": "known"}));
        let e = run(json!({"ignore": [{"id": "x"}]})).unwrap_err();
        assert_eq!(e, "missing required arguments: reason found in ignore");
        let e = run(json!({"ignore": [{"reason": "r", "idd": "x"}]})).unwrap_err();
        assert!(e.contains("idd found in ignore. Supported parameters include: id, reason."), "{e}");
    }

    #[test]
    fn the_spec_prints_as_an_argument_spec() {
        let v = to_json(SPEC);
        assert_eq!(
            v["fail_on"],
            json!({"type": "str", "choices": ["error", "warning", "never"], "default": "error", "required": false})
        );
        assert_eq!(
            v["checks"],
            json!({"type": "list", "elements": "str", "choices": ["eol", "interpreter"], "required": false})
        );
        assert_eq!(v["max_depth"], json!({"type": "int", "required": false}));
        assert_eq!(v["ignore"]["options"]["reason"], json!({"type": "str", "required": true}));
        let names: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(names.len(), SPEC.len());
    }

    #[test]
    fn paths_expand_home_and_vars() {
        // SAFETY of the test: HOME is read, never changed, so this works in parallel tests.
        let home = std::env::var("HOME").unwrap_or_default();
        if !home.is_empty() {
            assert_eq!(expand_path("~/x"), format!("{}/x", home.trim_end_matches('/')));
            assert_eq!(expand_path("$HOME/y"), format!("{home}/y"));
            assert_eq!(expand_path("${HOME}"), home);
        }
        assert_eq!(expand_path("/a/$VENVAUDIT_SURELY_UNSET_VAR/b"), "/a/$VENVAUDIT_SURELY_UNSET_VAR/b");
        assert_eq!(expand_path("~user/x"), "~user/x");
        assert_eq!(expand_path("cost$"), "cost$");
    }
}
