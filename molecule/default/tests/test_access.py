"""Access control as a user meets it: the engines' TLS API, users' certificates and roles, SSH keys."""

import concurrent.futures
import datetime
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
from labtest import (  # noqa: E402
    PROJECT,
    TEST_IMAGE,
    EditedInventory,
    build_test_image,
    engine_outages,
    failures,
    on_host,
    playbook,
    wait_for,
)

SCENARIO = os.environ.get("MOLECULE_SCENARIO_DIRECTORY", os.path.dirname(os.path.dirname(__file__)))
INVENTORY = os.path.join(SCENARIO, "inventory")
HOSTS = {"mol01": "10.3.1.4", "mol02": "10.3.1.5", "mol03": "10.3.1.7"}
MANAGER = HOSTS["mol01"]
PKI = os.path.expanduser("~/.paddock/paddock-mol-default/pki")
ENVIRONMENT = "paddock-mol-default"


def read(path):
    with open(path) as handle:
        return handle.read()


def docker(context, *args):
    return subprocess.run(["docker", "--context", f"{ENVIRONMENT}-{context}", *args], capture_output=True,
                          text=True, timeout=60)


def docker_with(bundle, *args):
    return subprocess.run(["docker", "--tlsverify", f"--tlscacert={PKI}/ca.pem", f"--tlscert={bundle}/cert.pem",
                           f"--tlskey={bundle}/key.pem", "-H", f"tcp://{MANAGER}:2376", *args],
                          capture_output=True, text=True, timeout=60)


def api_context(cert=None, key=None):
    """A TLS client context for the engines' API: the environment's CA, and a client certificate."""
    context = ssl.create_default_context(cafile=f"{PKI}/ca.pem")
    context.check_hostname = False
    if cert:
        context.load_cert_chain(cert, key)
    return context


def handshake(address, cert=None, key=None):
    """None when a TLS session with the engine's API is set up (and /version answered), else why not."""
    context = api_context(cert, key)
    try:
        with socket.create_connection((address, 2376), timeout=5) as raw, \
                context.wrap_socket(raw, server_hostname=address) as tls:
            tls.sendall(b"GET /version HTTP/1.0\r\n\r\n")
            answer = tls.recv(4096)
            return None if answer.startswith(b"HTTP/1.0 200") else answer[:100]
    except (ssl.SSLError, OSError) as exc:
        return repr(exc)


def test_without_a_client_certificate_the_api_is_refused():
    bundle = f"{PKI}/users/alice"
    for address in HOSTS.values():
        # The engine answers a client with a certificate, so a refusal below is the TLS API's own.
        assert handshake(address, f"{bundle}/cert.pem", f"{bundle}/key.pem") is None
        refused = handshake(address)
        assert refused is not None and refused.startswith("SSLError") and "CERTIFICATE" in refused.upper(), refused


def test_a_certificate_from_another_environments_ca_is_refused(tmp_path):
    now = datetime.datetime.now(datetime.UTC)

    def issue(subject, issuer, key, issuer_key, ca):
        builder = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
                   .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if not ca:
            builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, user_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    issue("Paddock other CA", "Paddock other CA", ca_key, ca_key, True)
    # The same user name as a real admin of this environment, signed by the other one's CA.
    cert = issue("alice", "Paddock other CA", user_key, ca_key, False)
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(user_key.private_bytes(serialization.Encoding.PEM,
                                                              serialization.PrivateFormat.PKCS8,
                                                              serialization.NoEncryption()))
    assert handshake(MANAGER, tmp_path / "cert.pem", tmp_path / "key.pem") is not None
    run = docker_with(str(tmp_path), "node", "ls")
    assert run.returncode != 0 and "certificate" in run.stderr.lower(), run.stderr


