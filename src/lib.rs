//! venvaudit: find every Python environment on a host and report its facts and health,
//! from files alone. No code from a scanned environment is ever executed and nothing in it
//! is ever written.
//!
//! The layers, each importing only the ones below it (tested by `tests/contract.rs`):
//!
//! | layer | modules | what it holds |
//! |---|---|---|
//! | contract | [`report`], [`request`], [`time`] | the output and input contracts, finding ids, the clock |
//! | parsers | [`parse`] | pure readers: ELF, pyvenv.cfg, PEP 508, specifiers, RECORD, redaction |
//! | host | [`host`] | the scanned system: root view, loader model, configuration, /proc, scope |
//! | facts | [`discover`], [`inspect`], [`osv`] | finding environments, facts from files, the advisory database |
//! | checks | [`checks`] | one module per family, findings from facts and resolved inputs |
//! | engine | [`engine`], [`ignore`], [`query`], [`fleet`] | resolves inputs once and runs the pipeline; answers from saved facts |
//! | output | [`render`], [`frontends`] | table, CycloneDX, Prometheus; JSON and Ansible modes |

pub mod checks;
pub mod discover;
pub mod engine;
pub mod fleet;
pub mod frontends;
#[doc(hidden)]
pub mod fuzz_api;
pub mod host;
pub mod ignore;
pub mod inspect;
pub mod osv;
pub mod parse;
pub mod query;
pub mod render;
pub mod report;
pub mod request;
pub mod time;

pub use engine::{check, facts, jobs, scan};
pub use report::{Family, Finding, FindingId, Report, Severity};
pub use request::Request;
