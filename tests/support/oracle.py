#!/usr/bin/env python3
"""Ground truth for the precision benchmark: does every compiled file of a venv load?

    python3 oracle.py VENV [--timeout SECONDS] [--jobs N]  >  truth.json

Runs with any Python 3.8+ (stdlib only). It never imports anything itself: it runs the venv's
own interpreter (``VENV/bin/python -I``), one fresh subprocess per file, so a crash, an abort
or a hang is contained (and killed after --timeout).

What is asked, per file under the venv's site-packages (``*.so`` and versioned ``*.so.N``):

- **extension module** (its name ends with one of the interpreter's
  ``importlib.machinery.EXTENSION_SUFFIXES`` and its path is a dotted module name): the module
  is imported the normal way (``importlib.import_module``), then ``ctypes.CDLL(path)`` (dlopen
  with RTLD_NOW, the flags an import uses) answers the loader's own question for exactly this
  file. ``/proc/self/maps`` records every file the import mapped.
- **foreign module** (an extension-module name with an ABI tag this interpreter does not
  accept, e.g. ``*.cpython-311-*.so`` in a 3.12 venv): Python never opens it. It is a fault
  only when its top-level package then fails to import with ``ModuleNotFoundError`` for
  exactly this module (``import orjson`` needs ``orjson.orjson``); a package that imports
  without it (msgpack, PyYAML fall back to pure Python) is ``unrelated``, not a fault.
- **library** (anything else, e.g. auditwheel's ``*.libs/libz-1a2b.so.1.3``): judged only as
  part of the load chains of the modules that map it. A library no import maps is also
  dlopened alone, and the result is reported for review (``alone``) but never counted as a
  fault: dlopen of a bundled library alone may fail although it loads fine below its module,
  whose DT_RPATH applies to the whole chain.

Classification (the reviewed part; see LOADER_PATTERNS):

- ``fault``: the file's own dlopen fails with a loader error, or its import fails with a
  loader error that its own dlopen confirms, or the import kills the process (signal), or it
  is a foreign module standing alone (see above). Reason kept verbatim in ``error``.
- ``elsewhere``: the import fails with a loader error, but this file's own dlopen succeeds:
  another file (another distribution, or a sibling module the package ``__init__`` imports)
  is at fault. Not counted against this file's distribution.
- ``unrelated``: the import fails for a reason that is not the loader's (a missing optional
  Python dependency, an import side effect, ``PyInit`` absent because the file is a plain
  library with a module-like name) and the file's own dlopen succeeds.
- ``ok``: imports (or, for a library, is mapped by a module that imports).

A venv whose interpreter does not start at all gets ``python.ok = false`` and the reason:
that is a venv-level fault.

Output (JSON): ``{"venv", "python": {"ok", "error", "version"}, "files": [{"path" (relative
to the venv), "kind", "module", "dist", "status", "stage", "error", "loaded_by"}],
"dists": {normalised name: {"fault": bool, "files": [...]}}}``.
"""

import argparse
import concurrent.futures
import csv
import json
import os
import re
import subprocess
import sys

# Messages only the dynamic loader (or CPython's dlopen wrapper) produces. An ImportError or
# OSError carrying one of these is a load/ABI fault; anything else is not the loader's.
LOADER_PATTERNS = [
    "cannot open shared object file",  # a DT_NEEDED library (or the file) is not found
    "undefined symbol",  # a symbol (e.g. PyUnicode_..., a C++ ABI symbol) is not defined
    "not found (required by",  # version `GLIBC_2.38' / `GLIBCXX_3.4.32' not found (required by ...)
    "wrong ELF class",  # 32/64-bit mismatch
    "invalid ELF header",  # not an ELF file for this machine (or not an ELF file at all)
    "ELF file OS ABI invalid",
    "ELF file data encoding",
    "ELF file version",
    "ELF file's phentsize",
    "ELF load command",
    "only ET_DYN and ET_EXEC can be loaded",
    "file too short",
    "cannot map zero-fill pages",
    "cannot enable executable stack",
    "cannot allocate memory in static TLS block",
    "unexpected reloc type",
    "unsupported version",  # e.g. "unsupported version 0 of Verneed record"
    "symbol lookup error",
    "cannot find",  # "cannot find ... in ...": loader search failures
]

