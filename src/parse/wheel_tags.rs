//! Wheel file names and platform compatibility tags, as the installer judges them (PEP 427,
//! PEP 425, PEP 600, PEP 656, PEP 703; `packaging.tags` and pip's candidate ranking).
//!
//! Both halves follow `packaging` 26.4 (the version pip 26.3 vendors is 26.3, with the same
//! rules); the unit tests compare them with the real `packaging` from `.tools/venv`.

/// One compatibility tag `interpreter-abi-platform` (`cp312-cp312-manylinux_2_17_x86_64`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag {
    /// `cp312`, `py3`, `pp310`.
    pub interpreter: String,
    /// `cp312`, `cp313t`, `abi3`, `none`.
    pub abi: String,
    /// `manylinux_2_17_x86_64`, `linux_x86_64`, `any`.
    pub platform: String,
}

impl std::fmt::Display for Tag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}-{}", self.interpreter, self.abi, self.platform)
    }
}

/// A wheel file name, parsed: `{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl`,
/// compressed tag sets (`cp38.cp39`, `manylinux1_x86_64.manylinux_2_5_x86_64`) expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelName {
    /// The distribution name as written in the file name.
    pub name: String,
    /// PEP 503 normalized name.
    pub normalized: String,
    /// The version as written (`2.1.0+cpu`).
    pub version: String,
    /// The build tag: its leading number and the rest (`1` -> (1, "")), `None` when absent.
    pub build: Option<(u64, String)>,
    /// Every tag the name offers, expanded.
    pub tags: Vec<Tag>,
}

/// Why a file name is not a wheel name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: not a valid wheel file name: {reason}")]
pub struct WheelNameError {
    /// The file name.
    pub file: String,
    /// What is wrong.
    pub reason: String,
}

/// Parse a wheel file name (the last path component, already percent-decoded).
///
/// Follows `packaging.utils.parse_wheel_filename` (what pip uses): the name is `.whl`
/// (case-sensitive) after 4 or 5 dashes; the name is one or more of `\w` (letters and digits,
/// Unicode ones included, as Python's `re` counts them), `_` and `.`, without `__`; the build
/// tag starts with an ASCII digit; every member of a compressed tag set is nonempty and each
/// interpreter is an identifier; the tags are lowercased as `packaging.tags.Tag` does. Unlike
/// packaging the version is not checked against PEP 440, only for being nonempty and free of
/// whitespace. A compressed tag set that expands to more than 4096 tags is refused, as is a
/// build number above `u64::MAX`.
pub fn parse_wheel_name(file: &str) -> Result<WheelName, WheelNameError> {
    let fail = |reason: String| WheelNameError { file: file.to_owned(), reason };
    let stem = file.strip_suffix(".whl").ok_or_else(|| fail("the extension must be '.whl'".into()))?;
    let parts: Vec<&str> = stem.splitn(7, '-').collect();
    let (name, version, build, python, abi, platform) = match *parts.as_slice() {
        [name, version, python, abi, platform] => (name, version, None, python, abi, platform),
        [name, version, build, python, abi, platform] => (name, version, Some(build), python, abi, platform),
        _ => {
            let n = stem.split('-').count();
            return Err(fail(format!("{n} dash-separated parts, expected 5 or 6")));
        }
    };
    if name.is_empty() {
        return Err(fail("the project name is empty".into()));
    }
    if name.contains("__") || !name.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.') {
        return Err(fail(format!("invalid project name {name:?}")));
    }
    if version.is_empty() || version.chars().any(char::is_whitespace) {
        return Err(fail(format!("invalid version {version:?}")));
    }
    let build = match build {
        None => None,
        Some(b) => Some(parse_build_tag(b).map_err(fail)?),
    };
    let tags = expand_tags(python, abi, platform).map_err(fail)?;
    Ok(WheelName { name: name.to_owned(), normalized: normalize_name(name), version: version.to_owned(), build, tags })
}

/// The most tags a compressed tag set may expand to.
const MAX_WHEEL_TAGS: usize = 4096;

/// PEP 503 normalization as `packaging.utils.canonicalize_name` does it: lowercase, and every
/// run of `-`, `_` and `.` becomes one `-`.
fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A build tag (`(\d+)(.*)\Z`, ASCII digits; `.` does not match a newline).
fn parse_build_tag(build: &str) -> Result<(u64, String), String> {
    let end = build.find(|c: char| !c.is_ascii_digit()).unwrap_or(build.len());
    let (digits, rest) = build.split_at(end);
    if digits.is_empty() || rest.contains('\n') {
        return Err(format!("invalid build tag {build:?} (it must start with a digit)"));
    }
    let number = digits.parse::<u64>().map_err(|_| format!("build number {digits} is too large"))?;
    Ok((number, rest.to_owned()))
}

/// Python's `str.isidentifier`, approximated outside ASCII by Unicode alphabetic/alphanumeric.
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c == '_' || c.is_alphabetic() => chars.all(|c| c == '_' || c.is_alphanumeric()),
        _ => false,
    }
}

