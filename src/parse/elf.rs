//! Reading ELF files (interpreters, libpython, extension modules, libc) with goblin.
//!
//! Only headers, the dynamic section and what it points at are read, at their offsets; nothing
//! is loaded or executed, and a file is never read whole. Input is untrusted: every size a
//! header states is bounded before anything is allocated, and every parse error becomes an
//! `Err`, never a panic. goblin decodes the ELF and program headers; the dynamic entries,
//! version tables and symbols are decoded here because goblin reads them from a whole-file
//! buffer.

use goblin::elf::{Elf, header};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

/// Why an ELF file could not be read. Callers report it as a per-path error; none branches
/// on the kind, but the path and the cause stay separate for those that format them.
#[derive(Debug, thiserror::Error)]
pub enum ElfError {
    /// The file could not be opened or stat'ed.
    #[error("cannot read {}: {cause}", path.display())]
    Io {
        /// The real path.
        path: PathBuf,
        /// The operating system's error.
        cause: std::io::Error,
    },
    /// A directory, device or socket where an ELF file was expected.
    #[error("{} is not a regular file", .0.display())]
    NotRegular(PathBuf),
    /// Not an ELF object, or headers that contradict themselves or the file's size.
    #[error("malformed ELF file {}: {reason}", path.display())]
    Malformed {
        /// The real path.
        path: PathBuf,
        /// What is wrong.
        reason: Malformed,
    },
}

/// What is wrong with an ELF object's headers: a description for the report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Malformed(String);

impl Malformed {
    /// A reason, for a [`Source`] outside this module (a wheel member) to report.
    pub(crate) fn new(reason: impl Into<String>) -> Malformed {
        Malformed(reason.into())
    }
}

/// `Malformed(format!(...))`.
macro_rules! malformed {
    ($($arg:tt)*) => { Malformed(format!($($arg)*)) };
}

type Result<T, E = Malformed> = std::result::Result<T, E>;

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
    /// Python C-API symbols (`Py*`, `_Py*`) this object defines (libpython, a static
    /// interpreter) — what an extension module's references resolve against.
    pub defined_py: Vec<String>,
    /// Python C-API symbols this object needs (undefined, not weak): a module built for
    /// another CPython needs one that this interpreter lacks (`_PyUnicode_Ready`).
    pub undefined_py: Vec<String>,
    /// False when the symbol table was too big to read for the two lists above.
    pub py_symbols_read: bool,
}

/// True when the first bytes are an ELF magic number (cheap pre-check before a full read).
pub fn has_elf_magic(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut magic)).map(|_| magic == *b"\x7fELF").unwrap_or(false)
}

/// Bytes read for one piece of an ELF file at most: program headers, the dynamic section,
/// a string. Real objects need a few kilobytes; hostile headers cannot make us allocate more.
const MAX_PIECE: u64 = 1 << 20;
/// Program headers read at most (real objects have about a dozen).
const MAX_PHDRS: usize = 4096;
/// Version-need and version-definition entries followed at most.
const MAX_VERSION_ENTRIES: usize = 4096;
/// Dynamic symbols scanned for `PyInit_` at most (libtorch has about 200,000).
const MAX_SYMBOLS: u64 = 4 << 20;
/// Chunk size for streaming the dynamic string table and symbol table.
const CHUNK: u64 = 256 << 10;

/// Where ELF bytes come from: a file read piecewise (`pread`), bytes in memory (tests,
/// fuzzing), or another reader of the crate (a wheel member inflated on demand, through
/// [`parse_elf_source`]). Reads past the end are errors, never short reads taken as data.
pub(crate) trait Source {
    /// Total length.
    fn len(&self) -> u64;
    /// Exactly `len` bytes at `offset`.
    fn read_at(&self, offset: u64, len: u64) -> Result<Vec<u8>>;
}

impl Source for &[u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }
    fn read_at(&self, offset: u64, len: u64) -> Result<Vec<u8>> {
        let end = offset.checked_add(len).ok_or_else(|| malformed!("offset overflow"))?;
        if end > self.len() {
            return Err(malformed!("read of {len} bytes at {offset} is past the end of the file ({})", self.len()));
        }
        Ok(self[offset as usize..end as usize].to_vec())
    }
}

struct FileSource {
    file: std::fs::File,
    len: u64,
}

impl Source for FileSource {
    fn len(&self) -> u64 {
        self.len
    }
    fn read_at(&self, offset: u64, len: u64) -> Result<Vec<u8>> {
        use std::os::unix::fs::FileExt;
        let end = offset.checked_add(len).ok_or_else(|| malformed!("offset overflow"))?;
        if end > self.len {
            return Err(malformed!("read of {len} bytes at {offset} is past the end of the file ({})", self.len));
        }
        let mut buf = vec![0u8; len as usize];
        self.file.read_exact_at(&mut buf, offset).map_err(|e| malformed!("read of {len} bytes at {offset}: {e}"))?;
        Ok(buf)
    }
}

