//! The venvaudit command line: thin dispatch to the library.

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use venvaudit::Progress;
use venvaudit::{Detail, FailOn, Request};

/// Audit Python virtualenvs from their files alone: no Python is run, nothing is written.
#[derive(Parser)]
#[command(name = "venvaudit", version, about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Discover environments and report their facts and interpreter health.
    Facts(ScanArgs),
    /// Run every check; exit 1 when a finding at or above --fail-on remains (a deploy gate).
    Check(Box<CheckArgs>),
    /// Judge a wheelhouse, wheels, pylock.toml, hashed requirements or uv.lock against this
    /// host's Python (or --target-python, --venv, --mod-wsgi) before installing it; exit 1
    /// when a finding at or above --fail-on remains (a pre-deploy gate).
    CheckArtifact(Box<ArtifactArgs>),
    /// List environments running distributions that match PEP 508 specifiers; exit 1 on a match.
    Query(QueryArgs),
    /// Plan the remediation of vulnerability, --forbid and --lock findings: the fixing version
    /// per distribution, what blocks it, the install command and the restarts. Exit 0:
    /// nothing to do, 1: steps planned, 2: error. Read-only: the engines apply the plan.
    Plan(Box<PlanArgs>),
    /// Read one JSON request (stdin or --args FILE) and write one JSON result.
    Run {
        /// Read the request from this file instead of stdin.
        #[arg(long, value_name = "FILE")]
        args: Option<PathBuf>,
    },
    /// Build offline advisory files (docs/cpython-db.md).
    Db(DbArgs),
}

#[derive(Args)]
struct DbArgs {
    #[command(subcommand)]
    command: DbCommand,
}