/// `packaging.tags.parse_tag` of `{python}-{abi}-{platform}`: the Cartesian product of the
/// dot-separated members, lowercased, duplicates dropped (packaging returns a set), in
/// interpreter, ABI, platform order.
fn expand_tags(python: &str, abi: &str, platform: &str) -> Result<Vec<Tag>, String> {
    let split = |component: &str| -> Result<Vec<String>, String> {
        let members: Vec<String> = component.split('.').map(str::to_lowercase).collect();
        if component.split('.').any(str::is_empty) {
            return Err(format!("empty member in tag component {component:?}"));
        }
        Ok(members)
    };
    let (pythons, abis, platforms) = (split(python)?, split(abi)?, split(platform)?);
    if let Some(bad) = python.split('.').find(|p| !is_identifier(p)) {
        return Err(format!("invalid interpreter tag {bad:?}"));
    }
    let count = pythons.len().saturating_mul(abis.len()).saturating_mul(platforms.len());
    if count > MAX_WHEEL_TAGS {
        return Err(format!("compressed tag set expands to {count} tags, more than {MAX_WHEEL_TAGS}"));
    }
    let mut seen = std::collections::HashSet::with_capacity(count);
    let mut tags = Vec::with_capacity(count);
    for i in &pythons {
        for a in &abis {
            for p in &platforms {
                let tag = Tag { interpreter: i.clone(), abi: a.clone(), platform: p.clone() };
                if seen.insert(tag.clone()) {
                    tags.push(tag);
                }
            }
        }
    }
    Ok(tags)
}

/// The C library of a target, with its version when known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetLibc {
    /// glibc (major, minor): manylinux_2_x for x <= minor.
    Glibc(u32, u32),
    /// musl (major, minor): musllinux_1_x for x <= minor.
    Musl(u32, u32),
    /// Not known: only `linux_<arch>` and `any` platforms.
    Unknown,
}

/// What an installer needs to know about the target interpreter to list its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagTarget {
    /// CPython (`cp`) or PyPy (`pp`).
    pub pypy: bool,
    /// Python (major, minor).
    pub version: (u32, u32),
    /// CPython ABI flags (`t` free-threaded, `d` debug, `m` for 3.7 and older).
    pub abi_flags: String,
    /// PyPy's ABI tag (`pypy310_pp73`) when the target is PyPy and it is known.
    pub pypy_abi: Option<String>,
    /// The machine as `platform.machine()` says it (`x86_64`, `aarch64`, `i686`).
    pub arch: String,
    /// The C library.
    pub libc: TargetLibc,
}

/// The tags the target supports, best first, exactly as `packaging.tags.sys_tags()` orders
/// them on such an interpreter and host.
///
/// That is packaging 26.3+ (pip 26.3 vendors 26.3): the native `linux_<arch>` platform comes
/// *first*, then `manylinux` (PEP 600 with the legacy `manylinux2014`/`2010`/`1` aliases), then
/// `musllinux`. The arch is taken as the process's own: packaging's remapping of a 32-bit
/// process on a 64-bit kernel (`x86_64` -> `i686`, `aarch64` -> `armv8l`) is the caller's to
/// do, by passing the 32-bit arch. `armv8l` also offers `armv7l`;
/// armv7l is assumed hard-float and i686 an i386 process, as packaging checks from the ELF
/// header; an arch outside packaging's list (x86_64, i686, aarch64, armv7l, ppc64, ppc64le,
/// s390x, loongarch64, riscv64) gets no `manylinux` tags. PyPy's compatible tag is `pp3-none-any`
/// (not `pp310-none-any`), as in `sys_tags`. The arch is normalized as `sysconfig.get_platform`
/// and packaging do (`.`, `-`, `/` and space become `_`) and every part lowercased as `Tag`
/// does. Absurd versions are clamped to keep the list bounded: the Python minor to 99, the
/// libc minor to 199 and the glibc major to 4. Duplicates (which packaging never produces for a
/// sane target) are dropped keeping the first.
pub fn supported_tags(target: &TagTarget) -> Vec<Tag> {
    let (major, minor) = (target.version.0, target.version.1.min(MAX_PYTHON_MINOR));
    let platforms = linux_platforms(&target.arch, target.libc);
    let mut tags = Vec::new();
    let compatible_interpreter = if target.pypy {
        let interpreter = format!("pp{major}{minor}");
        let mut abis: Vec<String> = Vec::new();
        if let Some(abi) = target.pypy_abi.as_deref().filter(|a| !a.is_empty()) {
            abis.push(normalize_tag_part(abi));
        }
        if !abis.iter().any(|a| a == "none") {
            abis.push("none".to_owned());
        }
        push_product(&mut tags, &interpreter, &abis, &platforms);
        "pp3".to_owned()
    } else {
        let interpreter = format!("cp{major}{minor}");
        cpython_tags(&mut tags, (major, minor), &target.abi_flags.to_lowercase(), &platforms);
        interpreter
    };
    compatible_tags(&mut tags, (major, minor), &compatible_interpreter, &platforms);
    let mut seen = std::collections::HashSet::with_capacity(tags.len());
    tags.retain(|t| seen.insert(t.clone()));
    tags
}

