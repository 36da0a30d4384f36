{#-
  Build venvaudit's CPython advisory file (CVEs of the interpreter itself; docs/cpython-db.md)
  ON THE MASTER, into its file roots, where venvaudit/osv_db.sls ships it to the minions from
  (salt://venvaudit/files/osv/CPython.json). The sources (a cvelistV5 release zip of hundreds of
  MB, the PSF advisory database) stay on the master; the minions get only the small JSON file.

  Apply it on the master itself, masterless, e.g. daily from cron after fetching the CVE
  Program's release zip (https://github.com/CVEProject/cvelistV5/releases):

    salt-call --local state.apply venvaudit.osv_db_cpython
    salt '*' state.apply venvaudit.osv_db

  It runs `venvaudit db cpython --from SOURCE... --output NEW` (a temporary directory), checks
  NEW (format venvaudit-cpython-advisories version 1 with advisories, loaded by `venvaudit check
  --cpython-db NEW`), and replaces the file in the file roots only when its advisories or
  sources changed: venvaudit stamps each build with its time (generated_at), which is not a
  change, so unchanged sources report no change and the minions' copies stay as they are. A
  build that fails (no CPython record in the sources, a truncated zip) fails this state with
  venvaudit's reason and leaves the served file, and so every minion's, as it was. With
  test=True it builds and compares but replaces nothing.

  The binary: pillar venvaudit:osv_db:cpython_binary, else minion config venvaudit.binary, else
  pillar venvaudit:binary, else /usr/local/bin/venvaudit (on the master: the release binary of
  its own architecture, e.g. `install -m 755 salt/venvaudit/files/venvaudit-linux-$(uname -m)
  /usr/local/bin/venvaudit`, or `salt-call --local state.apply venvaudit`). It runs with the
  Python that runs Salt (grain pythonexecutable).

  Pillar (the same keys osv_db.sls reads on the minions):

    venvaudit:
      osv_db:
        cpython_sources:          # paths on the master, each one --from; empty: nothing is built
          - /srv/mirror/cvelistV5/2025-11-04_all_CVEs_at_midnight.zip.zip
          - /srv/mirror/psf-advisory-database        # optional: the PSF- aliases
        # where the build goes: default the first file root of `base` (opts file_roots; with
        # salt-call --local on the master, the master's /srv/salt unless configured otherwise)
        cpython_build_output: /srv/salt/venvaudit/files/osv/CPython.json
        cpython_binary: /usr/local/bin/venvaudit
#}
{%- set osv = salt['pillar.get']('venvaudit:osv_db', {}) %}
{%- set sources = osv.get('cpython_sources') or [] %}
{%- set roots = (opts.get('file_roots') or {}).get('base') or ['/srv/salt'] %}
{%- set output = osv.get('cpython_build_output') or roots[0] ~ '/venvaudit/files/osv/CPython.json' %}
{%- set binary = osv.get('cpython_binary') or opts.get('venvaudit.binary') or salt['pillar.get']('venvaudit:binary', '/usr/local/bin/venvaudit') %}
{%- set build = {'binary': binary, 'sources': sources, 'output': output} %}

{%- set script %}
import json, os, shutil, subprocess, sys, tempfile

a = json.loads(os.environ["VENVAUDIT_CPYTHON_BUILD"])
binary, sources, out = a["binary"], a["sources"], a["output"]
# test=True: build and compare, replace nothing
dry_run = "--test" in sys.argv[1:]
FORMAT = "venvaudit-cpython-advisories"


def finish(changed, comment, ok=True):
    # cmd.run's stateful protocol: one JSON object on stdout
    print(json.dumps({"changed": changed, "comment": comment}))
    sys.exit(0 if ok else 1)


def fail(why):
    finish(False, "%s -- %s was not replaced" % (why, out), False)


def run(argv):
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    o, e = p.communicate()
    return p.returncode, o, e


def without_stamp(d):
    d = dict(d)
    d.pop("generated_at", None)
    return d


if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
    fail("no venvaudit binary at %s to build the CPython advisory file with (install it, or set "
         "pillar venvaudit:osv_db:cpython_binary, minion config venvaudit.binary or pillar venvaudit:binary)" % binary)
work = tempfile.mkdtemp(prefix="venvaudit-cpython-")
try:
    new = os.path.join(work, "CPython.json")
    argv = [binary, "db", "cpython"]
    for s in sources:
        argv += ["--from", s]
    rc, o, e = run(argv + ["--output", new])
    if rc != 0:
        fail("venvaudit db cpython could not build the CPython advisory file from %s (exit %s): %s"
             % (", ".join(sources), rc, e.strip()))
    try:
        problems = json.loads(o).get("problems", 0)
    except ValueError:
        problems = 0
    try:
        with open(new) as f:
            data = json.load(f)
    except ValueError as err:
        fail("%s is not JSON: %s" % (new, err))
    n = len(data.get("advisories") or [])
    if data.get("format") != FORMAT or data.get("format_version") != 1 or n == 0:
        fail("the build is not a CPython advisory file with advisories (format %r, version %r, %d advisories)"
             % (data.get("format"), data.get("format_version"), n))
    # venvaudit itself must load it (the PyPI database: an empty directory, nothing else read)
    empty = os.path.join(work, "empty")
    os.mkdir(empty)
    rc, o, e = run([binary, "check", "--format", "json", "--check", "vulnerabilities", "--fail-on", "never",
                    "--no-processes", "--max-depth", "0", "--osv-db", empty, "--cpython-db", new, empty])
    if rc != 0:
        fail("venvaudit cannot load the new CPython advisory file (exit %s): %s" % (rc, e.strip()))
    try:
        with open(out) as f:
            old = json.load(f)
    except (OSError, IOError, ValueError):
        old = None
    what = "%d advisories from %s%s" % (n, ", ".join(sources),
                                        "; %d records could not be used" % problems if problems else "")
    if isinstance(old, dict) and without_stamp(old) == without_stamp(data):
        finish(False, "%s is up to date (%s)" % (out, what))
    existed = os.path.exists(out)
    if dry_run:
        finish(True, "%s would be %s (%s)" % (out, "replaced" if existed else "created", what))
    outdir = os.path.dirname(out)
    if not os.path.isdir(outdir):
        os.makedirs(outdir, 0o755)
    # replaced in one rename: the file server never serves half a file
    fd, tmp = tempfile.mkstemp(dir=outdir, prefix=".CPython.json.")
    os.close(fd)
    try:
        shutil.copyfile(new, tmp)
        os.chmod(tmp, 0o644)
        os.rename(tmp, out)
    except BaseException:
        os.unlink(tmp)
        raise
    finish(True, "%s %s (%s)" % (out, "replaced" if existed else "created", what))
finally:
    shutil.rmtree(work, ignore_errors=True)
{%- endset %}

{%- set command = '"' ~ grains['pythonexecutable'] ~ '" -c "$VENVAUDIT_CPYTHON_BUILD_PY"' %}
{%- if sources %}
venvaudit-cpython-db-build:
  cmd.run:
    - name: {{ command | json }}
    - env:
      - VENVAUDIT_CPYTHON_BUILD: {{ build | json | json }}
      - VENVAUDIT_CPYTHON_BUILD_PY: {{ script | json }}
    # the script prints {"changed": ..., "comment": ...}; with test=True it builds and compares
    # but replaces nothing
    - stateful:
      - test_name: {{ (command ~ ' --test') | json }}
{%- else %}
venvaudit-cpython-db-build:
  test.fail_without_changes:
    - comment: >-
        pillar venvaudit:osv_db:cpython_sources is empty: no source to build the CPython
        advisory file from (a cvelistV5 release zip or records directory on the master)
{%- endif %}