/// Parse the ELF file at a real path, reading only its headers, dynamic section, the strings
/// it names and its version tables, at their offsets: a 4 GiB CUDA library costs a few
/// kilobytes of reads, and no header can make us allocate more than `MAX_PIECE` at once.
pub fn read_elf(path: &Path) -> Result<ElfInfo, ElfError> {
    let io = |cause| ElfError::Io { path: path.to_path_buf(), cause };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(ElfError::NotRegular(path.to_path_buf()));
    }
    let file = std::fs::File::open(path).map_err(io)?;
    contained(|| parse_source(&FileSource { file, len: meta.len() }))
        .map_err(|reason| ElfError::Malformed { path: path.to_path_buf(), reason })
}

/// Run a parse with any panic contained to this one file: the code below is written not to
/// panic, and this runs as root over untrusted trees, so one slip must not end the scan.
fn contained(parse: impl FnOnce() -> Result<ElfInfo> + std::panic::UnwindSafe) -> Result<ElfInfo> {
    std::panic::catch_unwind(parse).map_err(|_| malformed!("ELF parser failed on malformed input"))?
}

/// Parse ELF bytes in memory (tests and fuzzing; files go through [`read_elf`]).
pub fn parse_elf(bytes: &[u8]) -> Result<ElfInfo> {
    contained(|| parse_source(&bytes))
}

/// Parse ELF headers from another byte source of the crate (a wheel member inflated on
/// demand), reading only the pieces [`read_elf`] reads, with any panic contained as there.
/// The source's own state is discarded by the caller after a contained panic.
pub(crate) fn parse_elf_source<S: Source>(src: &S) -> Result<ElfInfo> {
    contained(std::panic::AssertUnwindSafe(|| parse_source(src)))
}

/// Byte order and word size of one file.
#[derive(Clone, Copy)]
struct Layout {
    is_64: bool,
    little: bool,
}

impl Layout {
    fn u16(&self, b: &[u8], at: usize) -> Option<u16> {
        let s: [u8; 2] = b.get(at..at + 2)?.try_into().ok()?;
        Some(if self.little { u16::from_le_bytes(s) } else { u16::from_be_bytes(s) })
    }
    fn u32(&self, b: &[u8], at: usize) -> Option<u32> {
        let s: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
        Some(if self.little { u32::from_le_bytes(s) } else { u32::from_be_bytes(s) })
    }
    fn u64(&self, b: &[u8], at: usize) -> Option<u64> {
        let s: [u8; 8] = b.get(at..at + 8)?.try_into().ok()?;
        Some(if self.little { u64::from_le_bytes(s) } else { u64::from_be_bytes(s) })
    }
    /// A word: 8 bytes in ELF64, 4 in ELF32.
    fn word(&self, b: &[u8], at: usize) -> Option<u64> {
        if self.is_64 { self.u64(b, at) } else { self.u32(b, at).map(u64::from) }
    }
    fn word_size(&self) -> usize {
        if self.is_64 { 8 } else { 4 }
    }
}

/// The dynamic section's entries venvaudit reads.
#[derive(Default)]
struct Dynamic {
    needed: Vec<u64>,
    rpath: Vec<u64>,
    runpath: Vec<u64>,
    soname: Option<u64>,
    strtab: Option<u64>,
    strsz: Option<u64>,
    symtab: Option<u64>,
    syment: Option<u64>,
    hash: Option<u64>,
    gnu_hash: Option<u64>,
    verneed: Option<u64>,
    verneednum: Option<u64>,
    verdef: Option<u64>,
    verdefnum: Option<u64>,
}

/// The pieces of a file being parsed.
struct Reader<'s, S: Source> {
    src: &'s S,
    layout: Layout,
    /// PT_LOAD segments: (vaddr, offset, filesz), to map addresses in the dynamic section.
    loads: Vec<(u64, u64, u64)>,
    /// File offset and size of the dynamic string table.
    strtab: Option<(u64, u64)>,
}

