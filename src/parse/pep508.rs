//! PEP 508 requirements parsed within bounds. pep508_rs parses markers by recursive descent:
//! a METADATA line `Requires-Dist: x ; ((((…3,000 levels…))))` or a `--forbid` spec like it
//! would overflow the stack and abort the whole scan. Text is checked before it reaches the
//! parser.

use pep508_rs::{Pep508Url, Requirement};
use std::str::FromStr;

/// Longest requirement parsed (real ones are under 200 bytes).
pub const MAX_REQUIREMENT_BYTES: usize = 8 * 1024;
/// Deepest parenthesis nesting parsed (real markers nest two or three levels).
pub const MAX_NESTING: usize = 32;

/// Parse a PEP 508 requirement, refusing text too long or nested too deep for the parser.
pub fn parse_requirement<T: Pep508Url>(text: &str) -> Result<Requirement<T>, String> {
    if text.len() > MAX_REQUIREMENT_BYTES {
        return Err(format!("longer than {MAX_REQUIREMENT_BYTES} bytes"));
    }
    if nesting(text) > MAX_NESTING {
        return Err(format!("parentheses nested deeper than {MAX_NESTING} levels"));
    }
    if let Some(word) = separator_at_end(text) {
        return Err(format!("name {word:?} must end with an alphanumeric character"));
    }
    // PEP 508 text is ASCII (names, versions, operators, marker variables; URLs are
    // percent-encoded). pep508_rs 0.9 panics on multi-byte characters in places: it measures
    // a word after a marker in characters and slices it in bytes, and its error message
    // slices the input at a byte offset inside a character. Non-ASCII text is refused.
    if !text.is_ascii() {
        return Err("non-ASCII character in a PEP 508 requirement".into());
    }
    // The checks above refuse what pep508_rs 0.9 is known to panic on; should it panic on
    // something else (parsing or formatting its error), that costs this one requirement,
    // not the scan.
    std::panic::catch_unwind(|| Requirement::<T>::from_str(text).map_err(|e| e.to_string()))
        .map_err(|_| "the PEP 508 parser failed on this text".to_owned())?
}

/// A package name or extra that ends in `.`, `-` or `_`. pep508_rs 0.9 panics on one that
/// is followed by more text (`foo. >1`, `syntax. Then ...` in a requires.txt, `x[a.]`): its
/// name and extras parsers accept the separator and then `expect` the name to be valid. Such
/// a name is invalid PEP 508 wherever it stands, so it is refused before the parser.
fn separator_at_end(text: &str) -> Option<&str> {
    let is_name = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
    let word = |s: &str| -> Option<usize> {
        let s = s.trim_start();
        let end = s.find(|c: char| !is_name(c)).unwrap_or(s.len());
        s[..end].ends_with(['.', '-', '_']).then_some(end)
    };
    let text = text.trim_start();
    if let Some(end) = word(text) {
        return Some(&text[..end]);
    }
    let name_end = text.find(|c: char| !is_name(c)).unwrap_or(text.len());
    let extras = text[name_end..].trim_start().strip_prefix('[')?;
    let extras = extras.split(']').next().unwrap_or(extras);
    extras.split(',').map(str::trim_start).find_map(|e| word(e).map(|end| &e[..end]))
}

/// Deepest parenthesis or bracket nesting in the text (quotes are not special: a quoted
/// parenthesis only makes the bound stricter, never looser).
fn nesting(text: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for b in text.bytes() {
        match b {
            b'(' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b')' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;
    use pep508_rs::VerbatimUrl;

    #[test]
    fn deep_markers_are_refused_before_the_parser() {
        let deep = format!("x ; {}python_version > '3'{}", "(".repeat(3000), ")".repeat(3000));
        let e = parse_requirement::<VerbatimUrl>(&deep).unwrap_err();
        assert!(e.contains("nested deeper"), "{e}");
        let ok = "requests[socks] (>=2.0) ; (python_version >= '3.8' and (os_name == 'posix'))";
        assert_eq!(parse_requirement::<VerbatimUrl>(ok).unwrap().name.as_ref(), "requests");
        // The bound sits above anything real and below what the parser survives on a small
        // stack: MAX_NESTING levels parse on a 256 KiB thread.
        let edge = format!("x ; {}python_version > '3'{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
        let parsed = std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(move || parse_requirement::<VerbatimUrl>(&edge).is_ok())
            .unwrap()
            .join()
            .unwrap();
        assert!(parsed);
        assert!(parse_requirement::<VerbatimUrl>(&"x".repeat(MAX_REQUIREMENT_BYTES + 1)).is_err());
    }

    /// Found by the `pep508` and `metadata` fuzz targets: pep508_rs panicked on a name or
    /// extra ending in a separator when more text followed (`venvaudit query 'foo. >1'` exited
    /// 101; a requires.txt line `syntax. Then ...` ended the scan).
    #[test]
    fn names_ending_in_a_separator_are_errors_not_panics() {
        let crashes: &[&[u8]] = &[
            b"coloramform_s.\0\0\0m == \"Windows\"", // fuzz/artifacts/pep508/crash-637daf3d...
            b"syntax. Then the template is passed data to render the final document.", // metadata/crash-01c4dcfd...
        ];
        let texts = crashes.iter().map(|b| String::from_utf8_lossy(b).into_owned()).chain(
            ["foo. >1", "foo- ; python_version > '3'", " foo_ [x]", "x[a.]", "x[ok, b_ ] >1", "x [a-,b]"]
                .map(String::from),
        );
        for text in texts {
            let e = parse_requirement::<VerbatimUrl>(&text).unwrap_err();
            assert!(e.contains("must end with an alphanumeric character"), "{text:?}: {e}");
        }
        // Separators inside names and extras are fine, and other errors still come from the parser.
        for ok in ["zope.interface>=5", "foo-bar[x_y,a.b] ; extra == 'a.b'", "a_b @ https://h/a_b-1.0.tar.gz"] {
            assert!(parse_requirement::<VerbatimUrl>(ok).is_ok(), "{ok}");
        }
        assert!(!parse_requirement::<VerbatimUrl>("foo >").unwrap_err().contains("alphanumeric"));
    }

    /// Found by the `pep508` fuzz target: pep508_rs sliced a marker, and the message of its
    /// error for a bad extra, inside a multi-byte character (`end byte index 47 is not a char
    /// boundary`) and panicked.
    #[test]
    fn non_ascii_text_is_an_error_not_a_panic() {
        let crash: &[u8] = b"pythonnet>=3.0.4; sys_platform == \"win\x992\"\xe0\x9e\x91\x91 python_version >= \"3.40\" and python_version < \"3.13\""; // fuzz/artifacts/pep508/crash-41768094...
        let crash2: &[u8] = b"jsonschema[format-nm0t-nongp \xaextraon\" or d\0\0\0\"json-validation\""; // crash-8b478e48...
        let texts = [
            String::from_utf8_lossy(crash).into_owned(),
            String::from_utf8_lossy(crash2).into_owned(),
            "x ; python_version > '3' \u{e9}\u{e9}".into(),
            "caf\u{e9}>=1".into(),
        ];
        for text in texts {
            let e = parse_requirement::<VerbatimUrl>(&text).unwrap_err();
            assert!(e.contains("non-ASCII"), "{text:?}: {e}");
        }
        assert!(parse_requirement::<VerbatimUrl>("cafe>=1 ; os_name == 'posix'").is_ok());
    }
}