PROBE = r"""
import ctypes, importlib, json, os, sys
kind, name, path = sys.argv[1], sys.argv[2], sys.argv[3]
out = os.dup(1)
os.dup2(2, 1)  # whatever the import prints goes to stderr
res = {}
if name:
    try:
        # A foreign module is never opened: what counts is whether its package still imports.
        importlib.import_module(name.split(".")[0] if kind == "foreign" else name)
        res["import"] = None
    except BaseException as e:  # noqa: BLE001 - every failure is data
        res["import"] = "%s: %s" % (type(e).__name__, e)
        res["import_missing"] = getattr(e, "name", None) if isinstance(e, ModuleNotFoundError) else None
if kind != "foreign":
    try:
        ctypes.CDLL(path)
        res["dlopen"] = None
    except OSError as e:
        res["dlopen"] = str(e)
maps = set()
with open("/proc/self/maps") as f:
    for line in f:
        parts = line.split(None, 5)
        if len(parts) == 6 and parts[5].startswith("/"):
            maps.add(os.path.realpath(parts[5].rstrip("\n").replace(" (deleted)", "")))
res["maps"] = sorted(maps)
os.write(out, ("\n@@ORACLE@@" + json.dumps(res) + "\n").encode())
"""

INFO = r"""
import importlib.machinery, json, site, sys, sysconfig
print(json.dumps({
    "suffixes": importlib.machinery.EXTENSION_SUFFIXES,
    "site": [p for p in site.getsitepackages() if p.startswith(sys.prefix)],
    "version": sys.version.split()[0],
}))
"""


def is_loader_error(msg):
    """Whether an error message comes from the dynamic loader (the reviewed list above)."""
    return bool(msg) and any(p in msg for p in LOADER_PATTERNS)


def normalize(name):
    """PEP 503 normalisation."""
    return re.sub(r"[-_.]+", "-", name).lower()


def run(cmd, timeout):
    """(exit code or -signal, stdout, stderr); 'timeout' as stderr on overrun."""
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL, env=clean_env())
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
    except subprocess.TimeoutExpired:
        return None, "", "timeout after %ss" % timeout
    except OSError as e:  # e.g. bin/python is a dangling link
        return 127, "", str(e)


def clean_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "LD_", "VIRTUAL_ENV"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # the venv must stay as it was (the tool is judged on it)
    env["MPLBACKEND"] = "Agg"
    return env


def dist_map(site_dirs):
    """realpath of every installed file -> normalised distribution name, from RECORD files."""
    owner = {}
    for sp in site_dirs:
        try:
            entries = os.listdir(sp)
        except OSError:
            continue
        for d in entries:
            if not d.endswith(".dist-info"):
                continue
            dist = normalize(d[: -len(".dist-info")].rsplit("-", 1)[0])
            try:
                with open(os.path.join(sp, d, "METADATA"), encoding="utf-8", errors="replace") as f:
                    for line in f:
                        if line.startswith("Name:"):
                            dist = normalize(line.split(":", 1)[1].strip())
                            break
            except OSError:
                pass
            try:
                with open(os.path.join(sp, d, "RECORD"), newline="", encoding="utf-8", errors="replace") as f:
                    for row in csv.reader(f):
                        if row:
                            owner[os.path.realpath(os.path.join(sp, row[0]))] = dist
            except OSError:
                pass
    return owner


def classify_name(rel, suffixes):
    """(kind, module name) of a file path relative to site-packages."""
    base = os.path.basename(rel)
    foreign = re.match(r"^(.*?)\.(cpython-[^.]+|pypy[^.]*|abi3|cp\d+[^.]*)\.so$", base)
    for suf in sorted(suffixes, key=len, reverse=True):
        if suf == ".so" and foreign:
            break  # a tagged name this interpreter does not accept: never imported as such
        if base.endswith(suf):
            parts = rel[: -len(suf)].split(os.sep)
            if all(p.isidentifier() for p in parts):
                return "module", ".".join(parts)
            return "library", None
    if foreign:
        parts = rel.split(os.sep)[:-1] + [foreign.group(1)]
        if all(p.isidentifier() for p in parts):
            return "foreign", ".".join(parts)
    return "library", None


