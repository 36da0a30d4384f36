//! A real, private systemd system manager for end-to-end tests (std only).
//!
//! PID 1 of the test machines is not systemd, so [`RealSystemd::start`] boots a *real*
//! `/lib/systemd/systemd --system` as PID 1 of fresh pid, mount, uts and cgroup namespaces
//! (`unshare`), in its own cgroup-v2 subtree. Everything that must talk to it (systemctl,
//! `ansible-playbook` with `ansible.builtin.systemd_service`, `salt-call --local service.restart`,
//! the program under test) is started *inside* those namespaces with [`RealSystemd::command`]
//! (`nsenter`). There `/proc/1/comm` is `systemd`, `/run/systemd/system` exists and root's
//! `systemctl` reaches the manager over `/run/systemd/private`, so Ansible and Salt see a normal
//! systemd host: Ansible needs no `scope: user`, Salt's `systemd-run --scope` works.
//!
//! Inside the namespaces the file system is the host's, except:
//! - `/run` is `<scratch>/run` (so the host's `/run/*` is not visible inside),
//! - `/etc/systemd/system` is `<scratch>/etc-systemd-system` (so `systemctl enable` does not
//!   touch the host),
//! - `/proc` and `/sys/fs/cgroup` belong to the namespaces,
//! - `/dev/console` is `<scratch>/console` (so nothing reaches the host's console; systemd keeps
//!   no log there, as it only logs to a tty console: diagnose units with
//!   `systemctl(&["status", unit])`, `ActiveState`, `Result`, `ExecMainStatus`).
//!
//! The manager only loads units from `<scratch>/units` (`SYSTEMD_UNIT_PATH`): stub `sysinit`,
//! `basic`, `multi-user`, `default` and `shutdown` targets and `system.slice`, and whatever
//! [`RealSystemd::install_unit`] writes, so nothing from the host's `/lib/systemd/system` (udev,
//! networking, getty, sysctl, ...) is ever started. Service stdout/stderr default to /dev/null;
//! set `StandardOutput=append:/path` in a unit to keep it.
//!
//! PIDs that systemd reports (MainPID) are PIDs of the new pid namespace: use them inside
//! ([`RealSystemd::command`]), or map them with [`RealSystemd::host_pid`].
//!
//! Needs: root (CAP_SYS_ADMIN), a cgroup2 mount (hybrid or unified host), and `systemd`,
//! `systemctl`, `systemd-run`, `unshare`, `nsenter`, `setpriv`, `mount` (Debian: systemd,
//! util-linux, mount). [`RealSystemd::start`] returns `Err` with the reason when any is missing;
//! tests must turn that into a failure (`.expect(..)`) or an explicit `#[ignore]`, never a pass.
//!
//! Startup takes ~0.2 s. Instances are independent, so tests may run several in parallel.
//! Drop kills the whole pid namespace (SIGKILL to its PID 1) and removes the cgroup. If the test
//! process itself dies, `setpriv --pdeathsig` kills the instance too; that signal fires when the
//! *thread* that called `start` exits, so keep the value in the test's own thread (no statics).
//!
//! Use from a test file (tests/support/mod.rs does not include it):
//! ```ignore
//! #[path = "support/systemd.rs"]
//! mod real_systemd;
//! let sd = real_systemd::RealSystemd::start(&scratch).expect("real systemd");
//! sd.install_unit("venvaudit-demo.service", "[Service]\nExecStart=/v/bin/python -m http.server\n")?;
//! sd.systemctl(&["start", "venvaudit-demo.service"])?;
//! let before = sd.main_pid("venvaudit-demo.service").unwrap();
//! let st = sd.command("/tools/bin/ansible-playbook").args(["-i", "localhost,", "/abs/play.yml"]).status()?;
//! ```
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const STARTUP_TIMEOUT: Duration = Duration::from_secs(15);
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// A running private systemd system manager; see the module docs.
pub struct RealSystemd {
    scratch: PathBuf,
    units: PathBuf,
    /// Host cgroup2 directory holding the whole instance.
    cgroup: PathBuf,
    /// `setpriv ... unshare` process (host namespace); its only child is systemd.
    unshare: Child,
    /// Host PID of systemd (PID 1 inside).
    pid: u32,
    nsenter: PathBuf,
    systemctl: PathBuf,
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/bin", "/sbin", "/bin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn need(name: &str, package: &str) -> Result<PathBuf, String> {
    which(name).ok_or_else(|| format!("real systemd: `{name}` not found (Debian package {package})"))
}

fn is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(2) == Some("0")))
        .unwrap_or(false)
}

