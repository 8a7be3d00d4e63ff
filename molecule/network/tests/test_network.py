"""The IPsec managed network, as a user sees it: addresses, reachability, tunnels and the wire."""

import base64
import json
import os
import re
import subprocess
import sys
import time
import uuid

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
from labtest import (  # noqa: E402
    PROJECT,
    TEST_IMAGE,
    EditedInventory,
    build_test_image,
    failures,
    on_host,
    on_hosts,
    outer_docker,
    playbook,
    playbook_recording_ssh,
    recap,
    wait_for,
)

SCENARIO = os.environ.get("MOLECULE_SCENARIO_DIRECTORY", os.path.dirname(os.path.dirname(__file__)))
INVENTORY = os.path.join(SCENARIO, "inventory")
LAB = "paddock-mol-network"
HOSTS = ["nw01", "nw02", "nw03"]
ADDRESS = {"nw01": "10.3.7.11", "nw02": "10.3.7.12", "nw03": "10.3.7.13", "nw04": "10.3.7.14"}


def start_probes(inventory, pattern):
    """On each host, a container on the managed network serving its host's name over HTTP."""
    build_test_image(inventory, pattern)
    found = on_hosts(inventory, pattern, (
        "docker rm -f probe >/dev/null 2>&1; "
        f"docker run -d --name probe --network managed -e HOST=$(hostname) {TEST_IMAGE} "
        "sh -c 'mkdir -p /www && echo $HOST > /www/index.html && httpd -f -p 80 -h /www' >/dev/null; "
        "docker inspect probe --format '{{.NetworkSettings.Networks.managed.IPAddress}}'"))
    addresses = {host: out.strip() for host, out in found.items()}
    for host, address in addresses.items():  # httpd answers on its own host before any test uses it
        deadline = time.time() + 30
        while fetch(host, address, inventory=inventory, timeout=2) != host and time.time() < deadline:
            time.sleep(0.5)
    return addresses


def fetch(host, address, path="/", inventory=INVENTORY, timeout=5):
    """What the probe container on ``host`` gets from http://address/path (its name, or an error)."""
    request = f"set -o pipefail; printf 'GET {path} HTTP/1.0\\r\\n\\r\\n' | nc -w {timeout} {address} 80 | tail -n 1"
    return on_host(inventory, host, f"docker exec probe sh -c \"{request}\" 2>/dev/null || echo FAILED").strip()


def sas(host, inventory=INVENTORY):
    """{connection: (IKE SA id, CHILD SA id)} of the host's installed tunnels."""
    out = on_host(inventory, host, "swanctl --list-sas 2>/dev/null")
    found, current = {}, None
    for line in out.splitlines():
        ike = re.match(r"^(paddock-\S+): #(\d+), ESTABLISHED", line)
        child = re.match(r"^\s+(paddock-\S+): #(\d+), reqid \d+, INSTALLED", line)
        if ike:
            current = (ike.group(1), ike.group(2))
        elif child and current:
            found[current[0]] = (current[1], child.group(2))
    return found


def reqids(host, inventory=INVENTORY):
    """{connection: reqid} of the host's installed CHILD SAs."""
    out = on_host(inventory, host, "swanctl --list-sas 2>/dev/null")
    return dict(re.findall(r"^\s+(paddock-\S+): #\d+, reqid (\d+), INSTALLED", out, re.M))


def assert_one_reqid_per_tunnel(hosts):
    # kernel-libipsec finds a packet's outbound SA by reqid: two tunnels sharing one send one
    # peer's traffic to the other (seen with strongSwan's dynamic reqids after a restart).
    for host in hosts:
        found = reqids(host)
        assert len(set(found.values())) == len(found) == len(hosts) - 1, (host, found)


def tunnel_state(*hosts):
    """What the tunnels, routes and firewall of the hosts look like, for a failed assertion's message."""
    return on_hosts(INVENTORY, ":".join(hosts), "swanctl --list-sas 2>/dev/null | head -40; "
                                                "ip route show table 220 2>&1 || true; ip route | grep 10.42 || true; "
                                                "iptables -S PADDOCK-MANAGED 2>&1 | head -20")


