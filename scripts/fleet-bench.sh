#!/usr/bin/env bash
# Fleet benchmark: "which hosts run django < 4.2.16?" answered from the engines' cached facts.
#
#   scripts/fleet-bench.sh                 # everything below; figures on stdout (docs/fleet.md)
#   scripts/fleet-bench.sh build DIR N     # only build the fleet of N hosts under DIR (tests/fleet.rs)
#
# 1. A real fleet of $HOSTS (default 200) Ansible inventory hosts, local connection, each
#    scanning its own --root tree built from a few real venvs (hard-linked copies): the tools
#    venv's metadata (~104 distributions), django 3.2 + requests on CPython 3.12, django
#    4.2.16, and PyYAML/six/requests/numpy on CPython 3.8; one or two venvs a host. Each
#    tree holds hard links of the base interpreter's executable, libpython and os.py, so the
#    venvs are healthy under --root. The collection is built around this build's binary and
#    installed with ansible-galaxy; ansible/examples/fleet is run as it is, with the jsonfile
#    fact cache: time to gather (detail compact), time to answer from the cache alone
#    (venvaudit query --from-facts, and the Jinja fallback), size of one host's cached facts at
#    each detail level.
# 2. The same question through Salt: masterless minions (salt-call --local) with the mine
#    function of salt/examples/fleet, mine.update + mine.get per minion, the returns merged into
#    one host -> facts file as `salt-run mine.get '*' venvaudit_compact --out json` gives, then
#    venvaudit query --from-facts on it. $SALT_MINIONS (default 5) minions: a salt-call costs
#    seconds, so the per-minion time is the figure.
# 3. Synthetic caches of 1,000 and 10,000 hosts made from the real cache files of step 1
#    (venv paths, versions of django/requests/pyyaml and the number of distributions varied per
#    host, both cache file forms: ansible-core 2.21's __payload__ and the older plain object),
#    answered with venvaudit query --from-facts and with the Jinja report of the example
#    (ansible-playbook --tags report over the same cache; $JINJA_MAX hosts at most, default 1000:
#    minutes beyond).
# Not a test (tests/fleet.rs runs the same recipe on 20 hosts). Timings are wall clock.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
HOSTS=${HOSTS:-200}
SALT_MINIONS=${SALT_MINIONS:-5}
JINJA_MAX=${JINJA_MAX:-1000}
SYNTH=${SYNTH:-"1000 10000"}

# shellcheck disable=SC1091
source .tools/env.sh
PY=$REPO/.tools/venv/bin/python
WHEELS=$REPO/.tools/wheels