/// Mount point of the host's cgroup2 file system (`/sys/fs/cgroup` or `/sys/fs/cgroup/unified`).
fn cgroup2_mount() -> Option<PathBuf> {
    let info = fs::read_to_string("/proc/self/mountinfo").ok()?;
    info.lines().find_map(|l| {
        let (pre, post) = l.split_once(" - ")?;
        if post.split_whitespace().next() != Some("cgroup2") {
            return None;
        }
        pre.split_whitespace().nth(4).map(PathBuf::from)
    })
}

fn shell_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', r"'\''"))
}

fn tail(path: &Path) -> String {
    let s = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// Run to completion with a timeout, capturing output.
fn output_with_timeout(mut cmd: Command, timeout: Duration) -> Result<Output, String> {
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{shown}: {e}"))?;
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return child.wait_with_output().map_err(|e| format!("{shown}: {e}")),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{shown}: timed out after {timeout:?}"));
            }
        }
    }
}

fn remove_cgroup_tree(dir: &Path) {
    // Children first; a just-emptied cgroup may briefly refuse rmdir (EBUSY).
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                remove_cgroup_tree(&e.path());
            }
        }
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while fs::remove_dir(dir).is_err() && dir.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}

const STUB_TARGETS: [&str; 5] = ["sysinit", "basic", "multi-user", "default", "shutdown"];

impl RealSystemd {
    /// Boot a private systemd in `scratch` (created if missing; must be an absolute path that
    /// the test owns). Returns when the manager answers `is-system-running` with `running`.
    pub fn start(scratch: &Path) -> Result<RealSystemd, String> {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        if !is_root() {
            return Err("real systemd: needs root (unshare/mount/cgroups)".into());
        }
        let systemd = ["/lib/systemd/systemd", "/usr/lib/systemd/systemd"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .ok_or("real systemd: /lib/systemd/systemd not found (Debian package systemd)")?;
        let systemctl = need("systemctl", "systemd")?;
        need("systemd-run", "systemd")?; // Salt's service.restart runs `systemd-run --scope systemctl ...`
        let unshare = need("unshare", "util-linux")?;
        let nsenter = need("nsenter", "util-linux")?;
        let setpriv = need("setpriv", "util-linux")?;
        need("mount", "mount")?;
        let cg_root = cgroup2_mount().ok_or("real systemd: no cgroup2 file system mounted on the host")?;
        let scratch =
            if scratch.is_absolute() { scratch.to_path_buf() } else { std::env::current_dir().unwrap().join(scratch) };

        // Leftovers of test processes that were killed (SIGKILL skips Drop): their systemd died
        // with them (pdeathsig), only the empty cgroups remain.
        if let Ok(rd) = fs::read_dir(&cg_root) {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let owner = name.strip_prefix("venvaudit-systemd-").and_then(|r| r.split('-').next());
                if owner.is_some_and(|pid| !Path::new("/proc").join(pid).exists()) {
                    remove_cgroup_tree(&e.path());
                }
            }
        }
        let id = format!("venvaudit-systemd-{}-{}", std::process::id(), SEQ.fetch_add(1, Ordering::SeqCst));
        let cgroup = cg_root.join(&id);
        fs::create_dir(&cgroup).map_err(|e| format!("real systemd: mkdir {}: {e}", cgroup.display()))?;

        let units = scratch.join("units");
        let io = |r: std::io::Result<()>, what: &Path| r.map_err(|e| format!("real systemd: {}: {e}", what.display()));
        for d in [&units, &scratch.join("run"), &scratch.join("etc-systemd-system")] {
            io(fs::create_dir_all(d), d)?;
        }
        for t in STUB_TARGETS {
            let p = units.join(format!("{t}.target"));
            io(fs::write(&p, format!("[Unit]\nDescription={t} (venvaudit stub)\nDefaultDependencies=no\n")), &p)?;
        }
        let p = units.join("system.slice");
        io(fs::write(&p, "[Unit]\nDescription=System Slice\nDefaultDependencies=no\n"), &p)?;
        let console = scratch.join("console");
        io(fs::write(&console, ""), &console)?;

        // Runs as PID 1 of the new namespaces, then becomes systemd.
        let inner = scratch.join("systemd-init.sh");
        let s = shell_quote(&scratch);
        let script = format!(
            "set -e\n\
             mount --make-rprivate /\n\
             mount --bind {s}/run /run\n\
             mount --bind {s}/etc-systemd-system /etc/systemd/system\n\
             mount --bind {s}/console /dev/console\n\
             mount -t cgroup2 cgroup2 /sys/fs/cgroup\n\
             export container=venvaudit SYSTEMD_UNIT_PATH=/etc/systemd/system:{s}/units\n\
             exec {sd} --system --unit=default.target --default-standard-output=null \
             --log-target=console --log-level=info --show-status=no </dev/null >>{s}/console 2>&1\n",
            sd = shell_quote(&systemd),
        );
        io(fs::write(&inner, script), &inner)?;

        // setpriv: die with the test thread; sh: move into our cgroup (then --cgroup makes it the
        // namespace's root); unshare --kill-child: systemd dies with unshare.
        let outer = format!(
            "echo $$ > {cg}/cgroup.procs && exec {unshare} --pid --fork --mount --uts --cgroup --mount-proc \
             --kill-child=SIGKILL /bin/sh {inner}",
            cg = shell_quote(&cgroup),
            unshare = shell_quote(&unshare),
            inner = shell_quote(&inner),
        );
        let log = fs::File::options().append(true).open(&console).map_err(|e| e.to_string())?;
        let child = Command::new(&setpriv)
            .args(["--pdeathsig", "KILL", "--", "/bin/sh", "-c", &outer])
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("real systemd: spawn {}: {e}", setpriv.display()));
        let mut child = match child {
            Ok(c) => c,
            Err(e) => {
                remove_cgroup_tree(&cgroup);
                return Err(e);
            }
        };

