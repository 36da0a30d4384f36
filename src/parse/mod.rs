//! Pure parsers of the files venvaudit reads: text in, typed values out, no I/O. Each one is
//! bounded by its caller's read limit and never panics on any input (see `fuzz/`).

pub mod abi_tag;
pub mod elf;
pub mod lock;
pub mod pep508;
pub mod pyimport;
pub mod pyvenv_cfg;
pub mod record;
pub mod redact;
pub mod spec;
pub mod wheel_tags;
