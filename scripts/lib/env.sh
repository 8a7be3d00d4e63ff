# Shared by scripts/*: make this machine ready to run Paddock, idempotently.
# - a running Docker engine (Debian's docker.io, installed when missing, started without systemd
#   when there is none);
# - the Python virtualenv in .venv with the pinned requirements.
# Sourcing scripts get PADDOCK_ROOT and a PATH with .venv/bin first.

PADDOCK_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export PADDOCK_ROOT
export PATH="$PADDOCK_ROOT/.venv/bin:$PATH"
export ANSIBLE_CONFIG="$PADDOCK_ROOT/ansible.cfg"

log() { printf '[paddock] %s\n' "$*" >&2; }

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_engine() {
  if docker info >/dev/null 2>&1; then return 0; fi
  command -v dockerd >/dev/null || apt_install docker.io
  if [ -d /run/systemd/system ]; then
    systemctl start docker
  else
    log "starting dockerd (no systemd here); log: /var/log/paddock-dockerd.log"
    nohup dockerd >/var/log/paddock-dockerd.log 2>&1 &
  fi
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && return 0; sleep 1; done
  log "the Docker engine did not come up; see /var/log/paddock-dockerd.log"
  return 1
}

ensure_venv() {
  local stamp="$PADDOCK_ROOT/.venv/.requirements.sha256" want
  want=$(cat "$PADDOCK_ROOT/requirements.txt" "$PADDOCK_ROOT/constraints.txt" | sha256sum | cut -d' ' -f1)
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && return 0
  log "creating .venv with the pinned Python requirements"
  python3 -m venv "$PADDOCK_ROOT/.venv"
  "$PADDOCK_ROOT/.venv/bin/pip" install -q -r "$PADDOCK_ROOT/requirements.txt" \
    -c "$PADDOCK_ROOT/constraints.txt"
  echo "$want" > "$stamp"
}

ensure_env() {
  # haproxy: stack validation checks a load balancer's custom lines with haproxy -c.
  # chromium, chromium-driver: the console's tests drive a real browser (molecule/stacks).
  # gnupg: backup.yml encrypts volumes and the registry's storage with gpg.
  # faketime: the unit suite runs again with the clock years ahead (scripts/test).
  apt_install debootstrap openssh-client ca-certificates tcpdump wrk haproxy chromium chromium-driver gnupg \
    faketime
  ensure_engine
  ensure_venv
}