        // Find systemd (the child of unshare) and wait for its private socket.
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let children = format!("/proc/{0}/task/{0}/children", child.id());
        let mut pid = 0;
        let fail = |child: &mut Child, pid: u32, why: String| -> String {
            if pid != 0 {
                let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
            }
            let _ = child.kill();
            let _ = child.wait();
            remove_cgroup_tree(&cgroup);
            format!("real systemd: {why}\n--- {} ---\n{}", console.display(), tail(&console))
        };
        loop {
            if let Ok(Some(st)) = child.try_wait() {
                return Err(fail(&mut child, 0, format!("unshare exited early ({st})")));
            }
            if pid == 0 {
                pid = fs::read_to_string(&children)
                    .ok()
                    .and_then(|s| s.split_whitespace().next().and_then(|p| p.parse().ok()))
                    .unwrap_or(0);
            }
            if pid != 0
                && scratch.join("run/systemd/private").exists()
                && fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "systemd")
            {
                break;
            }
            if Instant::now() > deadline {
                return Err(fail(&mut child, pid, format!("no /run/systemd/private after {STARTUP_TIMEOUT:?}")));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let sd = RealSystemd {
            scratch: scratch.clone(),
            units,
            cgroup: cgroup.clone(),
            unshare: child,
            pid,
            nsenter,
            systemctl,
        };
        match sd.systemctl(&["is-system-running", "--wait"]) {
            Ok(s) if s.trim() == "running" => Ok(sd),
            other => {
                let why = format!("is-system-running: {other:?}\n--- {} ---\n{}", console.display(), tail(&console));
                drop(sd);
                Err(format!("real systemd: {why}"))
            }
        }
    }

    /// Host PID of the manager (PID 1 inside its namespace).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The scratch directory given to `start`.
    pub fn scratch(&self) -> &Path {
        &self.scratch
    }

    /// Directory the manager loads units from (`SYSTEMD_UNIT_PATH`).
    pub fn unit_dir(&self) -> &Path {
        &self.units
    }

    /// What the namespace's init script printed (mount errors); systemd itself logs nothing here.
    pub fn log(&self) -> String {
        fs::read_to_string(self.scratch.join("console")).unwrap_or_default()
    }

