//! Which advisories affect an installed version, per the OSV evaluation algorithm with
//! PEP 440 ordering, and the merging of advisories that alias each other.

use super::{Advisory, Affected, Bound, Database, Event, EventKind, Rating};
use pep440_rs::Version;
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

/// An advisory that affects an installed version, with every `affected[]` entry it has for
/// the package (for the fixed versions and per-package severity).
#[derive(Debug, Clone)]
pub struct Hit<'a> {
    /// The advisory.
    pub advisory: &'a Advisory,
    /// Its entries for this package.
    pub affected: Vec<&'a Affected>,
}

/// Advisories affecting `version` of the package with PEP 503 name `name`.
pub fn affecting<'a>(db: &'a Database, name: &str, version: &str) -> Vec<Hit<'a>> {
    let Some(entries) = db.index.get(name) else { return Vec::new() };
    let parsed = Version::from_str(version).ok();
    let mut by_advisory: BTreeMap<usize, (bool, Vec<&Affected>)> = BTreeMap::new();
    for a in entries {
        let hit = match &parsed {
            Some(v) => in_versions(v, &a.versions) || a.ranges.iter().any(|r| in_range(v, r)),
            // A version that is not PEP 440 can only be found verbatim in `versions[]`.
            None => a.versions.lines().any(|s| s == version),
        };
        let slot = by_advisory.entry(a.advisory).or_default();
        slot.0 |= hit;
        slot.1.push(a);
    }
    by_advisory
        .into_iter()
        .filter(|(_, (hit, _))| *hit)
        .map(|(i, (_, affected))| Hit { advisory: &db.advisories[i], affected })
        .collect()
}

/// `IncludedInVersions` with PEP 440 equality (`3.2` equals `3.2.0`); values that are not
/// PEP 440 are skipped.
fn in_versions(v: &Version, versions: &str) -> bool {
    versions.lines().any(|s| Version::from_str(s).is_ok_and(|x| x == *v))
}

/// `BeforeLimits` and the event walk of one range whose events are sorted.
pub fn in_range(v: &Version, events: &[Event]) -> bool {
    let at = Bound::At(v.clone());
    let limits: Vec<&Bound> = events.iter().filter(|e| e.kind == EventKind::Limit).map(|e| &e.at).collect();
    if !limits.is_empty() && !limits.iter().any(|l| at < **l) {
        return false;
    }
    let mut vulnerable = false;
    for e in events {
        match e.kind {
            EventKind::Introduced if at >= e.at => vulnerable = true,
            EventKind::Fixed if at >= e.at => vulnerable = false,
            EventKind::LastAffected if at > e.at => vulnerable = false,
            _ => {}
        }
    }
    vulnerable
}

/// One vulnerability affecting a package: the advisories that alias each other, merged.
#[derive(Debug, Clone)]
pub struct Merged {
    /// Primary id: PYSEC first, then GHSA, then others, CVE last.
    pub advisory: String,
    /// Every other id of the merged records and their aliases, sorted.
    pub aliases: Vec<String>,
    /// Ids of the database records merged (including the primary).
    pub records: Vec<String>,
    /// Summary of the primary record (or the first that has one).
    pub summary: String,
    /// Fixed versions of the package over all merged records, PEP 440 order.
    pub fixed_versions: Vec<String>,
    /// Earliest `published`.
    pub published: Option<String>,
    /// Latest `modified`.
    pub modified: Option<String>,
    /// Highest stated severity.
    pub rating: Option<Rating>,
}

fn id_rank(id: &str) -> u8 {
    if id.starts_with("PYSEC-") {
        0
    } else if id.starts_with("GHSA-") {
        1
    } else if id.starts_with("CVE-") {
        3
    } else {
        2
    }
}