def wait_for_mesh(hosts, inventory=INVENTORY, timeout=60):
    deadline = time.time() + timeout
    while True:
        meshes = {h: sas(h, inventory) for h in hosts}
        if all(len(m) == len(hosts) - 1 for m in meshes.values()) or time.time() > deadline:
            return meshes
        time.sleep(2)


def lab_bridge():
    network = outer_docker("network", "inspect", LAB, "--format", "{{.Id}}").strip()
    return f"br-{network[:12]}"


class Capture:
    """tcpdump on the outer host's bridge of the lab network: the wire between the hosts."""

    def __init__(self, *hosts):
        self.path = f"/tmp/paddock-capture-{uuid.uuid4().hex[:8]}.pcap"
        # The hosts' traffic, and any managed address that would show in clear.
        self.filter = "(" + " and ".join(f"host {ADDRESS[h]}" for h in hosts) + ") or net 10.42.0.0/16"

    def __enter__(self):
        self.process = subprocess.Popen(["tcpdump", "-i", lab_bridge(), "-U", "-w", self.path, self.filter],
                                        stderr=subprocess.DEVNULL)
        time.sleep(1.5)
        return self

    def __exit__(self, *exc):
        time.sleep(1)
        self.process.terminate()
        self.process.wait()

    def raw(self):
        with open(self.path, "rb") as handle:
            return handle.read()

    def summary(self):
        return subprocess.run(["tcpdump", "-nn", "-r", self.path], capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def probes():
    return start_probes(INVENTORY, "paddock")


def test_each_host_owns_a_subnet_recorded_on_its_node_and_uses_the_right_ipsec_path():
    labels = on_host(INVENTORY, "nw01", "docker node ls -q | xargs docker node inspect --format "
                                        "'{{.Description.Hostname}} {{index .Spec.Labels \"paddock.managed.subnet\"}}'")
    subnets = dict(line.split() for line in labels.splitlines())
    assert subnets == {"nw01": "10.42.0.0/24", "nw02": "10.42.1.0/24", "nw03": "10.42.2.0/24"}
    # The kernels here have no ESP (docs: ENVIRONMENT): each host must have chosen userspace libipsec.
    for host, conf in on_hosts(INVENTORY, "paddock", "cat /etc/strongswan.d/charon/zz-paddock.conf").items():
        esp = on_host(INVENTORY, host, "ip xfrm state add src 192.0.2.9 dst 192.0.2.8 proto esp spi 0x7ffffff2 "
                                       "mode tunnel enc 'cbc(aes)' 0x00112233445566778899aabbccddeeff "
                                       "2>/dev/null && ip xfrm state delete src 192.0.2.9 dst 192.0.2.8 proto esp "
                                       "spi 0x7ffffff2 && echo yes || echo no").strip()
        assert ("load = yes" in conf) == (esp == "no"), (host, esp, conf)


def test_the_tunnels_form_a_full_mesh():
    meshes = wait_for_mesh(HOSTS)
    for host, tunnels in meshes.items():
        assert sorted(tunnels) == sorted(f"paddock-{h}" for h in HOSTS if h != host), (host, tunnels)
    assert_one_reqid_per_tunnel(HOSTS)


def reach_every_pair(probes, hosts=HOSTS, wait=20):
    for source in hosts:
        for target in hosts:
            if source != target:
                # A new container's first packets may meet a tunnel's first use.
                deadline = time.time() + wait
                while (answer := fetch(source, probes[target], timeout=3)) != target and time.time() < deadline:
                    time.sleep(0.5)
                assert answer == target, (source, target, tunnel_state(source, target))


def test_containers_on_every_host_reach_each_other_by_managed_address(probes):
    assert {h: a.rsplit(".", 1)[0] for h, a in probes.items()} == {
        "nw01": "10.42.0", "nw02": "10.42.1", "nw03": "10.42.2"}
    reach_every_pair(probes)


def test_the_wire_carries_only_esp_and_never_the_marker(probes):
    marker = f"PADDOCK-MARKER-{uuid.uuid4().hex}"
    with Capture("nw02", "nw03") as capture:
        for _ in range(3):
            fetch("nw02", probes["nw03"], f"/{marker}")
            fetch("nw03", probes["nw02"], f"/{marker}")
    summary = capture.summary()
    assert "UDP-encap: ESP" in summary or " ESP(" in summary, summary[-2000:]
    assert marker.encode() not in capture.raw()
    assert "10.42." not in summary, "managed addresses on the wire in clear"


def test_stopping_strongswan_stops_the_traffic_instead_of_sending_it_in_clear(probes):
    marker = f"PADDOCK-CLEAR-{uuid.uuid4().hex}"
    on_host(INVENTORY, "nw03", "systemctl stop strongswan")
    try:
        with Capture("nw02", "nw03") as capture:
            answer = fetch("nw02", probes["nw03"], f"/{marker}", timeout=3)
        assert answer == "FAILED", answer
        assert marker.encode() not in capture.raw()
        assert "10.42." not in capture.summary(), "managed traffic fell back to clear"
    finally:
        on_host(INVENTORY, "nw03", "systemctl start strongswan")
    meshes = wait_for_mesh(HOSTS, timeout=90)
    assert all(len(m) == 2 for m in meshes.values()), meshes
    # The peers' tunnels to nw03 came back by their restart actions: every pair reaches again.
    assert_one_reqid_per_tunnel(HOSTS)
    reach_every_pair(probes, wait=15)


REKEY_LOOP = """
import socket, sys, time
ok = 0
for _ in range(40):
    try:
        with socket.create_connection((sys.argv[1], 80), timeout=3) as conn:
            conn.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
            data = b""
            while chunk := conn.recv(4096):
                data += chunk
        ok += data.strip().endswith(b"nw03")
    except OSError:
        pass
    time.sleep(0.1)
print(ok)
"""


def test_rekeying_drops_no_traffic(probes):
    """Requests from nw02 (routed from its managed gateway address) through the tunnel while it rekeys."""
    before = sas("nw02")["paddock-nw03"]
    script = base64.b64encode(REKEY_LOOP.encode()).decode()
    on_host(INVENTORY, "nw02", f"echo {script} | base64 -d > /tmp/rekey.py; "
                               f"nohup python3 /tmp/rekey.py {probes['nw03']} > /tmp/rekey-count 2>&1 &")
    time.sleep(1)
    on_host(INVENTORY, "nw02", "swanctl --rekey --child paddock-nw03 >/dev/null; sleep 1; "
                               "swanctl --rekey --ike paddock-nw03 >/dev/null")
    count = wait_for(lambda: on_host(INVENTORY, "nw02", "cat /tmp/rekey-count").strip(), timeout=30, interval=1)
    after = sas("nw02")["paddock-nw03"]
    assert after[1] != before[1], "the CHILD SA was not rekeyed"
    assert count == "40", f"{count} of 40 requests answered during the rekey"


def test_a_run_that_changes_nothing_else_brings_up_a_tunnel_someone_ended(probes):
    """A tunnel ended by hand on the host that initiates it (the lower address) stays down: no
    peer restarts a tunnel closed with a DELETE. On a run that changes nothing else, the managed
    network's probe finds it, and the run brings it up on that host alone."""
    on_host(INVENTORY, "nw01", "swanctl --terminate --ike paddock-nw02 --timeout 5 >/dev/null")
    assert "paddock-nw02" not in sas("nw01")
    run = playbook(INVENTORY, os.path.join(PROJECT, "site.yml"))
    assert run.returncode == 0, failures(run.stdout)
    assert {host: counts["changed"] for host, counts in recap(run.stdout).items() if host in HOSTS} == \
        {"nw01": 1, "nw02": 0, "nw03": 0}
    assert set(sas("nw01")) == {"paddock-nw02", "paddock-nw03"}
    assert_one_reqid_per_tunnel(HOSTS)
    assert fetch("nw01", probes["nw02"]) == "nw02"


@pytest.fixture(scope="module")
def edited():
    inventory = EditedInventory(INVENTORY)
    yield inventory
    inventory.remove()
    outer_docker("rm", "-f", f"{LAB}-nw04")
    outer_docker("volume", "rm", "-f", f"{LAB}-nw04-docker")


def test_a_fourth_host_joins_the_mesh_and_no_other_tunnel_is_re_established(edited, probes):
    before = {h: sas(h) for h in HOSTS}
    edited.group("paddock", "swarm_workers")["hosts"]["nw04"] = {"ansible_host": "10.3.7.14",
                                                                 "lab_data_address": "10.5.7.14"}
    edited.group("lab")["hosts"]["nw04"] = None
    path = edited.save()
    up = playbook(path, os.path.join(PROJECT, "playbooks", "lab_up.yml"))
    assert up.returncode == 0, failures(up.stdout)
    run = playbook(path, os.path.join(PROJECT, "site.yml"))
    assert run.returncode == 0, failures(run.stdout)
    meshes = wait_for_mesh(HOSTS + ["nw04"], inventory=path)
    for host in HOSTS + ["nw04"]:
        assert len(meshes[host]) == 3, (host, meshes[host])
    for host in HOSTS:
        kept = {conn: ids for conn, ids in meshes[host].items() if conn != "paddock-nw04"}
        assert kept == before[host], f"{host}: tunnels re-established: {before[host]} -> {kept}"
    nw04 = start_probes(path, "nw04")["nw04"]
    assert nw04.startswith("10.42.3.")
    assert fetch("nw01", nw04) == "nw04"
    assert fetch("nw04", probes["nw01"], inventory=path) == "nw01"


def test_removing_the_fourth_host_removes_its_tunnels_on_every_peer(edited):
    edited.group("paddock", "swarm_workers")["hosts"]["nw04"]["node_state"] = "absent"
    path = edited.save()
    run = playbook(path, os.path.join(PROJECT, "site.yml"))
    assert run.returncode == 0, failures(run.stdout)
    for host in HOSTS:
        assert "paddock-nw04" not in sas(host), host
        assert "nw04" not in on_host(INVENTORY, host, "swanctl --list-conns"), host
        assert len(sas(host)) == 2, host
    assert "nw04" not in on_host(INVENTORY, "nw01", "docker node ls --format '{{.Hostname}}'")


# Each value is given with -e, and the message names it so.
EXTRA = "-e (the command line's extra vars): "
BAD = {
    "overlapping ranges": ({"managed_network_range": "172.20.0.0/16"},
                           EXTRA + "managed_network_range: 172.20.0.0/16 overlaps docker_default_address_pools[0] "
                           "(172.20.0.0/14)"),
    "a prefix too small for the hosts": ({"managed_network_host_prefix": 17},
                                         EXTRA + "managed_network_host_prefix: /17 subnets of 10.42.0.0/16 give "
                                         "2 subnets for 3 hosts; use a longer prefix or a larger range"),
    "an unknown authentication": ({"managed_network_auth": "password"},
                                  EXTRA + "managed_network_auth: must be one of: certificate, psk; got string "
                                  "'password' (a setting of role managed_network)"),
    "a missing PSK": ({"managed_network_auth": "psk", "managed_network_psk": ""},
                      EXTRA + "managed_network_psk: missing (managed_network_auth is psk): generate one per "
                      "environment and keep it in Ansible Vault (docs/network.md)"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_settings_are_refused_before_any_host_changes(case):
    extra, expected = BAD[case]
    inventory = EditedInventory(INVENTORY)
    try:
        # -e outranks group_vars, as a user's override would.
        run, ssh_calls = playbook_recording_ssh(inventory.save(), os.path.join(PROJECT, "site.yml"), "-e",
                                                json.dumps(extra))
    finally:
        inventory.remove()
    assert run.returncode != 0
    assert expected in run.stdout, failures(run.stdout)
    assert ssh_calls == []  # stopped in validation, before any connection to a host


def forged_certificate(address):
    """A key and a certificate that name ``address``, from a CA the attacker made: PEM texts."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "nw01")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(address))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    return (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode(),
            cert.public_bytes(serialization.Encoding.PEM).decode())


# A connection as an attacker would write it: another host's address and identity.
FORGED = """  forged-{name} {{
    version = 2
    local_addrs = {address}
    remote_addrs = {peer}
    encap = yes
    local {{
      auth = pubkey
      certs = {certs}
      id = {address}
    }}
    remote {{
      auth = pubkey
      id = {peer}
    }}
    children {{
      forged-{name} {{
        local_ts = {ts}
        remote_ts = 10.42.0.0/16
      }}
    }}
  }}
"""


def put(container, path, text):
    subprocess.run(["docker", "exec", "-i", container, "sh", "-c", f"cat > {path}"], input=text, text=True,
                   check=True, timeout=30)


def test_a_host_that_takes_over_another_hosts_address_cannot_pose_as_it():
    """nw03, taken over, claims nw01's address and identity towards nw02: with its own valid
    certificate (which names nw03) and with one it forged, nw02 refuses both. Runs last: it moves
    nw01's address for a while, and puts it back."""
    victim, peer, attacker = (f"{LAB}-{h}" for h in ("nw01", "nw02", "nw03"))
    address = ADDRESS["nw01"]
    route = outer_docker("exec", victim, "ip", "route", "show", "default").strip()
    remote_ts = re.search(r"paddock-nw01 \{.*?remote_ts = (\S+)", outer_docker(
        "exec", peer, "cat", "/etc/swanctl/conf.d/paddock.conf"), re.S).group(1)
    key, cert = forged_certificate(address)
    put(attacker, "/etc/swanctl/private/forged.pem", key)
    put(attacker, "/etc/swanctl/x509/forged.pem", cert)
    put(attacker, "/etc/swanctl/conf.d/forged.conf", "connections {\n" + "".join(
        FORGED.format(name=name, certs=certs, address=address, peer=ADDRESS["nw02"], ts=remote_ts)
        for name, certs in (("own", "paddock-host.pem"), ("made", "forged.pem"))) + "}\n")
    outer_docker("exec", attacker, "swanctl", "--load-all", "--noprompt")
    try:
        outer_docker("exec", victim, "ip", "addr", "del", f"{address}/24", "dev", "eth0")
        outer_docker("exec", attacker, "ip", "addr", "add", f"{address}/32", "dev", "eth0")
        outer_docker("exec", peer, "ip", "neigh", "flush", "dev", "eth0")
        for attempt in ("own", "made"):
            tried = subprocess.run(["docker", "exec", attacker, "timeout", "40", "swanctl", "--initiate", "--child",
                                    f"forged-{attempt}"], capture_output=True, text=True)
            # nw02 answered, and refused the identity: not a network failure.
            assert "received AUTHENTICATION_FAILED notify error" in tried.stdout, (attempt, tried.stdout[-2000:])
            assert "initiate failed" in tried.stdout + tried.stderr, attempt
        assert "forged" not in outer_docker("exec", peer, "swanctl", "--list-sas")
    finally:
        subprocess.run(["docker", "exec", attacker, "sh", "-c",
                        f"ip addr del {address}/32 dev eth0; rm -f /etc/swanctl/conf.d/forged.conf "
                        "/etc/swanctl/private/forged.pem /etc/swanctl/x509/forged.pem; swanctl --load-all --noprompt"],
                       capture_output=True)
        subprocess.run(["docker", "exec", victim, "sh", "-c", f"ip addr add {address}/24 dev eth0; "
                        f"ip route replace {route}"], capture_output=True)
        subprocess.run(["docker", "exec", peer, "ip", "neigh", "flush", "dev", "eth0"], capture_output=True)
    assert all(len(m) == 2 for m in wait_for_mesh(HOSTS, timeout=90).values())
