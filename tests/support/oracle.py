#!/usr/bin/env python3
"""Ground truth for the precision benchmark: does every compiled file of a venv load?

    python3 oracle.py VENV [--timeout SECONDS] [--jobs N]  >  truth.json

Runs with any Python 3.8+ (stdlib only). It never imports anything itself: it runs the venv's
own interpreter (``VENV/bin/python -I``), one fresh subprocess per file, so a crash, an abort
or a hang is contained (and killed after --timeout).

What is asked, per file under the venv's site-packages (``*.so`` and versioned ``*.so.N``):

- **extension module** (its name ends with one of the interpreter's
  ``importlib.machinery.EXTENSION_SUFFIXES`` and its path is a dotted module name; with the
  bare ``.so`` suffix only when its dynamic strings name ``PyInit_<name>``, so that Qt's
  plugins, ``torch/lib/libtorch.so`` or ``llvmlite/binding/libllvmlite.so`` are libraries): the module
  is imported the normal way (``importlib.import_module``), then ``ctypes.CDLL(path)`` (dlopen
  with RTLD_NOW, the flags an import uses) answers the loader's own question for exactly this
  file. ``/proc/self/maps`` records every file the import mapped.
- **foreign module** (an extension-module name with an ABI tag this interpreter does not
  accept, e.g. ``*.cpython-311-*.so`` in a 3.12 venv): Python never opens it. It is a fault
  only when its top-level package then fails to import with ``ModuleNotFoundError`` for
  exactly this module (``import orjson`` needs ``orjson.orjson``); a package that imports
  without it (msgpack, PyYAML fall back to pure Python) is ``unrelated``, not a fault.
- **library** (anything else, e.g. auditwheel's ``*.libs/libz-1a2b.so.1.3``, a Qt plugin): judged only as
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

**Gate level** (``dists[name].import``): does the distribution's top-level import work? In a
fresh interpreter per distribution (``-I``, --timeout), each of its top-level names is imported
(``importlib.import_module``). The names: ``top_level.txt`` when it names something installed,
else derived from RECORD; either way a directory without ``__init__`` (a namespace directory
such as ``nvidia/`` or ``google/``) is replaced by the regular packages inside it that the
distribution's RECORD lists, descending further namespace directories, and modules sitting
directly in a namespace directory are not names. Regular packages (``x/__init__.py``, or a
compiled ``__init__``), top-level modules (``x.py``, ``x.<extension suffix>``). Each failure
gets a ``cause``: ``loader`` (a LOADER_PATTERNS message), ``crash`` (signal or timeout),
``missing-module`` (ModuleNotFoundError for a module of an installed package, e.g. a
foreign-tagged module the package needs: ``orjson.orjson``), ``missing-dependency``
(ModuleNotFoundError for a top-level name not installed at all: an optional dependency, e.g.
duckdb's ``adbc_driver_duckdb`` needing ``adbc_driver_manager``), ``other`` (anything else: an
import side effect, a missing display). ``import.fault`` is true when a name fails for a
counted cause (``loader``, ``crash``, ``missing-module``); the others are reported
(``import.ok = false``) for review but not counted.

Output (JSON): ``{"venv", "python": {"ok", "error", "version"}, "files": [{"path" (relative
to the venv), "kind", "module", "dist", "status", "stage", "error", "loaded_by"}],
"dists": {normalised name: {"fault": bool, "files": [...], "import": {"source"
("top_level.txt", "RECORD" or "none"), "names", "absent" (top_level.txt names not installed),
"ok", "fault", "cause", "error", "failed" (the first name that failed for a counted cause,
else the first that failed), "results": [{"name", "error", "cause", "missing",
"missing_top"}]}}}}``. ``fault`` is the file-level verdict, ``import.fault`` the
gate-level one. Every distribution with a ``*.dist-info`` gets an entry (``"?"`` holds files no
RECORD claims).
"""

import argparse
import concurrent.futures
import csv
import json
import os
import re
import struct
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