#[derive(Subcommand)]
enum DbCommand {
    /// Build the CPython advisory file: CVEs of the interpreter itself.
    ///
    /// From CVE records of the PSF CNA (a cvelistV5 release zip, its cves.zip, or a directory)
    /// and the PSF advisory database (aliases). Prints a one-line JSON summary; records that
    /// cannot be used are listed on stderr. Exit 2 when nothing usable was found.
    Cpython {
        /// A cvelistV5 release zip, a zip or directory of CVE-*.json / PSF-*.json records, or
        /// one record (repeatable).
        #[arg(long = "from", value_name = "PATH", required = true)]
        from: Vec<PathBuf>,
        /// The file to write (atomically), e.g. /var/lib/venvaudit/osv/CPython.json.
        #[arg(long, value_name = "FILE")]
        output: PathBuf,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// The report contract (see README).
    Json,
    /// One line per environment, then findings.
    Table,
    /// CycloneDX 1.5 SBOM of every installed distribution.
    Cyclonedx,
    /// node_exporter textfile metrics.
    Prometheus,
}

#[derive(Args)]
struct CheckArgs {
    #[command(flatten)]
    scan: ScanArgs,
    /// Lowest severity that fails the gate.
    #[arg(long, value_enum, default_value = "error")]
    fail_on: FailOnArg,
    /// Run only these check families (repeatable).
    #[arg(long = "check", value_name = "FAMILY")]
    checks: Vec<venvaudit::Family>,
    /// Judge environments against this interpreter instead of their own base interpreter.
    #[arg(long, value_name = "PATH")]
    target_python: Option<String>,
    /// The application's code (a directory or a .py file): an extension module it imports
    /// is required, so one that cannot load is an error even when its distribution's own
    /// import does not reach it.
    #[arg(long, value_name = "DIR")]
    app: Option<String>,
    /// Judge mod_wsgi compatibility against this module instead of Apache's.
    #[arg(long, value_name = "PATH")]
    mod_wsgi: Option<String>,
    /// Apache configuration file to read (repeatable; default: the distribution's).
    #[arg(long, value_name = "FILE")]
    apache_config: Vec<String>,
    /// uWSGI configuration file to read (repeatable; in addition to /etc/uwsgi).
    #[arg(long, value_name = "FILE")]
    uwsgi_config: Vec<String>,
    /// Offline OSV database: a directory of OSV JSON files or a zip like osv.dev's PyPI/all.zip
    /// (default: $VENVAUDIT_OSV_DB, else /var/lib/venvaudit/osv/PyPI.zip when present).
    #[arg(long, value_name = "PATH")]
    osv_db: Option<String>,
    /// The CPython advisory file (`venvaudit db cpython`) the interpreters are matched against
    /// (default: $VENVAUDIT_CPYTHON_DB, else /var/lib/venvaudit/osv/CPython.json when present).
    #[arg(long, value_name = "FILE")]
    cpython_db: Option<String>,
    /// Fail the gate (an `osv-db-missing` error) when no OSV database is found.
    #[arg(long)]
    require_osv_db: bool,
    /// Warn when the database's newest record is older than DAYS (default 7).
    #[arg(long, value_name = "DAYS")]
    osv_max_age: Option<u32>,
    /// PEP 508 specifier whose matches are `forbidden-package` errors (repeatable).
    #[arg(long, value_name = "SPEC")]
    forbid: Vec<String>,
    /// Verify RECORD hashes of every installed file (reads every file).
    #[arg(long)]
    verify: bool,
    /// Compare each environment with this lock (pylock.toml, requirements.txt, uv.lock):
    /// `lock-drift` lists what is missing, extra, at another version or from another source.
    #[arg(long, value_name = "FILE")]
    lock: Option<String>,
    /// Ignore policy file (TOML or JSON).
    #[arg(long, value_name = "FILE")]
    ignore_file: Option<String>,
    /// Judge end of life, ignore expiry and database age as on this day (YYYY-MM-DD; default
    /// VENVAUDIT_TODAY, else today): for tests and reproducible reports.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_day)]
    today: Option<venvaudit::Date>,
}

/// `--today`: a real calendar day written YYYY-MM-DD.
fn parse_day(s: &str) -> Result<venvaudit::Date, String> {
    venvaudit::parse_date(s).ok_or_else(|| format!("{s:?} is not a date YYYY-MM-DD"))
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DetailArg {
    Full,
    Compact,
    Summary,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOnArg {
    Error,
    Warning,
    Never,
}

#[derive(Args)]
struct QueryArgs {
    /// PEP 508 specifiers, e.g. 'django<4.2.16' 'requests==2.25.*' pyyaml.
    #[arg(required = true, value_name = "SPEC")]
    specs: Vec<String>,
    /// Answer from saved facts instead of scanning: an Ansible jsonfile fact cache directory,
    /// a JSON file of Salt output (host -> facts), or saved `facts` reports (repeatable).
    #[arg(long = "from-facts", value_name = "PATH", conflicts_with_all = ["paths", "root"])]
    from_facts: Vec<PathBuf>,
    /// With --from-facts: facts older than DAYS do not answer (default 7).
    #[arg(long, value_name = "DAYS", requires = "from_facts")]
    max_age: Option<u32>,
    /// With --from-facts: judge the age of facts as on this day (YYYY-MM-DD; default
    /// VENVAUDIT_TODAY, else today).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_day, requires = "from_facts")]
    today: Option<venvaudit::Date>,
    /// With --from-facts: the hosts asked about, one a line; those without facts are listed, others ignored.
    #[arg(long, value_name = "FILE", requires = "from_facts")]
    hosts: Option<PathBuf>,
    /// Directory to scan (repeatable; default: /).
    #[arg(long = "path", value_name = "DIR")]
    paths: Vec<String>,
    #[command(flatten)]
    walk: WalkArgs,
    /// Output format (default: table on a terminal, JSON otherwise).
    #[arg(long, value_enum)]
    format: Option<Format>,
}

#[derive(Args)]
struct ScanArgs {
    /// Directories to scan (default: /).
    paths: Vec<String>,
    /// Output format (default: table on a terminal, JSON otherwise).
    #[arg(long, value_enum)]
    format: Option<Format>,
    #[command(flatten)]
    walk: WalkArgs,
    /// Omit package lists.
    #[arg(long)]
    no_packages: bool,
    /// Only counts and versions (the same as --detail summary).
    #[arg(long)]
    summary: bool,
    /// How much to report per environment: full, compact (name==version lists, for fleet
    /// caches) or summary.
    #[arg(long, value_enum, conflicts_with = "summary")]
    detail: Option<DetailArg>,
    /// Read systemd, supervisor, cron, Apache and uWSGI configuration under DIR instead of
    /// under / (or --root); the paths it names still refer to the scanned system.
    #[arg(long, value_name = "DIR")]
    config_root: Option<String>,
}

#[derive(Args)]
struct WalkArgs {
    /// Treat DIR as / (a mounted image, container rootfs or chroot).
    #[arg(long, value_name = "DIR")]
    root: Option<String>,
    /// Do not walk paths matching GLOB (repeatable; a bare name matches anywhere).
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
    /// Maximum directory depth below each path.
    #[arg(long, value_name = "N")]
    max_depth: Option<usize>,
    /// Worker threads (default: number of CPUs).
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Follow symlinked directories (loops are detected and skipped).
    #[arg(long)]
    follow_symlinks: bool,
    /// Walk into other local filesystems mounted below a path (never pseudo or network ones).
    #[arg(long)]
    cross_mounts: bool,
    /// Do not read /proc (no in_use, stale-process or unused).
    #[arg(long)]
    no_processes: bool,
}

impl WalkArgs {
    fn request(&self, paths: &[String]) -> Request {
        Request {
            paths: paths.to_vec(),
            exclude: self.exclude.clone(),
            max_depth: self.max_depth,
            root: self.root.clone(),
            jobs: self.jobs,
            follow_symlinks: self.follow_symlinks,
            cross_mounts: self.cross_mounts,
            no_processes: self.no_processes,
            ..Request::default()
        }
    }
}

impl ScanArgs {
    fn request(&self) -> Request {
        Request {
            packages: !self.no_packages,
            summary: self.summary,
            detail: self.detail.map(|d| match d {
                DetailArg::Full => Detail::Full,
                DetailArg::Compact => Detail::Compact,
                DetailArg::Summary => Detail::Summary,
            }),
            config_root: self.config_root.clone(),
            ..self.walk.request(&self.paths)
        }
    }
}

impl CheckArgs {
    fn request(&self) -> Request {
        Request {
            fail_on: match self.fail_on {
                FailOnArg::Error => FailOn::Error,
                FailOnArg::Warning => FailOn::Warning,
                FailOnArg::Never => FailOn::Never,
            },
            checks: self.checks.clone(),
            target_python: self.target_python.clone(),
            app: self.app.clone(),
            mod_wsgi: self.mod_wsgi.clone(),
            apache_config: self.apache_config.clone(),
            uwsgi_config: self.uwsgi_config.clone(),
            osv_db: self.osv_db.clone(),
            cpython_db: self.cpython_db.clone(),
            require_osv_db: self.require_osv_db,
            osv_max_age_days: self.osv_max_age,
            forbid: self.forbid.clone(),
            verify: self.verify,
            lock: self.lock.clone(),
            ignore_file: self.ignore_file.clone(),
            today: self.today,
            ..self.scan.request()
        }
    }
}

#[derive(Args)]
struct PlanArgs {
    /// Directories to scan (default: /).
    #[arg(conflicts_with_all = ["from_facts"])]
    paths: Vec<String>,
    /// Plan for the fleet from saved facts instead of scanning: an Ansible jsonfile fact cache
    /// directory, a JSON file of Salt output (host -> facts), or saved `facts` reports
    /// (repeatable). Steps then carry `host`.
    #[arg(long = "from-facts", value_name = "PATH", conflicts_with_all = ["root", "lock"])]
    from_facts: Vec<String>,
    /// With --from-facts: facts older than DAYS do not answer (default 7).
    #[arg(long, value_name = "DAYS", requires = "from_facts")]
    max_age: Option<u32>,
    /// With --from-facts: the hosts asked about, one a line.
    #[arg(long, value_name = "FILE", requires = "from_facts")]
    hosts: Option<String>,
    /// Offline OSV database (default: $VENVAUDIT_OSV_DB, else /var/lib/venvaudit/osv/PyPI.zip).
    #[arg(long, value_name = "PATH")]
    osv_db: Option<String>,
    /// The CPython advisory file the interpreters are matched against.
    #[arg(long, value_name = "FILE")]
    cpython_db: Option<String>,
    /// Plan for the drift from this lock (pylock.toml, requirements.txt, uv.lock): the
    /// versions it pins.
    #[arg(long, value_name = "FILE")]
    lock: Option<String>,
    /// PEP 508 specifier to leave (repeatable): a matching distribution gets a step out of it.
    #[arg(long, value_name = "SPEC")]
    forbid: Vec<String>,
    /// Plan only for these check families (vulnerabilities, forbidden, drift, eol; repeatable).
    #[arg(long = "check", value_name = "FAMILY")]
    checks: Vec<venvaudit::Family>,
    /// Ignore policy file: ignored findings are not planned.
    #[arg(long, value_name = "FILE")]
    ignore_file: Option<String>,
    /// Judge end of life and ignore expiry as on this day (YYYY-MM-DD).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_day)]
    today: Option<venvaudit::Date>,
    /// Read service configuration under DIR instead of under / (or --root).
    #[arg(long, value_name = "DIR")]
    config_root: Option<String>,
    #[command(flatten)]
    walk: WalkArgs,
    /// Output format (default: table on a terminal, JSON otherwise).
    #[arg(long, value_enum)]
    format: Option<Format>,
}

impl PlanArgs {
    fn request(&self) -> Request {
        Request {
            from_facts: self.from_facts.clone(),
            max_age: self.max_age,
            hosts: self.hosts.clone(),
            osv_db: self.osv_db.clone(),
            cpython_db: self.cpython_db.clone(),
            lock: self.lock.clone(),
            forbid: self.forbid.clone(),
            checks: self.checks.clone(),
            ignore_file: self.ignore_file.clone(),
            today: self.today,
            config_root: self.config_root.clone(),
            ..self.walk.request(&self.paths)
        }
    }
}

#[derive(Args)]
struct ArtifactArgs {
    /// Wheelhouse directories, .whl files, pylock.toml, requirements.txt (pinned, hashed) or
    /// uv.lock: judged together as one install.
    #[arg(required = true, value_name = "ARTEFACT")]
    artifacts: Vec<String>,
    /// The interpreter to judge against (default: the scanned system's python3).
    #[arg(long, value_name = "PY", conflicts_with_all = ["venv", "mod_wsgi"])]
    target_python: Option<String>,
    /// The environment the artefact will replace or update: its interpreter is the target,
    /// and the report says what the install changes in it.
    #[arg(long, value_name = "DIR", conflicts_with = "mod_wsgi")]
    venv: Option<String>,
    /// Judge against the Python Apache's mod_wsgi embeds: the module the Apache configuration
    /// loads, or the given .so.
    #[arg(long, value_name = "SO", num_args = 0..=1, default_missing_value = "")]
    mod_wsgi: Option<String>,
    /// Directory where the wheels a lock or requirements file names are found (repeatable).
    #[arg(long, value_name = "DIR")]
    find_links: Vec<String>,
    /// The application's code: an extension module it imports is required.
    #[arg(long, value_name = "DIR")]
    app: Option<String>,
    /// Treat DIR as / for the target (a mounted image, container rootfs or chroot).
    #[arg(long, value_name = "DIR")]
    root: Option<String>,
    /// Offline OSV database (default: $VENVAUDIT_OSV_DB, else /var/lib/venvaudit/osv/PyPI.zip).
    #[arg(long, value_name = "PATH")]
    osv_db: Option<String>,
    /// The CPython advisory file the target interpreter is matched against.
    #[arg(long, value_name = "FILE")]
    cpython_db: Option<String>,
    /// PEP 508 specifier whose matches are `forbidden-package` errors (repeatable).
    #[arg(long, value_name = "SPEC")]
    forbid: Vec<String>,
    /// Run only these check families (repeatable; `artifact` always runs).
    #[arg(long = "check", value_name = "FAMILY")]
    checks: Vec<venvaudit::Family>,
    /// Lowest severity that fails the gate.
    #[arg(long, value_enum, default_value = "error")]
    fail_on: FailOnArg,
    /// Ignore policy file (TOML or JSON).
    #[arg(long, value_name = "FILE")]
    ignore_file: Option<String>,
    /// Judge end of life and ignore expiry as on this day (YYYY-MM-DD).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_day)]
    today: Option<venvaudit::Date>,
    /// Worker threads (default: number of CPUs).
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Output format (default: table on a terminal, JSON otherwise).
    #[arg(long, value_enum)]
    format: Option<Format>,
}

impl ArtifactArgs {
    fn request(&self) -> Request {
        Request {
            artifacts: self.artifacts.clone(),
            target_python: self.target_python.clone(),
            venv: self.venv.clone(),
            mod_wsgi: self.mod_wsgi.clone(),
            find_links: self.find_links.clone(),
            app: self.app.clone(),
            root: self.root.clone(),
            osv_db: self.osv_db.clone(),
            cpython_db: self.cpython_db.clone(),
            forbid: self.forbid.clone(),
            checks: self.checks.clone(),
            fail_on: match self.fail_on {
                FailOnArg::Error => FailOn::Error,
                FailOnArg::Warning => FailOn::Warning,
                FailOnArg::Never => FailOn::Never,
            },
            ignore_file: self.ignore_file.clone(),
            today: self.today,
            jobs: self.jobs,
            ..Request::default()
        }
    }
}

fn default_format(f: Option<Format>) -> Format {
    f.unwrap_or(if std::io::stdout().is_terminal() { Format::Table } else { Format::Json })
}

/// Print a report in the chosen format.
fn print_report(r: &venvaudit::Report, format: Format) {
    match format {
        Format::Json => print_json(r),
        Format::Table => print!("{}", venvaudit::render_table(r)),
        Format::Cyclonedx => print_json(&venvaudit::cyclonedx(r)),
        Format::Prometheus => print!("{}", venvaudit::prometheus(r)),
    }
}

/// Stream pretty JSON to stdout (a fleet report is tens of MB: never built as one string).
/// A closed pipe (`venvaudit facts | head`) ends quietly.
fn print_json<T: serde::Serialize>(v: &T) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let _ = serde_json::to_writer_pretty(&mut out, v).and_then(|_| writeln!(out).map_err(serde_json::Error::io));
    let _ = out.flush();
}

/// Exit code 2 with a message: usage or internal error.
fn fail(e: impl Into<anyhow::Error>) -> ExitCode {
    let e = e.into();
    eprintln!("venvaudit: {e:#}");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    // Ansible runs the binary module as `AnsiballZ_venv_facts ARGS_FILE`: answer in its result
    // format before clap sees the arguments.
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(inv) = venvaudit::ansible::detect(&argv) {
        return ExitCode::from(venvaudit::ansible::main(inv) as u8);
    }
    // `venvaudit __generate-assets DIR` (scripts/release.sh): man pages and completions from
    // the CLI definition. Kept outside clap so that it appears in neither.
    if argv.len() == 3 && argv[1] == venvaudit::assets::SUBCOMMAND {
        return match venvaudit::assets::write(Cli::command(), argv[2].as_ref()) {
            Ok(_) => ExitCode::SUCCESS,
            Err(e) => fail(e),
        };
    }
    let cli = Cli::parse();
    match cli.command {
        Command::Db(DbArgs { command: DbCommand::Cpython { from, output } }) => {
            use venvaudit::cpython;
            // Problems go to stderr, at most this many lines.
            const SHOWN: usize = 100;
            let show = |problems: &[cpython::Problem]| {
                for p in problems.iter().take(SHOWN) {
                    eprintln!("venvaudit: db cpython: {p}");
                }
                if problems.len() > SHOWN {
                    eprintln!("venvaudit: db cpython: ... and {} more problems", problems.len() - SHOWN);
                }
            };
            let (db, problems) = match cpython::build(&from) {
                Ok(built) => built,
                Err(e) => {
                    if let cpython::Error::NoRecords { problems, .. } = &e {
                        show(problems);
                    }
                    return fail(e);
                }
            };
            show(&problems);
            if let Err(e) = db.write(&output) {
                return fail(e);
            }
            let sources: Vec<serde_json::Value> = db
                .sources
                .iter()
                .map(|s| serde_json::json!({"name": s.name, "path": s.path, "date": s.date, "records": s.records}))
                .collect();
            let summary = serde_json::json!({
                "output": output.display().to_string(),
                "generated_at": db.generated_at,
                "advisories": db.advisories.len(),
                "sources": sources,
                "problems": problems.len(),
            });
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Command::Run { args } => {
            let (value, code) = venvaudit::json::run(args.as_deref());
            println!("{value}");
            ExitCode::from(code as u8)
        }
        Command::Facts(a) => {
            let format = default_format(a.format);
            let progress = Progress::default();
            match with_progress(format == Format::Table, &progress, || venvaudit::facts(&a.request(), &progress)) {
                Ok(r) => {
                    print_report(&r, format);
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        Command::Check(a) => {
            let format = default_format(a.scan.format);
            let progress = Progress::default();
            let req = a.request();
            match with_progress(format == Format::Table, &progress, || venvaudit::check(&req, &progress)) {
                Ok(r) => {
                    print_report(&r, format);
                    if r.fails(req.fail_on.threshold()) { ExitCode::from(1) } else { ExitCode::SUCCESS }
                }
                Err(e) => fail(e),
            }
        }
        Command::CheckArtifact(a) => {
            let format = default_format(a.format);
            let progress = Progress::default();
            let req = a.request();
            match venvaudit::check_artifact(&req, &progress) {
                Ok(r) => {
                    print_report(&r, format);
                    if r.fails(req.fail_on.threshold()) { ExitCode::from(1) } else { ExitCode::SUCCESS }
                }
                Err(e) => fail(e),
            }
        }
        Command::Plan(a) => {
            let format = default_format(a.format);
            let progress = Progress::default();
            let req = a.request();
            let result = with_progress(format == Format::Table, &progress, || {
                if req.from_facts.is_empty() { venvaudit::plan(&req, &progress) } else { venvaudit::plan_fleet(&req) }
            });
            match result {
                Ok(p) => {
                    match format {
                        Format::Table => print!("{}", venvaudit::render_plan_table(&p)),
                        _ => print_json(&p),
                    }
                    ExitCode::from(p.exit_code())
                }
                Err(e) => fail(e),
            }
        }
        Command::Query(a) if !a.from_facts.is_empty() => {
            let req = venvaudit::FleetRequest {
                specs: a.specs.clone(),
                sources: a.from_facts.clone(),
                max_age_days: a.max_age,
                today: a.today,
                hosts_file: a.hosts.clone(),
            };
            match venvaudit::query_facts(&req) {
                Ok(r) => {
                    match default_format(a.format) {
                        Format::Table => print!("{}", venvaudit::render_fleet_table(&r)),
                        _ => print_json(&r),
                    }
                    ExitCode::from(r.exit_code())
                }
                Err(e) => fail(e),
            }
        }
        Command::Query(a) => {
            let format = default_format(a.format);
            let progress = Progress::default();
            let req = Request { specs: a.specs.clone(), ..a.walk.request(&a.paths) };
            match with_progress(format == Format::Table, &progress, || venvaudit::query(&req, &progress)) {
                Ok(r) => {
                    match format {
                        Format::Table => print!("{}", venvaudit::render_query_table(&r)),
                        _ => print_json(&r),
                    }
                    ExitCode::from(r.exit_code())
                }
                Err(e) => fail(e),
            }
        }
    }
}

/// Run `f` while a progress line is redrawn on stderr, when wanted and stderr is a terminal.
fn with_progress<T>(wanted: bool, progress: &Progress, f: impl FnOnce() -> T) -> T {
    if !wanted || !std::io::stderr().is_terminal() {
        return f();
    }
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(std::time::Duration::from_millis(250));
                eprint!(
                    "\rscanning: {} directories, {} environments",
                    progress.dirs.load(Ordering::Relaxed),
                    progress.venvs.load(Ordering::Relaxed)
                );
            }
            eprint!("\r\x1b[K");
        });
        let out = f();
        done.store(true, Ordering::Relaxed);
        out
    })
}
