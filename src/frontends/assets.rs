//! Man pages and shell completions generated from the command-line definition, so that what a
//! release ships never drifts from `--help`. `venvaudit __generate-assets DIR` (run by
//! scripts/release.sh; main.rs handles it before clap, so it is in no page or completion) calls
//! [`write()`] with the CLI's `clap::Command`.

use clap_complete::Shell;
use std::path::{Path, PathBuf};

/// A file or directory that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{what} {}: {cause}", path.display())]
pub struct AssetError {
    /// `creating`, `writing` or `rendering`.
    what: &'static str,
    /// The file or directory.
    path: PathBuf,
    /// The operating system's error.
    cause: std::io::Error,
}

type Result<T, E = AssetError> = std::result::Result<T, E>;

/// Attach what was being done to which path to an I/O error.
fn at(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> AssetError {
    let path = path.to_path_buf();
    move |cause| AssetError { what, path, cause }
}

/// The argument that makes the binary write its assets (`venvaudit __generate-assets DIR`).
pub const SUBCOMMAND: &str = "__generate-assets";

/// Write into `dir`: `man/venvaudit.1` and one `man/venvaudit-SUBCOMMAND.1` per visible
/// subcommand, and `completions/venvaudit.bash`, `completions/_venvaudit` (zsh) and
/// `completions/venvaudit.fish`. Returns the files written.
pub fn write(cmd: clap::Command, dir: &Path) -> Result<Vec<PathBuf>> {
    let mut cmd = cmd;
    // Subcommand pages and completions need the fully built command (help subcommand, flags).
    cmd.build();
    let name = cmd.get_name().to_owned();
    let man = dir.join("man");
    let comp = dir.join("completions");
    for d in [&man, &comp] {
        std::fs::create_dir_all(d).map_err(at("creating", d))?;
    }
    let mut written = Vec::new();
    let mut page = |c: &clap::Command, title: &str, file: PathBuf| -> Result<()> {
        let mut buf = Vec::new();
        clap_mangen::Man::new(c.clone().bin_name(title))
            .title(title)
            .render(&mut buf)
            .map_err(at("rendering the man page", &file))?;
        std::fs::write(&file, buf).map_err(at("writing", &file))?;
        written.push(file);
        Ok(())
    };
    page(&cmd, &name, man.join(format!("{name}.1")))?;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        // A subcommand page is titled `venvaudit-facts`, as `man venvaudit-facts` looks it up.
        let full = format!("{name}-{}", sub.get_name());
        page(sub, &full, man.join(format!("{full}.1")))?;
    }
    for (shell, file) in
        [(Shell::Bash, format!("{name}.bash")), (Shell::Zsh, format!("_{name}")), (Shell::Fish, format!("{name}.fish"))]
    {
        let path = comp.join(file);
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut cmd, name.clone(), &mut buf);
        std::fs::write(&path, buf).map_err(at("writing", &path))?;
        written.push(path);
    }
    Ok(written)
}