def test_a_users_bundle_and_context_run_docker_node_ls():
    assert sorted(os.listdir(f"{PKI}/users/alice")) == ["ca.pem", "cert.pem", "key.pem"]
    assert oct(os.stat(f"{PKI}/users/alice/key.pem").st_mode & 0o777) == "0o600"
    assert handshake(MANAGER, f"{PKI}/users/alice/cert.pem", f"{PKI}/users/alice/key.pem") is None
    run = docker("alice", "node", "ls", "--format", "{{.Hostname}} {{.Status}}")
    assert run.returncode == 0, run.stderr
    assert sorted(run.stdout.split("\n")[:-1]) == ["mol01 Ready", "mol02 Ready", "mol03 Ready"]


def test_roles_are_enforced_by_the_authorization_plugin():
    assert docker("bob", "node", "ls").returncode == 0
    denied = docker("bob", "network", "create", "--driver", "overlay", "bob-net")
    assert denied.returncode != 0
    assert "authorization denied by plugin paddock-authz: user bob (read-only) may not POST" in denied.stderr
    member = docker("carol", "network", "create", "--driver", "overlay", "carol-net")
    assert member.returncode == 0, member.stderr
    assert docker("carol", "network", "rm", "carol-net").returncode == 0
    demote = docker("carol", "node", "update", "--availability", "active", "mol02")
    assert "user carol (member) may not POST /nodes/" in demote.stderr, demote.stderr


def raw_request(user, method, target, body=None, raw=None, address=MANAGER):
    """A request exactly as written (no client normalises it) with a user's bundle: (status, text).
    ``raw``: the body's bytes as sent, where ``body`` is JSON made here."""
    bundle = f"{PKI}/users/{user}"
    context = api_context(f"{bundle}/cert.pem", f"{bundle}/key.pem")
    connection = http.client.HTTPSConnection(address, 2376, timeout=20, context=context)
    payload = raw if raw is not None else json.dumps(body).encode() if body is not None else None
    connection.request(method, target, body=payload, headers={"Content-Type": "application/json"})
    answer = connection.getresponse()
    return answer.status, answer.read().decode(errors="replace")


def test_read_only_reads_no_join_token_no_files_and_no_container_stream():
    build_test_image(INVENTORY, "mol01")
    container = on_host(INVENTORY, "mol01", f"docker run -d --rm {TEST_IMAGE} sleep 300")
    try:
        for method, target in [("GET", "/v1.41/swarm"), ("GET", f"/v1.41/containers/{container}/archive?path=/etc"),
                               ("GET", f"/v1.41/containers/{container}/export"),
                               ("GET", f"/v1.41/containers/{container}/attach/ws?stdin=1&stream=1"),
                               ("POST", f"/v1.41/containers/{container}/exec"),
                               ("GET", f"/v1.41/images/get?names={TEST_IMAGE}")]:
            status, text = raw_request("bob", method, target, {"Cmd": ["id"]} if method == "POST" else None)
            assert status == 403 and "user bob (read-only) may not" in text, (method, target, status, text)
            assert "SWMTKN" not in text
        assert docker("bob", "service", "ls").returncode == 0
        assert docker("bob", "container", "inspect", container).returncode == 0  # metadata stays readable
    finally:
        on_host(INVENTORY, "mol01", f"docker rm -f {container} >/dev/null")


@pytest.mark.parametrize(("args", "refusal"), [
    (["run", "--rm", "-v", "/:/host", TEST_IMAGE, "true"], "may not bind-mount host path /"),
    (["run", "--rm", "--privileged", TEST_IMAGE, "true"], "may not run a privileged container"),
    (["run", "--rm", "--pid", "host", TEST_IMAGE, "true"],
     "may not use the host's namespace (HostConfig.PidMode host)"),
    (["run", "--rm", "--network", "host", TEST_IMAGE, "true"],
     "may not use the host's namespace (HostConfig.NetworkMode host)"),
    (["run", "--rm", "--cap-add", "SYS_ADMIN", TEST_IMAGE, "true"], "may not add capabilities SYS_ADMIN"),
    (["run", "--rm", "--device", "/dev/kmsg", TEST_IMAGE, "true"], "may not give a container the host's devices"),
    (["service", "create", "--detach", "--name", "escape", "--mode", "global", "--mount",
      "type=bind,src=/,dst=/host", TEST_IMAGE], "may not bind-mount host path /"),
    (["service", "create", "--detach", "--name", "escape", "--network", "host", TEST_IMAGE],
     "may not attach a service to the host's network"),
], ids=["bind /", "privileged", "pid host", "network host", "cap SYS_ADMIN", "device", "global service bind /",
        "service on host network"])
