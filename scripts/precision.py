#!/usr/bin/env python3
"""Precision/recall of `venvaudit check` on real wheels (issue 11). Run it via scripts/precision.sh.

Builds (once; idempotent, stamped) a corpus of healthy venvs over pyenv's CPython 3.9-3.13,
made by the stdlib `venv`, `virtualenv` and `uv venv`, holding the most-installed compiled
distributions from PyPI and distributions with optional modules and plugins (PyQt6, Panda3D,
sklearnex, numba, torch), plus venvs with injected real faults. Ground truth comes from the
real interpreter and loader (tests/support/oracle.py: every extension module imported, every
other .so dlopened, one subprocess per file; and each distribution's top-level names imported
in a fresh interpreter). Every injected fault is verified to fail in truth before it is
counted. Then `venvaudit check --format json` runs on each venv and is scored twice:

- file level: an error finding per (venv, distribution, finding id) is true when a file of that
  distribution fails to load in truth; recall counts the distributions with such a file that an
  error or a warning names.
- gate level: an error finding on a distribution is true when its top-level import fails in
  truth (or the venv's interpreter does not start); recall counts such distributions (and such
  venvs) that have an error.

    python3 scripts/precision.py --bin target/release/venvaudit [--dir DIR] [--only NAME...]
    python3 scripts/precision.py [--build-only]   # prepare the corpus (and truth) only

Prints a table; writes DIR/results.json with every finding, truth and verdict. Truth is cached
per venv, keyed by the venv's stamp and the oracle's content.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
import base64

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = os.path.join(REPO, ".tools")
ORACLE = os.path.join(REPO, "tests", "support", "oracle.py")
PYENV = os.environ.get("VENVAUDIT_PYENV_VERSIONS") or os.path.join(
    os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv")), "versions"
)
# Bump when the recipe of a venv changes in a way its spec below does not show.
RECIPE = 2

# Compiled distributions, in groups that venvs combine.
A = ["numpy", "scipy", "pandas", "pillow", "psycopg2-binary", "lxml", "cryptography", "cffi", "pyyaml", "markupsafe",
     "charset-normalizer"]
B = ["grpcio", "pyarrow", "opencv-python-headless", "scikit-learn", "orjson", "pydantic", "regex", "msgpack", "ujson",
     "psutil"]
C = ["greenlet", "sqlalchemy", "zstandard", "aiohttp", "kiwisolver", "matplotlib", "h5py", "shapely", "pymongo",
     "bcrypt"]
D = ["jsonschema", "tokenizers", "numba", "pyzmq", "gevent", "lz4", "xxhash", "brotli", "wrapt", "simplejson"]
E = ["pycryptodome", "rapidfuzz", "duckdb", "websockets", "httptools", "uvloop", "watchfiles", "pyproj", "numexpr",
     "ruamel-yaml"]
F = ["setproctitle", "tornado", "mmh3", "google-crc32c", "cytoolz", "bottleneck", "statsmodels", "protobuf",
     "pynacl", "asyncpg"]

# packaging: without it (or setuptools' distutils) `import daal4py`/`import sklearnex` fails on 3.12+
# (daal4py/sklearn/_utils.py falls back to distutils), which sklearnex does not declare.
G = ["PyQt6", "panda3d", "scikit-learn-intelex", "packaging"]

# name: (python X.Y, creator, packages)
HEALTHY = {
    "h01-py39-venv": ("3.9", "venv", A + C),
    "h02-py310-virtualenv": ("3.10", "virtualenv", B + D),
    "h03-py311-uv": ("3.11", "uv", E + F),
    "h04-py312-venv": ("3.12", "venv", A),
    "h05-py313-uv": ("3.13", "uv", B + ["numpy"]),
    "h06-py312-virtualenv": ("3.12", "virtualenv", C),
    "h07-py310-uv": ("3.10", "uv", F + ["pillow", "lxml"]),
    "h08-py39-virtualenv": ("3.9", "virtualenv", E),
    # Distributions that ship optional modules and plugins whose libraries the host may lack:
    # PyQt6 (QtMultimedia needs libpulse.so.0; PyQt6-Qt6's Qt plugins), Panda3D, sklearnex
    # (daal4py's mpi_transceiver needs libmpi.so.12), numba (tbbpool needs libtbb.so.12; in h11 the
    # `tbb` wheel that sklearnex pulls in puts it in the venv's lib/, where tbbpool, which has no
    # RUNPATH, still does not find it), torch with its nvidia-* wheels, which share the `nvidia/`
    # namespace directory (one venv: several GB).
    "h09-py312-uv": ("3.12", "uv", G),
    "h10-py313-uv": ("3.13", "uv", ["PyQt6", "panda3d", "numba", "torch"]),
    "h11-py311-virtualenv": ("3.11", "virtualenv", ["scikit-learn-intelex", "numba", "panda3d"]),
}

# name: (python, creator, packages, fault kind, expected distribution or None for the venv)
FAULTS = {
    "f01-pillow-lib-deleted": ("3.12", "uv", ["pillow"], "bundled-library-deleted", "pillow"),
    "f02-numpy-lib-deleted": ("3.11", "venv", ["numpy"], "bundled-library-deleted", "numpy"),
    "f03-psycopg2-cp311-in-312": ("3.12", "venv", ["psycopg2-binary"], "foreign-python-module", "psycopg2-binary"),
    "f04-orjson-forced-py311": ("3.12", "uv", [], "foreign-python-wheel", "orjson"),
    "f05-yaml-cp39-content-in-313": ("3.13", "uv", ["pyyaml"], "foreign-python-content", "pyyaml"),
    "f06-aarch64-wheel": ("3.11", "uv", [], "aarch64-wheel", "ujson"),
    "f07-musllinux-wheel": ("3.12", "virtualenv", [], "musllinux-wheel", "orjson"),
    "f08-glibc-2.38-wheel": ("3.12", "venv", [], "newer-glibc-wheel", "glibcnew"),
    "f09-base-removed": ("3.11", "venv", ["msgpack"], "base-interpreter-removed", None),
}

# Families run: everything but the date-driven EOL policy, the OSV database and process usage.
CHECKS = ["interpreter", "extensions", "mod-wsgi", "uwsgi", "dependencies", "integrity", "permissions", "forbidden"]


def log(*a):
    print("precision:", *a, file=sys.stderr, flush=True)


def sh(cmd, **kw):
    env = dict(os.environ)
    for k in ["PIP_FIND_LINKS", "PIP_INDEX_URL", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "UV_FIND_LINKS"]:
        env.pop(k, None)
    env.update(UV_CACHE_DIR=os.path.join(TOOLS, "uv-cache"), UV_PYTHON_DOWNLOADS="never", UV_NO_CONFIG="1",
               VIRTUALENV_NO_PERIODIC_UPDATE="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.update(kw.pop("env", {}))
    r = subprocess.run([str(c) for c in cmd], env=env, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError("`%s` failed (%s):\n%s%s" % (" ".join(map(str, cmd)), r.returncode, r.stdout, r.stderr))
    return r.stdout


def pyenv(xy):
    best = None
    for d in os.listdir(PYENV):
        m = re.fullmatch(re.escape(xy) + r"\.(\d+)", d)
        if m and (best is None or int(m.group(1)) > best[0]):
            best = (int(m.group(1)), d)
    if not best:
        raise SystemExit("no pyenv Python %s under %s" % (xy, PYENV))
    return os.path.join(PYENV, best[1], "bin", "python" + xy)


def tool(name):
    return os.path.join(TOOLS, "venv", "bin", name)


def make_venv(creator, python, path):
    if creator == "venv":
        sh([python, "-m", "venv", "--without-pip", path])
    elif creator == "virtualenv":
        sh([tool("virtualenv"), "-q", "--no-pip", "--no-setuptools", "--no-wheel", "-p", python, path])
    else:
        sh([tool("uv"), "venv", "-q", "--python", python, path])


def uv_install(venv, pkgs, *extra):
    """Install wheels only; a package with no wheel for this Python is dropped (and logged)."""
    if not pkgs:
        return []
    base = [tool("uv"), "pip", "install", "-q", "--only-binary", ":all:", "--python", os.path.join(venv, "bin", "python"),
            *extra]
    try:
        sh(base + pkgs)
        return []
    except RuntimeError:
        skipped = []
        for p in pkgs:
            try:
                sh(base + [p])
            except RuntimeError as e:
                log("  %s: no installable wheel (%s)" % (p, str(e).strip().splitlines()[-1][:160]))
                skipped.append(p)
        return skipped


def stamp_of(spec):
    return hashlib.sha256(json.dumps([RECIPE, spec], sort_keys=True).encode()).hexdigest()[:16]


def site_packages(venv):
    lib = os.path.join(venv, "lib")
    for d in sorted(os.listdir(lib)):
        sp = os.path.join(lib, d, "site-packages")
        if os.path.isdir(sp):
            return sp
    raise RuntimeError("no site-packages in " + venv)


def needed(path):
    out = sh(["readelf", "-d", "-W", path])
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def inject(name, venv, kind, xy, work):
    """Apply fault `kind` to `venv`; returns a one-line description."""
    sp = site_packages(venv)
    py = os.path.join(venv, "bin", "python")
    if kind == "bundled-library-deleted":
        pkg = "PIL" if "pillow" in name else "numpy"
        libs = os.path.join(sp, "pillow.libs" if pkg == "PIL" else "numpy.libs")
        # A library the package's core module needs: `import PIL.Image` / `import numpy` fail.
        core = "_imaging." if pkg == "PIL" else "_multiarray_umath."
        mods = [os.path.join(dp, f) for dp, _, fs in os.walk(os.path.join(sp, pkg)) for f in fs
                if f.startswith(core) and f.endswith(".so")]
        wanted = set()
        for m in mods:
            wanted.update(needed(m))
        victim = sorted(f for f in os.listdir(libs) if f in wanted)[0]
        os.remove(os.path.join(libs, victim))
        return "deleted %s/%s" % (os.path.basename(libs), victim)
    if kind == "foreign-python-module":
        donor = os.path.join(work, "donor-311")
        if not os.path.isdir(donor):
            make_venv("uv", pyenv("3.11"), donor)
            uv_install(donor, ["psycopg2-binary"])
        dsp = site_packages(donor)
        own = [f for f in os.listdir(os.path.join(sp, "psycopg2")) if f.startswith("_psycopg.")][0]
        other = [f for f in os.listdir(os.path.join(dsp, "psycopg2")) if f.startswith("_psycopg.")][0]
        os.remove(os.path.join(sp, "psycopg2", own))
        shutil.copy2(os.path.join(dsp, "psycopg2", other), os.path.join(sp, "psycopg2", other))
        return "psycopg2/%s replaced by the 3.11 build %s" % (own, other)
    if kind == "foreign-python-wheel":
        sh([tool("uv"), "pip", "install", "-q", "--only-binary", ":all:", "--python", py, "--python-version", "3.11",
            "orjson"])
        return "orjson installed with uv pip install --python-version 3.11 (cp311 wheel)"
    if kind == "foreign-python-content":
        donor = os.path.join(work, "donor-39")
        if not os.path.isdir(donor):
            make_venv("uv", pyenv("3.9"), donor)
            uv_install(donor, ["pyyaml"])
        dsp = site_packages(donor)
        own = [f for f in os.listdir(os.path.join(sp, "yaml")) if f.startswith("_yaml.")][0]
        other = [f for f in os.listdir(os.path.join(dsp, "yaml")) if f.startswith("_yaml.")][0]
        shutil.copyfile(os.path.join(dsp, "yaml", other), os.path.join(sp, "yaml", own))
        return "yaml/%s overwritten with the content of the 3.9 build %s (name kept)" % (own, other)
    if kind == "aarch64-wheel":
        sh([tool("uv"), "pip", "install", "-q", "--only-binary", ":all:", "--python", py, "--python-platform",
            "aarch64-manylinux_2_17", "ujson"])
        return "ujson installed with --python-platform aarch64-manylinux_2_17"
    if kind == "musllinux-wheel":
        sh([tool("uv"), "pip", "install", "-q", "--only-binary", ":all:", "--python", py, "--python-platform",
            "x86_64-unknown-linux-musl", "orjson"])
        return "orjson installed with --python-platform x86_64-unknown-linux-musl"
    if kind == "newer-glibc-wheel":
        wheel = build_glibc_wheel(work, xy)
        sh([tool("uv"), "pip", "install", "-q", "--python", py, "--python-platform", "x86_64-manylinux_2_39",
            "--no-index", "--find-links", os.path.dirname(wheel), "glibcnew"])
        return "glibcnew (built with zig against glibc 2.38, calls strlcpy@GLIBC_2.38) tagged manylinux_2_39"
    if kind == "base-interpreter-removed":
        return "base interpreter copy removed (see make)"
    raise ValueError(kind)


GLIBCNEW_C = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>
/* strlcpy entered glibc in 2.38: this module needs GLIBC_2.38. */
static PyObject *copy(PyObject *self, PyObject *arg) {
    char buf[64];
    const char *s = PyUnicode_AsUTF8(arg);
    if (!s) return NULL;
    strlcpy(buf, s, sizeof buf);
    return PyUnicode_FromString(buf);
}
static PyMethodDef methods[] = {{"copy", copy, METH_O, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "_glibcnew", NULL, -1, methods};
PyMODINIT_FUNC PyInit__glibcnew(void) { return PyModule_Create(&mod); }
"""