impl<S: Source> Reader<'_, S> {
    /// File offset of a virtual address inside a PT_LOAD segment.
    fn offset_of(&self, vaddr: u64) -> Option<u64> {
        self.loads
            .iter()
            .find(|(va, _, sz)| vaddr >= *va && vaddr - va < *sz)
            .and_then(|(va, off, _)| off.checked_add(vaddr - va))
    }

    /// Read up to `len` bytes at `offset`, clipped to the file (for tables whose size is only
    /// bounded, not known).
    fn read_clipped(&self, offset: u64, len: u64) -> Result<Vec<u8>> {
        let avail = self.src.len().saturating_sub(offset);
        self.src.read_at(offset, len.min(avail))
    }

    /// The NUL-terminated string at index `idx` of the dynamic string table.
    fn string(&self, idx: u64) -> Result<String> {
        let (off, size) = self.strtab.ok_or_else(|| malformed!("no dynamic string table"))?;
        if idx >= size {
            return Err(malformed!("string index {idx} outside the string table ({size} bytes)"));
        }
        let mut out = Vec::new();
        let mut at = off + idx;
        let end = off + size;
        while at < end && (out.len() as u64) < MAX_PIECE {
            let piece = self.read_clipped(at, 4096.min(end - at))?;
            if piece.is_empty() {
                break;
            }
            if let Some(nul) = memchr::memchr(0, &piece) {
                out.extend_from_slice(&piece[..nul]);
                return Ok(String::from_utf8_lossy(&out).into_owned());
            }
            at += piece.len() as u64;
            out.extend_from_slice(&piece);
        }
        Err(malformed!("unterminated string at index {idx}"))
    }
}

fn parse_source<S: Source>(src: &S) -> Result<ElfInfo> {
    let ident = src.read_at(0, 16.min(src.len())).map_err(|_| malformed!("not an ELF file"))?;
    if ident.len() < 16 || &ident[..4] != b"\x7fELF" {
        return Err(malformed!("not an ELF file"));
    }
    let is_64 = match ident[header::EI_CLASS] {
        header::ELFCLASS64 => true,
        header::ELFCLASS32 => false,
        c => return Err(malformed!("unknown ELF class {c}")),
    };
    let little = match ident[header::EI_DATA] {
        header::ELFDATA2LSB => true,
        header::ELFDATA2MSB => false,
        d => return Err(malformed!("unknown ELF data encoding {d}")),
    };
    let layout = Layout { is_64, little };
    let ehdr_size = if is_64 { header::header64::SIZEOF_EHDR } else { header::header32::SIZEOF_EHDR } as u64;
    let ehdr_bytes = src.read_at(0, ehdr_size).map_err(|_| malformed!("truncated ELF header"))?;
    let ehdr = Elf::parse_header(&ehdr_bytes).map_err(|e| malformed!("{e}"))?;
    let ctx = goblin::container::Ctx::new(
        if is_64 { goblin::container::Container::Big } else { goblin::container::Container::Little },
        if little { goblin::container::Endian::Little } else { goblin::container::Endian::Big },
    );

    let phnum = ehdr.e_phnum as usize;
    if phnum > MAX_PHDRS {
        return Err(malformed!("{phnum} program headers"));
    }
    let phent = if is_64 { 56 } else { 32 };
    let ph_bytes = src.read_at(ehdr.e_phoff, (phnum * phent) as u64).map_err(|e| malformed!("program headers: {e}"))?;
    let phdrs = goblin::elf::ProgramHeader::parse(&ph_bytes, 0, phnum, ctx).map_err(|e| malformed!("{e}"))?;

    let mut reader = Reader { src, layout, loads: Vec::new(), strtab: None };
    let mut interpreter = None;
    let mut dynamic_seg = None;
    for ph in &phdrs {
        match ph.p_type {
            goblin::elf::program_header::PT_LOAD => reader.loads.push((ph.p_vaddr, ph.p_offset, ph.p_filesz)),
            goblin::elf::program_header::PT_INTERP if ph.p_filesz > 0 => {
                let b = src.read_at(ph.p_offset, ph.p_filesz.min(4096)).map_err(|e| malformed!("PT_INTERP: {e}"))?;
                let end = memchr::memchr(0, &b).unwrap_or(b.len());
                interpreter = Some(String::from_utf8_lossy(&b[..end]).into_owned());
            }
            goblin::elf::program_header::PT_DYNAMIC => dynamic_seg = Some((ph.p_offset, ph.p_filesz)),
            _ => {}
        }
    }

    let mut info = ElfInfo {
        machine: machine_name(ehdr.e_machine, little).to_owned(),
        is_64,
        interpreter,
        // Nothing to read (no dynamic section) is known-empty; set false below when too big.
        py_symbols_read: true,
        ..ElfInfo::default()
    };
    let Some((dyn_off, dyn_size)) = dynamic_seg else {
        return Ok(info); // statically linked: nothing needed
    };
    if dyn_size > MAX_PIECE {
        return Err(malformed!("dynamic section of {dyn_size} bytes"));
    }
    let dyn_bytes = src.read_at(dyn_off, dyn_size).map_err(|e| malformed!("dynamic section: {e}"))?;
    let entry = 2 * layout.word_size();
    let mut d = Dynamic::default();
    for i in 0..dyn_bytes.len() / entry {
        let (Some(tag), Some(val)) =
            (layout.word(&dyn_bytes, i * entry), layout.word(&dyn_bytes, i * entry + layout.word_size()))
        else {
            break;
        };
        use goblin::elf::dynamic::*;
        match tag {
            DT_NULL => break,
            DT_NEEDED => d.needed.push(val),
            DT_RPATH => d.rpath.push(val),
            DT_RUNPATH => d.runpath.push(val),
            DT_SONAME => d.soname = Some(val),
            DT_STRTAB => d.strtab = Some(val),
            DT_STRSZ => d.strsz = Some(val),
            DT_SYMTAB => d.symtab = Some(val),
            DT_SYMENT => d.syment = Some(val),
            DT_HASH => d.hash = Some(val),
            DT_GNU_HASH => d.gnu_hash = Some(val),
            DT_VERNEED => d.verneed = Some(val),
            DT_VERNEEDNUM => d.verneednum = Some(val),
            DT_VERDEF => d.verdef = Some(val),
            DT_VERDEFNUM => d.verdefnum = Some(val),
            _ => {}
        }
    }
    if let (Some(addr), Some(size)) = (d.strtab, d.strsz) {
        let off = reader.offset_of(addr).ok_or_else(|| malformed!("DT_STRTAB outside any PT_LOAD segment"))?;
        if off.checked_add(size).is_none_or(|end| end > src.len()) {
            return Err(malformed!("dynamic string table past the end of the file"));
        }
        reader.strtab = Some((off, size));
    }
    if reader.strtab.is_none() && !(d.needed.is_empty() && d.soname.is_none()) {
        return Err(malformed!("dynamic entries name strings but there is no string table"));
    }
    let strings = |ids: &[u64]| -> Result<Vec<String>> { ids.iter().map(|&i| reader.string(i)).collect() };
    info.needed = strings(&d.needed)?;
    let split = |v: Vec<String>| -> Vec<String> {
        v.iter().flat_map(|s| s.split(':')).filter(|s| !s.is_empty()).map(str::to_owned).collect()
    };
    info.rpath = split(strings(&d.rpath)?);
    info.runpath = split(strings(&d.runpath)?);
    info.soname = d.soname.map(|i| reader.string(i)).transpose()?;
    if let (Some(addr), Some(num)) = (d.verneed, d.verneednum) {
        info.version_needs = version_needs(&reader, addr, num)?;
    }
    if let (Some(addr), Some(num)) = (d.verdef, d.verdefnum) {
        info.version_defs = version_defs(&reader, addr, num)?;
    }
    match python_symbols(&reader, &d)? {
        Some(py) => {
            info.py_init = py.py_init;
            info.defined_py = py.defined;
            info.undefined_py = py.undefined;
            info.py_symbols_read = true;
        }
        None => {
            info.py_symbols_read = false;
            info.py_init = py_init(&reader, &d)?;
        }
    }
    Ok(info)
}