def probe(python, kind, name, path, timeout):
    rc, out, err = run([python, "-I", "-c", PROBE, kind, name or "", path], timeout)
    marker = out.rfind("@@ORACLE@@")
    if marker < 0:
        why = err.strip().splitlines()[-1:] if err.strip() else []
        if rc is None:
            return {"crash": "timeout after %ss" % timeout}
        return {"crash": "exit %s%s" % (rc, (": " + why[0]) if why else "")}
    return json.loads(out[marker + len("@@ORACLE@@") :].strip().splitlines()[0])


def judge(kind, name, res):
    """(status, stage, error) for one probed file."""
    if "crash" in res:
        return "fault", "crash", res["crash"]
    imp, dl = res.get("import"), res.get("dlopen")
    if kind == "foreign":
        if imp and res.get("import_missing") == name:
            return "fault", "import", imp
        return ("ok", "import", None) if not imp else ("unrelated", "import", imp)
    if dl and is_loader_error(dl):
        return "fault", "dlopen", dl
    if imp is None:
        return "ok", "import", None
    if is_loader_error(imp):
        return "elsewhere", "import", imp
    return "unrelated", "import", imp


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("venv")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    venv = os.path.abspath(a.venv)
    python = os.path.join(venv, "bin", "python")
    report = {"venv": venv, "python": {"ok": False, "error": None, "version": None}, "files": [], "dists": {}}
    rc, out, err = run([python, "-I", "-c", INFO], a.timeout)
    if rc != 0:
        report["python"]["error"] = (err.strip().splitlines() or ["exit %s" % rc])[-1] if rc is not None else err
        if not os.path.exists(python):
            report["python"]["error"] = "%s: no such file" % python
        json.dump(report, sys.stdout, indent=1)
        return
    info = json.loads(out)
    report["python"].update(ok=True, version=info["version"])
    owner = dist_map(info["site"])

    todo = []
    for sp in info["site"]:
        for dirpath, dirnames, filenames in os.walk(sp):
            dirnames.sort()
            for fn in sorted(filenames):
                if not (fn.endswith(".so") or ".so." in fn):
                    continue
                full = os.path.join(dirpath, fn)
                if os.path.islink(full):
                    continue
                kind, name = classify_name(os.path.relpath(full, sp), info["suffixes"])
                todo.append((full, kind, name))

    results = {}
    loaded_by = {}
    with concurrent.futures.ThreadPoolExecutor(max(1, a.jobs)) as ex:
        futs = {ex.submit(probe, python, k, n, p, a.timeout): (p, k, n) for p, k, n in todo if k != "library"}
        for fut in concurrent.futures.as_completed(futs):
            p, k, n = futs[fut]
            res = fut.result()
            results[p] = res
            # Whatever a module's own dlopen (or import) mapped loaded as part of its chain.
            if "crash" not in res and (res.get("import") is None or res.get("dlopen", "x") is None):
                for m in res.get("maps", []):
                    loaded_by.setdefault(m, []).append(n)
        libs = [(p, k, n) for p, k, n in todo if k == "library" and os.path.realpath(p) not in loaded_by]
        futs = {ex.submit(probe, python, k, None, p, a.timeout): (p, k, n) for p, k, n in libs}
        for fut in concurrent.futures.as_completed(futs):
            results[futs[fut][0]] = fut.result()

    # A file no RECORD lists (copied in by hand) belongs to whoever owns its directory.
    dir_owner = {}
    for f, d in owner.items():
        dir_owner.setdefault(os.path.dirname(f), d)
    for p, kind, name in todo:
        real = os.path.realpath(p)
        entry = {
            "path": os.path.relpath(p, venv),
            "kind": kind,
            "module": name,
            "dist": owner.get(real) or dir_owner.get(os.path.dirname(real)),
            "loaded_by": sorted(loaded_by.get(real, [])),
        }
        if kind == "library":
            if entry["loaded_by"]:
                entry.update(status="ok", stage="chain", error=None)
            else:
                res = results[p]
                why = res.get("crash") or res.get("dlopen")
                # Alone only: reported, never a fault (see the module docstring).
                entry.update(status="alone-fails" if why else "alone-ok", stage="dlopen", error=why)
        else:
            status, stage, error = judge(kind, name, results[p])
            entry.update(status=status, stage=stage, error=error)
        report["files"].append(entry)
        d = report["dists"].setdefault(entry["dist"] or "?", {"fault": False, "files": []})
        if entry["status"] == "fault":
            d["fault"] = True
            d["files"].append(entry["path"])
    json.dump(report, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