def test_a_member_gets_nothing_that_reaches_the_host(args, refusal):
    build_test_image(INVENTORY, "paddock")
    run = docker("carol", *args)
    assert run.returncode != 0
    assert f"user carol (member) {refusal}" in run.stderr, run.stderr


@pytest.mark.parametrize("target", ["/v1.41/%6Eodes/{node}/update?version={version}",
                                    "/v1.41/swarm%2Fupdate?version={swarm}",
                                    "http://mol01:2376/v1.41/nodes/{node}/update?version={version}",
                                    "/v1.41//services/../nodes/{node}/update?version={version}"])
def test_a_member_cannot_reach_the_swarm_by_writing_the_path_another_way(target):
    node = json.loads(on_host(INVENTORY, "mol01", "docker node inspect mol02 --format '{{json .}}'"))
    swarm = on_host(INVENTORY, "mol01", "docker info --format '{{.Swarm.Cluster.Meta.Version.Index}}'")
    spec = dict(node["Spec"], Labels={**(node["Spec"].get("Labels") or {}), "pwned": "yes"})
    status, text = raw_request("carol", "POST", target.format(node=node["ID"], version=node["Version"]["Index"],
                                                              swarm=swarm), spec)
    # Refused by the plugin, or (a path with dot segments) redirected by the engine's router unrouted.
    assert status == 403 and "user carol (member) may not POST" in text or status == 301, (status, text)
    assert "pwned" not in on_host(INVENTORY, "mol01", "docker node inspect mol02 --format '{{json .Spec.Labels}}'")


# The findings of issue 31 (a member's body spelled as Go reads it, not as the policy read it)
# and their variants: each refused, naming the field, and nothing made.
SPELLED = [
    ('{"Image": "IMAGE", "HostConfig": {"privileged": true}}',
     "may not run a privileged container (HostConfig.Privileged)"),
    ('{"Image": "IMAGE", "HostConfig": {"binds": ["/:/host"]}}', "may not bind-mount host path /"),
    ('{"Image": "IMAGE", "HOSTCONFIG": {"Privileged": true, "Binds": ["/:/host"]}}',
     "may not run a privileged container"),
    ('{"Image": "IMAGE", "HostConfig": {"Bind\u017f": ["/:/host"]}}', "may not bind-mount host path /"),
    ('{"Image": "IMAGE", "hostconfig": {"capadd": "SYS_ADMIN"}}', "may not add capabilities SYS_ADMIN"),
    ('{"Image": "IMAGE", "Privileged": true, "Binds": ["/:/host"]}',
     "Privileged: a HostConfig field at the top of the body"),
    ('{"Image": "IMAGE", "HostConfig": {"Privileged": false, "privileged": true}}',
     "HostConfig.privileged: the engine reads it as Privileged, which is also given as 'Privileged'"),
    ('{"Image": "IMAGE", "HostConfig": {"Privileged": true}} {"ignored": 1}', "data after its JSON value"),
]


@pytest.mark.parametrize(("body", "refusal"), SPELLED, ids=[
    "privileged lower case", "binds lower case", "HOSTCONFIG upper case", "long s", "capadd as a string",
    "at the top", "given twice", "data after"])
def test_a_members_body_is_judged_as_the_engine_reads_it_and_refused_naming_the_field(body, refusal):
    build_test_image(INVENTORY, "mol01")
    name = f"spelled-{abs(hash(body)) % 10 ** 8}"
    raw = body.replace("IMAGE", TEST_IMAGE).encode()
    status, text = raw_request("carol", "POST", f"/v1.41/containers/create?name={name}", raw=raw)
    assert status == 403 and "user carol (member) may not" in text and refusal in text, (status, text)
    assert on_host(INVENTORY, "mol01", f"docker ps -aq --filter name=^{name}$") == ""


