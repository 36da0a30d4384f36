//! Removing credentials from URLs and command lines before they reach any output.

use serde_json::Value;

/// Words that name a secret, in query-string keys (`?token=`), option names (`--password`)
/// and environment assignments (`DB_PASSWORD=`), compared case-insensitively by substring.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "token",
    "secret",
    "apikey",
    "api_key",
    "api-key",
    "access_key",
    "access-key",
    "private_key",
    "private-key",
    "credential",
    "signature",
    "sig",
    "auth",
    "key",
];

/// Whether a key or option name names a secret (`X-Amz-Signature`, `--db-password`, `key`).
fn names_secret(name: &str) -> bool {
    let n = name.trim_start_matches('-').to_ascii_lowercase();
    // Short words only as whole names or name parts, so `--keyfile-dir` or `sort` stay.
    SECRET_WORDS.iter().any(
        |w| {
            if w.len() <= 4 { n.split(['-', '_', '.']).any(|part| part == *w) } else { n.contains(w) }
        },
    )
}

/// Replace the values of secret-named query parameters (`?token=abc&x=1` -> `?token=****&x=1`).
fn redact_query(url: &str) -> String {
    let Some(q) = url.find('?') else { return url.to_owned() };
    let (head, query) = url.split_at(q + 1);
    let (query, fragment) = match query.find('#') {
        Some(h) => query.split_at(h),
        None => (query, ""),
    };
    let parts: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) if !v.is_empty() && names_secret(k) => format!("{k}=****"),
            _ => kv.to_owned(),
        })
        .collect();
    format!("{head}{}{fragment}", parts.join("&"))
}

/// A process command line for output: URLs redacted ([`redact_url`]), the value after a
/// secret-named option (`--password X`, `--token=X`) and of secret-named assignments
/// (`DB_PASSWORD=X`) replaced with `****`.
pub fn redact_cmdline(args: &[String]) -> String {
    let mut out: Vec<String> = Vec::with_capacity(args.len());
    let mut hide_next = false;
    for a in args {
        if hide_next {
            out.push("****".into());
            hide_next = false;
            continue;
        }
        if a.starts_with('-') {
            match a.split_once('=') {
                Some((name, v)) if !v.is_empty() && names_secret(name) => {
                    out.push(format!("{name}=****"));
                    continue;
                }
                None if names_secret(a) && a.starts_with("--") => hide_next = true,
                _ => {}
            }
        } else if let Some((name, v)) = a.split_once('=')
            && !name.contains('/')
            && !v.is_empty()
            && !v.contains("://")
            && names_secret(name)
        {
            out.push(format!("{name}=****"));
            continue;
        }
        out.push(redact_url(a));
    }
    out.join(" ")
}

/// Replace the user-info part of every URL in `text` (`https://user:token@host`) with
/// `****`. The conventional ssh user `git@` is kept: it is not a secret and helps reading.
pub fn redact_url(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let authority_end = tail.find(['/', '?', '#', ' ', '"', '\'']).unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match authority.rfind('@') {
            Some(at) if &authority[..at] != "git" => {
                out.push_str("****");
                out.push_str(&authority[at..]);
            }
            _ => out.push_str(authority),
        }
        // The rest of this URL (path, query, fragment) up to the next whitespace or quote.
        let url_end = tail[authority_end..].find([' ', '"', '\'', '\n']).map_or(tail.len(), |e| authority_end + e);
        out.push_str(&redact_query(&tail[authority_end..url_end]));
        rest = &tail[url_end..];
    }
    out.push_str(rest);
    out
}

/// Redact every string inside a JSON value (direct_url.json and the like).
pub fn redact_json(v: &mut Value) {
    match v {
        Value::String(s) if s.contains("://") => *s = redact_url(s),
        Value::Array(a) => a.iter_mut().for_each(redact_json),
        Value::Object(o) => o.values_mut().for_each(redact_json),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_userinfo() {
        assert_eq!(redact_url("git+https://user:tok@example.com/a.git"), "git+https://****@example.com/a.git");
        assert_eq!(redact_url("https://ghp_abc@github.com/x"), "https://****@github.com/x");
        assert_eq!(redact_url("git+ssh://git@github.com/x"), "git+ssh://git@github.com/x");
        assert_eq!(redact_url("file:///srv/p"), "file:///srv/p");
        assert_eq!(redact_url("https://h/p@v1"), "https://h/p@v1");
        assert_eq!(redact_url("a https://u:p@h b https://x:y@z"), "a https://****@h b https://****@z");
    }

    #[test]
    fn strips_secret_query_parameters() {
        assert_eq!(redact_url("https://h/p.whl?token=abc&v=1#sha256=x"), "https://h/p.whl?token=****&v=1#sha256=x");
        assert_eq!(
            redact_url("https://b.s3.amazonaws.com/x?X-Amz-Signature=f00&X-Amz-Credential=AK&y=2"),
            "https://b.s3.amazonaws.com/x?X-Amz-Signature=****&X-Amz-Credential=****&y=2"
        );
        assert_eq!(redact_url("https://h/simple/?page=2"), "https://h/simple/?page=2");
    }

    #[test]
    fn strips_secret_arguments() {
        let args = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(
            redact_cmdline(&args("gunicorn --password hunter2 --bind 0.0.0.0:80 app:wsgi")),
            "gunicorn --password **** --bind 0.0.0.0:80 app:wsgi"
        );
        assert_eq!(redact_cmdline(&args("x --api-key=abc --keyfile-dir /k")), "x --api-key=**** --keyfile-dir /k");
        assert_eq!(redact_cmdline(&args("env DB_PASSWORD=s3 PATH=/bin x")), "env DB_PASSWORD=**** PATH=/bin x");
        assert_eq!(
            redact_cmdline(&args("pip install git+https://u:p@h/r.git --sort")),
            "pip install git+https://****@h/r.git --sort"
        );
    }
}