log() { printf 'fleet-bench: %s\n' "$*" >&2; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

prefix_of() { # pyenv prefix of version X.Y
    ls -d "$HOME/.pyenv/versions/$1".* | sort -V | tail -1
}

# Base venvs under $1/base, made once.
build_base() {
    local base=$1/base
    [[ -f $base/.done ]] && return
    rm -rf "$base" && mkdir -p "$base"
    local p312 p38
    p312=$(prefix_of 3.12)
    p38=$(prefix_of 3.8)
    # The tools venv's metadata: pyvenv.cfg, bin/ and every *.dist-info.
    local tools=$REPO/.tools/venv big=$base/big
    mkdir -p "$big/lib"
    cp -a "$tools/pyvenv.cfg" "$tools/bin" "$big/"
    (cd "$tools" && find lib -maxdepth 3 -name '*.dist-info' -type d) | while read -r d; do
        mkdir -p "$big/$(dirname "$d")"
        cp -a "$tools/$d" "$big/$d"
    done
    # Without pip (fewer files to hard-link per host); uv installs from the offline wheelhouse.
    local uvi=(uv pip install --quiet --offline --no-index --find-links "$WHEELS" --python)
    "$p312/bin/python3.12" -m venv --without-pip "$base/web"
    "${uvi[@]}" "$base/web/bin/python" django==3.2 requests
    "$p312/bin/python3.12" -m venv --without-pip "$base/new"
    "${uvi[@]}" "$base/new/bin/python" django==4.2.16
    "$p38/bin/python3.8" -m venv --without-pip "$base/old"
    "${uvi[@]}" "$base/old/bin/python" pyyaml six requests
    echo "$p312" >"$base/prefixes"
    echo "$p38" >>"$base/prefixes"
    touch "$base/.done"
}

# Host roots $1/roots/hN (N < $2), the inventory and the example playbook directory.
build_fleet() {
    local dir=$1 n=$2
    build_base "$dir"
    mkdir -p "$dir/roots"
    local i
    for ((i = 0; i < n; i++)); do
        local r=$dir/roots/h$i
        [[ -d $r ]] && continue
        mkdir -p "$r.tmp/srv" "$r.tmp/opt"
        case $((i % 4)) in
            0) cp -al "$dir/base/big" "$r.tmp/srv/tools" ;;
            1) cp -al "$dir/base/web" "$r.tmp/srv/web" ;;
            2) cp -al "$dir/base/new" "$r.tmp/srv/api" && cp -al "$dir/base/old" "$r.tmp/opt/jobs" ;;
            3) cp -al "$dir/base/big" "$r.tmp/opt/tools" && cp -al "$dir/base/web" "$r.tmp/srv/web" ;;
        esac
        # The base interpreters: executable, libpython and the os.py landmark, hard-linked.
        while read -r p; do
            local v=${p##*/}
            v=${v%.*}
            for f in "bin/python$v" "lib/libpython$v.so.1.0" "lib/python$v/os.py"; do
                [[ -e $p/$f ]] || continue
                mkdir -p "$r.tmp$p/$(dirname "$f")"
                ln "$p/$f" "$r.tmp$p/$f"
            done
        done <"$dir/base/prefixes"
        mv "$r.tmp" "$r"
    done
    mkdir -p "$dir/empty-config"
    {
        echo "[fleet]"
        for ((i = 0; i < n; i++)); do echo "h$i venvaudit_root=$dir/roots/h$i"; done
        echo
        echo "[fleet:vars]"
        echo "ansible_connection=local"
        echo "ansible_python_interpreter=$PY"
        echo "venvaudit_config_root=$dir/empty-config"
        echo "venvaudit_processes=false"
        echo 'venvaudit_paths=["/srv", "/opt"]'
    } >"$dir/inventory.ini"
    rm -rf "$dir/play" && mkdir -p "$dir/play"
    cp "$REPO/ansible/examples/fleet/fleet_report.yml" "$REPO/ansible/examples/fleet/ansible.cfg" "$dir/play/"
    sed -i "s|^inventory = .*|inventory = $dir/inventory.ini|" "$dir/play/ansible.cfg"
}

# The collection around binary $2, installed under $1/collections.
install_collection() {
    local dir=$1 bin=$2
    rm -rf "$dir/collections" "$dir/dist"
    strip -o "$dir/venvaudit" "$bin"
    VENVAUDIT_MODULE_BINARY=$dir/venvaudit VENVAUDIT_OUT=$dir/dist bash ansible/build.sh >&2
    ansible-galaxy collection install -p "$dir/collections" "$dir"/dist/venvaudit-python-*.tar.gz >&2
}

if [[ ${1:-} == build ]]; then
    build_fleet "$2" "$3"
    exit 0
fi

cargo build --release --quiet
BIN=$REPO/target/release/venvaudit
DIR=${BENCH_DIR:-$REPO/target/bench-fleet-cache}
mkdir -p "$DIR"
if [[ -z ${SYNTH_ONLY:-} ]]; then
    log "building $HOSTS hosts under $DIR"
    build_fleet "$DIR" "$HOSTS"
    install_collection "$DIR" "$BIN"
fi
export ANSIBLE_COLLECTIONS_PATH=$DIR/collections ANSIBLE_NOCOLOR=1 ANSIBLE_HOST_KEY_CHECKING=0
export VENVAUDIT_TODAY=${VENVAUDIT_TODAY:-$(date -u +%F)}
PATH_NO_VENVAUDIT=$PATH # the example finds the collection's binary when venvaudit is not on PATH