@pytest.mark.parametrize("mount", ['{"type": "bind", "source": "/", "target": "/host"}',
                                   '{"source": "/", "target": "/host"}',
                                   '{"Type": "BIND", "Source": "/", "Target": "/h"}'],
                         ids=["lower case", "no type (the swarm's zero value is a bind)", "BIND"])
def test_a_members_service_mounting_the_hosts_root_is_refused_however_it_is_written(mount):
    body = ('{"name": "spelled", "tasktemplate": {"containerspec": {"image": "IMAGE", "mounts": [MOUNT]}}}'
            .replace("IMAGE", TEST_IMAGE).replace("MOUNT", mount))
    status, text = raw_request("carol", "POST", "/v1.41/services/create", raw=body.encode())
    assert status == 403 and "may not bind-mount host path /" in text, (status, text)
    assert on_host(INVENTORY, "mol01", "docker service ls -q --filter name=spelled") == ""


def test_a_body_over_1_mib_is_refused_with_an_answer_that_says_why(tmp_path):
    """The engine hands an authorization plugin no body past 1 MiB: the plugin refuses the call,
    and the docker CLI reads why. (The engine closes the connection without reading such a body:
    a client that writes all of it before reading, as Python's http.client does, may see the
    connection reset instead; the CLI and curl read the answer.)"""
    env = tmp_path / "big.env"
    env.write_text("\n".join(f"V{index}={'x' * 60000}" for index in range(20)))  # 1.2 MB of environment
    run = docker("carol", "run", "--rm", "--name", "oversized", "--env-file", str(env), TEST_IMAGE, "true")
    assert run.returncode != 0
    assert "user carol (member) may not POST /containers/create without a body the plugin was given" in run.stderr, \
        run.stderr[-500:]
    assert on_host(INVENTORY, "mol01", "docker ps -aq --filter name=^oversized$") == ""


def test_a_member_execs_into_its_own_container():
    build_test_image(INVENTORY, "paddock")
    started = docker("carol", "run", "-d", "--name", "carol-exec", TEST_IMAGE, "sleep", "300")
    try:
        assert started.returncode == 0, started.stderr
        ran = docker("carol", "exec", "carol-exec", "sh", "-c", "echo from inside")
        assert (ran.returncode, ran.stdout.strip()) == (0, "from inside"), ran.stderr
    finally:
        docker("carol", "rm", "-f", "carol-exec")


def test_a_member_deploys_a_stack_with_a_named_volume_scales_it_and_reads_its_logs(tmp_path):
    build_test_image(INVENTORY, "paddock")
    compose = tmp_path / "stack.yml"
    compose.write_text(f"""version: "3.8"
services:
  web:
    image: {TEST_IMAGE}
    command: ["sh", "-c", "echo started; date > /data/started; sleep 86400"]
    deploy: {{replicas: 2, endpoint_mode: dnsrr}}
    volumes: [data:/data]
volumes:
  data: {{}}
""")
    try:
        deployed = docker("carol", "stack", "deploy", "-c", str(compose), "carolstack")
        assert deployed.returncode == 0, deployed.stderr
        scaled = docker("carol", "service", "scale", "-d", "carolstack_web=3")
        assert scaled.returncode == 0, scaled.stderr
        assert wait_for(lambda: "started" in docker("carol", "service", "logs", "carolstack_web").stdout, 60)
        assert docker("carol", "service", "inspect", "carolstack_web", "--format",
                      "{{.Spec.Mode.Replicated.Replicas}}").stdout.strip() == "3"
    finally:
        docker("carol", "stack", "rm", "carolstack")


def test_fifty_concurrent_api_calls_all_get_their_answer_from_the_plugin():
    """dockerd asks the plugin once per call, all at once: none may fail to reach it."""
    calls = [("bob", "GET", "/v1.41/containers/json"), ("carol", "GET", "/v1.41/services"),
             ("carol", "POST", "/v1.41/swarm/leave")] * 17
    with concurrent.futures.ThreadPoolExecutor(len(calls)) as pool:
        answers = list(pool.map(lambda call: raw_request(*call), calls))
    assert [status for status, _ in answers] == [200, 200, 403] * 17, [a for a in answers if a[0] not in (200, 403)]
    assert all("may not POST /swarm/leave" in text for status, text in answers if status == 403)


