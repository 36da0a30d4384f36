//! Reading running processes from /proc: command line, working directory, environment,
//! mapped and open files, start time and systemd unit. Only files are read; no process
//! and no interpreter is ever executed (needrestart's CVE-2024-48990 came from running a
//! process's interpreter to learn its sys.path).

use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Most bytes read of a /proc file (maps of a big process are a few hundred KiB).
const MAX_PROC_FILE: u64 = 8 << 20;
/// Most open file descriptors looked at per process.
const MAX_FDS: usize = 65_536;

/// A mapped file of a process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapped {
    /// Path as the kernel reports it (without the ` (deleted)` suffix).
    pub path: PathBuf,
    /// The file was deleted or replaced after it was mapped.
    pub deleted: bool,
}

/// What venvaudit knows of one process.
#[derive(Debug, Clone, Default)]
pub struct Process {
    /// Process id.
    pub pid: u32,
    /// Real uid.
    pub uid: Option<u32>,
    /// Command line arguments.
    pub cmdline: Vec<String>,
    /// /proc/PID/exe target.
    pub exe: Option<PathBuf>,
    /// Working directory.
    pub cwd: Option<PathBuf>,
    /// VIRTUAL_ENV from the environment, when readable and set.
    pub virtual_env: Option<PathBuf>,
    /// Mapped files (deduplicated).
    pub maps: Vec<Mapped>,
    /// Open files (targets of /proc/PID/fd/*).
    pub open_files: Vec<PathBuf>,
    /// When the process started.
    pub started: Option<SystemTime>,
    /// systemd unit from /proc/PID/cgroup.
    pub unit: Option<String>,
    /// Some of the per-process files could not be read (another user's process).
    pub partial: bool,
}

/// All processes plus how complete the view is.
#[derive(Debug, Default)]
pub struct ProcessTable {
    /// Processes read.
    pub processes: Vec<Process>,
    /// Processes whose maps or open files were unreadable.
    pub partial: usize,
    /// Whether venvaudit runs as root (else other users' processes are hidden by design).
    pub as_root: bool,
}

/// Read every process under `proc` (normally `/proc`), except venvaudit itself.
pub fn read_processes(proc: &Path) -> ProcessTable {
    let boot = boot_time(proc);
    let ticks = clock_ticks();
    let me = std::process::id();
    let pids: Vec<u32> = std::fs::read_dir(proc)
        .map(|rd| rd.flatten().filter_map(|e| e.file_name().to_str()?.parse().ok()).collect())
        .unwrap_or_default();
    let processes: Vec<Process> =
        pids.par_iter().filter(|&&pid| pid != me).filter_map(|&pid| read_process(proc, pid, boot, ticks)).collect();
    let partial = processes.iter().filter(|p| p.partial).count();
    // SAFETY: geteuid has no preconditions and cannot fail.
    let as_root = unsafe { libc::geteuid() } == 0;
    ProcessTable { processes, partial, as_root }
}

fn read(proc: &Path, pid: u32, name: &str) -> Option<Vec<u8>> {
    crate::host::paths::read_bounded(&proc.join(pid.to_string()).join(name), MAX_PROC_FILE).ok()
}

fn read_process(proc: &Path, pid: u32, boot: Option<u64>, ticks: u64) -> Option<Process> {
    let dir = proc.join(pid.to_string());
    // stat is world-readable; a process that vanished in the meantime is skipped.
    let stat = read(proc, pid, "stat")?;
    let mut p = Process { pid, ..Process::default() };
    p.started = start_time(&String::from_utf8_lossy(&stat), boot, ticks);
    p.cmdline = read(proc, pid, "cmdline")
        .map(|b| {
            b.split(|c| *c == 0).filter(|s| !s.is_empty()).map(|s| String::from_utf8_lossy(s).into_owned()).collect()
        })
        .unwrap_or_default();
    if let Some(status) = read(proc, pid, "status") {
        p.uid = String::from_utf8_lossy(&status)
            .lines()
            .find_map(|l| l.strip_prefix("Uid:")?.split_whitespace().next()?.parse().ok());
    }
    p.unit = read(proc, pid, "cgroup").and_then(|b| unit_from_cgroup(&String::from_utf8_lossy(&b)));
    p.exe = std::fs::read_link(dir.join("exe")).ok();
    p.cwd = std::fs::read_link(dir.join("cwd")).ok();
    // Kernel threads have no command line, no maps and no environment: nothing to miss.
    let user_process = !p.cmdline.is_empty();
    if let Some(env) = read(proc, pid, "environ") {
        p.virtual_env = env
            .split(|c| *c == 0)
            .find_map(|kv| kv.strip_prefix(b"VIRTUAL_ENV="))
            .filter(|v| !v.is_empty())
            .map(|v| PathBuf::from(String::from_utf8_lossy(v).into_owned()));
    }
    match read(proc, pid, "maps") {
        Some(maps) => p.maps = parse_maps(&String::from_utf8_lossy(&maps)),
        None => p.partial |= user_process,
    }
    match std::fs::read_dir(dir.join("fd")) {
        Ok(rd) => {
            p.open_files = rd
                .flatten()
                .take(MAX_FDS)
                .filter_map(|e| std::fs::read_link(e.path()).ok())
                .filter(|t| t.is_absolute())
                .collect();
        }
        Err(_) => p.partial |= user_process,
    }
    Some(p)
}

