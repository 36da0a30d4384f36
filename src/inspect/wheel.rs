//! A wheel's members, read from the zip without installing or extracting it: the facts the
//! artefact gate judges (METADATA, RECORD, the ELF headers of its shared objects, its Python
//! sources for the import graph), every size bounded before anything is inflated.
//!
//! The zip is read here rather than by the `zip` crate, as Python's `zipfile` (pip's reader)
//! reads it: the last end-of-central-directory record of the file's tail, its zip64 record
//! when a locator precedes it, the central directory walked by its size (and held to the count
//! the end record declares), names decoded as UTF-8 when flagged and as code page 437 otherwise.
//! Doing it here keeps every bound ahead of the allocation it guards (the member count and the
//! directory's size before any entry is read), and sees every entry: a duplicated name, which
//! an index by name would collapse, is a problem naming it.
//!
//! The file is opened once and read only through that handle with `pread`, so a [`Wheel`] is
//! `Sync` and its members are inflated in parallel without a lock. Nothing is trusted: a
//! member's declared size bounds what is inflated (one byte more is read to catch a lie), and
//! the ELF headers of a shared object of gigabytes are read by inflating forward on demand
//! through a bounded cache ([`Wheel::elf`]).

use crate::inspect::imports::{EntryKind, SourceTree};
use crate::parse::elf::{ElfInfo, Malformed, Source, parse_elf_source};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;
use std::sync::OnceLock;

/// Central-directory entries read at most; a wheel declaring more is not read.
pub const MAX_MEMBERS: u64 = 200_000;
/// Longest member name, in bytes; a longer one is a problem and the member is left out.
pub const MAX_NAME_BYTES: usize = 4096;
/// Largest uncompressed size a member may declare; a larger one is a problem and the member is
/// left out.
pub const MAX_MEMBER_SIZE: u64 = 16 << 30;
/// Largest central directory read: everything a [`Wheel`] keeps comes from it, so this bounds
/// its memory (a real wheel's is at most a few MiB; 200,000 members of 4 KiB names would not fit).
pub const MAX_CENTRAL_DIRECTORY: u64 = 64 << 20;

/// Why a wheel cannot be read at all (a member that cannot be read is a per-member problem).
#[derive(Debug, thiserror::Error)]
pub enum WheelError {
    /// The file cannot be opened or read.
    #[error("cannot read {path}: {cause}")]
    Io {
        /// The wheel as shown.
        path: String,
        /// The operating system's error.
        cause: std::io::Error,
    },
    /// Not a zip archive, or one whose directory is malformed or beyond the limits.
    #[error("{path} is not a readable wheel: {reason}")]
    Invalid {
        /// The wheel as shown.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// One member of a wheel.
#[derive(Debug, Clone)]
pub struct Member {
    /// Its name in the archive.
    pub name: String,
    /// Where an installer puts it, relative to site-packages (`pkg/x.so`; a `.data/purelib`
    /// or `.data/platlib` member mapped to its place); `None` for scripts, headers and data
    /// installed elsewhere, and for directories.
    pub installed: Option<String>,
    /// For a member of the data scheme (`NAME.data/data/lib/libx.so.4`), where it goes
    /// relative to the environment's prefix (`lib/libx.so.4`): libraries a module finds
    /// through `$ORIGIN/../../..` (daal's for scikit-learn-intelex).
    pub data: Option<String>,
    /// Its uncompressed size as the archive declares it.
    pub size: u64,
    /// Index in the archive.
    pub index: usize,
}

/// Where a member's bytes are, from its central-directory entry.
#[derive(Debug, Clone)]
struct Entry {
    /// Offset of its local header in the file (the archive's offset in the file applied).
    header: u64,
    /// Compressed size.
    compressed: u64,
    /// Compression method: 0 stored, 8 deflated (others are refused when read).
    method: u16,
    /// General-purpose flags.
    flags: u16,
    /// CRC-32 of the uncompressed data.
    crc: u32,
}

/// An opened wheel.
pub struct Wheel {
    /// The wheel as shown in findings.
    pub shown: String,
    /// The one handle everything is read through (`pread`: no shared position).
    file: File,
    /// Where the central directory starts: no member's data reaches past it.
    cd_start: u64,
    /// Usable members, in archive order.
    members: Vec<Member>,
    /// Their entries, in the same order.
    entries: Vec<Entry>,
    problems: Vec<String>,
    dist_info: Option<String>,
    /// The installed layout, built on first use by [`WheelTree`].
    tree: OnceLock<Tree>,
}

/// `malformed`'s counterpart for the directory: an I/O error or a reason the wheel is refused.
enum Bad {
    Io(io::Error),
    Invalid(String),
}

impl From<io::Error> for Bad {
    fn from(e: io::Error) -> Bad {
        Bad::Io(e)
    }
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from(u32_at(b, at)) | (u64::from(u32_at(b, at + 4)) << 32)
}

/// Exactly `len` bytes at `offset` (short is an `UnexpectedEof` error).
fn read_exact_at(file: &File, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    file.read_exact_at(&mut buf, offset)?;
    Ok(buf)
}

/// A range of the wheel read forward with `pread`: many of them read one handle at once.
struct At<'f> {
    file: &'f File,
    pos: u64,
    end: u64,
}

impl Read for At<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = (buf.len() as u64).min(self.end.saturating_sub(self.pos)) as usize;
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the wheel ends inside a member's data"));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

/// A member's data, uncompressed as it is read.
enum MemberReader<'f> {
    Stored(At<'f>),
    Deflated(flate2::read::DeflateDecoder<At<'f>>),
}

impl Read for MemberReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            MemberReader::Stored(r) => r.read(buf),
            MemberReader::Deflated(r) => r.read(buf),
        }
    }
}

/// Where the central directory is, from the end record.
struct Directory {
    start: u64,
    size: u64,
    /// Entries the end record declares (modulo 65,536 without a zip64 record).
    count: u64,
    zip64: bool,
    /// Bytes before the archive proper (a prefix such as a launcher stub), added to offsets.
    concat: u64,
}

/// Find the end record as Python's `zipfile` does: the last signature in the file's tail
/// (a comment is at most 65,535 bytes), then a zip64 record right before its locator.
fn end_record(file: &File, len: u64) -> Result<Directory, Bad> {
    const EOCD: usize = 22;
    if len < EOCD as u64 {
        return Err(Bad::Invalid("too short to be a zip archive".into()));
    }
    let tail_len = len.min(EOCD as u64 + 0xffff);
    let tail_start = len - tail_len;
    let tail = read_exact_at(file, tail_start, tail_len as usize)?;
    let at = memchr::memmem::rfind(&tail[..tail.len() - EOCD + 4], b"PK\x05\x06")
        .ok_or_else(|| Bad::Invalid("no end of central directory record".into()))?;
    let rec = &tail[at..at + EOCD];
    let eocd_pos = tail_start + at as u64;
    let (mut disk, mut cd_disk) = (u32::from(u16_at(rec, 4)), u32::from(u16_at(rec, 6)));
    let (mut count, mut size, mut offset) =
        (u64::from(u16_at(rec, 10)), u64::from(u32_at(rec, 12)), u64::from(u32_at(rec, 16)));
    let mut zip64 = false;
    if eocd_pos >= 20 {
        let loc = read_exact_at(file, eocd_pos - 20, 20)?;
        if loc[..4] == *b"PK\x06\x07" {
            if u32_at(&loc, 4) != 0 || u32_at(&loc, 16) > 1 {
                return Err(Bad::Invalid("an archive spanning several disks".into()));
            }
            if eocd_pos >= 76 {
                let r64 = read_exact_at(file, eocd_pos - 76, 56)?;
                if r64[..4] == *b"PK\x06\x06" {
                    zip64 = true;
                    (disk, cd_disk) = (u32_at(&r64, 16), u32_at(&r64, 20));
                    (count, size, offset) = (u64_at(&r64, 32), u64_at(&r64, 40), u64_at(&r64, 48));
                }
            }
        }
    }
    if disk != 0 || cd_disk != 0 {
        return Err(Bad::Invalid("an archive spanning several disks".into()));
    }
    if count > MAX_MEMBERS {
        return Err(Bad::Invalid(format!("{count} members (more than {MAX_MEMBERS})")));
    }
    if size > MAX_CENTRAL_DIRECTORY {
        return Err(Bad::Invalid(format!("a central directory of {size} bytes (more than {MAX_CENTRAL_DIRECTORY})")));
    }
    // The directory ends where the end records start; what precedes its stated offset is a
    // prefix to the archive (Python's `concat`).
    let concat = eocd_pos
        .checked_sub(if zip64 { 76 } else { 0 })
        .and_then(|end| end.checked_sub(size))
        .and_then(|start| start.checked_sub(offset))
        .ok_or_else(|| Bad::Invalid("the central directory's offset and size point outside the file".into()))?;
    Ok(Directory { start: offset + concat, size, count, zip64, concat })
}

/// One central-directory entry as read, before its name is judged.
struct RawEntry {
    index: usize,
    name: Vec<u8>,
    size: u64,
    entry: Entry,
}