/// `.gnu.version_r`: (library, version) pairs this object needs.
fn version_needs<S: Source>(r: &Reader<S>, addr: u64, num: u64) -> Result<Vec<(String, String)>> {
    let l = r.layout;
    let mut out = Vec::new();
    let mut at = r.offset_of(addr).ok_or_else(|| malformed!("DT_VERNEED outside any PT_LOAD segment"))?;
    let mut followed = 0;
    for _ in 0..num.min(MAX_VERSION_ENTRIES as u64) {
        let b = r.src.read_at(at, 16).map_err(|e| malformed!("version needs: {e}"))?;
        let (cnt, file, aux, next) = (l.u16(&b, 2).unwrap_or(0), l.u32(&b, 4), l.u32(&b, 8), l.u32(&b, 12));
        let (Some(file), Some(aux), Some(next)) = (file, aux, next) else { break };
        let file = r.string(u64::from(file))?;
        let mut a = at + u64::from(aux);
        for _ in 0..cnt {
            followed += 1;
            if followed > MAX_VERSION_ENTRIES {
                return Err(malformed!("more than {MAX_VERSION_ENTRIES} version needs"));
            }
            let ab = r.src.read_at(a, 16).map_err(|e| malformed!("version needs: {e}"))?;
            let (Some(name), Some(anext)) = (l.u32(&ab, 8), l.u32(&ab, 12)) else { break };
            out.push((file.clone(), r.string(u64::from(name))?));
            if anext == 0 {
                break;
            }
            a += u64::from(anext);
        }
        if next == 0 {
            break;
        }
        at += u64::from(next);
    }
    Ok(out)
}