if [[ -z ${SYNTH_ONLY:-} ]]; then # SYNTH_ONLY=1: step 3 only, on the cache of an earlier run
echo "# Fleet benchmark ($(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), ansible-core $(ansible --version 2>/dev/null | sed -n '1s/.*core \([0-9.]*\).*/\1/p'))"
echo
echo "## 1. ansible-playbook, $HOSTS hosts (local connection, forks 50, jsonfile cache)"
cd "$DIR/play"
rm -rf .cache reports
t0=$(now)
ansible-playbook fleet_report.yml --tags gather >"$DIR/gather.log" 2>&1
t1=$(now)
echo "- gather (venv_facts detail: compact, $HOSTS hosts): $(secs "$t0" "$t1") s"
cache=$DIR/play/.cache/facts
nfiles=$(find "$cache" -type f | wc -l)
echo "- cache: $nfiles files, $(du -sk "$cache" | cut -f1) KB on disk, $(find "$cache" -type f -printf '%s\n' | awk '{s+=$1} END {printf "%d", s}') bytes"
t0=$(now)
ansible-playbook fleet_report.yml --tags report >"$DIR/report.log" 2>&1
t1=$(now)
echo "- report from the cache alone, venvaudit query --from-facts inside ansible-playbook: $(secs "$t0" "$t1") s ($(grep -o '[0-9]* venv(s) on [0-9]* host(s)[^;]*' "$DIR/report.log" | head -1))"
t0=$(now)
"$BIN" query 'django<4.2.16' --from-facts "$cache" --hosts reports/hosts.txt --format json >"$DIR/answer.json" || true
t1=$(now)
echo "- venvaudit query --from-facts alone: $(secs "$t0" "$t1") s"
t0=$(now)
ansible-playbook fleet_report.yml --tags report -e report_engine=jinja >"$DIR/report-jinja.log" 2>&1
t1=$(now)
echo "- report from the cache alone, Jinja fallback: $(secs "$t0" "$t1") s ($(grep -o '[0-9]* venv(s) on [0-9]* host(s)[^;]*' "$DIR/report-jinja.log" | head -1))"
echo
echo "Cached facts of one host (h3: two venvs, 104 + 12 distributions; h0: one venv of 104):"
echo
echo "| detail | h0 cache file (bytes) | h3 cache file (bytes) |"
echo "|---|---|---|"
for d in summary compact full; do
    rm -rf "$DIR/one-$d"
    ANSIBLE_CACHE_PLUGIN_CONNECTION=$DIR/one-$d ansible-playbook fleet_report.yml --tags gather --limit h0,h3 \
        -e venvaudit_detail=$d >"$DIR/one-$d.log" 2>&1
    echo "| $d | $(stat -c %s "$DIR/one-$d"/*h0) | $(stat -c %s "$DIR/one-$d"/*h3) |"
done
cd "$REPO"

echo
echo "## 2. Salt: $SALT_MINIONS masterless minions, mine.update + mine.get each"
SALT=$DIR/salt
rm -rf "$SALT" && mkdir -p "$SALT"
t0=$(now)
for ((i = 0; i < SALT_MINIONS; i++)); do
    m=$SALT/m$i
    mkdir -p "$m/conf"
    # salt/examples/fleet/mine.conf, plus this minion's --root tree.
    sed -e '/^ *#/d' salt/examples/fleet/mine.conf >"$m/conf/minion.d.conf"
    printf '    - root: %s\n    - config_root: %s\n    - no_processes: true\n' "$DIR/roots/h$i" "$DIR/empty-config" >>"$m/conf/minion.d.conf"
    cat >"$m/conf/minion" <<EOF
id: h$i
file_client: local
file_roots: {base: [$REPO/salt]}
root_dir: $m/root
pki_dir: $m/pki
cachedir: $m/cache
sock_dir: $m/sock
log_file: $m/minion.log
venvaudit.binary: $BIN
$(cat "$m/conf/minion.d.conf")
EOF
    salt-call --local --config-dir "$m/conf" saltutil.sync_modules >/dev/null 2>&1
    salt-call --local --config-dir "$m/conf" mine.update >/dev/null 2>&1
    salt-call --local --config-dir "$m/conf" mine.get "h$i" venvaudit_compact --out json >"$m/mine.json" 2>"$m/mine.err"
done
t1=$(now)
"$PY" - "$SALT" "$SALT_MINIONS" <<'EOF'
import json, sys
d, n = sys.argv[1], int(sys.argv[2])
merged = {}
for i in range(n):
    merged.update(json.load(open(f"{d}/m{i}/mine.json"))["local"])
json.dump(merged, open(f"{d}/mine.json", "w"))
EOF
echo "- $SALT_MINIONS minions (sync_modules + mine.update + mine.get, serial): $(secs "$t0" "$t1") s"
t0=$(now)
"$BIN" query 'django<4.2.16' --from-facts "$SALT/mine.json" --format json >"$SALT/answer.json" || true
t1=$(now)
echo "- venvaudit query --from-facts on the merged mine file ($(stat -c %s "$SALT/mine.json") bytes): $(secs "$t0" "$t1") s; $("$PY" -c "import json,sys; a=json.load(open(sys.argv[1])); print(len(a['matches']), 'matches on', len({m['host'] for m in a['matches']}), 'hosts,', a['hosts_answered'], 'hosts answered')" "$SALT/answer.json")"