def test_every_engine_serves_only_tls_on_2376_and_nothing_on_2375():
    for host, address in HOSTS.items():
        with socket.socket() as probe:
            probe.settimeout(3)
            assert probe.connect_ex((address, 2375)) != 0, f"{host}: 2375 is open"
        with socket.create_connection((address, 2376), timeout=3) as plain:
            plain.sendall(b"GET /version HTTP/1.0\r\n\r\n")
            answer = plain.recv(4096)
        assert b"Client sent an HTTP request to an HTTPS server" in answer, (host, answer)


@pytest.fixture
def carol_edited():
    inventory = EditedInventory(INVENTORY)
    key_dir = tempfile.mkdtemp(prefix="paddock-carol-")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{key_dir}/id"], check=True)
    yield inventory, key_dir
    inventory.remove()
    shutil.rmtree(key_dir)
    # The next test's rotation converges the scenario's own inventory again (carol listed).


def ssh(key, address):
    return subprocess.run(["ssh", "-i", key, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                           "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                           f"root@{address}", "hostname"], capture_output=True, text=True, timeout=30)


def join_token():
    run = docker("alice", "swarm", "join-token", "-q", "worker")
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def test_a_removed_user_loses_the_api_and_ssh_on_the_next_run(carol_edited):
    """carol (a member) and dave (an admin, who could read the join tokens) are added, then removed."""
    inventory, key_dir = carol_edited
    with open(f"{key_dir}/id.pub") as handle:
        public = handle.read().strip()
    users = inventory.group("paddock")["vars"]["paddock_users"]
    users[2]["ssh_authorized_keys"] = [public]
    users.append({"name": "dave", "role": "admin"})
    run = playbook(inventory.save(), os.path.join(PROJECT, "site.yml"))
    assert run.returncode == 0, failures(run.stdout)
    assert "Rotated the swarm join tokens" not in run.stdout
    token = join_token()
    assert ssh(f"{key_dir}/id", MANAGER).stdout.strip() == "mol01"
    kept = tempfile.mkdtemp(prefix="paddock-carol-bundle-")
    shutil.copytree(f"{PKI}/users/carol", kept, dirs_exist_ok=True)
    assert docker_with(kept, "node", "ls").returncode == 0

    del users[2:]
    run = playbook(inventory.save(), os.path.join(PROJECT, "site.yml"))
    assert run.returncode == 0, failures(run.stdout)
    said = " ".join(run.stdout.split())  # as the run prints it, folded over lines
    assert "Rotated the swarm join tokens: dave, who could read them, is no longer an admin" in said
    rotated = join_token()
    assert rotated != token and token not in run.stdout and rotated not in run.stdout
    refused = docker_with(kept, "node", "ls")
    shutil.rmtree(kept)
    assert refused.returncode != 0
    assert "user carol has no access to this environment" in refused.stderr, refused.stderr
    assert not os.path.exists(f"{PKI}/users/carol")
    assert f"{ENVIRONMENT}-carol" not in subprocess.run(["docker", "context", "ls", "-q"], capture_output=True,
                                                        text=True).stdout.split()
    for address in HOSTS.values():
        assert ssh(f"{key_dir}/id", address).returncode != 0
    assert docker("alice", "node", "ls").returncode == 0


def test_rotating_the_certificates_retires_the_old_ones():
    kept = tempfile.mkdtemp(prefix="paddock-alice-bundle-")
    shutil.copytree(f"{PKI}/users/alice", kept, dirs_exist_ok=True)
    before = read(f"{PKI}/hosts/mol01/cert.pem")
    run = playbook(INVENTORY, os.path.join(PROJECT, "playbooks", "rotate_secrets.yml"), "-e", "rotate=certificates")
    assert run.returncode == 0, failures(run.stdout)
    assert read(f"{PKI}/hosts/mol01/cert.pem") != before
    old = docker_with(kept, "node", "ls")
    shutil.rmtree(kept)
    # Signed by the same CA, but no longer the certificate alice holds: refused.
    assert old.returncode != 0
    assert "user alice presented a certificate this environment no longer issues to them" in old.stderr, old.stderr
    assert docker("alice", "node", "ls").returncode == 0


def served(address):
    """The certificate an engine's TLS API serves now."""
    context = api_context(f"{PKI}/users/alice/cert.pem", f"{PKI}/users/alice/key.pem")
    with socket.create_connection((address, 2376), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname=address) as tls:
        return x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))