/// Clamp for the Python minor version (bounds the `abi3` and `py3x` ranges).
const MAX_PYTHON_MINOR: u32 = 99;
/// Clamp for glibc's and musl's minor version.
const MAX_LIBC_MINOR: u32 = 199;
/// Clamp for glibc's major version (each older major adds 51 `manylinux` tags per arch).
const MAX_GLIBC_MAJOR: u32 = 4;
/// packaging's `_LAST_GLIBC_MINOR` guess for every glibc major before the current one.
const LAST_GLIBC_MINOR: u32 = 50;
/// `packaging._manylinux._ALLOWED_ARCHS`.
const MANYLINUX_ARCHS: [&str; 7] = ["x86_64", "aarch64", "ppc64", "ppc64le", "s390x", "loongarch64", "riscv64"];

fn tag(interpreter: &str, abi: &str, platform: &str) -> Tag {
    Tag { interpreter: interpreter.to_owned(), abi: abi.to_owned(), platform: platform.to_owned() }
}

/// `_normalize_string` (`.`, `-`, space to `_`), lowercased as `Tag` does.
fn normalize_tag_part(s: &str) -> String {
    s.chars().map(|c| if matches!(c, '.' | '-' | ' ') { '_' } else { c }).collect::<String>().to_lowercase()
}

/// Every ABI for every platform, in that order (`generic_tags`' and `cpython_tags`' loop).
fn push_product(tags: &mut Vec<Tag>, interpreter: &str, abis: &[String], platforms: &[String]) {
    for abi in abis {
        for platform in platforms {
            tags.push(tag(interpreter, abi, platform));
        }
    }
}

/// `packaging.tags._linux_platforms` for a 64-bit process on a Linux with this libc.
fn linux_platforms(arch: &str, libc: TargetLibc) -> Vec<String> {
    let arch = normalize_tag_part(&arch.replace('/', "-"));
    let archs: Vec<String> = if arch == "armv8l" { vec![arch, "armv7l".to_owned()] } else { vec![arch] };
    let mut out: Vec<String> = archs.iter().map(|a| format!("linux_{a}")).collect();
    match libc {
        TargetLibc::Glibc(major, minor) => {
            manylinux_platforms(&archs, major.min(MAX_GLIBC_MAJOR), minor.min(MAX_LIBC_MINOR), &mut out)
        }
        TargetLibc::Musl(major, minor) => {
            for a in &archs {
                for x in (0..=minor.min(MAX_LIBC_MINOR)).rev() {
                    out.push(format!("musllinux_{major}_{x}_{a}"));
                }
            }
        }
        TargetLibc::Unknown => {}
    }
    out
}

/// `packaging._manylinux.platform_tags` with the given glibc and no `_manylinux` module.
fn manylinux_platforms(archs: &[String], major: u32, minor: u32, out: &mut Vec<String>) {
    let has = |name: &str| archs.iter().any(|a| a == name);
    // `_have_compatible_abi`: armv7l needs a hard-float process, i686 an i386 one (both
    // assumed); anything else must be in the allowed list.
    let compatible = has("armv7l") || has("i686") || archs.iter().any(|a| MANYLINUX_ARCHS.contains(&a.as_str()));
    if !compatible {
        return;
    }
    // The oldest glibc 2 minor supported is 17, or 5 on x86.
    let glibc2_floor: u32 = if has("x86_64") || has("i686") { 5 } else { 17 };
    // The current glibc, then every older major (down to 2) at its guessed last minor.
    let maxes = std::iter::once((major, minor)).chain((2..major).rev().map(|m| (m, LAST_GLIBC_MINOR)));
    let maxes: Vec<(u32, u32)> = maxes.collect();
    for arch in archs {
        for &(gmajor, gminor) in &maxes {
            let floor = if gmajor == 2 { glibc2_floor } else { 0 };
            for x in (floor..=gminor).rev() {
                out.push(format!("manylinux_{gmajor}_{x}_{arch}"));
                let legacy = match (gmajor, x) {
                    (2, 17) => "manylinux2014",
                    (2, 12) => "manylinux2010",
                    (2, 5) => "manylinux1",
                    _ => continue,
                };
                out.push(format!("{legacy}_{arch}"));
            }
        }
    }
}

/// `packaging.tags.cpython_tags` with the ABIs `_cpython_abis` gives for these flags.
fn cpython_tags(tags: &mut Vec<Tag>, (major, minor): (u32, u32), flags: &str, platforms: &[String]) {
    let interpreter = format!("cp{major}{minor}");
    let mut abis = vec![format!("cp{major}{minor}{flags}")];
    // Debug builds (3.8+) also load non-debug extension modules.
    if (major, minor) >= (3, 8) && flags.contains('d') {
        let threading = if flags.contains('t') { "t" } else { "" };
        abis.push(format!("cp{major}{minor}{threading}"));
    }
    // `_is_threaded_cpython`: the first ABI's flags (`cp\d+(.*)`) decide.
    let threaded = flags.split('\n').next().is_some_and(|f| f.contains('t'));
    push_product(tags, &interpreter, &abis, platforms);
    let stable_applies = (major, minor) >= (3, 2);
    let stable = match (stable_applies, threaded) {
        (false, _) => None,
        (true, false) => Some("abi3"),
        (true, true) => Some("abi3t"),
    };
    if let Some(stable) = stable {
        for platform in platforms {
            tags.push(tag(&interpreter, stable, platform));
        }
    }
    for platform in platforms {
        tags.push(tag(&interpreter, "none", platform));
    }
    if let Some(stable) = stable {
        for older in (2..minor).rev() {
            let interpreter = format!("cp{major}{older}");
            for platform in platforms {
                tags.push(tag(&interpreter, stable, platform));
            }
        }
    }
}

