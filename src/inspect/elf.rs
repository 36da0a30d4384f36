//! Reading ELF files (interpreters, libpython, extension modules, libc) with goblin.
//!
//! Only headers and dynamic sections are interpreted; nothing is loaded or executed. Input is
//! untrusted: reads are bounded and every parse error becomes an `Err`, never a panic.

use anyhow::{Context, Result, anyhow};
use goblin::elf::{Elf, header};
use std::path::Path;

/// Largest ELF file read whole; larger files are reported, not parsed.
pub const MAX_ELF_BYTES: u64 = 512 * 1024 * 1024;

/// What venvaudit needs to know about one ELF file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ElfInfo {
    /// Normalised machine name (`x86_64`, `aarch64`, `i686`, ...).
    pub machine: String,
    /// 64-bit class.
    pub is_64: bool,
    /// DT_NEEDED entries in order.
    pub needed: Vec<String>,
    /// DT_RUNPATH entries, split on `:`, unexpanded.
    pub runpath: Vec<String>,
    /// DT_RPATH entries, split on `:`, unexpanded.
    pub rpath: Vec<String>,
    /// PT_INTERP (the dynamic loader), when present.
    pub interpreter: Option<String>,
    /// DT_SONAME.
    pub soname: Option<String>,
    /// Symbol versions required from other objects: (library file, version name).
    pub version_needs: Vec<(String, String)>,
    /// Symbol versions this object defines (for libc: `GLIBC_2.34`, ...).
    pub version_defs: Vec<String>,
    /// The first exported `PyInit_*` function: set for Python 3 extension modules, which is
    /// how a module is told apart from a plain shared library that happens to end in `.so`.
    pub py_init: Option<String>,
}

/// True when the first bytes are an ELF magic number (cheap pre-check before a full read).
pub fn has_elf_magic(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut magic)).map(|_| magic == *b"\x7fELF").unwrap_or(false)
}

/// Parse the ELF file at a real path.
pub fn read_elf(path: &Path) -> Result<ElfInfo> {
    let bytes =
        crate::paths::read_bounded(path, MAX_ELF_BYTES).with_context(|| format!("cannot read {}", path.display()))?;
    parse_elf(&bytes).with_context(|| format!("malformed ELF file {}", path.display()))
}

/// Parse ELF bytes.
pub fn parse_elf(bytes: &[u8]) -> Result<ElfInfo> {
    if bytes.len() < 16 || &bytes[..4] != b"\x7fELF" {
        return Err(anyhow!("not an ELF file"));
    }
    // goblin is robust against malformed input in practice, but this runs over untrusted trees
    // as root: contain any panic to this one file.
    std::panic::catch_unwind(|| parse_unchecked(bytes)).map_err(|_| anyhow!("ELF parser failed on malformed input"))?
}

fn parse_unchecked(bytes: &[u8]) -> Result<ElfInfo> {
    let elf = Elf::parse(bytes).map_err(|e| anyhow!("{e}"))?;
    let split = |v: &[&str]| -> Vec<String> {
        v.iter().flat_map(|s| s.split(':')).filter(|s| !s.is_empty()).map(str::to_owned).collect()
    };
    let mut version_needs = Vec::new();
    if let Some(vn) = &elf.verneed {
        for need in vn.iter() {
            let file = elf.dynstrtab.get_at(need.vn_file).unwrap_or("").to_owned();
            for aux in need.iter() {
                if let Some(name) = elf.dynstrtab.get_at(aux.vna_name) {
                    version_needs.push((file.clone(), name.to_owned()));
                }
            }
        }
    }
    let mut version_defs = Vec::new();
    if let Some(vd) = &elf.verdef {
        for def in vd.iter() {
            // The first aux entry names the version itself; later ones are its parents.
            if let Some(aux) = def.iter().next()
                && let Some(name) = elf.dynstrtab.get_at(aux.vda_name)
            {
                version_defs.push(name.to_owned());
            }
        }
    }
    let py_init = elf
        .dynsyms
        .iter()
        .filter(|s| s.st_shndx != 0)
        .filter_map(|s| elf.dynstrtab.get_at(s.st_name))
        .find(|n| n.starts_with("PyInit_"))
        .map(str::to_owned);
    Ok(ElfInfo {
        machine: machine_name(elf.header.e_machine, elf.little_endian).to_owned(),
        is_64: elf.is_64,
        needed: elf.libraries.iter().map(|s| s.to_string()).collect(),
        runpath: split(&elf.runpaths),
        rpath: split(&elf.rpaths),
        interpreter: elf.interpreter.map(str::to_owned),
        soname: elf.soname.map(str::to_owned),
        version_needs,
        version_defs,
        py_init,
    })
}

/// The name Python's platform tags use for an ELF machine.
pub fn machine_name(e_machine: u16, little_endian: bool) -> &'static str {
    match e_machine {
        header::EM_X86_64 => "x86_64",
        header::EM_386 => "i686",
        header::EM_AARCH64 => "aarch64",
        header::EM_ARM => "armv7l",
        header::EM_PPC64 if little_endian => "ppc64le",
        header::EM_PPC64 => "ppc64",
        header::EM_PPC => "ppc",
        header::EM_S390 => "s390x",
        header::EM_RISCV => "riscv64",
        header::EM_LOONGARCH => "loongarch64",
        header::EM_MIPS => "mips",
        header::EM_SPARCV9 => "sparc64",
        _ => "unknown",
    }
}

/// Parse `GLIBC_2.17` into (2, 17); other version names give `None`.
pub fn glibc_version(name: &str) -> Option<(u32, u32)> {
    let rest = name.strip_prefix("GLIBC_")?;
    let mut it = rest.split('.');
    let major = it.next()?.parse().ok()?;
    let minor = it.next().unwrap_or("0").parse().ok()?;
    Some((major, minor))
}

/// True for a musl libc dynamic loader path or soname.
pub fn is_musl_name(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name);
    base.starts_with("ld-musl-") || base == "libc.musl-x86_64.so.1" || base.starts_with("libc.musl")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(parse_elf(b"").is_err());
        assert!(parse_elf(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0garbage").is_err());
        let mut truncated = std::fs::read("/bin/sh").unwrap();
        truncated.truncate(200);
        let _ = parse_elf(&truncated);
    }

    #[test]
    fn reads_a_real_binary() {
        let info = read_elf(Path::new("/bin/sh")).unwrap();
        assert!(!info.machine.is_empty());
        assert!(info.needed.iter().any(|n| n.starts_with("libc.so")));
        assert!(info.version_needs.iter().any(|(_, v)| v.starts_with("GLIBC_")));
    }

    #[test]
    fn glibc_versions_parse() {
        assert_eq!(glibc_version("GLIBC_2.17"), Some((2, 17)));
        assert_eq!(glibc_version("GLIBC_2.3.4"), Some((2, 3)));
        assert_eq!(glibc_version("GLIBC_PRIVATE"), None);
    }
}
