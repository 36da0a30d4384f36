#!/usr/bin/env python3
"""Precision/recall of `venvaudit check` on real wheels (issue 11). Run it via scripts/precision.sh.

Builds (once; idempotent, stamped) a corpus of healthy venvs over pyenv's CPython 3.9-3.13,
made by the stdlib `venv`, `virtualenv` and `uv venv`, holding the most-installed compiled
distributions from PyPI, plus venvs with injected real faults. Ground truth comes from the
real interpreter and loader (tests/support/oracle.py: every extension module imported, every
other .so dlopened, one subprocess per file). Every injected fault is verified to fail in truth
before it is counted. Then `venvaudit check --format json` runs on each venv and its error
findings are scored per (venv, distribution, finding id).

    python3 scripts/precision.py --bin target/release/venvaudit [--dir DIR] [--only NAME...]

Prints a table; writes DIR/results.json with every finding, truth and verdict.
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
    tp, fp, warnings, misses, unverified, hits, out_of_scope = [], [], [], [], [], [], []
    per_id = {}
    faults_total = 0
    dists_total = set()
    for meta, t, report in rows:
        name = meta["name"]
        venv = t["venv"]
        bad = {d for d, v in t["dists"].items() if v["fault"]}
        venv_broken = not t["python"]["ok"]
        dists_total.update(meta["installed"])
        errs = {}
        for f in report.get("findings", []):
            if f.get("venv") and os.path.realpath(f["venv"]) != os.path.realpath(venv):
                out_of_scope.append((name, f))
                continue
            key = (norm(f["package"]) if f.get("package") else None, f["id"])
            if f["severity"] != "error":
                warnings.append((name, f))
                continue
            errs.setdefault(key, f)
        for (dist, fid), f in sorted(errs.items(), key=lambda x: (x[0][0] or "", x[0][1])):
            ok = (dist in bad) if dist else venv_broken
            (tp if ok else fp).append((name, dist, fid, f))
            c = per_id.setdefault(fid, [0, 0])
            c[0 if ok else 1] += 1
        # Every fault in truth must be found: injected ones and any the oracle finds elsewhere.
        expected = [(d, "truth") for d in sorted(bad)]
        if venv_broken:
            expected.append((None, "truth"))
        if meta.get("fault"):
            exp = meta["expect"]
            exp = norm(exp) if exp else None
            verified = (exp in bad) if exp else venv_broken
            if not verified:
                unverified.append((name, meta["fault"], meta["injected"]))
        for dist, _ in expected:
            faults_total += 1
            found = [k for k in errs if (k[0] == dist if dist else True)]
            why = t["python"]["error"] if dist is None else "; ".join(
                "%s: %s" % (x["path"], x["error"]) for x in t["files"] if x["dist"] == dist and x["status"] == "fault")
            if found:
                hits.append((name, dist, sorted({k[1] for k in found}), why))
            else:
                misses.append((name, dist, why))
    n_tp, n_fp = len(tp), len(fp)
    precision = n_tp / (n_tp + n_fp) if n_tp + n_fp else 1.0
    recall = len(hits) / faults_total if faults_total else 1.0
    healthy = [r for r in rows if not r[0].get("fault")]
    compiled = set()
    for meta, t, _ in rows:
        for x in t["files"]:
            if x["kind"] != "library" and x["dist"]:
                compiled.add(x["dist"])
    p = print
    p("corpus: %d healthy venvs (Pythons %s; creators %s), %d fault venvs; %d distributions, %d with compiled modules"
      % (len(healthy), ", ".join(sorted({m["python"] for m, _, _ in healthy})),
         ", ".join(sorted({m["creator"] for m, _, _ in healthy})), len(rows) - len(healthy), len(dists_total),
         len(compiled)))
    files = sum(len(t["files"]) for _, t, _ in rows)
    p("oracle: %d compiled files probed; %d faults in truth" % (files, faults_total))
    p("")
    p("%-40s %5s %5s %9s" % ("error findings by id", "true", "false", "precision"))
    for fid, (a, b) in sorted(per_id.items()):
        p("%-40s %5d %5d %9s" % (fid, a, b, "%.2f" % (a / (a + b))))
    p("%-40s %5d %5d %9s" % ("all", n_tp, n_fp, "%.2f" % precision))
    p("")
    p("recall: %d of %d faults in truth found (%.2f)" % (len(hits), faults_total, recall))
    for meta, t, _ in rows:
        if meta.get("fault"):
            exp = norm(meta["expect"]) if meta["expect"] else None
            hit = [h for h in hits if h[0] == meta["name"] and h[1] == exp]
            p("  %-30s %-26s %s" % (meta["name"], meta["fault"], ("found: " + ", ".join(hit[0][2])) if hit else
                                    ("NOT VERIFIED in truth" if (meta["name"], meta["fault"], meta["injected"]) in
                                     unverified else "MISSED")))
    p("")
    p("false positives (%d):" % n_fp)
    for name, dist, fid, f in fp:
        p("  %s %s %s: %s" % (name, dist or "-", fid, f["message"]))
    p("false negatives (%d):" % len(misses))
    for name, dist, why in misses:
        p("  %s %s: %s" % (name, dist or "(venv)", why))
    if unverified:
        p("injected faults the oracle did not confirm (not counted):")
        for u in unverified:
            p("  %s %s: %s" % u)
    p("")
    wcount = {}
    for name, f in warnings:
        wcount[f["id"]] = wcount.get(f["id"], 0) + 1
    p("warnings/info (%d; for a person to judge): %s" % (len(warnings), ", ".join("%s %d" % x for x in sorted(
        wcount.items()))))
    for name, f in warnings:
        p("  %s [%s] %s %s: %s" % (name, f["severity"], f.get("package") or "-", f["id"], f["message"]))
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
        json.dump({"precision": precision, "recall": recall, "true_positives": tp, "false_positives": fp,
                   "misses": misses, "hits": hits, "warnings": warnings, "unverified": unverified}, f, indent=1,
                  default=str)


if __name__ == "__main__":
    main()