/// `packaging.tags.compatible_tags`: `py*-none-<platform>`, `<interpreter>-none-any`,
/// `py*-none-any`.
fn compatible_tags(tags: &mut Vec<Tag>, (major, minor): (u32, u32), interpreter: &str, platforms: &[String]) {
    let versions: Vec<String> = [format!("py{major}{minor}"), format!("py{major}")]
        .into_iter()
        .chain((0..minor).rev().map(|m| format!("py{major}{m}")))
        .collect();
    for version in &versions {
        for platform in platforms {
            tags.push(tag(version, "none", platform));
        }
    }
    tags.push(tag(interpreter, "none", "any"));
    for version in &versions {
        tags.push(tag(version, "none", "any"));
    }
}

/// Tag ranks for fast lookup: lower is better.
#[derive(Debug, Clone, Default)]
pub struct TagRanks {
    ranks: std::collections::HashMap<Tag, usize>,
}

impl TagRanks {
    /// Ranks of [`supported_tags`].
    pub fn new(target: &TagTarget) -> TagRanks {
        TagRanks { ranks: supported_tags(target).into_iter().enumerate().map(|(i, t)| (t, i)).collect() }
    }

    /// The best (lowest) rank of any tag a wheel offers; `None` when none is supported.
    pub fn rank(&self, wheel: &WheelName) -> Option<usize> {
        self.best(wheel).map(|(rank, _)| rank)
    }

