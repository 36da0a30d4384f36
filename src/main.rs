//! The venvaudit command line: thin dispatch to the library.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use venvaudit::discover::Progress;
use venvaudit::request::Request;

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
    /// Read one JSON request (stdin or --args FILE) and write one JSON result.
    Run {
        /// Read the request from this file instead of stdin.
        #[arg(long, value_name = "FILE")]
        args: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Json,
    Table,
}

#[derive(Args)]
struct ScanArgs {
    /// Directories to scan (default: /).
    paths: Vec<String>,
    /// Output format (default: table on a terminal, JSON otherwise).
    #[arg(long, value_enum)]
    format: Option<Format>,
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
    /// Omit package lists.
    #[arg(long)]
    no_packages: bool,
    /// Only counts and versions.
    #[arg(long)]
    summary: bool,
}

impl ScanArgs {
    fn request(&self) -> Request {
        Request {
            paths: self.paths.clone(),
            exclude: self.exclude.clone(),
            max_depth: self.max_depth,
            root: self.root.clone(),
            jobs: self.jobs,
            follow_symlinks: self.follow_symlinks,
            cross_mounts: self.cross_mounts,
            packages: !self.no_packages,
            summary: self.summary,
            ..Request::default()
        }
    }

    fn format(&self) -> Format {
        self.format.unwrap_or(if std::io::stdout().is_terminal() { Format::Table } else { Format::Json })
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run { args } => {
            let (value, code) = venvaudit::frontends::json::run(args.as_deref());
            println!("{value}");
            ExitCode::from(code as u8)
        }
        Command::Facts(a) => {
            let format = a.format();
            let progress = Progress::default();
            let report = with_progress(format == Format::Table, &progress, || venvaudit::facts(&a.request(), &progress));
            match report {
                Ok(r) => {
                    match format {
                        Format::Json => println!("{}", serde_json::to_string_pretty(&r).expect("report serialises")),
                        Format::Table => print!("{}", venvaudit::table::render(&r)),
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("venvaudit: {e:#}");
                    ExitCode::from(2)
                }
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
