//! Python ABI tags of extension-module file names (PEP 3149): `cpython-311-x86_64-linux-gnu`
//! in `_x.cpython-311-x86_64-linux-gnu.so`, `abi3`, PyPy's and GraalPy's tags.

/// The ABI tag of an extension module file name: `x.cpython-311-x86_64-linux-gnu.so` ->
/// `cpython-311-x86_64-linux-gnu`, `x.abi3.so` -> `abi3`; `None` for a plain `x.so` or a
/// non-extension.
pub fn extension_abi_tag(file_name: &str) -> Option<String> {
    let stem = file_name.strip_suffix(".so")?;
    let (_, tag) = stem.rsplit_once('.')?;
    (!tag.is_empty()).then(|| tag.to_owned())
}

/// The C library a multiarch triplet names (`x86_64-linux-musl`, `aarch64-linux-gnu`).
pub fn platform_libc(platform: &str) -> Option<crate::parse::elf::LibcFlavor> {
    use crate::parse::elf::LibcFlavor;
    if platform.contains("-linux-musl") {
        Some(LibcFlavor::Musl)
    } else if platform.contains("-linux-gnu") {
        Some(LibcFlavor::Glibc)
    } else {
        None
    }
}

/// An extension-module ABI tag from a file name, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AbiTag {
    /// `cpython-311-x86_64-linux-gnu`, `cpython-37m-x86_64-linux-gnu`, `cpython-313t-…`.
    CPython {
        /// Major version.
        major: u32,
        /// Minor version.
        minor: u32,
        /// ABI flags: `t` free-threaded, `d` debug, `m` pymalloc (3.7 and older), `u` wide unicode.
        flags: String,
        /// Multiarch triplet, e.g. `x86_64-linux-gnu`, absent in old tags.
        platform: Option<String>,
    },
    /// The stable ABI (`.abi3.so`): loads in CPython 3 builds that are not free-threaded.
    Abi3,
    /// PyPy and GraalPy tags, compared verbatim.
    Other(String),
}

/// Parse the tag part of an extension file name (`cpython-311-x86_64-linux-gnu`). Anything
/// that is not a Python ABI tag (`libopenblas.0.3.23.dev.so` gives `dev`) is `None`.
pub fn parse_abi_tag(tag: &str) -> Option<AbiTag> {
    if tag == "abi3" {
        return Some(AbiTag::Abi3);
    }
    if let Some(rest) = tag.strip_prefix("cpython-") {
        let (ver, platform) = match rest.split_once('-') {
            Some((v, p)) => (v, Some(p.to_owned())),
            None => (rest, None),
        };
        let end = ver.find(|c: char| !c.is_ascii_digit()).unwrap_or(ver.len());
        let (digits, flags) = ver.split_at(end);
        if digits.len() < 2 || !flags.chars().all(|c| "dmut".contains(c)) {
            return None;
        }
        let major = digits[..1].parse().ok()?;
        let minor = digits[1..].parse().ok()?;
        return Some(AbiTag::CPython { major, minor, flags: flags.to_owned(), platform });
    }
    if tag.starts_with("pypy") || tag.starts_with("graalpy") {
        return Some(AbiTag::Other(tag.to_owned()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abi_tags() {
        assert_eq!(
            extension_abi_tag("_x.cpython-311-x86_64-linux-gnu.so").as_deref(),
            Some("cpython-311-x86_64-linux-gnu")
        );
        assert_eq!(extension_abi_tag("_rust.abi3.so").as_deref(), Some("abi3"));
        assert_eq!(extension_abi_tag("_x.so"), None);
        assert_eq!(extension_abi_tag("libfoo.so.1"), None);
    }

    #[test]
    fn tags_parse() {
        assert_eq!(
            parse_abi_tag("cpython-37m-x86_64-linux-gnu"),
            Some(AbiTag::CPython { major: 3, minor: 7, flags: "m".into(), platform: Some("x86_64-linux-gnu".into()) })
        );
        assert_eq!(parse_abi_tag("abi3"), Some(AbiTag::Abi3));
        assert_eq!(parse_abi_tag("dev"), None);
        assert_eq!(parse_abi_tag("cpython-x"), None);
        assert!(matches!(parse_abi_tag("pypy39-pp73-x86_64-linux-gnu"), Some(AbiTag::Other(_))));
    }
}