/// Parse /proc/PID/maps: the path is everything after the fifth field.
pub fn parse_maps(text: &str) -> Vec<Mapped> {
    let mut seen: HashMap<PathBuf, bool> = HashMap::new();
    let mut order = Vec::new();
    for line in text.lines() {
        let mut rest = line;
        for _ in 0..5 {
            rest = rest.trim_start();
            rest = rest.split_once(char::is_whitespace).map(|(_, r)| r).unwrap_or("");
        }
        let path = rest.trim_start();
        if !path.starts_with('/') {
            continue;
        }
        let (path, deleted) = match path.strip_suffix(" (deleted)") {
            Some(p) => (p, true),
            None => (path, false),
        };
        let pb = PathBuf::from(path);
        if !seen.contains_key(&pb) {
            order.push(pb.clone());
        }
        *seen.entry(pb).or_default() |= deleted;
    }
    order.into_iter().map(|p| Mapped { deleted: seen[&p], path: p }).collect()
}

/// The systemd unit of a process from its cgroup path (`0::/system.slice/app.service`).
pub fn unit_from_cgroup(text: &str) -> Option<String> {
    // Prefer the unified hierarchy line, then the systemd named hierarchy.
    let path = text
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .or_else(|| text.lines().find_map(|l| l.split_once(":name=systemd:").map(|(_, p)| p)))?;
    let comps: Vec<&str> = path.split('/').collect();
    comps
        .iter()
        .rev()
        .find(|c| c.ends_with(".service"))
        .or_else(|| comps.iter().rev().find(|c| c.ends_with(".scope")))
        .map(|c| c.to_string())
}

/// Start time from field 22 of /proc/PID/stat (clock ticks since boot).
fn start_time(stat: &str, boot: Option<u64>, ticks: u64) -> Option<SystemTime> {
    // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    let after = &stat[stat.rfind(')')? + 1..];
    let start_ticks: u64 = after.split_whitespace().nth(19)?.parse().ok()?;
    let boot = boot?;
    Some(UNIX_EPOCH + Duration::from_secs(boot) + Duration::from_millis(start_ticks * 1000 / ticks.max(1)))
}

fn boot_time(proc: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(proc.join("stat")).ok()?;
    text.lines().find_map(|l| l.strip_prefix("btime ")?.trim().parse().ok())
}

fn clock_ticks() -> u64 {
    // SAFETY: sysconf has no preconditions; it only reads a configuration value.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as u64 } else { 100 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_lines() {
        let m = parse_maps(
            "7f00-7f01 r-xp 00000000 08:01 123  /srv/v/lib/python3.11/site-packages/~aml/_yaml.cpython-311-x86_64-linux-gnu.so (deleted)\n\
             7f01-7f02 r--p 00000000 08:01 124  /usr/lib/libc.so.6\n\
             7f02-7f03 rw-p 00000000 00:00 0 \n\
             7f03-7f04 r--p 00000000 08:01 125  /path with spaces/x.so\n",
        );
        assert_eq!(m.len(), 3);
        assert!(m[0].deleted && m[0].path.ends_with("~aml/_yaml.cpython-311-x86_64-linux-gnu.so"));
        assert!(!m[1].deleted);
        assert_eq!(m[2].path, PathBuf::from("/path with spaces/x.so"));
    }

    #[test]
    fn cgroup_units() {
        assert_eq!(unit_from_cgroup("0::/system.slice/gunicorn.service\n").as_deref(), Some("gunicorn.service"));
        assert_eq!(
            unit_from_cgroup("0::/user.slice/user-1000.slice/session-4.scope\n").as_deref(),
            Some("session-4.scope")
        );
        assert_eq!(unit_from_cgroup("0::/\n"), None);
        assert_eq!(unit_from_cgroup("1:name=systemd:/system.slice/x.service\n").as_deref(), Some("x.service"));
    }

    #[test]
    fn reads_this_process() {
        let t = read_processes(Path::new("/proc"));
        assert!(!t.processes.is_empty());
        // Our parent shell or test harness is visible with a start time.
        assert!(t.processes.iter().any(|p| p.started.is_some() && !p.cmdline.is_empty()));
    }
}
