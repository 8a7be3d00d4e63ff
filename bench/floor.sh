#!/usr/bin/env bash
# The floor for a first converge: what a plain parallel shell script over SSH does to turn the
# same bare hosts into a swarm with the same Debian packages and services as site.yml, with no
# checks, no idempotence and no TLS. bench/converge.py times it against site.yml.
#   bench/floor.sh INVENTORY_DIR
# Reads the hosts from the inventory (ansible-inventory): the first of swarm_managers inits the
# swarm, every other host joins it (managers as managers).
set -euo pipefail
inventory=${1:?usage: bench/floor.sh INVENTORY_DIR}
here=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$here/.venv/bin:$PATH"

# name address key known_hosts role, one host a line
hosts=$(ansible-inventory -i "$inventory" --list | python3 -c '
import json, os, sys
data = json.load(sys.stdin)
hostvars = data["_meta"]["hostvars"]
for role in ("swarm_managers", "swarm_workers"):
    for name in data.get(role, {}).get("hosts", []):
        v = hostvars[name]
        print(name, v["ansible_host"], os.path.expanduser(v["ansible_ssh_private_key_file"]),
              os.path.expanduser(v["lab_state_dir"]) + "/known_hosts", role)
')

on() {  # on ADDRESS KEY KNOWN_HOSTS COMMAND
  ssh -i "$2" -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=accept-new \
    -o UserKnownHostsFile="$3" "root@$1" "$4"
}

packages="docker.io python3-docker strongswan-swanctl charon-systemd libcharon-extra-plugins"
packages="$packages libstrongswan-standard-plugins iptables prometheus-node-exporter"

provision() {  # one host: one apt run, the engine with its cgroup parent (as the lab needs), started
  local name=$1 address=$2 key=$3 known=$4 role=$5 extra=""
  [ "$role" = swarm_managers ] && extra=docker-registry
  on "$address" "$key" "$known" "set -e
    mkdir -p /etc/docker
    echo '{\"cgroup-parent\": \"/paddock-floor/$name\"}' > /etc/docker/daemon.json
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $packages $extra >/dev/null
    systemctl start docker strongswan prometheus-node-exporter ${extra}
    until docker info >/dev/null 2>&1; do sleep 0.2; done"
}

pids=()
while read -r line; do
  # shellcheck disable=SC2086
  provision $line & pids+=($!)
done <<<"$hosts"
for pid in "${pids[@]}"; do wait "$pid"; done

read -r _ lead_addr lead_key lead_known _ <<<"$(head -n1 <<<"$hosts")"
on "$lead_addr" "$lead_key" "$lead_known" "docker swarm init --advertise-addr $lead_addr >/dev/null"
manager_token=$(on "$lead_addr" "$lead_key" "$lead_known" "docker swarm join-token -q manager")
worker_token=$(on "$lead_addr" "$lead_key" "$lead_known" "docker swarm join-token -q worker")
# Managers join one at a time (each is a raft change); workers side by side.
tail -n +2 <<<"$hosts" | while read -r _ addr key known role; do
  [ "$role" = swarm_managers ] || continue
  on "$addr" "$key" "$known" "docker swarm join --token $manager_token $lead_addr:2377 >/dev/null"
done
pids=()
while read -r _ addr key known role; do
  [ "$role" = swarm_workers ] || continue
  on "$addr" "$key" "$known" "docker swarm join --token $worker_token $lead_addr:2377 >/dev/null" & pids+=($!)
done <<<"$hosts"
for pid in "${pids[@]}"; do wait "$pid"; done
