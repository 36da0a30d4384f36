//! Renderings of a report other than its JSON: the terminal table, a CycloneDX SBOM with
//! vulnerabilities, Prometheus text metrics.

pub mod export;
pub mod table;