/// Walk the central directory by its size, as Python's `zipfile` does, and hold it to the count
/// the end record declares (a reader walking by count would see other members).
fn central_directory(file: &File, dir: &Directory) -> Result<Vec<RawEntry>, Bad> {
    let mut r = BufReader::with_capacity(256 << 10, At { file, pos: dir.start, end: dir.start + dir.size });
    let truncated = |i: usize| Bad::Invalid(format!("central directory entry {i} is truncated"));
    let mut out = Vec::new();
    let mut consumed = 0u64;
    while consumed < dir.size {
        let i = out.len();
        if i as u64 >= MAX_MEMBERS {
            return Err(Bad::Invalid(format!("more than {MAX_MEMBERS} members")));
        }
        let mut h = [0u8; 46];
        r.read_exact(&mut h).map_err(|_| truncated(i))?;
        if h[..4] != *b"PK\x01\x02" {
            return Err(Bad::Invalid(format!("central directory entry {i} has a bad signature")));
        }
        let (flags, method, crc) = (u16_at(&h, 8), u16_at(&h, 10), u32_at(&h, 16));
        let (mut compressed, mut size) = (u64::from(u32_at(&h, 20)), u64::from(u32_at(&h, 24)));
        let (n, e, c) = (u16_at(&h, 28) as usize, u16_at(&h, 30) as usize, u16_at(&h, 32) as u64);
        let mut header = u64::from(u32_at(&h, 42));
        let mut name = vec![0u8; n];
        r.read_exact(&mut name).map_err(|_| truncated(i))?;
        let mut extra = vec![0u8; e];
        r.read_exact(&mut extra).map_err(|_| truncated(i))?;
        if io::copy(&mut (&mut r).take(c), &mut io::sink())? != c {
            return Err(truncated(i));
        }
        consumed += 46 + n as u64 + e as u64 + c;
        // The zip64 extra field holds, in this order, each size or offset whose 32-bit field
        // is saturated.
        if [compressed, size, header].contains(&0xffff_ffff) {
            let mut values = zip64_extra(&extra).into_iter();
            let corrupt = || Bad::Invalid(format!("central directory entry {i} has a corrupt zip64 extra field"));
            for field in [&mut size, &mut compressed, &mut header] {
                if *field == 0xffff_ffff {
                    *field = values.next().ok_or_else(corrupt)?;
                }
            }
        }
        let header = header
            .checked_add(dir.concat)
            .ok_or_else(|| Bad::Invalid(format!("central directory entry {i} has an impossible offset")))?;
        out.push(RawEntry { index: i, name, size, entry: Entry { header, compressed, method, flags, crc } });
    }
    let found = out.len() as u64;
    let matches = if dir.zip64 { found == dir.count } else { found & 0xffff == dir.count || dir.count == 0xffff };
    if !matches {
        return Err(Bad::Invalid(format!(
            "the central directory holds {found} entries but the end record declares {}",
            dir.count
        )));
    }
    Ok(out)
}

/// The 64-bit values of the zip64 extra field (id 1), in order.
fn zip64_extra(extra: &[u8]) -> Vec<u64> {
    let mut at = 0;
    while at + 4 <= extra.len() {
        let (id, len) = (u16_at(extra, at), u16_at(extra, at + 2) as usize);
        let data = &extra[at + 4..(at + 4 + len).min(extra.len())];
        if id == 1 {
            return data.chunks_exact(8).map(|c| u64_at(c, 0)).collect();
        }
        at += 4 + len;
    }
    Vec::new()
}

/// Code page 437's characters for bytes 0x80-0xFF (ASCII is itself).
const CP437_HIGH: &str = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐\
                          └┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u{a0}";

/// A member name as Python's `zipfile` decodes it: UTF-8 when flag 11 says so (invalid UTF-8
/// is then unreadable), code page 437 otherwise.
fn decode_name(raw: &[u8], flags: u16) -> Option<String> {
    if flags & 0x800 != 0 {
        return String::from_utf8(raw.to_vec()).ok();
    }
    if raw.is_ascii() {
        return Some(raw.iter().map(|&b| b as char).collect());
    }
    let high: Vec<char> = CP437_HIGH.chars().collect();
    Some(raw.iter().map(|&b| if b < 0x80 { b as char } else { high[usize::from(b - 0x80)] }).collect())
}

/// A name as problems show it: quoted, escaped, and cut short when long.
fn shown_name(name: &str) -> String {
    if name.chars().count() <= 200 {
        return format!("{name:?}");
    }
    let short: String = name.chars().take(200).collect();
    format!("{short:?}…")
}

/// Why a member's path is refused: one that would land outside the install directory, or that
/// installers and file systems would read differently.
fn refused_path(name: &str) -> Option<&'static str> {
    const ESCAPES: &str = "member path escapes the install directory";
    if name.is_empty() {
        return Some("member name is empty");
    }
    if name.contains('\0') {
        return Some("member name contains a NUL byte");
    }
    let body = name.strip_suffix('/').unwrap_or(name);
    if name.starts_with('/') || body.split('/').any(|c| c == "..") {
        return Some(ESCAPES);
    }
    if name.contains('\\') {
        return Some("member path contains a backslash");
    }
    if body.split('/').any(|c| c.is_empty() || c == ".") {
        return Some("member path has an empty or '.' component");
    }
    None
}

/// Where an installer puts a member, relative to site-packages (see [`Member::installed`]);
/// `Err` for a `.data` member installers refuse. Any top-level directory ending in `.data`
/// is the data directory, as pip judges it.
fn installed_path(name: &str) -> Result<Option<String>, String> {
    if name.ends_with('/') {
        return Ok(None);
    }
    let (top, rest) = name.split_once('/').unwrap_or((name, ""));
    if !top.ends_with(".data") {
        return Ok(Some(name.to_owned()));
    }
    match rest.split_once('/') {
        Some(("purelib" | "platlib", sub)) => Ok(Some(sub.to_owned())),
        // The data scheme installs relative to the environment's prefix: what it puts under
        // `lib/pythonX.Y/site-packages/` lands in site-packages (scikit-learn-intelex ships
        // daal4py and onedal that way).
        Some(("data", sub)) => Ok(data_in_site_packages(sub).map(str::to_owned)),
        Some(("scripts" | "headers", _)) => Ok(None),
        Some((key, _)) => Err(format!("unknown .data scheme {key:?}: installers refuse the wheel")),
        None => Err("a file in the .data directory outside any scheme: installers refuse the wheel".into()),
    }
}

/// The path below `NAME.data/data/` of a data-scheme member: where it goes below the
/// environment's prefix.
fn data_scheme_path(name: &str) -> Option<&str> {
    let (top, rest) = name.split_once('/')?;
    let sub = rest.strip_prefix("data/")?;
    (top.ends_with(".data") && !sub.is_empty() && !sub.ends_with('/')).then_some(sub)
}

/// The part of a data-scheme path below `lib/pythonX.Y/site-packages/` (or `lib64/`), where
/// an installer puts it inside site-packages; `None` for data installed elsewhere.
fn data_in_site_packages(sub: &str) -> Option<&str> {
    let mut it = sub.splitn(4, '/');
    let (lib, py, sp, rest) = (it.next()?, it.next()?, it.next()?, it.next()?);
    let version_dir = py.strip_prefix("python").is_some_and(|v| !v.is_empty() && v.split('.').count() == 2);
    (matches!(lib, "lib" | "lib64") && version_dir && sp == "site-packages" && !rest.is_empty()).then_some(rest)
}