/// `.gnu.version_d`: the versions this object defines (the first aux entry of each names it;
/// later ones are its parents). The base definition (the file's own name) is included, as
/// goblin and readelf list it.
fn version_defs<S: Source>(r: &Reader<S>, addr: u64, num: u64) -> Result<Vec<String>> {
    let l = r.layout;
    let mut out = Vec::new();
    let mut at = r.offset_of(addr).ok_or_else(|| malformed!("DT_VERDEF outside any PT_LOAD segment"))?;
    for _ in 0..num.min(MAX_VERSION_ENTRIES as u64) {
        let b = r.src.read_at(at, 20).map_err(|e| malformed!("version definitions: {e}"))?;
        let (cnt, aux, next) = (l.u16(&b, 6).unwrap_or(0), l.u32(&b, 12), l.u32(&b, 16));
        let (Some(aux), Some(next)) = (aux, next) else { break };
        if cnt > 0 {
            let ab = r.src.read_at(at + u64::from(aux), 8).map_err(|e| malformed!("version definitions: {e}"))?;
            if let Some(name) = l.u32(&ab, 0) {
                out.push(r.string(u64::from(name))?);
            }
        }
        if next == 0 {
            break;
        }
        at += u64::from(next);
    }
    Ok(out)
}

/// Largest dynamic string table read whole for the Python symbol lists (a module's is a few
/// KiB, libpython's about 100 KiB; libtorch's tens of MiB are streamed for `PyInit_` only).
const MAX_WHOLE_DYNSTR: u64 = 8 << 20;

/// Python C-API symbols of one object.
struct PySymbols {
    py_init: Option<String>,
    defined: Vec<String>,
    undefined: Vec<String>,
}

/// One pass over the dynamic symbols: the first defined `PyInit_*`, and the `Py*`/`_Py*`
/// symbols defined and needed. `None` when the string table is too big to read whole.
fn python_symbols<S: Source>(r: &Reader<S>, d: &Dynamic) -> Result<Option<PySymbols>> {
    let mut out = PySymbols { py_init: None, defined: Vec::new(), undefined: Vec::new() };
    let Some((str_off, str_size)) = r.strtab else { return Ok(Some(out)) };
    if str_size > MAX_WHOLE_DYNSTR {
        return Ok(None);
    }
    let strtab = r.src.read_at(str_off, str_size)?;
    let name_at = |idx: usize| -> Option<&[u8]> {
        let rest = strtab.get(idx..)?;
        Some(&rest[..memchr::memchr(0, rest).unwrap_or(rest.len())])
    };
    for_each_symbol(r, d, |sym| {
        let Some(bytes) = name_at(sym.name as usize).filter(|b| b.starts_with(b"Py") || b.starts_with(b"_Py")) else {
            return ControlFlow::Continue(());
        };
        let text = String::from_utf8_lossy(bytes).into_owned();
        let binding = sym.info >> 4;
        if sym.shndx != 0 {
            if out.py_init.is_none() && text.starts_with("PyInit_") {
                out.py_init = Some(text.clone());
            }
            if binding == 1 || binding == 2 {
                out.defined.push(text);
            }
        } else if binding == 1 {
            out.undefined.push(text);
        }
        ControlFlow::Continue(())
    })?;
    Ok(Some(out))
}