fi

echo
echo "## 3. Synthetic caches from the real cache files ($(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "| hosts | cache bytes (compact) | venvaudit query --from-facts | Jinja report (ansible-playbook --tags report) |"
echo "|---|---|---|---|"
for n in $SYNTH; do
    S=$DIR/synth-$n
    rm -rf "$S" && mkdir -p "$S/cache"
    "$PY" - "$DIR/play/.cache/facts" "$S" "$n" <<'EOF'
import json, os, random, sys
src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
rnd = random.Random(n)
real = []
for f in sorted(os.listdir(src)):
    doc = json.load(open(os.path.join(src, f)))
    facts = json.loads(doc["__payload__"]) if "__payload__" in doc else doc
    if "venvaudit" in facts:  # not the controller's localhost
        real.append(facts)
versions = {"django": ["3.2", "3.2.25", "4.1.13", "4.2.15", "4.2.16", "5.0.9", "5.1.4"],
            "requests": ["2.25.0", "2.28.2", "2.31.0", "2.32.3"], "pyyaml": ["5.3.1", "5.4.1", "6.0.1"]}
names = ["app", "api", "web", "worker", "tools", "jobs", "billing", "search"]
with open(os.path.join(out, "hosts.txt"), "w") as hosts:
    for i in range(n):
        facts = json.loads(json.dumps(rnd.choice(real)))
        for v in facts["venvaudit"]["venvs"]:
            v["path"] = f"/srv/{rnd.choice(names)}{i % 17}/venv"
            dists = []
            for d in v["distributions"]:
                name, _, ver = d.partition("==")
                if name in versions:
                    ver = rnd.choice(versions[name])
                elif rnd.random() < 0.05:
                    continue  # vary the counts
                dists.append(f"{name}=={ver}")
            v["distributions"] = dists
            v["package_count"] = len(dists)
        host = f"host{i:05d}"
        hosts.write(host + "\n")
        if i % 10 == 0:  # some hosts in the older plain-object form
            body = facts
            name = host
        else:
            body = {"__payload__": json.dumps(facts)}
            name = "s1_" + host
        with open(os.path.join(out, "cache", name), "w") as f:
            json.dump(body, f)
EOF
    bytes=$(find "$S/cache" -type f -printf '%s\n' | awk '{s+=$1} END {printf "%d", s}')
    "$BIN" query 'django<4.2.16' --from-facts "$S/cache" --hosts "$S/hosts.txt" --format json >/dev/null || true # warm
    t0=$(now)
    "$BIN" query 'django<4.2.16' --from-facts "$S/cache" --hosts "$S/hosts.txt" --format json >"$S/answer.json" || true
    t1=$(now)
    q=$(secs "$t0" "$t1")
    summary=$("$PY" -c "import json,sys; a=json.load(open(sys.argv[1])); print(len(a['matches']), 'matches,', a['hosts_answered'], 'hosts answered,', len(a['hosts_unknown']), 'unknown')" "$S/answer.json")
    jinja="not run (more than JINJA_MAX=$JINJA_MAX hosts)"
    if ((n <= JINJA_MAX)); then
        mkdir -p "$S/play"
        cp "$DIR/play/fleet_report.yml" "$S/play/"
        {
            echo "[fleet]"
            sed 's/$/ ansible_connection=local/' "$S/hosts.txt"
        } >"$S/inventory.ini"
        sed -e "s|^inventory = .*|inventory = $S/inventory.ini|" -e "s|^fact_caching_connection = .*|fact_caching_connection = $S/cache|" \
            "$DIR/play/ansible.cfg" >"$S/play/ansible.cfg"
        t0=$(now)
        (cd "$S/play" && ansible-playbook fleet_report.yml --tags report -e report_engine=jinja >"$S/jinja.log" 2>&1) || true
        t1=$(now)
        jinja="$(secs "$t0" "$t1") s ($(grep -o '[0-9]* venv(s) on [0-9]* host(s)' "$S/jinja.log" | head -1))"
    fi
    echo "| $n | $bytes ($((bytes / n)) a host) | $q s ($summary) | $jinja |"
done
