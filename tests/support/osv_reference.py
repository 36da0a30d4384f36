#!/usr/bin/env python3
"""Independent reference OSV matcher for venvaudit's tests (uses only `packaging` + json).

Usage: osv_reference.py DB  <<< '[["django", "3.2"], ["requests", "2.25.0"]]'
DB is a directory of OSV JSON records or a zip of them (like osv.dev's PyPI/all.zip).
Prints, for each (name, version) pair, the vulnerabilities affecting it after merging
advisories that alias each other: [{"name", "version", "groups": [{"records": [...],
"ids": [...]}]}], where "records" are the merged record ids and "ids" every id and alias.

Semantics (OSV schema "Evaluation", PyPI ecosystem): withdrawn records are skipped; only
affected[] entries with ecosystem "PyPI"; only ECOSYSTEM ranges; events sorted by PEP 440
version ("0" first, a limit containing "*" last; at equal versions introduced < fixed <
last_affected < limit); values that are not PEP 440 are dropped; versions[] compared with
PEP 440 equality (an installed version that is not PEP 440 only matches verbatim).
"""
import json
import os
import sys
import zipfile

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

KIND_ORDER = {"introduced": 0, "fixed": 1, "last_affected": 2, "limit": 3}


def records(db):
    if os.path.isdir(db):
        for base, _dirs, files in os.walk(db):
            for f in sorted(files):
                if f.endswith(".json"):
                    with open(os.path.join(base, f), "rb") as fh:
                        yield fh.read()
    else:
        with zipfile.ZipFile(db) as z:
            for n in z.namelist():
                if n.endswith(".json"):
                    yield z.read(n)


def version(text):
    try:
        return Version(text)
    except (InvalidVersion, TypeError):
        return None


def position(kind, text):
    """Sort key of an event value: (0,) before all, (1, v) a version, (2,) after all."""
    if kind == "introduced" and text == "0":
        return (0,)
    if kind == "limit" and "*" in text:
        return (2,)
    v = version(text)
    return None if v is None else (1, v)


def load(db):
    index = {}
    for raw in records(db):
        try:
            rec = json.loads(raw)
        except ValueError:
            continue
        if "withdrawn" in rec:
            continue
        for aff in rec.get("affected") or []:
            pkg = aff.get("package") or {}
            if pkg.get("ecosystem") != "PyPI":
                continue
            ranges = []
            for r in aff.get("ranges") or []:
                if r.get("type") != "ECOSYSTEM":
                    continue
                events = []
                for ev in r.get("events") or []:
                    for kind, text in ev.items():
                        if kind in KIND_ORDER and isinstance(text, str):
                            pos = position(kind, text)
                            if pos is not None:
                                events.append((pos, KIND_ORDER[kind], kind))
                events.sort(key=lambda e: (e[0], e[1]))
                ranges.append(events)
            index.setdefault(canonicalize_name(pkg["name"]), []).append((rec, ranges, aff.get("versions") or []))
    return index


def in_range(v, events):
    at = (1, v)
    limits = [p for p, _, k in events if k == "limit"]
    if limits and not any(at < p for p in limits):
        return False
    vulnerable = False
    for pos, _, kind in events:
        if kind == "introduced" and at >= pos:
            vulnerable = True
        elif kind == "fixed" and at >= pos:
            vulnerable = False
        elif kind == "last_affected" and at > pos:
            vulnerable = False
    return vulnerable


def affected(index, name, text):
    v = version(text)
    hits = {}
    for rec, ranges, versions in index.get(canonicalize_name(name), []):
        if v is None:
            hit = text in versions
        else:
            hit = any(version(x) == v for x in versions if version(x) is not None) or any(in_range(v, r) for r in ranges)
        if hit:
            hits[rec["id"]] = rec
    return list(hits.values())


def groups(recs):
    parent = list(range(len(recs)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner = {}
    for i, r in enumerate(recs):
        for n in [r["id"]] + list(r.get("aliases") or []):
            key = n.strip().upper()
            if key in owner:
                parent[find(i)] = find(owner[key])
            else:
                owner[key] = i
    out = {}
    for i, r in enumerate(recs):
        out.setdefault(find(i), []).append(r)
    result = []
    for g in out.values():
        ids = set()
        for r in g:
            ids.add(r["id"])
            ids.update(r.get("aliases") or [])
        result.append({"records": sorted(r["id"] for r in g), "ids": sorted(ids)})
    return sorted(result, key=lambda g: g["records"])


def main():
    index = load(sys.argv[1])
    pairs = json.load(sys.stdin)
    out = [{"name": n, "version": v, "groups": groups(affected(index, n, v))} for n, v in pairs]
    json.dump(out, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