/// The first defined dynamic symbol named `PyInit_*`, as CPython's import looks one up.
/// The string table is streamed for `PyInit_` first: most libraries have none, and then
/// the symbol table is never read.
fn py_init<S: Source>(r: &Reader<S>, d: &Dynamic) -> Result<Option<String>> {
    const NEEDLE: &[u8] = b"PyInit_";
    let Some((str_off, str_size)) = r.strtab else { return Ok(None) };
    // String-table indexes where a `PyInit_` name may start.
    let mut starts: Vec<u64> = Vec::new();
    let mut pos = 0u64;
    let mut prev_tail: Vec<u8> = Vec::new();
    while pos < str_size && starts.len() < 256 {
        let chunk = r.read_clipped(str_off + pos, CHUNK.min(str_size - pos))?;
        if chunk.is_empty() {
            break;
        }
        // Keep the previous chunk's last bytes so a name split across chunks is seen.
        let mut window = std::mem::take(&mut prev_tail);
        let window_start = pos - window.len() as u64;
        window.extend_from_slice(&chunk);
        // Any occurrence counts, not only those after a NUL: linkers merge string tails, so
        // a symbol's name may start inside a longer string.
        for m in memchr::memmem::find_iter(&window, NEEDLE) {
            let at = window_start + m as u64;
            if !starts.contains(&at) {
                starts.push(at);
            }
        }
        let keep = NEEDLE.len().min(window.len());
        prev_tail = window[window.len() - keep..].to_vec();
        pos += chunk.len() as u64;
    }
    if starts.is_empty() {
        return Ok(None);
    }
    let mut found = None;
    for_each_symbol(r, d, |sym| {
        if sym.shndx != 0 && starts.contains(&u64::from(sym.name)) {
            found = Some(sym.name);
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    })?;
    found.map(|name| r.string(u64::from(name))).transpose()
}

/// The fields of one dynamic symbol venvaudit reads.
struct Symbol {
    /// Index of its name in the dynamic string table.
    name: u32,
    /// Binding (high nibble) and type.
    info: u8,
    /// Section index: 0 for an undefined symbol.
    shndx: u16,
}

/// Visit the dynamic symbols in table order, read in bounded chunks (at most
/// [`MAX_SYMBOLS`], and never past the end of the file), until `visit` breaks.
fn for_each_symbol<S: Source>(
    r: &Reader<S>,
    d: &Dynamic,
    mut visit: impl FnMut(Symbol) -> ControlFlow<()>,
) -> Result<()> {
    let Some(symtab) = d.symtab.and_then(|a| r.offset_of(a)) else { return Ok(()) };
    let l = r.layout;
    let min_syment = if l.is_64 { 24 } else { 16 };
    let syment = d.syment.filter(|&s| (min_syment..=256).contains(&s)).unwrap_or(min_syment);
    let count = symbol_count(r, d, symtab, syment).min(MAX_SYMBOLS);
    let per_chunk = (CHUNK / syment).max(1);
    let mut i = 0;
    while i < count {
        let n = per_chunk.min(count - i);
        let b = r.read_clipped(symtab + i * syment, n * syment)?;
        let got = b.len() as u64 / syment;
        for k in 0..got {
            let base = (k * syment) as usize;
            let (name, info, shndx) = if l.is_64 {
                (l.u32(&b, base), b.get(base + 4).copied(), l.u16(&b, base + 6))
            } else {
                (l.u32(&b, base), b.get(base + 12).copied(), l.u16(&b, base + 14))
            };
            let (Some(name), Some(info), Some(shndx)) = (name, info, shndx) else { continue };
            if visit(Symbol { name, info, shndx }).is_break() {
                return Ok(());
            }
        }
        if got < n {
            break; // the table runs past the end of the file
        }
        i += n;
    }
    Ok(())
}

/// Number of dynamic symbols: DT_HASH's nchain, else the highest index the GNU hash table
/// reaches, else the symbols that fit before the string table (where linkers put it).
fn symbol_count<S: Source>(r: &Reader<S>, d: &Dynamic, symtab: u64, syment: u64) -> u64 {
    let l = r.layout;
    if let Some(off) = d.hash.and_then(|a| r.offset_of(a))
        && let Ok(b) = r.src.read_at(off, 8)
        && let Some(nchain) = l.u32(&b, 4)
    {
        return u64::from(nchain);
    }
    if let Some(off) = d.gnu_hash.and_then(|a| r.offset_of(a))
        && let Some(n) = gnu_hash_count(r, off)
    {
        return n;
    }
    match r.strtab {
        Some((str_off, _)) if str_off > symtab => (str_off - symtab) / syment,
        _ => 0,
    }
}

/// Symbols covered by a DT_GNU_HASH table: one past the last index any chain reaches.
fn gnu_hash_count<S: Source>(r: &Reader<S>, off: u64) -> Option<u64> {
    let l = r.layout;
    let h = r.src.read_at(off, 16).ok()?;
    let (nbuckets, symoffset, bloom_size) = (l.u32(&h, 0)? as u64, l.u32(&h, 4)? as u64, l.u32(&h, 8)? as u64);
    if nbuckets == 0 || nbuckets > (1 << 24) || bloom_size > (1 << 24) {
        return None;
    }
    let buckets_off = off + 16 + bloom_size * l.word_size() as u64;
    let buckets = r.src.read_at(buckets_off, nbuckets * 4).ok()?;
    let last = (0..nbuckets as usize).filter_map(|i| l.u32(&buckets, i * 4)).max()? as u64;
    if last < symoffset {
        return Some(symoffset);
    }
    let chains_off = buckets_off + nbuckets * 4;
    let mut idx = last;
    loop {
        let b = r.src.read_at(chains_off + (idx - symoffset) * 4, 4).ok()?;
        if l.u32(&b, 0)? & 1 == 1 || idx - last > MAX_SYMBOLS {
            return Some(idx + 1);
        }
        idx += 1;
    }
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

/// A C library: the host's, or the one an object is linked against or named for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LibcFlavor {
    /// GNU libc (`libc.so.6`, `GLIBC_x.y` versions, `-linux-gnu` platforms).
    Glibc,
    /// musl (`ld-musl-*.so.1`, `libc.musl-*`, `-linux-musl` platforms).
    Musl,
}

impl LibcFlavor {
    /// `glibc` or `musl`, as messages and finding details say it.
    pub fn as_str(self) -> &'static str {
        match self {
            LibcFlavor::Glibc => "glibc",
            LibcFlavor::Musl => "musl",
        }
    }
}

