//! Front-ends that speak JSON: `venvaudit run` (used by Salt and scripts) and the Ansible
//! module mode. Each reads one request and writes exactly one JSON object.

pub mod ansible;
pub mod assets;
pub mod json;