    /// The best tag a wheel offers and its rank; `None` when none is supported.
    pub fn best<'w>(&self, wheel: &'w WheelName) -> Option<(usize, &'w Tag)> {
        wheel.tags.iter().filter_map(|t| self.ranks.get(t).map(|&r| (r, t))).min_by_key(|(r, _)| *r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::process::Command;

    fn tags_of(file: &str) -> Vec<String> {
        parse_wheel_name(file).unwrap().tags.iter().map(Tag::to_string).collect()
    }

    #[test]
    fn wheel_name_valid() {
        let w = parse_wheel_name("Foo.Bar_baz-2.1.0+cpu-cp312-cp312-manylinux_2_17_x86_64.whl").unwrap();
        assert_eq!(w.name, "Foo.Bar_baz");
        assert_eq!(w.normalized, "foo-bar-baz");
        assert_eq!(w.version, "2.1.0+cpu");
        assert_eq!(w.build, None);
        assert_eq!(w.tags, vec![tag("cp312", "cp312", "manylinux_2_17_x86_64")]);
        assert_eq!(w.tags[0].to_string(), "cp312-cp312-manylinux_2_17_x86_64");

        let w = parse_wheel_name("requests-2.32.3-py3-none-any.whl").unwrap();
        assert_eq!((w.normalized.as_str(), w.version.as_str()), ("requests", "2.32.3"));
        assert_eq!(tags_of("requests-2.32.3-py3-none-any.whl"), ["py3-none-any"]);
        // Runs of separators collapse; case folds.
        assert_eq!(parse_wheel_name("A._.B-1-py3-none-any.whl").unwrap().normalized, "a-b");
        assert_eq!(parse_wheel_name("A._B..c-1-py3-none-any.whl").unwrap().normalized, "a-b-c");
        // packaging's `\w` is Unicode.
        assert_eq!(parse_wheel_name("Ñame-1.0-py3-none-any.whl").unwrap().normalized, "ñame");
    }

    #[test]
    fn wheel_name_compressed_tags() {
        assert_eq!(
            tags_of("numpy-2.0.0-cp311.cp312-cp311.abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"),
            [
                "cp311-cp311-manylinux_2_17_x86_64",
                "cp311-cp311-manylinux2014_x86_64",
                "cp311-abi3-manylinux_2_17_x86_64",
                "cp311-abi3-manylinux2014_x86_64",
                "cp312-cp311-manylinux_2_17_x86_64",
                "cp312-cp311-manylinux2014_x86_64",
                "cp312-abi3-manylinux_2_17_x86_64",
                "cp312-abi3-manylinux2014_x86_64",
            ]
        );
        assert_eq!(tags_of("six-1.16.0-py2.py3-none-any.whl"), ["py2-none-any", "py3-none-any"]);
        // Lowercased as packaging's Tag does; a set, so duplicates go.
        assert_eq!(tags_of("x-1-PY3.py3-NONE-Linux_X86_64.whl"), ["py3-none-linux_x86_64"]);
        // Bounded: 17 * 16 * 16 = 4352 > 4096.
        let many = |n: usize, p: &str| (0..n).map(|i| format!("{p}{i}")).collect::<Vec<_>>().join(".");
        let big = format!("x-1-{}-{}-{}.whl", many(17, "py"), many(16, "a"), many(16, "p"));
        assert!(parse_wheel_name(&big).unwrap_err().reason.contains("4352 tags"));
        let ok = format!("x-1-{}-{}-{}.whl", many(16, "py"), many(16, "a"), many(16, "p"));
        assert_eq!(parse_wheel_name(&ok).unwrap().tags.len(), 4096);
    }

    #[test]
    fn wheel_name_build_tags() {
        let w = parse_wheel_name("foo-1.0-1-py3-none-any.whl").unwrap();
        assert_eq!(w.build, Some((1, String::new())));
        let w = parse_wheel_name("foo-1.0-007abc-py3-none-any.whl").unwrap();
        assert_eq!(w.build, Some((7, "abc".to_owned())));
        assert_eq!(w.tags, vec![tag("py3", "none", "any")]);
        let w = parse_wheel_name("foo-1.0-18446744073709551615_x-py3-none-any.whl").unwrap();
        assert_eq!(w.build, Some((u64::MAX, "_x".to_owned())));
        let e = parse_wheel_name("foo-1.0-18446744073709551616-py3-none-any.whl").unwrap_err();
        assert!(e.reason.contains("too large"), "{e}");
        for bad in ["foo-1.0-a1-py3-none-any.whl", "foo-1.0-١-py3-none-any.whl", "foo-1.0-1\nx-py3-none-any.whl"] {
            assert!(parse_wheel_name(bad).unwrap_err().reason.contains("build tag"), "{bad:?}");
        }
    }

    #[test]
    fn wheel_name_invalid() {
        for bad in [
            "foo-1.0-none-any.whl",         // 4 parts
            "foo-1.0-1-2-py3-none-any.whl", // 7 parts
            "foo--py3-none-any.whl",        // empty version
            "foo- -py3-none-any.whl",       // whitespace version
            "foo-1.0-x1-py3-none-any.whl",  // build tag not starting with a digit
            "foo-1.0--py3-none-any.whl",    // empty build tag
            "foo-1.0-py3-none-any.WHL",     // extension is case-sensitive
            "foo-1.0-py3-none-any.zip",
            "foo-1.0-py3-none-any",
            "-1.0-py3-none-any.whl",         // empty name
            "foo__bar-1.0-py3-none-any.whl", // `__` is refused
            "foo+bar-1.0-py3-none-any.whl",
            "foo bar-1.0-py3-none-any.whl",
            "foo-1.0-py3.-none-any.whl", // empty member of a tag set
            "foo-1.0-py3--any.whl",
            "foo-1.0-py3-none-.whl",
            "foo-1.0-3py-none-any.whl", // interpreter not an identifier
            "foo-1.0-py+3-none-any.whl",
            ".whl",
            "",
        ] {
            let e = parse_wheel_name(bad).expect_err(bad);
            assert_eq!(e.file, bad);
            assert!(e.to_string().starts_with(&format!("{bad}: not a valid wheel file name: ")));
        }
        assert!(parse_wheel_name("foo-1.0-none-any.whl").unwrap_err().reason.contains("4 dash-separated parts"));
        assert!(parse_wheel_name("a-b-c-d-e-f-g-h.whl").unwrap_err().reason.contains("8 dash-separated parts"));
    }

    #[test]
    fn wheel_name_never_panics() {
        let fixed = [
            "ü-ü-ü-ü-ü.whl",
            "é-1-2-py3-none-any.whl",
            "x-1-\u{0}-py3-none-any.whl",
            "x-1-9\u{1F600}-py3-none-any.whl",
            "\u{FEFF}-1-py3-none-any.whl",
            "x-1-py3-none-any.w\u{0301}hl",
            "----.whl",
            "-----.whl",
            "......whl",
            "x-1-İ-none-any.whl",
            "x-1-py3-ß-ǅ.whl",
            "ΣΑΣ-1-py3-none-any.whl",
        ];
        for f in fixed {
            let _ = parse_wheel_name(f);
        }
        // A small deterministic fuzz over an alphabet heavy in separators and multibyte chars.
        let alphabet: Vec<char> = "ab1_.- \n\u{0}é\u{1F600}İ9whl".chars().collect();
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            let mut s = String::new();
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 40) as usize;
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                s.push(alphabet[(state % alphabet.len() as u64) as usize]);
            }
            if state & 1 == 0 {
                s.push_str(".whl");
            }
            if let Ok(w) = parse_wheel_name(&s) {
                assert!(!w.tags.is_empty() && w.tags.len() <= MAX_WHEEL_TAGS, "{s:?}");
                assert!(!w.name.is_empty() && !w.version.is_empty(), "{s:?}");
            }
        }
    }

    #[test]
    fn supported_tags_shape() {
        let target = TagTarget {
            pypy: false,
            version: (3, 12),
            abi_flags: String::new(),
            pypy_abi: None,
            arch: "x86_64".into(),
            libc: TargetLibc::Glibc(2, 17),
        };
        let tags: Vec<String> = supported_tags(&target).iter().map(Tag::to_string).collect();
        assert_eq!(tags[0], "cp312-cp312-linux_x86_64");
        assert_eq!(tags[1], "cp312-cp312-manylinux_2_17_x86_64");
        assert_eq!(tags[2], "cp312-cp312-manylinux2014_x86_64");
        assert!(tags.contains(&"cp312-abi3-manylinux1_x86_64".to_owned()));
        assert!(tags.contains(&"cp32-abi3-manylinux2010_x86_64".to_owned()));
        assert_eq!(tags.last().unwrap(), "py30-none-any");
        let ranks = TagRanks::new(&target);
        let rank = |f: &str| ranks.rank(&parse_wheel_name(f).unwrap());
        assert_eq!(rank("x-1-cp312-cp312-linux_x86_64.whl"), Some(0));
        assert_eq!(rank("x-1-py3-none-any.whl"), Some(tags.iter().position(|t| t == "py3-none-any").unwrap()));
        assert_eq!(rank("x-1-cp312-cp312-manylinux_2_28_x86_64.whl"), None);
        assert_eq!(rank("x-1-cp312-cp312-musllinux_1_1_x86_64.whl"), None);

        // Absurd versions stay bounded.
        let absurd = TagTarget { version: (3, u32::MAX), libc: TargetLibc::Glibc(u32::MAX, u32::MAX), ..target };
        assert!(supported_tags(&absurd).len() < 200_000);
    }

    // ---- Comparison with the real `packaging` (.tools/venv, from scripts/setup.sh) ----

    /// Runs in the tools venv. argv[1]: JSON list of targets. Prints JSON: each target's tags
    /// from a patched `sys_tags()`, and the host's unpatched `sys_tags()` with what it is.
    const PACKAGING_SCRIPT: &str = r#"