IMPORT_PROBE = r"""
import importlib, importlib.util, json, os, sys
names = json.loads(sys.argv[1])
out = os.dup(1)
os.dup2(2, 1)  # whatever the import prints goes to stderr
res = []
for name in names:
    r = {"name": name, "error": None, "missing": None}
    try:
        importlib.import_module(name)
    except BaseException as e:  # noqa: BLE001 - every failure is data
        r["error"] = "%s: %s" % (type(e).__name__, e)
        if isinstance(e, ModuleNotFoundError):
            r["missing"] = getattr(e, "name", None) or ""
            # Is the missing module's top-level name installed at all (a package, a module, or a
            # compiled file named for another interpreter, which import never finds)?
            # A ModuleNotFoundError without a name is raised by the package's own code (PyYAML's
            # `_yaml` stub when its extension did not load): a module of it is missing.
            top = r["missing"].split(".")[0]
            try:
                r["missing_top"] = not top or importlib.util.find_spec(top) is not None
            except BaseException:  # noqa: BLE001
                r["missing_top"] = True
            for d in sys.path:
                if r["missing_top"] or not top or not os.path.isdir(d):
                    continue
                r["missing_top"] = os.path.exists(os.path.join(d, top)) or any(
                    f.startswith(top + ".") and (f.endswith(".so") or f.endswith(".py")) for f in os.listdir(d))
    res.append(r)
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


# An extension module's file name with an ABI tag (which this interpreter may not accept).
FOREIGN = r"^(.*?)\.(cpython-[^.]+|pypy[^.]*|abi3|cp\d+[^.]*)\.so$"


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
    """(realpath of every installed file -> normalised distribution name, from RECORD files;
    {distribution: {"site", "record": [paths relative to its site dir], "top_level": [...] or None}})."""
    owner = {}
    dists = {}
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
            if dist in dists:
                continue  # the first of a name on sys.path wins, as with pip
            info = dists[dist] = {"site": sp, "record": [], "top_level": None}
            try:
                with open(os.path.join(sp, d, "RECORD"), newline="", encoding="utf-8", errors="replace") as f:
                    for row in csv.reader(f):
                        if row:
                            owner[os.path.realpath(os.path.join(sp, row[0]))] = dist
                            info["record"].append(row[0])
            except OSError:
                pass
            try:
                with open(os.path.join(sp, d, "top_level.txt"), encoding="utf-8", errors="replace") as f:
                    info["top_level"] = [x.strip() for x in f if x.strip()]
            except OSError:
                pass
    return owner, dists


def _module_stem(fn, suffixes):
    """The module name of a top-level file (``x.py``, ``x.<extension suffix>``, or an extension
    module named for another interpreter, ``x.cpython-311-aarch64-linux-gnu.so``), else None."""
    for suf in [".py"] + sorted(suffixes, key=len, reverse=True):
        if fn.endswith(suf) and fn[: -len(suf)].isidentifier():
            return fn[: -len(suf)]
    foreign = re.match(FOREIGN, fn)
    if foreign and foreign.group(1).isidentifier():
        return foreign.group(1)
    return None


def _is_package(path, suffixes):
    """A directory Python imports as a regular package (it has an ``__init__``)."""
    return any(os.path.isfile(os.path.join(path, "__init__" + s)) for s in [".py", ".pyc"] + list(suffixes))


def top_level_names(info, suffixes):
    """(source, importable top-level names, top_level.txt names not installed) of one distribution.

    Regular packages and top-level modules; a namespace directory (no ``__init__``) is replaced
    by the regular packages inside it that this distribution's RECORD lists, descending further
    namespace directories; modules directly in a namespace directory are not names."""
    sp = info["site"]
    rel = set()
    for r in info["record"]:
        r = os.path.normpath(r)
        if os.path.isabs(r) or r.startswith(".."):
            continue
        rel.add(tuple(r.split(os.sep)))

    def descend(parts):
        """Regular packages under the namespace directory ``parts`` that RECORD lists."""
        subs = sorted({p[len(parts)] for p in rel if len(p) > len(parts) + 1 and p[: len(parts)] == parts})
        out = []
        for sub in subs:
            if not sub.isidentifier():
                continue
            here = parts + (sub,)
            if _is_package(os.path.join(sp, *here), suffixes):
                out.append(".".join(here))
            elif os.path.isdir(os.path.join(sp, *here)):
                out.extend(descend(here))
        return out

    def resolve(name):
        """Names for one top-level entry (a module, a package, a namespace directory)."""
        parts = tuple(name.split("."))
        path = os.path.join(sp, *parts)
        if os.path.isdir(path):
            return [name] if _is_package(path, suffixes) else descend(parts)
        parent = os.path.dirname(path) or sp
        try:
            entries = os.listdir(parent)
        except OSError:
            return None
        if any(_module_stem(e, suffixes) == parts[-1] for e in entries):
            return [name]
        return None

    if info["top_level"]:
        names, absent = [], []
        for t in info["top_level"]:
            t = t.replace("/", ".").replace("\\", ".")
            if not all(p.isidentifier() for p in t.split(".")):
                absent.append(t)
                continue
            got = resolve(t)
            if got is None:
                absent.append(t)
            else:
                names.extend(got)
        if names or not absent:
            return "top_level.txt", sorted(set(names)), absent
    names = set()
    for p in rel:
        if len(p) == 1:
            stem = _module_stem(p[0], suffixes)
            if stem:
                names.add(stem)
        elif p[0].isidentifier():
            got = resolve(p[0])
            if got:
                names.update(got)
    return ("RECORD" if names else "none"), sorted(names), []


def dynamic_strings(path):
    """The dynamic string table (DT_STRTAB) of an ELF file, read through its program headers
    as the loader does; None when the file is not an ELF file this can read."""
    try:
        with open(path, "rb") as f:
            ident = f.read(64)
            if len(ident) < 52 or ident[:4] != b"\x7fELF" or ident[4] not in (1, 2) or ident[5] not in (1, 2):
                return None
            e = "<" if ident[5] == 1 else ">"
            if ident[4] == 2:
                phoff, phentsize, phnum = struct.unpack(e + "Q", ident[32:40])[0], *struct.unpack(e + "HH", ident[54:58])
                ph, dyn = e + "IIQQQQQQ", e + "qQ"
            else:
                phoff, phentsize, phnum = struct.unpack(e + "I", ident[28:32])[0], *struct.unpack(e + "HH", ident[42:46])
                ph, dyn = e + "IIIIIIII", e + "iI"
            f.seek(phoff)
            table = f.read(phentsize * phnum)
            loads, dynamic = [], None
            for i in range(phnum):
                raw = table[i * phentsize : i * phentsize + struct.calcsize(ph)]
                if len(raw) < struct.calcsize(ph):
                    return None
                v = struct.unpack(ph, raw)
                if ident[4] == 2:  # p_type, p_flags, p_offset, p_vaddr, p_paddr, p_filesz, ...
                    ptype, off, vaddr, filesz = v[0], v[2], v[3], v[5]
                else:  # p_type, p_offset, p_vaddr, p_paddr, p_filesz, ...
                    ptype, off, vaddr, filesz = v[0], v[1], v[2], v[4]
                if ptype == 1:
                    loads.append((vaddr, off, filesz))
                elif ptype == 2:
                    dynamic = (off, filesz)
            if dynamic is None:
                return None
            f.seek(dynamic[0])
            data = f.read(dynamic[1])
            step = struct.calcsize(dyn)
            strtab = strsz = None
            for i in range(0, len(data) - step + 1, step):
                tag, val = struct.unpack(dyn, data[i : i + step])
                if tag == 0:
                    break
                if tag == 5:
                    strtab = val
                elif tag == 10:
                    strsz = val
            if strtab is None or not strsz:
                return None
            for vaddr, off, filesz in loads:
                if vaddr <= strtab < vaddr + filesz:
                    f.seek(off + strtab - vaddr)
                    return f.read(strsz)
    except (OSError, struct.error):
        return None
    return None


def defines_init(path, short):
    """Whether a shared object can be an extension module named ``short``: its dynamic strings
    name ``PyInit_<short>`` (True when the file cannot be read as ELF: the probe decides)."""
    strings = dynamic_strings(path)
    return strings is None or (b"\0PyInit_" + short.encode() + b"\0") in b"\0" + strings + b"\0"


def classify_name(rel, suffixes, path=None):
    """(kind, module name) of a file path relative to site-packages. A file named with the bare
    ``.so`` suffix is a module only when it defines ``PyInit_<name>`` (``path`` given): Qt's
    plugins, torch's ``libtorch.so`` and llvmlite's ``libllvmlite.so`` are libraries that no
    import opens, judged as such."""
    base = os.path.basename(rel)
    foreign = re.match(FOREIGN, base)
    for suf in sorted(suffixes, key=len, reverse=True):
        if suf == ".so" and foreign:
            break  # a tagged name this interpreter does not accept: never imported as such
        if base.endswith(suf):
            parts = rel[: -len(suf)].split(os.sep)
            if all(p.isidentifier() for p in parts):
                if suf == ".so" and path is not None and not defines_init(path, parts[-1]):
                    return "library", None
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


# Causes of a failed top-level import that are not load faults (reported, not counted).
NOT_COUNTED = ("other", "missing-dependency")


def import_names(python, names, timeout):
    """The gate-level verdict of one distribution: its top-level names imported in one fresh
    interpreter."""
    verdict = {"ok": True, "fault": False, "cause": None, "error": None, "failed": None, "results": []}
    if not names:
        return verdict
    rc, out, err = run([python, "-I", "-c", IMPORT_PROBE, json.dumps(names)], timeout)
    marker = out.rfind("@@ORACLE@@")
    if marker < 0:
        why = err.strip().splitlines()[-1:] if err.strip() else []
        crash = "timeout after %ss" % timeout if rc is None else "exit %s%s" % (rc, (": " + why[0]) if why else "")
        verdict.update(ok=False, fault=True, cause="crash", error=crash, failed=names[0])
        verdict["results"] = [{"name": n, "error": crash, "cause": "crash", "missing": None} for n in names]
        return verdict
    for r in json.loads(out[marker + len("@@ORACLE@@") :].strip().splitlines()[0]):
        e = r["error"]
        if e is None:
            r["cause"] = None
        elif is_loader_error(e):
            r["cause"] = "loader"
        elif r["missing"] is None:
            r["cause"] = "other"
        else:
            r["cause"] = "missing-module" if r.get("missing_top", True) else "missing-dependency"
        verdict["results"].append(r)
        if e is None:
            continue
        counted = r["cause"] not in NOT_COUNTED
        if verdict["ok"] or (not verdict["fault"] and counted):
            verdict.update(ok=False, cause=r["cause"], error=e, failed=r["name"])
        if counted:
            verdict["fault"] = True
    return verdict


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
    owner, installed = dist_map(info["site"])

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
                kind, name = classify_name(os.path.relpath(full, sp), info["suffixes"], full)
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
        # Gate level: each distribution's top-level import, one fresh interpreter each.
        gates = {}
        for d, dinfo in installed.items():
            source, names, absent = top_level_names(dinfo, info["suffixes"])
            gates[d] = {"source": source, "names": names, "absent": absent}
        futs = {ex.submit(import_names, python, g["names"], a.timeout): d for d, g in gates.items()}
        for fut in concurrent.futures.as_completed(futs):
            gates[futs[fut]].update(fut.result())

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
    for d in sorted(gates):
        report["dists"].setdefault(d, {"fault": False, "files": []})["import"] = gates[d]
    report["dists"] = dict(sorted(report["dists"].items()))
    json.dump(report, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