/// A distribution name as wheel file names and `.dist-info` directories compare (PEP 503).
fn canonical_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('_') {
                out.push('_');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// The (canonical name, version) a wheel file name or `.dist-info` stem states.
fn name_version(stem: &str) -> Option<(String, String)> {
    let mut parts = stem.split('-');
    let (name, version) = (parts.next()?, parts.next()?);
    Some((canonical_name(name), version.to_ascii_lowercase()))
}

/// An `InvalidData` error.
fn invalid_data(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

impl Wheel {
    /// Open the wheel at a real path (shown as `shown`), reading its central directory within
    /// bounds. Members whose names would escape site-packages (absolute, `..`, backslashes,
    /// NUL) are left out and named in [`Wheel::problems`].
    pub fn open(real: &Path, shown: &str) -> Result<Wheel, WheelError> {
        let io_err = |cause| WheelError::Io { path: shown.to_owned(), cause };
        let bad = |b: Bad| match b {
            Bad::Io(cause) => WheelError::Io { path: shown.to_owned(), cause },
            Bad::Invalid(reason) => WheelError::Invalid { path: shown.to_owned(), reason },
        };
        // O_NONBLOCK: a FIFO named as the wheel must not hang the scan before the check below.
        let file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(real).map_err(io_err)?;
        let meta = file.metadata().map_err(io_err)?;
        if !meta.is_file() {
            return Err(bad(Bad::Invalid("not a regular file".into())));
        }
        let dir = end_record(&file, meta.len()).map_err(bad)?;
        let raw = central_directory(&file, &dir).map_err(bad)?;

        let mut problems = Vec::new();
        // Names judged one by one.
        let mut named: Vec<(String, RawEntry)> = Vec::with_capacity(raw.len());
        for r in raw {
            if r.name.len() > MAX_NAME_BYTES {
                let name = shown_name(&String::from_utf8_lossy(&r.name));
                problems.push(format!("{name}: member name of {} bytes (more than {MAX_NAME_BYTES})", r.name.len()));
                continue;
            }
            let Some(name) = decode_name(&r.name, r.entry.flags) else {
                let name = shown_name(&String::from_utf8_lossy(&r.name));
                problems.push(format!("{name}: member name is flagged UTF-8 but is not"));
                continue;
            };
            if let Some(why) = refused_path(&name) {
                problems.push(format!("{}: {why}", shown_name(&name)));
                continue;
            }
            if r.size > MAX_MEMBER_SIZE {
                problems.push(format!(
                    "{}: member declares {} bytes uncompressed (more than {MAX_MEMBER_SIZE})",
                    shown_name(&name),
                    r.size
                ));
                continue;
            }
            named.push((name, r));
        }
        // A name twice: installers disagree on which copy wins, so neither is judged as the one.
        let mut times: HashMap<&str, usize> = HashMap::new();
        for (name, _) in &named {
            *times.entry(name.as_str()).or_default() += 1;
        }
        let mut duplicated: Vec<(String, usize)> =
            times.into_iter().filter(|&(_, n)| n > 1).map(|(name, n)| (name.to_owned(), n)).collect();
        duplicated.sort();
        for (name, n) in &duplicated {
            problems
                .push(format!("{}: member appears {n} times in the archive; every copy is left out", shown_name(name)));
        }
        let duplicated: std::collections::HashSet<String> = duplicated.into_iter().map(|(name, _)| name).collect();
        let mut candidates: Vec<(Member, Entry)> = Vec::with_capacity(named.len());
        for (name, r) in named {
            if duplicated.contains(&name) {
                continue;
            }
            let installed = match installed_path(&name) {
                Ok(p) => p,
                Err(why) => {
                    problems.push(format!("{}: {why}", shown_name(&name)));
                    continue;
                }
            };
            let data = data_scheme_path(&name).map(str::to_owned);
            candidates.push((Member { name, installed, data, size: r.size, index: r.index }, r.entry));
        }
        // Two members installed to one path (`x.py` and `pkg.data/purelib/x.py`): the same.
        let mut at_path: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, (m, _)) in candidates.iter().enumerate() {
            if let Some(p) = &m.installed {
                at_path.entry(p.as_str()).or_default().push(i);
            }
        }
        let mut clashing = vec![false; candidates.len()];
        let mut clash_problems = Vec::new();
        for (path, who) in at_path.into_iter().filter(|(_, who)| who.len() > 1) {
            let names: Vec<String> = who.iter().map(|&i| shown_name(&candidates[i].0.name)).collect();
            for &i in &who {
                clashing[i] = true;
            }
            clash_problems.push(format!(
                "{}: members installed to the same path {}; every one is left out",
                names.join(", "),
                shown_name(path)
            ));
        }
        clash_problems.sort();
        problems.extend(clash_problems);
        let (members, entries): (Vec<Member>, Vec<Entry>) =
            candidates.into_iter().zip(clashing).filter(|(_, c)| !c).map(|(me, _)| me).unzip();

        let file_name = real.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let file_name =
            if file_name.ends_with(".whl") { file_name } else { shown.rsplit('/').next().unwrap_or("").to_owned() };
        let dist_info = choose_dist_info(&members, &file_name, &mut problems);
        Ok(Wheel {
            shown: shown.to_owned(),
            file,
            cd_start: dir.start,
            members,
            entries,
            problems,
            dist_info,
            tree: OnceLock::new(),
        })
    }

    /// Every usable member.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// Members refused, each message naming the member.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// The `*.dist-info` directory name (`numpy-2.1.0.dist-info`), when the wheel has one.
    pub fn dist_info(&self) -> Option<&str> {
        self.dist_info.as_deref()
    }

    /// Position in `members` of the member with archive index `index`.
    fn position(&self, index: usize) -> io::Result<usize> {
        self.members
            .binary_search_by_key(&index, |m| m.index)
            .map_err(|_| io::Error::new(io::ErrorKind::NotFound, format!("no usable member with index {index}")))
    }

    /// A reader of the member at `pos`, after its local header is checked against the
    /// central directory.
    fn open_member(&self, pos: usize) -> io::Result<MemberReader<'_>> {
        let (m, e) = (&self.members[pos], &self.entries[pos]);
        if e.flags & 0x1 != 0 {
            return Err(io::Error::new(io::ErrorKind::Unsupported, "member is encrypted"));
        }
        if e.flags & 0x60 != 0 {
            return Err(io::Error::new(io::ErrorKind::Unsupported, "member uses patched data or strong encryption"));
        }
        let bad_header = |_| invalid_data("member's local header is past the end of the wheel".into());
        let h = read_exact_at(&self.file, e.header, 30).map_err(bad_header)?;
        if h[..4] != *b"PK\x03\x04" {
            return Err(invalid_data("member's local header has a bad signature".into()));
        }
        let (flags, n, x) = (u16_at(&h, 6), u16_at(&h, 26), u16_at(&h, 28));
        let local = read_exact_at(&self.file, e.header + 30, n.into()).map_err(bad_header)?;
        if decode_name(&local, flags).as_deref() != Some(m.name.as_str()) {
            return Err(invalid_data(format!(
                "the local header names {:?}, the central directory {:?}",
                String::from_utf8_lossy(&local),
                m.name
            )));
        }
        let data = e.header + 30 + u64::from(n) + u64::from(x);
        let end = data
            .checked_add(e.compressed)
            .filter(|&end| end <= self.cd_start)
            .ok_or_else(|| invalid_data("member's data runs into the central directory".into()))?;
        let at = At { file: &self.file, pos: data, end };
        match e.method {
            0 if e.compressed != m.size => {
                Err(invalid_data(format!("stored member of {} bytes declares {} uncompressed", e.compressed, m.size)))
            }
            0 => Ok(MemberReader::Stored(at)),
            8 => Ok(MemberReader::Deflated(flate2::read::DeflateDecoder::new(at))),
            other => {
                Err(io::Error::new(io::ErrorKind::Unsupported, format!("compression method {other} is not supported")))
            }
        }
    }

    /// Stream a member into `out`, at most `limit` bytes: a member declaring more is an error
    /// before anything is inflated, and one inflating to other than it declares (more is never
    /// inflated beyond one byte), or whose CRC-32 differs, is an error after. Returns its size.
    /// What was written before an error is not to be used.
    pub fn copy_to(&self, index: usize, limit: u64, out: &mut dyn Write) -> io::Result<u64> {
        let pos = self.position(index)?;
        let size = self.members[pos].size;
        if size > limit {
            return Err(invalid_data(format!("member larger than {limit} bytes")));
        }
        let mut r = self.open_member(pos)?.take(size + 1);
        let mut crc = flate2::Crc::new();
        let mut buf = vec![0u8; (size as usize + 1).min(256 << 10)];
        let mut total = 0u64;
        loop {
            let n = match r.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            total += n as u64;
            if total > size {
                return Err(invalid_data(if total > limit {
                    format!("member larger than {limit} bytes")
                } else {
                    format!("member inflates to more than the {size} bytes it declares")
                }));
            }
            crc.update(&buf[..n]);
            out.write_all(&buf[..n])?;
        }
        if total < size {
            return Err(invalid_data(format!("member inflates to {total} bytes, not the {size} it declares")));
        }
        if crc.sum() != self.entries[pos].crc {
            return Err(invalid_data("member's CRC-32 does not match".into()));
        }
        Ok(total)
    }

    /// At most `limit` bytes of a member, inflated; more is an error (never truncated data).
    pub fn read(&self, index: usize, limit: u64) -> std::io::Result<Vec<u8>> {
        let pos = self.position(index)?;
        let size = self.members[pos].size;
        if size > limit {
            return Err(invalid_data(format!("member larger than {limit} bytes")));
        }
        // The declared size may be a lie: it sizes the buffer only up to a point.
        let mut out = Vec::with_capacity(size.min(16 << 20) as usize);
        self.copy_to(index, limit, &mut out)?;
        Ok(out)
    }

    /// Whether a member starts with the ELF magic (inflating four bytes).
    pub fn is_elf(&self, index: usize) -> bool {
        let Ok(pos) = self.position(index) else { return false };
        if self.members[pos].size < 4 {
            return false;
        }
        let mut magic = [0u8; 4];
        self.open_member(pos).and_then(|mut r| r.read_exact(&mut magic)).is_ok() && magic == *b"\x7fELF"
    }

    /// The ELF headers of a member, inflating only as far as the reader needs and holding a
    /// bounded amount of it in memory.
    pub fn elf(&self, index: usize) -> Result<ElfInfo, String> {
        self.elf_with_stats(index).0
    }

    /// [`Wheel::elf`], with what it cost: bytes inflated, the most held at once, re-inflations.
    pub fn elf_with_stats(&self, index: usize) -> (Result<ElfInfo, String>, ElfReadStats) {
        self.elf_with(index, InflateLimits::DEFAULT)
    }

    fn elf_with(&self, index: usize, limits: InflateLimits) -> (Result<ElfInfo, String>, ElfReadStats) {
        let pos = match self.position(index) {
            Ok(p) => p,
            Err(e) => return (Err(e.to_string()), ElfReadStats::default()),
        };
        let src = Inflating::new(self, pos, limits);
        let result = parse_elf_source(&src).map_err(|e| e.to_string());
        (result, src.state.into_inner().stats)
    }

    /// The installed layout, built once.
    fn tree(&self) -> &Tree {
        self.tree.get_or_init(|| {
            let mut t = Tree { nodes: vec![Node::default()] };
            for (pos, m) in self.members.iter().enumerate() {
                let Some(path) = &m.installed else { continue };
                let mut n = 0;
                for c in path.split('/') {
                    n = match t.nodes[n].children.get(c) {
                        Some(&child) => child,
                        None => {
                            t.nodes.push(Node::default());
                            let child = t.nodes.len() - 1;
                            t.nodes[n].children.insert(c.to_owned(), child);
                            child
                        }
                    };
                }
                t.nodes[n].file.get_or_insert(pos);
            }
            t
        })
    }
}

/// The `.dist-info` directory: the only top-level one, or the one the file name's
/// `name-version` matches (else the first), a problem noting several.
fn choose_dist_info(members: &[Member], file_name: &str, problems: &mut Vec<String>) -> Option<String> {
    let mut found: Vec<&str> = Vec::new();
    for m in members {
        if let Some((top, _)) = m.name.split_once('/')
            && top.ends_with(".dist-info")
            && !found.contains(&top)
        {
            found.push(top);
        }
    }
    let chosen = match found.as_slice() {
        [] => return None,
        [one] => one,
        several => {
            let wanted = file_name.strip_suffix(".whl").and_then(name_version);
            let matching = several
                .iter()
                .find(|d| wanted.is_some() && d.strip_suffix(".dist-info").and_then(name_version) == wanted);
            let chosen = matching.unwrap_or(&several[0]);
            let names: Vec<String> = several.iter().map(|d| shown_name(d)).collect();
            problems.push(format!(
                "{}: several .dist-info directories; {} is used",
                names.join(", "),
                shown_name(chosen)
            ));
            chosen
        }
    };
    Some((*chosen).to_owned())
}

/// What reading one member's ELF headers cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ElfReadStats {
    /// Bytes inflated (for a stored member, read), counting those streamed past.
    pub inflated: u64,
    /// Most bytes held at once: cached blocks, decoder buffers and the piece being assembled
    /// (the ELF reader's own copies of pieces, at most about 9 MiB, come on top).
    pub peak_held: u64,
    /// Times the member was inflated again from its start (a read behind the stream).
    pub reopens: u32,
}

/// Bounds of an [`Inflating`] source (smaller in tests).
#[derive(Debug, Clone, Copy)]
struct InflateLimits {
    /// Unit of caching: a read lands in the block(s) around it, kept whole.
    block: u64,
    /// Blocks below this offset are kept once inflated (the headers, `.dynsym`, `.dynstr` and
    /// version tables are there in linkers' layouts).
    prefix: u64,
    /// Bytes of blocks beyond the prefix kept, least recently used evicted first.
    cache: u64,
    /// Re-inflations from the start allowed per member.
    reopens: u32,
    /// Bytes inflated at most per member beyond twice its size.
    extra_inflate: u64,
}