import json, os, platform, sys, sysconfig, types
import packaging
from packaging import tags, _manylinux, _musllinux

host = {
    "packaging": packaging.__version__,
    "tags": [str(t) for t in tags.sys_tags()],
    "impl": sys.implementation.name,
    "version": list(sys.version_info[:2]),
    "abiflags": sys.abiflags,
    "machine": platform.machine(),
    "libc": os.confstr("CS_GNU_LIBC_VERSION"),
    "bits": 64 if sys.maxsize > 2**32 else 32,
}

real_sys = sys
out = {}
for t in json.loads(sys.argv[1]):
    major, minor = t["version"]
    kind, lmaj, lmin = t["libc"]
    glibc = _manylinux._GLibCVersion(lmaj, lmin) if kind == "glibc" else _manylinux._GLibCVersion(-1, -1)
    musl = _musllinux._MuslVersion(lmaj, lmin) if kind == "musl" else None
    # The host as packaging probes it: libc versions, no `_manylinux` module, and the ELF
    # header checks for armv7l (hard-float) and i686 answered yes.
    _manylinux._get_glibc_version = lambda glibc=glibc: glibc
    _manylinux._get_manylinux_module = lambda: None
    _manylinux._is_linux_armhf = lambda exe: True
    _manylinux._is_linux_i686 = lambda exe: True
    _musllinux._get_musl_version = lambda exe, musl=musl: musl
    sysconfig.get_platform = lambda arch=t["arch"]: "linux-" + arch
    flags = t["flags"]
    config = {
        "Py_DEBUG": "d" in flags,
        "Py_GIL_DISABLED": "t" in flags,
        "WITH_PYMALLOC": "m" in flags,
        "Py_UNICODE_SIZE": 4 if "u" in flags else 2,
        "py_version_nodot": f"{major}{minor}",
        "EXT_SUFFIX": t["ext_suffix"],
    }
    tags._get_config_var = lambda name, warn=False, config=config: config[name]
    tags.sys = types.SimpleNamespace(
        version_info=(major, minor, 0, "final", 0),
        implementation=types.SimpleNamespace(name="pypy" if t["pypy"] else "cpython"),
        maxunicode=real_sys.maxunicode,
    )
    got = [str(x) for x in tags.sys_tags()]
    if not t["pypy"]:
        # The same through the public pieces: cpython_tags + compatible_tags.
        plats = list(tags._linux_platforms(is_32bit=False))
        ver = (major, minor)
        explicit = list(tags.cpython_tags(python_version=ver, abis=list(tags._cpython_abis(ver)), platforms=plats))
        explicit += list(tags.compatible_tags(python_version=ver, interpreter=f"cp{major}{minor}", platforms=plats))
        assert got == [str(x) for x in explicit], t["name"]
    out[t["name"]] = got
    tags.sys = real_sys

