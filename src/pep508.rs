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
    Requirement::<T>::from_str(text).map_err(|e| e.to_string())
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
}