impl InflateLimits {
    const DEFAULT: InflateLimits =
        InflateLimits { block: 1 << 20, prefix: 8 << 20, cache: 12 << 20, reopens: 32, extra_inflate: 256 << 20 };
}

/// Bytes a deflate decoder holds (its input buffer, window and state), counted while open.
const DECODER_BYTES: u64 = 96 << 10;
/// Buffer that bytes streamed past are inflated into.
const SCRATCH: usize = 64 << 10;

/// A member as an ELF [`Source`]: deflate cannot seek, so reads are served from blocks inflated
/// by one forward stream (re-opened from the start for a read behind it), the first `prefix`
/// bytes kept and later blocks in a small LRU. A stored member is read directly.
struct Inflating<'w> {
    wheel: &'w Wheel,
    pos: usize,
    size: u64,
    limits: InflateLimits,
    state: RefCell<InflateState<'w>>,
}

struct InflateState<'w> {
    /// Data offset of a stored member, found on first read.
    stored: Option<u64>,
    /// The deflate stream and its position (always at a block boundary).
    stream: Option<(MemberReader<'w>, u64)>,
    blocks: Vec<Block>,
    tick: u64,
    opened: u32,
    stats: ElfReadStats,
}

struct Block {
    index: u64,
    data: Vec<u8>,
    used: u64,
}

impl<'w> Inflating<'w> {
    fn new(wheel: &'w Wheel, pos: usize, limits: InflateLimits) -> Inflating<'w> {
        let state = InflateState {
            stored: None,
            stream: None,
            blocks: Vec::new(),
            tick: 0,
            opened: 0,
            stats: ElfReadStats::default(),
        };
        Inflating { wheel, pos, size: wheel.members[pos].size, limits, state: RefCell::new(state) }
    }

    fn cannot(e: io::Error) -> Malformed {
        Malformed::new(format!("member cannot be read: {e}"))
    }

    /// Record what is held now, with `extra` bytes beyond the blocks and the decoder.
    fn note_held(st: &mut InflateState, extra: u64) {
        let blocks: u64 = st.blocks.iter().map(|b| b.data.len() as u64).sum();
        let decoder = if st.stream.is_some() { DECODER_BYTES } else { 0 };
        st.stats.peak_held = st.stats.peak_held.max(blocks + decoder + extra);
    }

    /// Inflate `len` bytes from the stream into `into` (or past them), counting them against
    /// the budget; ending early is an error.
    fn inflate(&self, st: &mut InflateState<'w>, into: Option<&mut [u8]>, len: u64) -> Result<(), Malformed> {
        let budget = self.size.saturating_mul(2).saturating_add(self.limits.extra_inflate);
        if st.stats.inflated + len > budget {
            return Err(Malformed::new(format!(
                "reading the ELF headers would inflate more than {budget} bytes of a {}-byte member",
                self.size
            )));
        }
        let Some((reader, at)) = st.stream.as_mut() else {
            return Err(Malformed::new("internal error: no open stream to inflate from"));
        };
        let short = |e: io::Error| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                Malformed::new(format!("member inflates to fewer bytes than the {} it declares", self.size))
            } else {
                Self::cannot(e)
            }
        };
        let done = match into {
            Some(buf) => reader.read_exact(buf),
            None => {
                let mut scratch = vec![0u8; SCRATCH];
                let mut left = len;
                let mut done = Ok(());
                while left > 0 && done.is_ok() {
                    let n = left.min(SCRATCH as u64) as usize;
                    done = reader.read_exact(&mut scratch[..n]);
                    left -= n as u64;
                }
                done
            }
        };
        st.stats.inflated += len;
        match done {
            Ok(()) => {
                *at += len;
                Ok(())
            }
            Err(e) => {
                // Where a failed stream stands is unknown: a later read (the ELF reader goes
                // on past some failed reads) starts over rather than read misplaced bytes.
                st.stream = None;
                Err(short(e))
            }
        }
    }

    /// The position in `st.blocks` of block `k`, inflating it (and re-opening the stream when
    /// it is past it) when it is not cached.
    fn block(&self, st: &mut InflateState<'w>, k: u64, piece: u64) -> Result<usize, Malformed> {
        st.tick += 1;
        let tick = st.tick;
        if let Some(i) = st.blocks.iter().position(|b| b.index == k) {
            st.blocks[i].used = tick;
            return Ok(i);
        }
        let bs = self.limits.block;
        let start = k * bs;
        if st.stream.as_ref().is_none_or(|(_, at)| *at > start) {
            if st.opened > self.limits.reopens {
                return Err(Malformed::new(format!(
                    "the ELF reader's reads would inflate the member from its start more than {} times",
                    self.limits.reopens
                )));
            }
            st.stream = None;
            let r = self.wheel.open_member(self.pos).map_err(Self::cannot)?;
            st.stream = Some((r, 0));
            st.opened += 1;
            st.stats.reopens = st.opened - 1;
        }
        let pinned = self.limits.prefix.div_ceil(bs);
        let cap = self.limits.cache.max(bs);
        loop {
            let at = st.stream.as_ref().map_or(0, |(_, at)| *at);
            let j = at / bs;
            let len = bs.min(self.size - at);
            // Keep the block asked for; a prefix block not yet kept; and, while there is room
            // among other speculative ones, the blocks right before the one asked for: patchelf
            // (auditwheel) moves `.dynsym` just before the `.dynamic` it appends at the end, and
            // the ELF reader turns back to it after the dynamic section.
            let cached = st.blocks.iter().any(|b| b.index == j);
            let keep = j == k || (!cached && (j < pinned || (j + 1) * bs + cap > start));
            if !keep || (j >= pinned && !Self::make_room(st, pinned, cap, len, j == k)) {
                Self::note_held(st, piece + SCRATCH as u64);
                self.inflate(st, None, len)?;
                continue;
            }
            let mut data = vec![0u8; len as usize];
            Self::note_held(st, piece + len);
            self.inflate(st, Some(&mut data), len)?;
            // Speculative blocks are used at 0: evicted before any block a read asked for.
            let used = if j == k || j < pinned { tick } else { 0 };
            st.blocks.push(Block { index: j, data, used });
            if j == k {
                return Ok(st.blocks.len() - 1);
            }
        }
    }

    /// Make room for `len` bytes among the blocks beyond the prefix, evicting speculative
    /// blocks (the earliest first) and then, for a block a read asked for (`asked`), the least
    /// recently used. False when a speculative block does not fit.
    fn make_room(st: &mut InflateState, pinned: u64, cap: u64, len: u64, asked: bool) -> bool {
        loop {
            let lru: u64 = st.blocks.iter().filter(|b| b.index >= pinned).map(|b| b.data.len() as u64).sum();
            if lru + len <= cap {
                return true;
            }
            let victim = st
                .blocks
                .iter()
                .enumerate()
                .filter(|(_, b)| b.index >= pinned && (asked || b.used == 0))
                .min_by_key(|(_, b)| (b.used, b.index))
                .map(|(i, _)| i);
            match victim {
                Some(i) => {
                    st.blocks.swap_remove(i);
                }
                None => return asked,
            }
        }
    }
}

impl Source for Inflating<'_> {
    fn len(&self) -> u64 {
        self.size
    }

    fn read_at(&self, offset: u64, len: u64) -> Result<Vec<u8>, Malformed> {
        let end = offset.checked_add(len).ok_or_else(|| Malformed::new("offset overflow"))?;
        if end > self.size {
            return Err(Malformed::new(format!(
                "read of {len} bytes at {offset} is past the end of the member ({} bytes)",
                self.size
            )));
        }
        let mut st = self.state.borrow_mut();
        let mut out = Vec::with_capacity(len as usize);
        if st.stored.is_none() && st.stream.is_none() && st.opened == 0 {
            // First read: a stored member is read in place, never inflated.
            if let MemberReader::Stored(at) = self.wheel.open_member(self.pos).map_err(Self::cannot)? {
                st.stored = Some(at.pos);
            }
        }
        if let Some(data) = st.stored {
            out.resize(len as usize, 0);
            self.wheel.file.read_exact_at(&mut out, data + offset).map_err(Self::cannot)?;
            st.stats.inflated += len;
            st.stats.peak_held = st.stats.peak_held.max(len);
            return Ok(out);
        }
        let bs = self.limits.block;
        let mut at = offset;
        while at < end {
            let k = at / bs;
            let i = self.block(&mut st, k, len)?;
            let block = &st.blocks[i];
            let from = (at - k * bs) as usize;
            let to = (end.min(k * bs + block.data.len() as u64) - k * bs) as usize;
            out.extend_from_slice(&block.data[from..to]);
            at = k * bs + to as u64;
        }
        Self::note_held(&mut st, len);
        Ok(out)
    }
}

/// The hex digest of a file (`sha256`, `sha384`, `sha512`), streamed.
pub fn file_digest(real: &Path, algorithm: &str) -> std::io::Result<String> {
    use sha2::{Sha256, Sha384, Sha512};
    match algorithm {
        "sha256" => digest::<Sha256>(real),
        "sha384" => digest::<Sha384>(real),
        "sha512" => digest::<Sha512>(real),
        _ => Err(io::Error::new(io::ErrorKind::InvalidInput, format!("unknown digest algorithm {algorithm:?}"))),
    }
}

/// Hex digest of a regular file, read in 1 MiB blocks.
fn digest<D: sha2::Digest>(real: &Path) -> io::Result<String> {
    let mut file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(real)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("{} is not a regular file", real.display())));
    }
    let mut hasher = D::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let mut hex = String::with_capacity(2 * <D as sha2::Digest>::output_size());
    for b in hasher.finalize().iter() {
        use std::fmt::Write as _;
        let _ = write!(hex, "{b:02x}");
    }
    Ok(hex)
}

/// One wheel's installed layout: a tree of path components (node 0 the root), so a hostile
/// name of thousands of components costs its length, not its square.
struct Tree {
    nodes: Vec<Node>,
}

#[derive(Default)]
struct Node {
    children: BTreeMap<String, usize>,
    /// The member installed here (a position in `members`).
    file: Option<usize>,
}

impl Tree {
    fn find(&self, path: &str) -> Option<&Node> {
        let mut n = 0;
        for c in path.split('/').filter(|c| !c.is_empty()) {
            n = *self.nodes[n].children.get(c)?;
        }
        Some(&self.nodes[n])
    }
}

