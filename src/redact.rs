//! Removing credentials from URLs before they reach any output.

use serde_json::Value;

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
        rest = &tail[authority_end..];
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
}