impl ElfInfo {
    /// Which C library the object was linked against, from its DT_NEEDED, program
    /// interpreter and version needs; `None` when nothing says (a static object).
    pub fn linked_libc(&self) -> Option<LibcFlavor> {
        if self.needed.iter().any(|n| n == "libc.so" || is_musl_name(n))
            || self.interpreter.as_deref().is_some_and(is_musl_name)
        {
            return Some(LibcFlavor::Musl);
        }
        if self.needed.iter().any(|n| n == "libc.so.6")
            || self.version_needs.iter().any(|(_, v)| v.starts_with("GLIBC_"))
        {
            return Some(LibcFlavor::Glibc);
        }
        None
    }
}

/// True for a musl libc dynamic loader path or soname.
pub fn is_musl_name(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name);
    base.starts_with("ld-musl-") || base == "libc.musl-x86_64.so.1" || base.starts_with("libc.musl")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

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

    /// What goblin's whole-file parser says, in the same shape: the reference the piecewise
    /// reader must agree with.
    fn goblin_reference(bytes: &[u8]) -> Option<ElfInfo> {
        let elf = Elf::parse(bytes).ok()?;
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
        let read = (elf.dynstrtab.len() as u64) <= MAX_WHOLE_DYNSTR;
        let py_named = |s: &goblin::elf::Sym| {
            elf.dynstrtab.get_at(s.st_name).filter(|n| n.starts_with("Py") || n.starts_with("_Py")).map(str::to_owned)
        };
        let defined_py: Vec<String> = if read {
            elf.dynsyms
                .iter()
                .filter(|s| s.st_shndx != 0 && matches!(s.st_bind(), 1 | 2))
                .filter_map(|s| py_named(&s))
                .collect()
        } else {
            Vec::new()
        };
        let undefined_py: Vec<String> = if read {
            elf.dynsyms.iter().filter(|s| s.st_shndx == 0 && s.st_bind() == 1).filter_map(|s| py_named(&s)).collect()
        } else {
            Vec::new()
        };
        Some(ElfInfo {
            defined_py,
            undefined_py,
            py_symbols_read: read,
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

    /// Every ELF file under the given directories (and `VENVAUDIT_ELF_CORPUS`, colon-separated):
    /// the piecewise reader gives exactly what goblin's whole-file parse gives.
    #[test]
    fn piecewise_reads_agree_with_goblin() {
        let mut dirs: Vec<PathBuf> =
            ["/usr/lib/x86_64-linux-gnu", "/usr/bin", "/usr/lib/apache2/modules"].iter().map(PathBuf::from).collect();
        if let Ok(home) = std::env::var("HOME") {
            dirs.push(Path::new(&home).join(".pyenv/versions/3.12.1/lib/python3.12/lib-dynload"));
            dirs.push(Path::new(&home).join(".pyenv/versions/3.12.1/bin"));
        }
        if let Ok(extra) = std::env::var("VENVAUDIT_ELF_CORPUS") {
            dirs.extend(extra.split(':').map(PathBuf::from));
        }
        let (mut compared, mut with_py_init, mut with_defs) = (0, 0, 0);
        for dir in dirs {
            for e in walkdir::WalkDir::new(&dir).max_depth(6).into_iter().flatten() {
                if !e.file_type().is_file() || !has_elf_magic(e.path()) {
                    continue;
                }
                let Ok(bytes) = std::fs::read(e.path()) else { continue };
                let Some(reference) = goblin_reference(&bytes) else { continue };
                let ours = read_elf(e.path()).unwrap_or_else(|err| panic!("{}: {err:#}", e.path().display()));
                assert_eq!(ours, reference, "{}", e.path().display());
                compared += 1;
                with_py_init += usize::from(ours.py_init.is_some());
                with_defs += usize::from(!ours.version_defs.is_empty());
            }
        }
        // The corpus really held modules, versioned libraries and plain objects.
        assert!(compared > 100 && with_py_init > 10 && with_defs > 10, "{compared} {with_py_init} {with_defs}");
    }

    /// A sparse file far larger than memory with valid headers is read in bounded time and
    /// space: only the pieces the headers point at.
    #[test]
    fn huge_sparse_files_are_read_by_their_headers() {
        let src = std::fs::read("/bin/sh").unwrap();
        assert_eq!(read_sparse(&src, 8 << 30).unwrap(), read_elf(Path::new("/bin/sh")).unwrap());
    }

    /// `read_elf` of `bytes` written to a file then extended (sparse) to `len` bytes.
    fn read_sparse(bytes: &[u8], len: u64) -> Result<ElfInfo, ElfError> {
        let dir = std::env::temp_dir().join(format!("venvaudit-elf-sparse-{}-{len}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("sparse.so");
        std::fs::write(&path, bytes).unwrap();
        std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(len).unwrap();
        let info = read_elf(&path);
        std::fs::remove_dir_all(&dir).unwrap();
        info
    }

    /// The case that killed scans: a 44 KB object whose `.shstrtab` section header claims
    /// 511 MiB, the file made sparse to that size (goblin allocated 6 GiB for it). Section
    /// headers are never read: it parses like the original, in bounded memory.
    #[test]
    fn a_huge_section_header_claim_is_not_read() {
        let mut bytes = std::fs::read("/bin/sh").unwrap();
        let shoff = u64::from_le_bytes(bytes[40..48].try_into().unwrap()) as usize;
        let shentsize = u16::from_le_bytes(bytes[58..60].try_into().unwrap()) as usize;
        let shstrndx = u16::from_le_bytes(bytes[62..64].try_into().unwrap()) as usize;
        let size_at = shoff + shstrndx * shentsize + 32;
        bytes[size_at..size_at + 8].copy_from_slice(&(511u64 << 20).to_le_bytes());
        assert_eq!(read_sparse(&bytes, 511 << 20).unwrap(), read_elf(Path::new("/bin/sh")).unwrap());
    }

    /// Hostile sizes: a dynamic section or program-header table claiming gigabytes is an
    /// error, not an allocation.
    #[test]
    fn hostile_sizes_are_errors() {
        let mut bytes = std::fs::read("/bin/sh").unwrap();
        // e_phnum = 0xffff
        bytes[56..58].copy_from_slice(&0xffffu16.to_le_bytes());
        let e = parse_elf(&bytes).unwrap_err();
        assert!(format!("{e:#}").contains("program headers"), "{e:#}");
        // A PT_DYNAMIC whose p_filesz is 64 GiB.
        let mut bytes = std::fs::read("/bin/sh").unwrap();
        let phoff = u64::from_le_bytes(bytes[32..40].try_into().unwrap()) as usize;
        let phnum = u16::from_le_bytes(bytes[56..58].try_into().unwrap()) as usize;
        let dynamic = (0..phnum).map(|i| phoff + i * 56).find(|&o| bytes[o..o + 4] == 2u32.to_le_bytes()).unwrap();
        bytes[dynamic + 32..dynamic + 40].copy_from_slice(&(64u64 << 30).to_le_bytes());
        let e = parse_elf(&bytes).unwrap_err();
        assert!(format!("{e:#}").contains("dynamic section"), "{e:#}");
    }

    /// Random byte mutations of real objects (an executable and an extension module): the
    /// reader itself (not the panic guard) returns, Ok or Err, on every one.
    #[test]
    fn mutants_never_panic() {
        let module = Path::new(&std::env::var("HOME").unwrap_or_default())
            .join(".pyenv/versions/3.12.1/lib/python3.12/lib-dynload/_json.cpython-312-x86_64-linux-gnu.so");
        let mut seeds = vec![std::fs::read("/bin/true").unwrap()];
        seeds.extend(std::fs::read(&module).ok());
        let mut state = 0x9e3779b97f4a7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut parsed_ok = 0;
        for seed in &seeds {
            for _ in 0..1500 {
                let mut m = seed.clone();
                for _ in 0..(1 + next() % 8) {
                    // Mostly the headers and the dynamic data, sometimes anywhere.
                    let span = if next() % 4 == 0 { m.len() } else { m.len().min(8192) };
                    let at = (next() % span as u64) as usize;
                    m[at] = next() as u8;
                }
                if parse_source(&m.as_slice()).is_ok() {
                    parsed_ok += 1;
                }
            }
        }
        // Most mutants still parse: the mutations reached the parser's later stages.
        assert!(parsed_ok > 500, "{parsed_ok}");
    }

    #[test]
    fn glibc_versions_parse() {
        assert_eq!(glibc_version("GLIBC_2.17"), Some((2, 17)));
        assert_eq!(glibc_version("GLIBC_2.3.4"), Some((2, 3)));
        assert_eq!(glibc_version("GLIBC_PRIVATE"), None);
    }
}
