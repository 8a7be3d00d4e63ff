#!/usr/bin/env bash
# In one run, on three fresh bare lab hosts: the first site.yml (provision from nothing),
# the second (no change), and their ratio. The second must report changed=0 on every host.
# Writes bench/results/site_rerun.json.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib/env.sh"
cd "$PADDOCK_ROOT"
inventory=bench/inventory
out=bench/results/site_rerun.json
ensure_env

timed() {  # timed LOG ARGS...: run ansible-playbook, print seconds
  local log=$1; shift
  local start end
  start=$(date +%s.%N)
  ansible-playbook -i "$inventory" "$@" >"$log" 2>&1 || { tail -40 "$log" >&2; return 1; }
  end=$(date +%s.%N)
  python3 -c "print(round($end - $start, 2))"
}

ansible-playbook -i "$inventory" playbooks/lab_down.yml >/dev/null
ansible-playbook -i "$inventory" playbooks/lab_up.yml >/dev/null
trap 'ansible-playbook -i "$inventory" playbooks/lab_down.yml >/dev/null' EXIT

first=$(timed /tmp/paddock-bench-first.log site.yml)
second=$(timed /tmp/paddock-bench-second.log site.yml)
if grep -E '^bench0[0-9] +:' /tmp/paddock-bench-second.log | grep -vq 'changed=0 '; then
  echo "the second run changed something:" >&2; grep -E '^bench0' /tmp/paddock-bench-second.log >&2; exit 1
fi
python3 - "$first" "$second" "$out" <<'PY'
import json, sys, datetime
first, second, out = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
result = {"what": "site.yml on 3 fresh bare lab hosts: first run vs second (no-change) run",
          "first_s": first, "second_s": second, "ratio": round(second / first, 3),
          "date": datetime.date.today().isoformat(), "cores": 2}
json.dump(result, open(out, "w"), indent=2)
print(json.dumps(result))
PY