/// The installed layout of several wheels together (site-packages after installing them
/// all), as a [`SourceTree`] for the import graph.
pub struct WheelTree<'a> {
    /// The wheels.
    pub wheels: Vec<&'a Wheel>,
}

impl SourceTree for WheelTree<'_> {
    fn list(&mut self, dir: &str) -> Option<Vec<(String, EntryKind)>> {
        let mut found = dir.split('/').all(str::is_empty);
        let mut out: BTreeMap<String, EntryKind> = BTreeMap::new();
        for w in &self.wheels {
            let t = w.tree();
            let Some(node) = t.find(dir).filter(|n| !n.children.is_empty()) else { continue };
            found = true;
            for (name, &child) in &node.children {
                let kind = if t.nodes[child].file.is_some() { EntryKind::File } else { EntryKind::Dir };
                // An earlier wheel's entry is not replaced by a later one's.
                out.entry(name.clone()).or_insert(kind);
            }
        }
        found.then(|| out.into_iter().collect())
    }

    fn read(&mut self, file: &str, limit: u64) -> std::io::Result<Vec<u8>> {
        for w in &self.wheels {
            if let Some(pos) = w.tree().find(file).and_then(|n| n.file) {
                return w.read(w.members[pos].index, limit);
            }
        }
        Err(io::Error::new(io::ErrorKind::NotFound, format!("{file}: no such file in the wheels")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Seek, SeekFrom};
    use std::path::PathBuf;
    use std::process::Command;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A directory under the system's temporary directory, removed when dropped.
    struct Tmp(PathBuf);

    impl Tmp {
        fn new(tag: &str) -> Tmp {
            static N: AtomicUsize = AtomicUsize::new(0);
            let n = N.fetch_add(1, Ordering::Relaxed);
            let dir = std::env::temp_dir().join(format!("venvaudit-wheel-{tag}-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Tmp(dir)
        }
        fn path(&self, name: &str) -> PathBuf {
            self.0.join(name)
        }
    }

    impl Drop for Tmp {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// A wheel written with the `zip` crate: deflated files, and directories for names ending
    /// in `/`.
    fn zip_with(path: &Path, members: &[(&str, &[u8])]) {
        let mut w = zip::ZipWriter::new(File::create(path).unwrap());
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in members {
            if name.ends_with('/') {
                w.add_directory(*name, opts).unwrap();
            } else {
                w.start_file(*name, opts).unwrap();
                w.write_all(data).unwrap();
            }
        }
        w.finish().unwrap();
    }

    fn put16(v: &mut Vec<u8>, x: u16) {
        v.extend_from_slice(&x.to_le_bytes());
    }
    fn put32(v: &mut Vec<u8>, x: u32) {
        v.extend_from_slice(&x.to_le_bytes());
    }

    /// A zip written byte by byte, for what the `zip` crate would not write: sizes that lie,
    /// duplicate names, data streamed from elsewhere.
    struct RawZip {
        file: File,
        central: Vec<u8>,
        count: u16,
    }

    impl RawZip {
        fn create(path: &Path) -> RawZip {
            RawZip { file: File::create(path).unwrap(), central: Vec::new(), count: 0 }
        }

        /// A member whose (already compressed) data `write` writes; `declared` and `crc` are
        /// written as given (a declared size of 4 GiB or more goes in a zip64 extra field).
        fn add(&mut self, name: &[u8], method: u16, crc: u32, declared: u64, write: impl FnOnce(&mut File)) {
            let offset = self.file.stream_position().unwrap();
            let d32 = if declared >= 0xffff_ffff { 0xffff_ffff } else { declared as u32 };
            let mut h = b"PK\x03\x04".to_vec();
            for x in [20, 0, method, 0, 0x21] {
                put16(&mut h, x);
            }
            for x in [crc, 0, d32] {
                put32(&mut h, x);
            }
            put16(&mut h, name.len() as u16);
            put16(&mut h, 0);
            h.extend_from_slice(name);
            self.file.write_all(&h).unwrap();
            let start = self.file.stream_position().unwrap();
            write(&mut self.file);
            let end = self.file.stream_position().unwrap();
            let compressed = u32::try_from(end - start).unwrap();
            self.file.seek(SeekFrom::Start(offset + 18)).unwrap();
            self.file.write_all(&compressed.to_le_bytes()).unwrap();
            self.file.seek(SeekFrom::End(0)).unwrap();
            let mut extra = Vec::new();
            if d32 == 0xffff_ffff {
                put16(&mut extra, 1);
                put16(&mut extra, 8);
                extra.extend_from_slice(&declared.to_le_bytes());
            }
            let c = &mut self.central;
            c.extend_from_slice(b"PK\x01\x02");
            for x in [0x031e, 20, 0, method, 0, 0x21] {
                put16(c, x);
            }
            for x in [crc, compressed, d32] {
                put32(c, x);
            }
            for x in [name.len() as u16, extra.len() as u16, 0, 0, 0] {
                put16(c, x);
            }
            put32(c, 0o100644 << 16);
            put32(c, u32::try_from(offset).unwrap());
            c.extend_from_slice(name);
            c.extend_from_slice(&extra);
            self.count += 1;
        }

        /// A member of `data`, deflated, its size and CRC true.
        fn add_bytes(&mut self, name: &[u8], data: &[u8]) {
            let mut crc = flate2::Crc::new();
            crc.update(data);
            self.add(name, 8, crc.sum(), data.len() as u64, |f| {
                let mut e = flate2::write::DeflateEncoder::new(f, flate2::Compression::fast());
                e.write_all(data).unwrap();
                e.finish().unwrap();
            });
        }

        /// Write the central directory and its end record, declaring `count` entries (the true
        /// count when `None`).
        fn finish_declaring(mut self, count: Option<u16>) {
            let start = self.file.stream_position().unwrap();
            self.file.write_all(&self.central).unwrap();
            let count = count.unwrap_or(self.count);
            let mut e = b"PK\x05\x06".to_vec();
            for x in [0, 0, count, count] {
                put16(&mut e, x);
            }
            put32(&mut e, self.central.len() as u32);
            put32(&mut e, start as u32);
            put16(&mut e, 0);
            self.file.write_all(&e).unwrap();
        }

        fn finish(self) {
            self.finish_declaring(None);
        }
    }

    const MIB: u64 = 1 << 20;

    /// 1 MiB of zeros deflated and sync-flushed, with its CRC: repeated, then ended by an empty
    /// final block, it is a valid stream of any number of MiB of zeros, written in no time.
    fn zero_chunk() -> &'static (Vec<u8>, flate2::Crc) {
        static CHUNK: OnceLock<(Vec<u8>, flate2::Crc)> = OnceLock::new();
        CHUNK.get_or_init(|| {
            let zeros = vec![0u8; MIB as usize];
            let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(&zeros).unwrap();
            e.flush().unwrap();
            let mut crc = flate2::Crc::new();
            crc.update(&zeros);
            (e.get_ref().clone(), crc)
        })
    }

    /// The empty final block that ends a stream of sync-flushed chunks.
    const FINAL_BLOCK: [u8; 2] = [3, 0];

    /// Write `mib` MiB of zeros deflated to `out` (streamed: about 1 KiB per MiB); their CRC.
    fn write_zeros(out: &mut File, mib: u64) -> u32 {
        let (chunk, zero_crc) = zero_chunk();
        let mut crc = flate2::Crc::new();
        for _ in 0..mib {
            out.write_all(chunk).unwrap();
            crc.combine(zero_crc);
        }
        out.write_all(&FINAL_BLOCK).unwrap();
        crc.sum()
    }

    /// Deflate a file into `out` in independently compressed 1 MiB chunks (the zero chunk for
    /// all-zero ones, so gigabytes of padding cost nothing); its CRC and size.
    fn deflate_file(src: &Path, out: &mut File) -> (u32, u64) {
        let (chunk, zero_crc) = zero_chunk();
        let zeros = vec![0u8; MIB as usize];
        let mut f = File::open(src).unwrap();
        let mut buf = vec![0u8; MIB as usize];
        let (mut crc, mut size) = (flate2::Crc::new(), 0u64);
        loop {
            let mut n = 0;
            while n < buf.len() {
                match f.read(&mut buf[n..]).unwrap() {
                    0 => break,
                    k => n += k,
                }
            }
            if n == 0 {
                break;
            }
            size += n as u64;
            if buf[..n] == zeros[..] {
                out.write_all(chunk).unwrap();
                crc.combine(zero_crc);
            } else {
                let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(&buf[..n]).unwrap();
                e.flush().unwrap();
                out.write_all(e.get_ref()).unwrap();
                crc.update(&buf[..n]);
            }
        }
        out.write_all(&FINAL_BLOCK).unwrap();
        (crc.sum(), size)
    }

    fn index_of(w: &Wheel, name: &str) -> usize {
        w.members().iter().find(|m| m.name == name).unwrap_or_else(|| panic!("no member {name}")).index
    }

    /// Names that would land outside site-packages (or be read differently) are refused and
    /// named; the others stay; and the refused ones really were in the archive.
    #[test]
    fn escaping_names_are_refused_and_named() {
        let tmp = Tmp::new("names");
        let path = tmp.path("demo-1.0-py3-none-any.whl");
        let hostile = ["../x", "/abs", "a/../../b", "a\\b", "../../etc/passwd", "a//b", "./c"];
        let mut members: Vec<(&str, &[u8])> =
            vec![("demo/__init__.py", b"import os\n"), ("demo-1.0.dist-info/METADATA", b"Name: demo\n")];
        members.extend(hostile.iter().map(|n| (*n, &b"evil"[..])));
        members.push(("demo/ok.py", b"x = 1\n"));
        zip_with(&path, &members);
        // The archive holds every one of them, as the zip crate reads it.
        let z = zip::ZipArchive::new(File::open(&path).unwrap()).unwrap();
        let names: Vec<String> = z.file_names().map(|n| n.unwrap().into_owned()).collect();
        assert_eq!(z.len(), members.len());
        for h in hostile {
            assert!(names.iter().any(|n| n == h), "{h} not written: {names:?}");
        }

        let w = Wheel::open(&path, "demo.whl").unwrap();
        let kept: Vec<&str> = w.members().iter().map(|m| m.name.as_str()).collect();
        assert_eq!(kept, ["demo/__init__.py", "demo-1.0.dist-info/METADATA", "demo/ok.py"]);
        assert_eq!(w.problems().len(), hostile.len(), "{:#?}", w.problems());
        for h in hostile {
            assert!(w.problems().iter().any(|p| p.starts_with(&format!("{h:?}: "))), "{h}: {:#?}", w.problems());
        }
        assert!(w.problems().contains(&r#""../../etc/passwd": member path escapes the install directory"#.to_owned()));
        assert!(w.problems().contains(&r#""a\\b": member path contains a backslash"#.to_owned()));
        // Indexes are the archive's: the last member is still at its place.
        assert_eq!(index_of(&w, "demo/ok.py"), members.len() - 1);
        assert_eq!(w.read(index_of(&w, "demo/ok.py"), 100).unwrap(), b"x = 1\n");
        assert_eq!(w.dist_info(), Some("demo-1.0.dist-info"));
    }

    /// A NUL in a name, a name twice, an overlong name and an absurd size: each refused and
    /// named, the rest kept.
    #[test]
    fn nul_duplicate_long_and_huge_members_are_refused() {
        let tmp = Tmp::new("dups");
        let path = tmp.path("demo-1.0-py3-none-any.whl");
        let long = "d/".repeat(2100) + "x.py";
        let mut z = RawZip::create(&path);
        z.add_bytes(b"demo/a.py", b"a\n");
        z.add_bytes(b"demo/dup.py", b"first\n");
        z.add_bytes(b"demo/\0.py", b"nul\n");
        z.add_bytes(b"demo/dup.py", b"second\n");
        z.add_bytes(long.as_bytes(), b"long\n");
        z.add(b"demo/huge.bin", 8, 0, 17 << 30, |f| {
            write_zeros(f, 1);
        });
        z.add_bytes(b"demo/b.py", b"b\n");
        z.finish();
        // Both copies are in the archive (the zip crate's index by name collapses them).
        let za = zip::ZipArchive::new(File::open(&path).unwrap()).unwrap();
        assert!(za.has_duplicate_names());

        let w = Wheel::open(&path, "demo.whl").unwrap();
        let kept: Vec<(&str, usize)> = w.members().iter().map(|m| (m.name.as_str(), m.index)).collect();
        assert_eq!(kept, [("demo/a.py", 0), ("demo/b.py", 6)]);
        let p = w.problems();
        assert_eq!(p.len(), 4, "{p:#?}");
        assert!(p.contains(&r#""demo/\0.py": member name contains a NUL byte"#.to_owned()), "{p:#?}");
        assert!(p.iter().any(|m| m.starts_with(r#""demo/dup.py": member appears 2 times"#)), "{p:#?}");
        assert!(p.iter().any(|m| m.starts_with(r#""d/d/d/"#) && m.contains("member name of 4204 bytes")), "{p:#?}");
        assert!(p.iter().any(|m| m.starts_with(r#""demo/huge.bin": member declares 18253611008 bytes"#)), "{p:#?}");
        assert!(w.read(3, 100).is_err(), "a refused member cannot be read by its index");
    }

    /// `.data/purelib` and `.data/platlib` install into site-packages; scripts, headers and data
    /// elsewhere; directories are not files; two members installed to one path are refused.
    #[test]
    fn data_directories_map_as_installers_map_them() {
        let tmp = Tmp::new("data");
        let path = tmp.path("demo-1.0-cp312-cp312-linux_x86_64.whl");
        zip_with(
            &path,
            &[
                ("demo/", b""),
                ("demo/__init__.py", b""),
                ("demo-1.0.data/purelib/demo/pure.py", b"p"),
                ("demo-1.0.data/platlib/_demo.so", b"\x7fELF"),
                ("demo-1.0.data/scripts/demo-run", b"#!python\n"),
                ("demo-1.0.data/headers/demo.h", b""),
                ("demo-1.0.data/data/share/demo.txt", b""),
                ("demo-1.0.data/data/lib/python3.12/site-packages/dd/_m.so", b"\x7fELF"),
                ("demo-1.0.data/weird/x", b""),
                ("demo-1.0.data/purelib/demo/clash.py", b"1"),
                ("demo/clash.py", b"2"),
                ("demo-1.0.dist-info/RECORD", b""),
            ],
        );
        let w = Wheel::open(&path, "demo.whl").unwrap();
        let got: Vec<(&str, Option<&str>)> =
            w.members().iter().map(|m| (m.name.as_str(), m.installed.as_deref())).collect();
        assert_eq!(
            got,
            [
                ("demo/", None),
                ("demo/__init__.py", Some("demo/__init__.py")),
                ("demo-1.0.data/purelib/demo/pure.py", Some("demo/pure.py")),
                ("demo-1.0.data/platlib/_demo.so", Some("_demo.so")),
                ("demo-1.0.data/scripts/demo-run", None),
                ("demo-1.0.data/headers/demo.h", None),
                ("demo-1.0.data/data/share/demo.txt", None),
                ("demo-1.0.data/data/lib/python3.12/site-packages/dd/_m.so", Some("dd/_m.so")),
                ("demo-1.0.dist-info/RECORD", Some("demo-1.0.dist-info/RECORD")),
            ]
        );
        assert_eq!(w.problems().len(), 2, "{:#?}", w.problems());
        assert!(w.problems()[0].starts_with(r#""demo-1.0.data/weird/x": unknown .data scheme "weird""#));
        assert!(w.problems()[1].contains(r#""demo-1.0.data/purelib/demo/clash.py", "demo/clash.py": members installed to the same path "demo/clash.py""#));
        assert!(w.is_elf(index_of(&w, "demo-1.0.data/platlib/_demo.so")));
        assert!(!w.is_elf(index_of(&w, "demo/__init__.py")));
    }

    /// Several `.dist-info` directories: the one the file name names, and a problem.
    #[test]
    fn the_dist_info_the_file_name_names_is_chosen() {
        let tmp = Tmp::new("distinfo");
        let path = tmp.path("Demo_Pkg-1.0-py3-none-any.whl");
        zip_with(
            &path,
            &[("other-2.0.dist-info/METADATA", b""), ("demo_pkg-1.0.dist-info/METADATA", b""), ("x.py", b"")],
        );
        let w = Wheel::open(&path, "shown.whl").unwrap();
        assert_eq!(w.dist_info(), Some("demo_pkg-1.0.dist-info"));
        assert_eq!(w.problems().len(), 1);
        assert!(w.problems()[0].contains("several .dist-info directories"), "{:?}", w.problems());
        // None matching: the first.
        let path = tmp.path("unrelated-3.0-py3-none-any.whl");
        zip_with(&path, &[("b-2.0.dist-info/METADATA", b""), ("a-1.0.dist-info/METADATA", b"")]);
        assert_eq!(Wheel::open(&path, "x").unwrap().dist_info(), Some("b-2.0.dist-info"));
    }

    /// A member that lies about its size, and 1 GiB of zeros deflated to 1 MiB: neither is
    /// inflated whole by anything.
    #[test]
    fn zip_bombs_are_not_inflated() {
        let tmp = Tmp::new("bomb");
        let path = tmp.path("bomb-1.0-py3-none-any.whl");
        let mut z = RawZip::create(&path);
        // Declares 100 bytes, inflates to 1 GiB.
        z.add(b"bomb/liar.so", 8, 0, 100, |f| {
            write_zeros(f, 1024);
        });
        let mut crc = 0;
        z.add(b"bomb/zeros.so", 8, 0, 1 << 30, |f| crc = write_zeros(f, 1024));
        z.finish();
        assert!(std::fs::metadata(&path).unwrap().len() < 4 * MIB);
        let w = Wheel::open(&path, "bomb.whl").unwrap();
        let (liar, zeros) = (index_of(&w, "bomb/liar.so"), index_of(&w, "bomb/zeros.so"));
        let t = std::time::Instant::now();

        let e = w.read(zeros, MIB).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert_eq!(e.to_string(), "member larger than 1048576 bytes");
        let e = w.read(liar, MIB).unwrap_err();
        assert_eq!(e.to_string(), "member inflates to more than the 100 bytes it declares");
        let e = w.read(liar, 100).unwrap_err();
        assert_eq!(e.to_string(), "member larger than 100 bytes");
        assert!(!w.is_elf(liar) && !w.is_elf(zeros));
        for i in [liar, zeros] {
            let (r, stats) = w.elf_with_stats(i);
            assert_eq!(r.unwrap_err(), "not an ELF file");
            assert!(stats.inflated <= MIB && stats.peak_held < 2 * MIB, "{stats:?}");
        }
        assert!(t.elapsed() < std::time::Duration::from_secs(5), "{:?}", t.elapsed());
        // Only a caller asking for all of it inflates it all (and the CRC is checked).
        let mut sink = io::sink();
        let _ = crc;
        assert!(w.copy_to(liar, 2 << 30, &mut sink).is_err());
    }

    /// A member whose data is shorter than it declares, or whose CRC is wrong, is an error.
    #[test]
    fn short_and_corrupt_members_are_errors() {
        let tmp = Tmp::new("short");
        let path = tmp.path("s-1.0-py3-none-any.whl");
        let mut z = RawZip::create(&path);
        z.add(b"s/short.py", 8, 0, 5000, |f| {
            let mut e = flate2::write::DeflateEncoder::new(f, flate2::Compression::fast());
            e.write_all(&[b'x'; 100]).unwrap();
            e.finish().unwrap();
        });
        z.add(b"s/badcrc.py", 8, 1234, 3, |f| {
            let mut e = flate2::write::DeflateEncoder::new(f, flate2::Compression::fast());
            e.write_all(b"abc").unwrap();
            e.finish().unwrap();
        });
        z.add(b"s/stored.py", 0, 0x352441c2, 3, |f| f.write_all(b"abc").unwrap());
        z.finish();
        let w = Wheel::open(&path, "s.whl").unwrap();
        let e = w.read(0, 10_000).unwrap_err();
        assert_eq!(e.to_string(), "member inflates to 100 bytes, not the 5000 it declares");
        assert_eq!(w.read(1, 10).unwrap_err().to_string(), "member's CRC-32 does not match");
        assert_eq!(w.read(2, 3).unwrap(), b"abc");
        assert_eq!(w.read(2, 2).unwrap_err().to_string(), "member larger than 2 bytes");
    }

    /// A zip with bytes before it (offsets shifted, as Python's `zipfile` accepts), zip64
    /// entries written by the zip crate, and directories that break the rules.
    #[test]
    fn archive_forms_and_broken_directories() {
        let tmp = Tmp::new("forms");
        let plain = tmp.path("p-1.0-py3-none-any.whl");
        let mut w = zip::ZipWriter::new(File::create(&plain).unwrap());
        let big = zip::write::SimpleFileOptions::default().large_file(true);
        w.start_file("p/big.py", big).unwrap();
        w.write_all(b"zip64 = True\n").unwrap();
        w.start_file("p/small.py", zip::write::SimpleFileOptions::default()).unwrap();
        w.write_all(b"small = True\n").unwrap();
        w.finish().unwrap();
        let wh = Wheel::open(&plain, "p.whl").unwrap();
        assert_eq!(wh.read(0, 100).unwrap(), b"zip64 = True\n");
        assert_eq!(wh.read(1, 100).unwrap(), b"small = True\n");

        let prefixed = tmp.path("q-1.0-py3-none-any.whl");
        let mut bytes = vec![b'#'; 1000];
        bytes.extend(std::fs::read(&plain).unwrap());
        std::fs::write(&prefixed, &bytes).unwrap();
        let wh = Wheel::open(&prefixed, "q.whl").unwrap();
        assert_eq!(wh.read(1, 100).unwrap(), b"small = True\n");

        let invalid = |path: &Path| match Wheel::open(path, "x.whl") {
            Err(WheelError::Invalid { reason, .. }) => reason,
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("opened"),
        };
        // An end record declaring another count than the directory holds.
        let miscount = tmp.path("m.whl");
        let mut z = RawZip::create(&miscount);
        z.add_bytes(b"a.py", b"a");
        z.add_bytes(b"b.py", b"b");
        z.finish_declaring(Some(1));
        assert_eq!(invalid(&miscount), "the central directory holds 2 entries but the end record declares 1");
        // Not a zip, a directory, nothing at all.
        std::fs::write(tmp.path("t.whl"), b"just text, no archive here").unwrap();
        assert_eq!(invalid(&tmp.path("t.whl")), "no end of central directory record");
        assert_eq!(invalid(&tmp.0), "not a regular file");
        assert!(matches!(Wheel::open(&tmp.path("missing.whl"), "x"), Err(WheelError::Io { .. })));
        // A zip64 end record declaring more members than allowed: refused before any is read.
        let many = tmp.path("many.whl");
        let mut b = Vec::new();
        b.extend_from_slice(b"PK\x06\x06");
        b.extend_from_slice(&44u64.to_le_bytes());
        b.extend_from_slice(&[45, 0, 45, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        for x in [300_000u64, 300_000, 300_000 * 46, 0] {
            b.extend_from_slice(&x.to_le_bytes());
        }
        b.extend_from_slice(b"PK\x06\x07\0\0\0\0");
        b.extend_from_slice(&0u64.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(b"PK\x05\x06\0\0\0\0\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\0\0");
        std::fs::write(&many, &b).unwrap();
        assert_eq!(invalid(&many), "300000 members (more than 200000)");
    }

    /// The wheel is read from many threads at once.
    #[test]
    fn members_are_read_in_parallel() {
        use rayon::prelude::*;
        fn shared<T: Sync + Send>(_: &T) {}
        let tmp = Tmp::new("par");
        let path = tmp.path("par-1.0-py3-none-any.whl");
        let contents: Vec<(String, Vec<u8>)> =
            (0..64).map(|i| (format!("par/m{i}.py"), format!("x = {i}\n").repeat(1000 + i).into_bytes())).collect();
        let members: Vec<(&str, &[u8])> = contents.iter().map(|(n, c)| (n.as_str(), c.as_slice())).collect();
        zip_with(&path, &members);
        let w = Wheel::open(&path, "par.whl").unwrap();
        shared(&w);
        let read: Vec<Vec<u8>> = w.members().par_iter().map(|m| w.read(m.index, 1 << 20).unwrap()).collect();
        assert!(read.iter().zip(&contents).all(|(r, (_, c))| r == c));
    }

    /// Random reads through the block cache (small blocks, so every path is taken: the prefix,
    /// the LRU, streaming forward, re-opening) give the member's bytes; the re-open bound holds.
    #[test]
    fn inflating_source_serves_any_read() {
        let tmp = Tmp::new("src");
        let path = tmp.path("src-1.0-py3-none-any.whl");
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let data: Vec<u8> = (0..(300 << 10) + 777).map(|_| (next() % 16) as u8 + b'a').collect();
        zip_with(&path, &[("src/data.bin", &data)]);
        let w = Wheel::open(&path, "src.whl").unwrap();
        let limits =
            InflateLimits { block: 4096, prefix: 16384, cache: 32768, reopens: 10_000, extra_inflate: 1 << 40 };
        let src = Inflating::new(&w, 0, limits);
        assert_eq!(src.len(), data.len() as u64);
        let mut max_len = 0;
        for i in 0..800 {
            let len = if i % 50 == 0 { next() % 40_000 } else { next() % 5000 };
            let offset = next() % (data.len() as u64 - len);
            max_len = max_len.max(len);
            let got = src.read_at(offset, len).unwrap();
            assert!(got == data[offset as usize..(offset + len) as usize], "{offset} {len}");
        }
        assert!(src.read_at(data.len() as u64 - 10, 11).is_err());
        let stats = src.state.borrow().stats;
        assert!(stats.reopens > 10, "{stats:?}");
        let bound = limits.prefix + limits.cache + 2 * max_len + DECODER_BYTES + SCRATCH as u64;
        assert!(stats.peak_held <= bound, "{stats:?} {bound}");
        // Reads further and further back beyond the prefix re-open each time: bounded.
        let limits = InflateLimits { reopens: 3, ..limits };
        let src = Inflating::new(&w, 0, limits);
        let err = (0..10u64).rev().map(|k| src.read_at(100_000 + k * 8192, 16)).find_map(Result::err).unwrap();
        assert!(err.to_string().contains("from its start more than 3 times"), "{err}");
        // The budget of bytes inflated holds too.
        let limits = InflateLimits { extra_inflate: 0, ..InflateLimits::DEFAULT };
        let src = Inflating::new(&w, 0, limits);
        assert!(src.read_at(0, 16).is_ok());
        let short = tmp.path("short.whl");
        let mut z = RawZip::create(&short);
        z.add(b"short.so", 8, 0, 10 << 20, |f| {
            write_zeros(f, 2);
        });
        z.finish();
        let w = Wheel::open(&short, "short.whl").unwrap();
        let src = Inflating::new(&w, 0, InflateLimits::DEFAULT);
        let e = src.read_at(5 << 20, 16).unwrap_err();
        assert_eq!(e.to_string(), "member inflates to fewer bytes than the 10485760 it declares");
        // The failed stream is not read on from an unknown place: the next read starts over.
        let limits = InflateLimits { prefix: 0, cache: 1 << 20, ..InflateLimits::DEFAULT };
        let src = Inflating::new(&w, 0, limits);
        assert!(src.read_at(5 << 20, 16).is_err());
        assert_eq!(src.read_at((1 << 20) + 5, 16).unwrap(), [0; 16]);
        assert_eq!(src.state.borrow().stats.reopens, 1);
    }

    /// Compile `name.so` from C with a `pad`-byte constant in `.rodata`, which the linker puts
    /// between the headers (and `.dynsym`, `.dynstr`, the version tables) and `.dynamic`.
    fn compile_so(dir: &Path, name: &str, pad: u64) -> PathBuf {
        let c = dir.join(format!("{name}.c"));
        std::fs::write(
            &c,
            format!(
                "#include <math.h>\n\
                 __attribute__((used)) const char venvaudit_pad[{pad}UL] = {{1}};\n\
                 extern int Py_IsInitialized(void);\n\
                 volatile double venvaudit_x = 2.0;\n\
                 int PyInit_{name}(void) {{ return Py_IsInitialized() + (int)cos(venvaudit_x); }}\n"
            ),
        )
        .unwrap();
        let so = dir.join(format!("{name}.so"));
        let out = Command::new("cc")
            .args(["-shared", "-fPIC", "-O0", "-o"])
            .arg(&so)
            .arg(&c)
            .args(["-Wl,--no-as-needed", "-lm"])
            .arg(format!("-Wl,-soname,lib{name}.so"))
            .arg(format!("-Wl,-rpath,/opt/{name}/lib"))
            .output()
            .unwrap_or_else(|e| panic!("cc is needed to build this test's shared object and cannot run: {e}"));
        assert!(out.status.success(), "cc failed: {}", String::from_utf8_lossy(&out.stderr));
        so
    }

    /// File offset of PT_DYNAMIC.
    fn dynamic_offset(so: &Path) -> u64 {
        let head = read_exact_at(&File::open(so).unwrap(), 0, 4096).unwrap();
        let h = goblin::elf::Elf::parse_header(&head).unwrap();
        let ctx = goblin::container::Ctx::new(goblin::container::Container::Big, goblin::container::Endian::Little);
        let ph = goblin::elf::ProgramHeader::parse(&head, h.e_phoff as usize, h.e_phnum as usize, ctx).unwrap();
        ph.iter().find(|p| p.p_type == goblin::elf::program_header::PT_DYNAMIC).unwrap().p_offset
    }

    /// A wheel holding `so` deflated (as `big/x.so`) and stored (as `big/stored.so`).
    fn wheel_of(so: &Path, path: &Path, stored: bool) {
        let mut z = RawZip::create(path);
        let size = std::fs::metadata(so).unwrap().len();
        let mut crc_size = (0, 0);
        // The CRC is only known after deflating: write it, then patch the header and directory.
        z.add(b"big/x.so", 8, 0, size, |f| crc_size = deflate_file(so, f));
        assert_eq!(crc_size.1, size);
        let crc = crc_size.0.to_le_bytes();
        z.file.seek(SeekFrom::Start(14)).unwrap();
        z.file.write_all(&crc).unwrap();
        z.file.seek(SeekFrom::End(0)).unwrap();
        z.central[16..20].copy_from_slice(&crc);
        if stored {
            z.add(b"big/stored.so", 0, crc_size.0, size, |f| {
                io::copy(&mut File::open(so).unwrap(), f).unwrap();
            });
        }
        z.finish();
    }

    /// A shared object whose PT_DYNAMIC lies 64 MiB in: `elf()` equals `read_elf` of the file,
    /// streaming past the padding with bounded memory, and a stored copy is read in place.
    #[test]
    fn elf_headers_of_a_large_member_in_bounded_memory() {
        let tmp = Tmp::new("elf");
        let so = compile_so(&tmp.0, "padded", 64 * MIB);
        let size = std::fs::metadata(&so).unwrap().len();
        assert!(dynamic_offset(&so) > 64 * MIB, "PT_DYNAMIC is not after the padding");
        let path = tmp.path("padded-1.0-cp312-cp312-linux_x86_64.whl");
        wheel_of(&so, &path, true);
        let w = Wheel::open(&path, "padded.whl").unwrap();
        let expected = crate::parse::elf::read_elf(&so).unwrap();
        assert_eq!(expected.py_init.as_deref(), Some("PyInit_padded"));
        assert!(expected.needed.iter().any(|n| n.starts_with("libm.so")), "{expected:?}");
        assert_eq!(expected.rpath.len() + expected.runpath.len(), 1);

        let deflated = index_of(&w, "big/x.so");
        assert!(w.is_elf(deflated));
        let (info, stats) = w.elf_with_stats(deflated);
        assert_eq!(info.unwrap(), expected);
        assert!(stats.inflated >= 64 * MIB && stats.inflated <= size, "{stats:?} of {size}");
        assert!(stats.peak_held < 32 * MIB, "{stats:?}");
        assert_eq!(stats.reopens, 0, "{stats:?}");

        let stored = index_of(&w, "big/stored.so");
        let (info, stats) = w.elf_with_stats(stored);
        assert_eq!(info.unwrap(), expected);
        assert!(stats.inflated < MIB && stats.peak_held < MIB, "{stats:?}");
        // The whole member, streamed, is the file.
        let mut copy = Vec::new();
        w.copy_to(deflated, size, &mut copy).unwrap();
        assert!(copy == std::fs::read(&so).unwrap());
    }

    /// The same with a 2 GiB shared object.
    #[test]
    #[ignore = "slow: 2 GiB inflate; run by scripts/test.sh --include-ignored"]
    fn elf_headers_of_a_2_gib_member() {
        let tmp = Tmp::new("elf2g");
        let so = compile_so(&tmp.0, "huge", (2 << 30) - 2 * MIB);
        let size = std::fs::metadata(&so).unwrap().len();
        assert!(size > (2 << 30) - 2 * MIB && dynamic_offset(&so) > (2 << 30) - 2 * MIB);
        let path = tmp.path("huge-1.0-cp312-cp312-linux_x86_64.whl");
        wheel_of(&so, &path, false);
        std::fs::remove_file(tmp.0.join("huge.o")).ok();
        let w = Wheel::open(&path, "huge.whl").unwrap();
        let t = std::time::Instant::now();
        let (info, stats) = w.elf_with_stats(index_of(&w, "big/x.so"));
        let elapsed = t.elapsed();
        assert_eq!(info.unwrap(), crate::parse::elf::read_elf(&so).unwrap());
        assert!(stats.peak_held < 48 * MIB, "{stats:?}");
        eprintln!(
            "2 GiB member: {stats:?} in {elapsed:?} (wheel of {} bytes)",
            std::fs::metadata(&path).unwrap().len()
        );
    }

    /// Every ELF member of every wheel in the wheelhouse: `elf()` equals `read_elf` of the
    /// member extracted, and inflates a fraction of it.
    #[test]
    #[ignore = "needs the wheelhouse (.tools/wheels); run by scripts/test.sh --include-ignored"]
    fn wheelhouse_elf_members_agree_with_read_elf() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/wheels");
        let mut wheels: Vec<(u64, PathBuf)> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e} (scripts/setup.sh builds it)", dir.display()))
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "whl"))
            .map(|p| (std::fs::metadata(&p).unwrap().len(), p))
            .collect();
        wheels.sort_by(|a, b| b.cmp(a));
        let tmp = Tmp::new("house");
        let (mut members, mut sizes, mut inflated, mut peak, mut reopens) = (0, 0u64, 0u64, 0u64, 0u32);
        let mut elapsed = std::time::Duration::ZERO;
        for (i, (_, path)) in wheels.iter().enumerate() {
            let w = Wheel::open(path, &path.display().to_string()).unwrap();
            assert!(w.problems().is_empty(), "{:?}", w.problems());
            let (mut n, mut sz, mut inf, mut t) = (0, 0u64, 0u64, std::time::Duration::ZERO);
            for m in w.members().iter().filter(|m| w.is_elf(m.index)) {
                let out = tmp.path("member.so");
                w.copy_to(m.index, u64::MAX, &mut File::create(&out).unwrap()).unwrap();
                let expected = crate::parse::elf::read_elf(&out).map_err(|e| e.to_string());
                let start = std::time::Instant::now();
                let (got, stats) = w.elf_with_stats(m.index);
                t += start.elapsed();
                assert_eq!(
                    got.map_err(|e| format!("malformed ELF file {}: {e}", out.display())),
                    expected,
                    "{}",
                    m.name
                );
                if stats.inflated > m.size || stats.reopens > 0 {
                    eprintln!("  {} {} {stats:?}", m.name, m.size);
                }
                (n, sz, inf) = (n + 1, sz + m.size, inf + stats.inflated);
                peak = peak.max(stats.peak_held);
                reopens = reopens.max(stats.reopens);
            }
            if i < 3 {
                eprintln!(
                    "{}: {n} ELF members, {sz} bytes, {inf} inflated ({:.1}%), elf() in {t:?}",
                    path.file_name().unwrap().to_string_lossy(),
                    100.0 * inf as f64 / sz.max(1) as f64
                );
            }
            (members, sizes, inflated, elapsed) = (members + n, sizes + sz, inflated + inf, elapsed + t);
        }
        eprintln!(
            "{} wheels: {members} ELF members, {sizes} bytes, {inflated} inflated ({:.1}%), elf() in {elapsed:?}; \
             peak held {peak} bytes, at most {reopens} re-inflations of a member",
            wheels.len(),
            100.0 * inflated as f64 / sizes.max(1) as f64
        );
        assert!(members > 100, "{members}");
    }

    #[test]
    fn file_digest_matches_sha256sum() {
        let tmp = Tmp::new("digest");
        let path = tmp.path("f.bin");
        let data: Vec<u8> = (0..3 * MIB as usize + 12345).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        for algo in ["sha256", "sha384", "sha512"] {
            let out = Command::new(format!("{algo}sum"))
                .arg(&path)
                .output()
                .unwrap_or_else(|e| panic!("{algo}sum is needed by this test and cannot run: {e}"));
            let expected = String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap().to_owned();
            assert_eq!(file_digest(&path, algo).unwrap(), expected, "{algo}");
        }
        assert_eq!(file_digest(&path, "md5").unwrap_err().kind(), io::ErrorKind::InvalidInput);
        assert_eq!(file_digest(&tmp.0, "sha256").unwrap_err().kind(), io::ErrorKind::InvalidInput);
    }

    /// Two wheels as one site-packages: the union of their files and implied directories, the
    /// earlier wheel's file kept where both have one.
    #[test]
    fn wheel_tree_lists_and_reads_the_union() {
        let tmp = Tmp::new("tree");
        let (p1, p2) = (tmp.path("one-1.0-py3-none-any.whl"), tmp.path("two-1.0-py3-none-any.whl"));
        zip_with(
            &p1,
            &[
                ("pkg/__init__.py", b"one"),
                ("pkg/sub/m.py", b"import os\n"),
                ("top.py", b"top"),
                ("one-1.0.data/purelib/extra/x.py", b"x"),
                ("one-1.0.data/scripts/run", b"#!"),
                ("one-1.0.dist-info/METADATA", b""),
            ],
        );
        zip_with(&p2, &[("pkg/__init__.py", b"two"), ("pkg/other.py", b"o"), ("mod2/__init__.py", b"")]);
        let (w1, w2) = (Wheel::open(&p1, "one").unwrap(), Wheel::open(&p2, "two").unwrap());
        let mut t = WheelTree { wheels: vec![&w1, &w2] };
        let names = |v: Option<Vec<(String, EntryKind)>>| -> Vec<(String, EntryKind)> { v.unwrap() };
        use EntryKind::{Dir, File as F};
        let s = |n: &str| n.to_owned();
        assert_eq!(
            names(t.list("")),
            [(s("extra"), Dir), (s("mod2"), Dir), (s("one-1.0.dist-info"), Dir), (s("pkg"), Dir), (s("top.py"), F)]
        );
        assert_eq!(names(t.list("pkg")), [(s("__init__.py"), F), (s("other.py"), F), (s("sub"), Dir)]);
        assert_eq!(names(t.list("pkg/sub")), [(s("m.py"), F)]);
        assert_eq!(names(t.list("pkg/sub/")), [(s("m.py"), F)]);
        assert!(t.list("nope").is_none() && t.list("top.py").is_none() && t.list("pkg/sub/m.py").is_none());
        assert_eq!(t.read("pkg/__init__.py", 100).unwrap(), b"one");
        assert_eq!(t.read("pkg/other.py", 100).unwrap(), b"o");
        assert_eq!(t.read("extra/x.py", 100).unwrap(), b"x");
        assert_eq!(t.read("pkg/sub/m.py", 3).unwrap_err().to_string(), "member larger than 3 bytes");
        assert_eq!(t.read("pkg", 100).unwrap_err().kind(), io::ErrorKind::NotFound);
        assert_eq!(t.read("run", 100).unwrap_err().kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn cp437_table_is_complete() {
        assert_eq!(CP437_HIGH.chars().count(), 128);
        assert_eq!(decode_name(b"caf\x82", 0).unwrap(), "café");
        assert_eq!(decode_name("café".as_bytes(), 0x800).unwrap(), "café");
        assert!(decode_name(b"caf\x82", 0x800).is_none());
    }
}