def expire_soon(path, days):
    """Issue the certificate at ``path`` again as the CA would, with its key, subject and
    extensions, but ending in ``days`` days: what the controller holds when its end is near."""
    with open(f"{PKI}/ca-key.pem", "rb") as handle:
        ca_key = serialization.load_pem_private_key(handle.read(), None)
    with open(path, "rb") as handle:
        cert = x509.load_pem_x509_certificate(handle.read())
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(cert.subject).issuer_name(cert.issuer)
               .public_key(cert.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=800))
               .not_valid_after(now + datetime.timedelta(days=days)))
    for extension in cert.extensions:
        builder = builder.add_extension(extension.value, extension.critical)
    with open(path, "wb") as handle:
        handle.write(builder.sign(ca_key, hashes.SHA384()).public_bytes(serialization.Encoding.PEM))


def test_an_engine_certificate_about_to_expire_is_renewed_by_site_yml_one_drained_engine_at_a_time():
    """site.yml issues again what expires within pki_renew_days (30): with each engine's
    certificate 20 days from its end on the controller, each engine then serves a new one from
    the same CA for its full 825 days, restarted one at a time and drained first, so that no task
    of a service is killed by its engine stopping."""
    build_test_image(INVENTORY, "mol02:mol03")
    tasks = "docker service ps renewal --format '{{.Node}} {{.CurrentState}}|{{.Error}}'"
    on_host(INVENTORY, "mol01", f"docker service create -d --name renewal --replicas 2 "
                                f"--constraint node.role==worker {TEST_IMAGE} >/dev/null")
    try:
        assert wait_for(lambda: on_host(INVENTORY, "mol01", tasks).count("Running") == 2, timeout=60), \
            on_host(INVENTORY, "mol01", tasks)
        before = {host: served(address).serial_number for host, address in HOSTS.items()}
        for host in HOSTS:
            expire_soon(f"{PKI}/hosts/{host}/cert.pem", 20)
        outages_before = engine_outages(INVENTORY, "paddock")
        run = playbook(INVENTORY, os.path.join(PROJECT, "site.yml"))
        assert run.returncode == 0, failures(run.stdout)
        after = {host: served(address) for host, address in HOSTS.items()}  # verified by the CA
        assert not [host for host in HOSTS if after[host].serial_number == before[host]], (before, after)
        now = datetime.datetime.now(datetime.UTC)
        # For its full lifetime: the next run has nothing to renew (tests/unit/test_pki.py).
        assert all((cert.not_valid_after_utc - now).days >= 820 for cert in after.values()), after
        # Every engine restarted, and each outage (systemd's stop to its start) began only once
        # the one before it had ended.
        outages_after = engine_outages(INVENTORY, "paddock")
        assert not [host for host in HOSTS if outages_after[host][1] == outages_before[host][1]], outages_after
        outages = sorted(outages_after.values())
        assert all(back <= stop for (_, back), (stop, _) in zip(outages, outages[1:], strict=False)), outages
        # Drained first: Swarm shut each task down and started another; none failed with its engine.
        history = on_host(INVENTORY, "mol01", tasks).splitlines()
        assert not [line for line in history if not line.endswith("|") or " Failed" in line or " Rejected" in line], \
            history
        assert wait_for(lambda: on_host(INVENTORY, "mol01", tasks).count("Running") == 2, timeout=60), history
    finally:
        on_host(INVENTORY, "mol01", "docker service rm renewal >/dev/null 2>&1 || true")
