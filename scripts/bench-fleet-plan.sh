#!/usr/bin/env bash
# Benchmark `venvaudit plan --from-facts` (the fleet's remediation plan) on synthetic caches of
# HOSTS hosts (default 1000), VENVS venvs each (default 5), made from one real compact report:
# the tools venv's distributions with django / requests / urllib3 / pyyaml versions varied per
# venv (vulnerable and fixed ones) and ~5 % of the distributions dropped, in Ansible's jsonfile
# cache layout (one file a host, `{"venvaudit": report}`). Prints the cache size, the wall time
# and peak RSS of the plan (GNU time), the steps and hosts it planned for.
#   HOSTS=10000 scripts/bench-fleet-plan.sh
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOSTS=${HOSTS:-1000}
VENVS=${VENVS:-5}
OSV=${OSV:-$REPO/../shared/osv-pypi.zip}
BIN=${BIN:-$REPO/target/release/venvaudit}
DIR=${BENCH_DIR:-$REPO/target/bench-fleet-plan}
[[ -x "$BIN" ]] || (cd "$REPO" && cargo build --release -q)
rm -rf "$DIR" && mkdir -p "$DIR/cache"
"$BIN" facts --detail compact --no-processes --format json "$REPO/.tools/venv" >"$DIR/seed.json"
"$REPO/.tools/venv/bin/python" - "$DIR/seed.json" "$DIR/cache" "$HOSTS" "$VENVS" <<'PY'
import json, random, sys, datetime
seed, out, hosts, venvs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
report = json.load(open(seed))
base = report["venvs"][0]
dists = [d for d in base["distributions"] if not d.split("==")[0] in ("django", "requests", "urllib3", "pyyaml")]
choices = {"django": ["3.2", "3.2.25", "4.2.16", "4.2.10"], "requests": ["2.25.0", "2.32.4"],
           "urllib3": ["1.26.4", "2.2.3"], "pyyaml": ["5.3.1", "6.0.3"]}
rnd = random.Random(7)
report["generated_at"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
for h in range(hosts):
    vs = []
    for i in range(venvs):
        v = dict(base)
        v["path"] = f"/srv/app{i}/venv"
        ds = [d for d in dists if rnd.random() > 0.05]
        ds += [f"{n}=={rnd.choice(c)}" for n, c in choices.items()]
        v["distributions"] = sorted(ds)
        v["used_by_names"] = [f"systemd:app{i}.service"]
        vs.append(v)
    r = dict(report, venvs=vs, host=dict(report["host"], hostname=f"web{h:05}"))
    json.dump({"venvaudit": r}, open(f"{out}/web{h:05}", "w"))
PY
size=$(du -sh "$DIR/cache" | cut -f1)
/usr/bin/time -f "%e s %M KB" -o "$DIR/time" "$BIN" plan --from-facts "$DIR/cache" --osv-db "$OSV" --format json >"$DIR/plan.json" || true
read -r secs _ kb _ < <(tail -n1 "$DIR/time")
summary=$("$REPO/.tools/venv/bin/python" - "$DIR/plan.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1])); s = p["summary"]
print(f"{s['steps']} steps ({s['ready']} ready) on {s['hosts']} hosts, {p['hosts_answered']} answered, {len(p['packages'])} packages")
PY
)
echo "fleet plan: $HOSTS hosts x $VENVS venvs, cache $size: ${secs} s, peak ${kb} KB; $summary"