/// Merge hits whose advisories alias each other (directly or through a shared alias such as
/// a CVE id) into one entry per vulnerability.
pub fn merge_aliases(hits: &[Hit<'_>]) -> Vec<Merged> {
    // Union-find over hit indices, joined through every id and alias they mention.
    let mut parent: Vec<usize> = (0..hits.len()).collect();
    fn find(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    let mut owner: BTreeMap<String, usize> = BTreeMap::new();
    for (i, h) in hits.iter().enumerate() {
        for name in std::iter::once(&h.advisory.id).chain(&h.advisory.aliases) {
            let key = name.trim().to_ascii_uppercase();
            match owner.get(&key) {
                Some(&j) => {
                    let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                    parent[a] = b;
                }
                None => {
                    owner.insert(key, i);
                }
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<&Hit<'_>>> = BTreeMap::new();
    for (i, h) in hits.iter().enumerate() {
        let r = find(&mut parent, i);
        groups.entry(r).or_default().push(h);
    }
    let mut out: Vec<Merged> = groups.into_values().map(|g| merge_group(&g)).collect();
    out.sort_by(|a, b| a.advisory.cmp(&b.advisory));
    out
}

fn merge_group(group: &[&Hit<'_>]) -> Merged {
    let primary = group
        .iter()
        .min_by(|a, b| (id_rank(&a.advisory.id), &a.advisory.id).cmp(&(id_rank(&b.advisory.id), &b.advisory.id)))
        .expect("groups are never empty");
    let mut names: BTreeSet<String> = BTreeSet::new();
    let mut records: Vec<String> = Vec::new();
    let mut fixed: Vec<String> = Vec::new();
    let mut rating: Option<Rating> = None;
    let mut published: Option<String> = None;
    let mut modified: Option<String> = None;
    for h in group {
        records.push(h.advisory.id.clone());
        names.insert(h.advisory.id.clone());
        names.extend(h.advisory.aliases.iter().cloned());
        for a in &h.affected {
            fixed.extend(a.fixed.iter().cloned());
        }
        // Per-package severity overrides the record's, per the OSV schema.
        let r = h.affected.iter().find_map(|a| a.rating.clone()).or_else(|| h.advisory.rating.clone());
        if let Some(r) = r
            && rating.as_ref().is_none_or(|cur| r.severity > cur.severity)
        {
            rating = Some(r);
        }
        if let Some(p) = &h.advisory.published
            && published.as_ref().is_none_or(|cur| p < cur)
        {
            published = Some(p.clone());
        }
        if h.advisory.modified > modified {
            modified = h.advisory.modified.clone();
        }
    }
    names.remove(&primary.advisory.id);
    records.sort();
    // A total order (sort_by may panic on an inconsistent one): PEP 440 values in version
    // order, then values that are not PEP 440, verbatim.
    fixed.sort_by_cached_key(|f| match Version::from_str(f) {
        Ok(v) => (0, Some(v), f.clone()),
        Err(_) => (1, None, f.clone()),
    });
    fixed.dedup();
    let summary = if primary.advisory.summary.is_empty() {
        group.iter().map(|h| h.advisory.summary.clone()).find(|s| !s.is_empty()).unwrap_or_default()
    } else {
        primary.advisory.summary.clone()
    };
    Merged {
        advisory: primary.advisory.id.clone(),
        aliases: names.into_iter().collect(),
        records,
        summary,
        fixed_versions: fixed,
        published,
        modified,
        rating,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: EventKind, v: &str) -> Event {
        let at = match v {
            "0" => Bound::Zero,
            "*" => Bound::Infinity,
            v => Bound::At(Version::from_str(v).unwrap()),
        };
        Event { kind, at }
    }

    fn range(events: &[(EventKind, &str)]) -> Vec<Event> {
        let mut r: Vec<Event> = events.iter().map(|(k, v)| ev(*k, v)).collect();
        r.sort_by(|x, y| x.at.cmp(&y.at).then(x.kind.cmp(&y.kind)));
        r
    }

    fn affected(v: &str, r: &[Event]) -> bool {
        in_range(&Version::from_str(v).unwrap(), r)
    }

    #[test]
    fn prereleases_below_fixed_are_affected() {
        use EventKind::*;
        let r = range(&[(Fixed, "2.7.2"), (Introduced, "0")]);
        assert!(affected("2.7.2rc1", &r), "a pre-release of the fix is still vulnerable");
        assert!(affected("2.7.2.dev0", &r));
        assert!(affected("2.7.1.post1", &r));
        assert!(!affected("2.7.2", &r));
        assert!(!affected("2.7.2+local", &r));
        assert!(!affected("2.7.2.post1", &r));
        assert!(!affected("1!0.1", &r), "epochs sort after every epoch-0 version");
    }

    #[test]
    fn unsorted_multi_ranges_last_affected_and_limit() {
        use EventKind::*;
        let r = range(&[(Fixed, "3.0.12"), (Introduced, "3.0"), (Fixed, "2.2.18"), (Introduced, "2.2")]);
        assert!(affected("2.2.17", &r));
        assert!(!affected("2.5", &r));
        assert!(affected("3.0.11", &r));
        assert!(!affected("2.1", &r));
        let la = range(&[(Introduced, "1.0"), (LastAffected, "1.4")]);
        assert!(affected("1.4", &la));
        assert!(!affected("1.4.1", &la));
        let lim = range(&[(Introduced, "0"), (Limit, "2.0")]);
        assert!(affected("1.9", &lim));
        assert!(!affected("2.0", &lim));
        let inf = range(&[(Introduced, "1.0"), (Limit, "*")]);
        assert!(affected("99", &inf));
        let empty = range(&[(Introduced, "1.0"), (Fixed, "1.0")]);
        assert!(!affected("1.0", &empty), "introduced and fixed at the same version is an empty range");
    }

    fn adv(id: &str, aliases: &[&str]) -> Advisory {
        Advisory {
            id: id.into(),
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            summary: format!("summary of {id}"),
            published: None,
            modified: Some(format!("2024-01-0{}T00:00:00Z", id.len() % 9)),
            rating: None,
        }
    }

    #[test]
    fn aliases_merge_transitively() {
        let a = adv("PYSEC-1", &["CVE-1"]);
        let b = adv("GHSA-aaaa", &["CVE-1"]);
        let c = adv("GHSA-bbbb", &["CVE-2"]);
        let empty = Affected {
            advisory: 0,
            ranges: vec![],
            versions: String::new(),
            fixed: vec!["1.10".into(), "1.9".into()],
            rating: None,
        };
        let hits: Vec<Hit> = [&a, &b, &c].iter().map(|x| Hit { advisory: x, affected: vec![&empty] }).collect();
        let m = merge_aliases(&hits);
        assert_eq!(m.len(), 2);
        assert_eq!(m[1].advisory, "PYSEC-1");
        assert_eq!(m[1].aliases, ["CVE-1", "GHSA-aaaa"]);
        assert_eq!(m[1].fixed_versions, ["1.9", "1.10"]);
        assert_eq!(m[0].advisory, "GHSA-bbbb");
    }
}