print(json.dumps({"host": host, "targets": out}))
"#;

    fn tools_python() -> PathBuf {
        let python = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".tools/venv/bin/python");
        assert!(python.exists(), "{} is missing: run scripts/setup.sh", python.display());
        python
    }

    fn target(
        pypy: bool,
        version: (u32, u32),
        flags: &str,
        pypy_abi: Option<&str>,
        arch: &str,
        libc: TargetLibc,
    ) -> TagTarget {
        TagTarget {
            pypy,
            version,
            abi_flags: flags.into(),
            pypy_abi: pypy_abi.map(Into::into),
            arch: arch.into(),
            libc,
        }
    }

    fn strings(tags: &[Tag]) -> Vec<String> {
        tags.iter().map(Tag::to_string).collect()
    }

    /// Name, target, and the `EXT_SUFFIX` a PyPy with that ABI has.
    fn comparison_targets() -> Vec<(&'static str, TagTarget, &'static str)> {
        use TargetLibc::{Glibc, Musl, Unknown};
        let pp = |v, abi: Option<&'static str>, arch, libc| target(true, v, "", abi, arch, libc);
        let cp = |v, flags, arch, libc| target(false, v, flags, None, arch, libc);
        vec![
            // The brief's targets.
            ("cp312 x86_64 glibc 2.36", cp((3, 12), "", "x86_64", Glibc(2, 36)), ""),
            ("cp313t x86_64 glibc 2.36", cp((3, 13), "t", "x86_64", Glibc(2, 36)), ""),
            ("cp38 aarch64 glibc 2.28", cp((3, 8), "", "aarch64", Glibc(2, 28)), ""),
            ("cp311 x86_64 musl 1.2", cp((3, 11), "", "x86_64", Musl(1, 2)), ""),
            ("cp37m i686 glibc 2.17", cp((3, 7), "m", "i686", Glibc(2, 17)), ""),
            (
                "pp310 pypy310_pp73 x86_64 glibc 2.31",
                pp((3, 10), Some("pypy310_pp73"), "x86_64", Glibc(2, 31)),
                ".pypy310-pp73-x86_64-linux-gnu.so",
            ),
            // More of packaging's corners.
            ("cp39d x86_64 glibc 2.31", cp((3, 9), "d", "x86_64", Glibc(2, 31)), ""),
            ("cp313td aarch64 glibc 2.39", cp((3, 13), "td", "aarch64", Glibc(2, 39)), ""),
            ("cp314t ppc64le musl 1.2", cp((3, 14), "t", "ppc64le", Musl(1, 2)), ""),
            ("cp36dm x86_64 glibc 2.12", cp((3, 6), "dm", "x86_64", Glibc(2, 12)), ""),
            ("cp27mu x86_64 glibc 2.5", cp((2, 7), "mu", "x86_64", Glibc(2, 5)), ""),
            ("cp32 i686 glibc 2.4", cp((3, 2), "", "i686", Glibc(2, 4)), ""),
            ("cp312 armv8l glibc 2.31", cp((3, 12), "", "armv8l", Glibc(2, 31)), ""),
            ("cp312 armv7l musl 1.1", cp((3, 12), "", "armv7l", Musl(1, 1)), ""),
            ("cp311 riscv64 glibc 2.35", cp((3, 11), "", "riscv64", Glibc(2, 35)), ""),
            ("cp310 s390x glibc 2.16", cp((3, 10), "", "s390x", Glibc(2, 16)), ""),
            ("cp312 loongarch64 glibc 2.38", cp((3, 12), "", "loongarch64", Glibc(2, 38)), ""),
            ("cp312 mips64 glibc 2.36", cp((3, 12), "", "mips64", Glibc(2, 36)), ""),
            ("cp312 armv6l musl 1.2", cp((3, 12), "", "armv6l", Musl(1, 2)), ""),
            ("cp312 x86_64 unknown libc", cp((3, 12), "", "x86_64", Unknown), ""),
            ("cp312 x86_64 glibc 3.1", cp((3, 12), "", "x86_64", Glibc(3, 1)), ""),
            ("cp312 aarch64 glibc 4.0", cp((3, 12), "", "aarch64", Glibc(4, 0)), ""),
            ("pp39 no abi aarch64 musl 1.2", pp((3, 9), None, "aarch64", Musl(1, 2)), "..so"),
            (
                "pp311 pypy311_pp73 i686 glibc 2.17",
                pp((3, 11), Some("pypy311_pp73"), "i686", Glibc(2, 17)),
                ".pypy311-pp73-x86-linux-gnu.so",
            ),
        ]
    }

    fn run_packaging() -> serde_json::Value {
        let python = tools_python();
        let spec: Vec<serde_json::Value> = comparison_targets()
            .into_iter()
            .map(|(name, t, ext_suffix)| {
                let (kind, maj, min) = match t.libc {
                    TargetLibc::Glibc(a, b) => ("glibc", a, b),
                    TargetLibc::Musl(a, b) => ("musl", a, b),
                    TargetLibc::Unknown => ("unknown", 0, 0),
                };
                serde_json::json!({
                    "name": name, "pypy": t.pypy, "version": [t.version.0, t.version.1],
                    "flags": t.abi_flags, "ext_suffix": ext_suffix, "arch": t.arch,
                    "libc": [kind, maj, min],
                })
            })
            .collect();
        let output = Command::new(&python)
            .arg("-I")
            .arg("-c")
            .arg(PACKAGING_SCRIPT)
            .arg(serde_json::Value::Array(spec).to_string())
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", python.display()));
        assert!(output.status.success(), "packaging script failed: {}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice(&output.stdout).expect("packaging script output is JSON")
    }

    fn json_strings(v: &serde_json::Value) -> Vec<String> {
        v.as_array().expect("a list").iter().map(|s| s.as_str().expect("a string").to_owned()).collect()
    }

    fn assert_same(name: &str, ours: &[String], theirs: &[String]) {
        if ours != theirs {
            let first = ours.iter().zip(theirs).position(|(a, b)| a != b).unwrap_or(ours.len().min(theirs.len()));
            panic!(
                "{name}: supported_tags differs from packaging at index {first} (ours {} tags, packaging {}):\n  ours:      {:?}\n  packaging: {:?}",
                ours.len(),
                theirs.len(),
                ours.get(first),
                theirs.get(first)
            );
        }
    }

    #[test]
    #[ignore = "real-tool tier: packaging in .tools/venv (scripts/test.sh runs it)"]
    fn supported_tags_match_packaging() {
        let result = run_packaging();
        let version = result["host"]["packaging"].as_str().unwrap_or_default();
        assert!(version.starts_with("26."), "expected packaging 26.x in the tools venv, found {version:?}");
        for (name, target, _) in comparison_targets() {
            let theirs = json_strings(&result["targets"][name]);
            assert!(!theirs.is_empty(), "{name}: packaging gave no tags");
            assert_same(name, &strings(&supported_tags(&target)), &theirs);
        }
        // The free-threaded build has no abi3 (it has abi3t instead).
        let t313t = json_strings(&result["targets"]["cp313t x86_64 glibc 2.36"]);
        assert!(!t313t.iter().any(|t| t.contains("-abi3-")));
        assert!(t313t.contains(&"cp313-abi3t-manylinux_2_36_x86_64".to_owned()));
    }

    #[test]
    #[ignore = "real-tool tier: packaging in .tools/venv (scripts/test.sh runs it)"]
    fn supported_tags_match_host_sys_tags() {
        let result = run_packaging();
        let host = &result["host"];
        assert_eq!(host["impl"], "cpython", "the tools venv is expected to be CPython");
        assert_eq!(host["bits"], 64, "the tools venv is expected to be a 64-bit Python");
        let version = (host["version"][0].as_u64().unwrap() as u32, host["version"][1].as_u64().unwrap() as u32);
        let libc = match host["libc"].as_str().and_then(|s| s.strip_prefix("glibc ")) {
            Some(v) => {
                let (major, minor) = v.split_once('.').expect("glibc version major.minor");
                let minor: String = minor.chars().take_while(char::is_ascii_digit).collect();
                TargetLibc::Glibc(major.parse().unwrap(), minor.parse().unwrap())
            }
            None => panic!("the host is expected to be glibc, confstr says {:?}", host["libc"]),
        };
        let target =
            target(false, version, host["abiflags"].as_str().unwrap(), None, host["machine"].as_str().unwrap(), libc);
        assert_same("host sys_tags()", &strings(&supported_tags(&target)), &json_strings(&host["tags"]));
    }

    /// `parse_wheel_name` agrees with `packaging.utils.parse_wheel_filename` on acceptance,
    /// name, build tag and tag set, for names whose version is valid PEP 440.
    #[test]
    #[ignore = "real-tool tier: packaging in .tools/venv (scripts/test.sh runs it)"]
    fn wheel_names_match_packaging() {
        let python = tools_python();
        let names = [
            "foo-1.0-py3-none-any.whl",
            "Foo.Bar_baz-2.1.0+cpu-cp312-cp312-manylinux_2_17_x86_64.whl",
            "A._B..c-1-py3-none-any.whl",
            "Ñame-1.0-py3-none-any.whl",
            "_lead-1.0-py3-none-any.whl",
            "trail.-1.0-py3-none-any.whl",
            "foo__bar-1.0-py3-none-any.whl",
            "foo-1.0-007abc-py3-none-any.whl",
            "foo-1.0-1-py3-none-any.whl",
            "foo-1.0-a1-py3-none-any.whl",
            "foo-1.0-١-py3-none-any.whl",
            "foo-1.0-1\nx-py3-none-any.whl",
            "foo-1.0-none-any.whl",
            "foo-1.0-1-2-py3-none-any.whl",
            "foo-1.0-py3-none-any.WHL",
            "x-1-PY3.py3-NONE-Linux_X86_64.whl",
            "numpy-2.0.0-cp311.cp312-cp311.abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "foo-1.0-py3.-none-any.whl",
            "foo-1.0-3py-none-any.whl",
            "foo-1.0-py+3-none-any.whl",
            "foo-1.0-é3-none-any.whl",
            "-1.0-py3-none-any.whl",
            "foo bar-1.0-py3-none-any.whl",
        ];
        let script = r#"
import json, sys
from packaging.utils import parse_wheel_filename
out = []
for f in json.loads(sys.argv[1]):
    try:
        name, _, build, tags = parse_wheel_filename(f)
        out.append({"name": name, "build": list(build) if build else None, "tags": sorted(str(t) for t in tags)})
    except Exception as e:
        out.append({"error": type(e).__name__})
print(json.dumps(out))
"#;
        let output = Command::new(&python)
            .args(["-I", "-c", script, &serde_json::to_string(&names).unwrap()])
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", python.display()));
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let theirs: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
        for (name, theirs) in names.iter().zip(&theirs) {
            match parse_wheel_name(name) {
                Err(e) => {
                    assert!(theirs.get("error").is_some(), "{name:?}: we refuse ({e}), packaging accepts {theirs}")
                }
                Ok(w) => {
                    assert!(theirs.get("error").is_none(), "{name:?}: we accept, packaging refuses {theirs}");
                    assert_eq!(theirs["name"], w.normalized.as_str(), "{name:?}");
                    let build = w.build.map(|(n, rest)| serde_json::json!([n, rest]));
                    assert_eq!(theirs["build"], build.unwrap_or(serde_json::Value::Null), "{name:?}");
                    let mut ours = strings(&w.tags);
                    ours.sort();
                    assert_eq!(json_strings(&theirs["tags"]), ours, "{name:?}");
                }
            }
        }
    }
}