def build_glibc_wheel(work, xy):
    """A real wheel whose extension needs GLIBC_2.38 (host: 2.36), compiled with zig's glibc stubs."""
    out = os.path.join(work, "glibcnew-wheel")
    tag = "cp%s" % xy.replace(".", "")
    whl = os.path.join(out, "glibcnew-1.0-%s-%s-manylinux_2_39_x86_64.whl" % (tag, tag))
    if os.path.exists(whl):
        return whl
    os.makedirs(out, exist_ok=True)
    py = pyenv(xy)
    inc = subprocess.check_output([py, "-c", "import sysconfig; print(sysconfig.get_paths()['include'])"], text=True)
    suffix = subprocess.check_output([py, "-c", "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))"],
                                     text=True).strip()
    src = os.path.join(out, "glibcnew.c")
    with open(src, "w") as f:
        f.write(GLIBCNEW_C)
    so = os.path.join(out, "_glibcnew" + suffix)
    sh([tool("python"), "-m", "ziglang", "cc", "-target", "x86_64-linux-gnu.2.38", "-shared", "-fPIC", "-O2",
        "-I", inc.strip(), src, "-o", so])
    vers = sh(["readelf", "-V", "-W", so])
    if "GLIBC_2.38" not in vers:
        raise RuntimeError("built module does not need GLIBC_2.38:\n" + vers)
    files = {
        "glibcnew/__init__.py": b"from ._glibcnew import copy\n",
        "glibcnew/_glibcnew" + suffix: open(so, "rb").read(),
        "glibcnew-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: glibcnew\nVersion: 1.0\n",
        "glibcnew-1.0.dist-info/WHEEL": ("Wheel-Version: 1.0\nGenerator: venvaudit-precision\nRoot-Is-Purelib: false\n"
                                         "Tag: %s-%s-manylinux_2_39_x86_64\n" % (tag, tag)).encode(),
    }
    record = []
    for n, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (n, digest, len(data)))
    record.append("glibcnew-1.0.dist-info/RECORD,,")
    with zipfile.ZipFile(whl + ".tmp", "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in files.items():
            z.writestr(n, data)
        z.writestr("glibcnew-1.0.dist-info/RECORD", "\n".join(record) + "\n")
    os.replace(whl + ".tmp", whl)
    return whl


def build(name, spec, root, fault):
    """Make one venv unless its stamp says it is current. Returns its metadata."""
    path = os.path.join(root, "venvs", name)
    meta_path = os.path.join(root, "stamps", name + ".json")
    want = stamp_of([name, spec])
    if os.path.exists(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
        if meta.get("stamp") == want and (os.path.isdir(path) or os.path.islink(os.path.join(path, "bin", "python"))):
            return meta
    log("building %s" % name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(os.path.dirname(meta_path), exist_ok=True)
    xy, creator, pkgs = spec[0], spec[1], spec[2]
    work = os.path.join(root, "work")
    os.makedirs(work, exist_ok=True)
    python = pyenv(xy)
    base_copy = None
    if fault and spec[3] == "base-interpreter-removed":
        base_copy = os.path.join(work, "base-copy")
        shutil.rmtree(base_copy, ignore_errors=True)
        prefix = os.path.dirname(os.path.dirname(python))
        shutil.copytree(prefix, os.path.join(base_copy, os.path.basename(prefix)), symlinks=True)
        python = os.path.join(base_copy, os.path.basename(prefix), "bin", "python" + xy)
    make_venv(creator, python, path)
    skipped = uv_install(path, pkgs)
    meta = {"name": name, "stamp": want, "python": xy, "creator": creator, "skipped": skipped}
    if fault:
        meta["fault"] = spec[3]
        meta["expect"] = spec[4]
        meta["injected"] = inject(name, path, spec[3], xy, work)
        if base_copy:
            shutil.rmtree(base_copy)
            meta["injected"] = "venv made from a copy of %s, then the copy was deleted" % pyenv(xy)
    meta["installed"] = installed(path)
    with open(meta_path, "w") as f:
        json.dump(meta, f, indent=1)
    return meta


def installed(venv):
    """{normalised name: version} from the dist-info directories (no Python needed)."""
    out = {}
    try:
        sp = site_packages(venv)
    except (RuntimeError, OSError):
        return out
    for d in os.listdir(sp):
        if d.endswith(".dist-info"):
            n, v = d[: -len(".dist-info")].rsplit("-", 1)
            out[norm(n)] = v
    return out


def norm(n):
    return re.sub(r"[-_.]+", "-", n).lower()


def truth(name, root, meta):
    """Oracle output, cached per venv stamp and oracle version."""
    path = os.path.join(root, "truth", name + ".json")
    with open(ORACLE, "rb") as f:
        key = meta["stamp"] + "-" + hashlib.sha256(f.read()).hexdigest()[:16]
    if os.path.exists(path):
        with open(path) as f:
            t = json.load(f)
        if t.get("stamp") == key:
            return t
    log("oracle: %s" % name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    out = subprocess.run([sys.executable, ORACLE, os.path.join(root, "venvs", name), "--jobs", "2"], check=True,
                         capture_output=True, text=True).stdout
    t = json.loads(out)
    t["stamp"] = key
    with open(path, "w") as f:
        json.dump(t, f, indent=1)
    return t


def audit(binary, venv):
    r = subprocess.run([binary, "check", "--format", "json", *sum((["--check", c] for c in CHECKS), []), venv],
                       capture_output=True, text=True)
    if r.returncode not in (0, 1):
        raise RuntimeError("venvaudit failed (%s): %s" % (r.returncode, r.stderr))
    return json.loads(r.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", help="venvaudit binary; without it the corpus and truth are only prepared")
    ap.add_argument("--dir", default=os.path.join(TOOLS, "precision"))
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--build-only", action="store_true", help="make the venvs, skip the oracle and the scoring")
    a = ap.parse_args()
    root = os.path.abspath(a.dir)
    specs = [(n, s, False) for n, s in HEALTHY.items()] + [(n, s, True) for n, s in FAULTS.items()]
    if a.only:
        specs = [x for x in specs if x[0] in a.only]
    rows = []
    for name, spec, fault in specs:
        meta = build(name, spec, root, fault)
        if a.build_only:
            continue
        t = truth(name, root, meta)
        if a.bin:
            rows.append((meta, t, audit(a.bin, os.path.join(root, "venvs", name))))
    if a.bin:
        score(rows, root)


def score(rows, root):
    """File-level and gate-level precision/recall; prints the table, writes results.json."""
    file_tp, file_fp, warnings, out_of_scope, unverified = [], [], [], [], []
    file_hits, file_misses, gate_tp, gate_fp, gate_hits, gate_misses, gate_other = [], [], [], [], [], [], []
    per_id = {}
    dists_total, pairs_total, compiled, compiled_pairs, any_so_pairs = set(), 0, set(), 0, 0
    for meta, t, report in rows:
        name = meta["name"]
        venv = t["venv"]
        venv_broken = not t["python"]["ok"]
        bad = {d for d, v in t["dists"].items() if v["fault"]}
        gate_bad = {d for d, v in t["dists"].items() if v.get("import", {}).get("fault")}
        dists_total.update(meta["installed"])
        pairs_total += len(meta["installed"])
        here = {x["dist"] for x in t["files"] if x["kind"] != "library" and x["dist"]}
        compiled.update(here)
        compiled_pairs += len(here)
        any_so_pairs += len({x["dist"] for x in t["files"] if x["dist"]})
        errs, named = {}, {}
        for f in report.get("findings", []):
            if f.get("venv") and os.path.realpath(f["venv"]) != os.path.realpath(venv):
                out_of_scope.append((name, f))
                continue
            dist = norm(f["package"]) if f.get("package") else None
            if f["severity"] in ("error", "warning"):
                named.setdefault(dist, []).append(f)
            if f["severity"] != "error":
                warnings.append((name, f))
                continue
            errs.setdefault((dist, f["id"]), f)

        def why_files(dist):
            return "; ".join("%s: %s" % (x["path"], x["error"]) for x in t["files"]
                             if x["dist"] == dist and x["status"] == "fault")

        # File level: every error names a distribution (or, without one, the venv) with a file
        # that fails to load; every such distribution is named by an error or a warning.
        for (dist, fid), f in sorted(errs.items(), key=lambda x: (x[0][0] or "", x[0][1])):
            ok = (dist in bad) if dist else venv_broken
            (file_tp if ok else file_fp).append((name, dist, fid, f))
            c = per_id.setdefault(fid, [0, 0])
            c[0 if ok else 1] += 1
        expected = sorted(bad) + ([None] if venv_broken else [])
        for dist in expected:
            why = t["python"]["error"] if dist is None else why_files(dist)
            found = sorted({(f["id"], f["severity"]) for d, fs in named.items() for f in fs if d == dist or dist is None})
            (file_hits if found else file_misses).append((name, dist, ["%s (%s)" % x for x in found], why))
        if meta.get("fault"):
            exp = norm(meta["expect"]) if meta["expect"] else None
            if not ((exp in bad) if exp else venv_broken):
                unverified.append((name, meta["fault"], meta["injected"]))

        # Gate level: an error only on a distribution whose top-level import fails in truth (in a
        # venv whose interpreter does not start, nothing imports); every such distribution, and
        # every such venv, has an error.
        by_dist = {}
        for (dist, fid), f in errs.items():
            by_dist.setdefault(dist, []).append(f)
        for dist, fs in sorted(by_dist.items(), key=lambda x: x[0] or ""):
            ok = venv_broken or (dist in gate_bad)
            imp = t["dists"].get(dist, {}).get("import", {}) if dist else {}
            (gate_tp if ok else gate_fp).append({
                "venv": name, "dist": dist, "ids": sorted({f["id"] for f in fs}),
                "messages": [f["message"] for f in fs],
                "import": {k: imp.get(k) for k in ("names", "ok", "cause", "error")} if dist else None,
                "file_faults": why_files(dist) if dist else None})
        for dist in sorted(gate_bad) + ([None] if venv_broken else []):
            ids = sorted({k[1] for k in errs if k[0] == dist or dist is None})
            imp = t["dists"][dist]["import"] if dist else None
            why = t["python"]["error"] if dist is None else "import %s: %s [%s]" % (imp["failed"], imp["error"],
                                                                                   imp["cause"])
            (gate_hits if ids else gate_misses).append((name, dist, ids, why))
        for d, v in sorted(t["dists"].items()):
            imp = v.get("import")
            if imp and not imp["ok"] and not imp["fault"]:
                gate_other.append((name, d, imp["failed"], imp["error"]))

    def ratio(a, b):
        return a / b if b else 1.0

    file_precision = ratio(len(file_tp), len(file_tp) + len(file_fp))
    file_recall = ratio(len(file_hits), len(file_hits) + len(file_misses))
    gate_precision = ratio(len(gate_tp), len(gate_tp) + len(gate_fp))
    gate_recall = ratio(len(gate_hits), len(gate_hits) + len(gate_misses))
    healthy = [r for r in rows if not r[0].get("fault")]
    files = [x for _, t, _ in rows for x in t["files"]]
    p = print
    p("corpus: %d healthy venvs (Pythons %s; creators %s), %d fault venvs; %d distributions (%d distinct names), "
      "%d with extension modules (%d distinct), %d with any shared object"
      % (len(healthy), ", ".join(sorted({m["python"] for m, _, _ in healthy})),
         ", ".join(sorted({m["creator"] for m, _, _ in healthy})), len(rows) - len(healthy), pairs_total,
         len(dists_total), compiled_pairs, len(compiled), any_so_pairs))
    p("oracle: %d shared objects (%d extension modules, %d foreign-tagged, %d libraries); %d distributions' top-level "
      "imports" % (len(files), sum(x["kind"] == "module" for x in files), sum(x["kind"] == "foreign" for x in files),
                   sum(x["kind"] == "library" for x in files),
                   sum(1 for _, t, _ in rows for v in t["dists"].values() if v.get("import", {}).get("names"))))
    p("")
    p("%-12s %-22s %-22s" % ("", "precision", "recall"))
    p("%-12s %-22s %-22s" % ("file-level", "%.2f (%d of %d errors)" % (file_precision, len(file_tp),
                                                                    len(file_tp) + len(file_fp)),
                             "%.2f (%d of %d faults)" % (file_recall, len(file_hits), len(file_hits) + len(file_misses))))
    p("%-12s %-22s %-22s" % ("gate-level", "%.2f (%d of %d dists)" % (gate_precision, len(gate_tp),
                                                                   len(gate_tp) + len(gate_fp)),
                             "%.2f (%d of %d dists)" % (gate_recall, len(gate_hits), len(gate_hits) + len(gate_misses))))
    p("  file-level: an error per (venv, distribution, id) is true when a file of that distribution fails to load in")
    p("  truth; a fault is found when an error or a warning names its distribution.")
    p("  gate-level: an error on a distribution is true when its top-level import fails in truth (a loader error,")
    p("  a crash or a missing module), or the venv's interpreter does not start; every such one needs an error.")
    p("")
    p("%-40s %5s %5s %9s" % ("file-level error findings by id", "true", "false", "precision"))
    for fid, (a, b) in sorted(per_id.items()):
        p("%-40s %5d %5d %9s" % (fid, a, b, "%.2f" % (a / (a + b))))
    p("%-40s %5d %5d %9s" % ("all", len(file_tp), len(file_fp), "%.2f" % file_precision))
    p("")
    p("injected faults:")
    for meta, t, _ in rows:
        if meta.get("fault"):
            exp = norm(meta["expect"]) if meta["expect"] else None
            fh = [h for h in file_hits if h[0] == meta["name"] and h[1] == exp]
            gh = [h for h in gate_hits + gate_misses if h[0] == meta["name"] and h[1] == exp]
            if (meta["name"], meta["fault"], meta["injected"]) in unverified:
                verdict = "NOT VERIFIED in truth"
            else:
                verdict = ("file: " + ", ".join(fh[0][2])) if fh else "file: MISSED"
                verdict += "; gate: " + (("import fails, errors: " + (", ".join(gh[0][2]) or "NONE")) if gh else
                                         "import works in truth")
            p("  %-30s %-26s %s" % (meta["name"], meta["fault"], verdict))
    p("")
    p("file-level false positives (%d):" % len(file_fp))
    for name, dist, fid, f in file_fp:
        p("  %s %s %s: %s" % (name, dist or "-", fid, f["message"]))
    p("file-level false negatives (%d):" % len(file_misses))
    for name, dist, _, why in file_misses:
        p("  %s %s: %s" % (name, dist or "(venv)", why))
    p("gate-level false positives (%d; errors on distributions whose top-level import works):" % len(gate_fp))
    for g in gate_fp:
        p("  %s %s %s: import %s works; %s" % (g["venv"], g["dist"] or "-", ",".join(g["ids"]),
                                              " ".join((g["import"] or {}).get("names") or []) or "-",
                                              g["messages"][0][:300]))
        if g["file_faults"]:
            p("      fails in truth: %s" % g["file_faults"][:600])
    p("gate-level false negatives (%d):" % len(gate_misses))
    for name, dist, _, why in gate_misses:
        p("  %s %s: %s" % (name, dist or "(venv)", why[:300]))
    if unverified:
        p("injected faults the oracle did not confirm (not counted):")
        for u in unverified:
            p("  %s %s: %s" % u)
    if gate_other:
        p("top-level imports that failed for reasons not counted (%d; review):" % len(gate_other))
        for name, d, n, e in gate_other:
            p("  %s %s import %s: %s" % (name, d, n, (e or "")[:200]))
    p("")
    wcount = {}
    for name, f in warnings:
        wcount[f["id"]] = wcount.get(f["id"], 0) + 1
    p("warnings/info (%d; for a person to judge): %s" % (len(warnings), ", ".join("%s %d" % x for x in sorted(
        wcount.items()))))
    for name, f in warnings:
        p("  %s [%s] %s %s: %s" % (name, f["severity"], f.get("package") or "-", f["id"], f["message"][:300]))
    if out_of_scope:
        p("findings about venvs outside the scanned path (%d, not scored here):" % len(out_of_scope))
        for name, f in out_of_scope[:20]:
            p("  %s %s %s: %s" % (name, f["id"], f.get("venv"), f["message"][:160]))
    unrelated = [(m["name"], x) for m, t, _ in rows for x in t["files"] if x["status"] in ("unrelated", "elsewhere")]
    if unrelated:
        p("")
        p("imports that failed for reasons the oracle does not count as load faults (%d; review):" % len(unrelated))
        for name, x in unrelated:
            p("  %s %s %s [%s]: %s" % (name, x["dist"], x["module"], x["status"], (x["error"] or "")[:200]))
    alone = [(m["name"], x) for m, t, _ in rows for x in t["files"] if x["status"] == "alone-fails"]
    if alone:
        p("libraries no module loads that fail dlopen alone (%d; not faults):" % len(alone))
        for name, x in alone:
            p("  %s %s: %s" % (name, x["path"], (x["error"] or "")[:200]))
    with open(os.path.join(root, "results.json"), "w") as f:
        json.dump({
            "corpus": {"venvs": len(rows), "healthy_venvs": len(healthy), "distributions": pairs_total,
                       "distinct_distributions": len(dists_total), "compiled_distributions": compiled_pairs, "distributions_with_shared_objects": any_so_pairs,
                       "distinct_compiled_distributions": len(compiled), "shared_objects": len(files),
                       "extension_modules": sum(x["kind"] == "module" for x in files)},
            "file_level": {"precision": file_precision, "recall": file_recall, "per_id": per_id,
                           "true_positives": file_tp, "false_positives": file_fp, "hits": file_hits,
                           "misses": file_misses},
            "gate_level": {"precision": gate_precision, "recall": gate_recall, "true_positives": gate_tp,
                           "false_positives": gate_fp, "hits": gate_hits, "misses": gate_misses,
                           "import_failures_not_counted": gate_other},
            "warnings": warnings, "unverified": unverified}, f, indent=1, default=str)


if __name__ == "__main__":
    main()