    /// Environment for children started with [`command`](Self::command). Nothing is needed to
    /// *reach* the manager (that is what entering its namespaces does); these only keep
    /// systemctl's output plain. `command` already sets them.
    pub fn env(&self) -> Vec<(String, String)> {
        [("SYSTEMD_PAGER", ""), ("PAGER", "cat"), ("SYSTEMD_COLORS", "0"), ("SYSTEMD_LOG_COLOR", "0")]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .to_vec()
    }

    /// `program` run inside the instance's namespaces (via nsenter), with the working directory
    /// the test process has now. Add arguments/env as usual; note `Command::current_dir` has no
    /// effect inside (entering a mount namespace resets the cwd) — use
    /// [`command_in`](Self::command_in). Use absolute paths for files.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        self.command_in(&cwd, program)
    }

    /// Like [`command`](Self::command) with working directory `dir` (absolute).
    pub fn command_in(&self, dir: &Path, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(&self.nsenter);
        c.arg(format!("--target={}", self.pid))
            .args(["--mount", "--pid", "--uts", "--cgroup"])
            .arg(format!("--wd={}", dir.display()))
            .arg("--")
            .arg(program);
        c.envs(self.env());
        c
    }

    /// `systemctl ARGS` inside; Ok(stdout) on exit status 0, else Err with both streams.
    pub fn systemctl(&self, args: &[&str]) -> Result<String, String> {
        let mut c = self.command(&self.systemctl);
        c.args(args);
        let out = output_with_timeout(c, COMMAND_TIMEOUT)?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() {
            Ok(stdout)
        } else {
            Err(format!("systemctl {args:?}: {}\n{stdout}{}", out.status, String::from_utf8_lossy(&out.stderr)))
        }
    }

    /// Write `<unit dir>/<name>` and `daemon-reload`. Units that are not plain services should
    /// keep `DefaultDependencies` (the stub targets make them cheap).
    pub fn install_unit(&self, name: &str, unit_text: &str) -> Result<(), String> {
        if name.contains('/') || !name.contains('.') {
            return Err(format!("install_unit: bad unit name {name:?}"));
        }
        let p = self.units.join(name);
        fs::write(&p, unit_text).map_err(|e| format!("install_unit: {}: {e}", p.display()))?;
        self.systemctl(&["daemon-reload"]).map(|_| ())
    }

    /// `MainPID` of `unit` as a PID of the instance's pid namespace; None when 0 or unknown.
    pub fn main_pid(&self, unit: &str) -> Option<u32> {
        let s = self.systemctl(&["show", "--property=MainPID", "--value", unit]).ok()?;
        s.trim().parse().ok().filter(|&p| p != 0)
    }

    /// `ActiveState` of `unit` (`active`, `inactive`, `failed`, ...).
    pub fn active_state(&self, unit: &str) -> Option<String> {
        self.systemctl(&["show", "--property=ActiveState", "--value", unit]).ok().map(|s| s.trim().to_owned())
    }

    /// The host PID of the process that is `ns_pid` inside the instance.
    pub fn host_pid(&self, ns_pid: u32) -> Option<u32> {
        let ns = fs::read_link(format!("/proc/{}/ns/pid", self.pid)).ok()?;
        fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
            let host: u32 = e.file_name().to_str()?.parse().ok()?;
            if fs::read_link(e.path().join("ns/pid")).ok()? != ns {
                return None;
            }
            let status = fs::read_to_string(e.path().join("status")).ok()?;
            let nspid = status.lines().find(|l| l.starts_with("NSpid:"))?;
            (nspid.split_whitespace().last()?.parse::<u32>().ok()? == ns_pid).then_some(host)
        })
    }
}

impl Drop for RealSystemd {
    fn drop(&mut self) {
        // SIGKILL to PID 1 of the namespace kills every process in it (services, nsenter'd
        // ansible/salt children); mounts vanish with the mount namespace.
        // unshare reaps systemd and exits right after; if unshare were killed first, the
        // orphan would wait for the host's init to reap it.
        let _ = Command::new("kill").args(["-KILL", &self.pid.to_string()]).stderr(Stdio::null()).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(self.unshare.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = self.unshare.kill();
        let _ = self.unshare.wait();
        while Path::new(&format!("/proc/{}", self.pid)).exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        remove_cgroup_tree(&self.cgroup);
    }
}
