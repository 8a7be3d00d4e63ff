"""paddock-authz, the engines' authorization plugin: a table of requests by role, with the verdict.

Each row is (role, method, raw request target, body, expected): None when the request is
allowed, else a piece of the refusal the user reads.
"""

import base64
import hashlib
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "roles", "docker", "files"))
import paddock_authz as authz  # noqa: E402

CERT = {"admin": "alice", "member": "carol", "read-only": "bob", "console": "paddock-console-read-only"}
DER = b"a certificate, as DER"
FINGERPRINT = hashlib.sha256(DER).hexdigest()
PEM = f"-----BEGIN CERTIFICATE-----\n{base64.b64encode(DER).decode()}\n-----END CERTIFICATE-----\n"
HOST_NETWORK = "f" * 64
SWARM_HOST_NETWORK = "1bgv7vd5zvcnwedy7aftyv1wq"
V = "/v1.41"


class Policy:
    def __init__(self, allow=None):
        self.data = {"users": {user: {"role": "read-only" if role == "console" else role, "fingerprints": [FINGERPRINT]}
                               for role, user in CERT.items()},
                     "member_allow": allow or {}, "platform_stacks": ["paddock-console"]}

    def roles(self):
        return self.data["users"]

    def read(self):
        return self.data


def request(role, method, uri, body=None):
    out = {"User": CERT[role], "RequestMethod": method, "RequestUri": uri,
           "RequestPeerCertificates": [base64.b64encode(PEM.encode()).decode()]}
    if body is not None:
        out["RequestBody"] = base64.b64encode(json.dumps(body).encode()).decode()
    return out


PLATFORM = {"com.docker.stack.namespace": "paddock-console"}
# What the engine's inspect returns for the objects the cases name (kind -> id -> object).
OBJECTS = {
    "containers": {
        "abc": {"Name": "/abc", "HostConfig": {"NetworkMode": "default"}, "Config": {"Labels": {}}},
        "plain": {"Name": "/plain", "HostConfig": {"Binds": None, "CgroupnsMode": "host", "NetworkMode": "default",
                                                   "IpcMode": "private"},
                  "Mounts": [{"Type": "volume", "Source": "v"}]},
        "rooted": {"Name": "/rooted", "HostConfig": {"Binds": ["/:/host"]},
                   "Mounts": [{"Type": "bind", "Source": "/"}]},
        "privileged": {"Name": "/privileged", "HostConfig": {"Privileged": True}},
        "console1": {"Name": "/paddock-console_console.1.x", "HostConfig": {}, "Config": {"Labels": PLATFORM}},
    },
    "services": {"web": {"Spec": {"Name": "web", "Labels": {}}},
                 "console": {"Spec": {"Labels": dict(PLATFORM, **{"io.paddock.console.own-logs": "true"})}},
                 "audit": {"Spec": {"Labels": PLATFORM}}},
    "tasks": {"t1": {"ServiceID": "web"}, "t2": {"ServiceID": "console"}},
    "secrets": {"s1": {"Spec": {"Name": "db", "Labels": {}}}, "ckey": {"Spec": {"Name": "paddock-console_admin-key",
                                                                                "Labels": PLATFORM}}},
    "configs": {"c1": {"Spec": {"Labels": {}}}, "ccfg": {"Spec": {"Labels": PLATFORM}}},
    "networks": {"n1": {"Labels": {}}, "cnet": {"Labels": PLATFORM}},
}


def lookup(kind, object_id):
    return OBJECTS.get(kind, {}).get(object_id)


def verdict(role, method, uri, body=None, allow=None, raw=None):
    """Why ``role`` is refused this request, or None when it is allowed."""
    req = request(role, method, uri, body)
    if raw is not None:
        req["RequestBody"] = base64.b64encode(raw).decode()
    policy = Policy(allow)
    context = authz.Context(policy.read()["member_allow"], frozenset({HOST_NETWORK, SWARM_HOST_NETWORK}),
                            frozenset(policy.read()["platform_stacks"]), lookup, CERT[role])
    return authz.role_refusal(policy.roles()[CERT[role]]["role"], method, uri, req, context)[1]


READ_ONLY_ALLOWED = [
    ("GET", "/_ping"), ("HEAD", "/_ping"), ("GET", f"{V}/version"), ("GET", f"{V}/info"), ("GET", f"{V}/events"),
    ("GET", f"{V}/system/df"), ("GET", f"{V}/containers/json?all=1"), ("GET", f"{V}/containers/abc/json"),
    ("GET", f"{V}/containers/abc/logs?stdout=1"), ("GET", f"{V}/containers/abc/top"),
    ("GET", f"{V}/containers/abc/stats?stream=0"), ("GET", f"{V}/images/json"),
    ("GET", f"{V}/images/10.3.0.4:5000/apacz:1/json"), ("GET", f"{V}/images/debian:bookworm/history"),
    ("GET", f"{V}/networks"), ("GET", f"{V}/networks/managed"), ("GET", f"{V}/volumes"),
    ("GET", f"{V}/volumes/data"), ("GET", f"{V}/nodes"), ("GET", f"{V}/nodes/xyz"), ("GET", f"{V}/services"),
    ("GET", f"{V}/services/web"), ("GET", f"{V}/services/web/logs?stdout=1"), ("GET", f"{V}/tasks"),
    ("GET", f"{V}/tasks/t1"), ("GET", f"{V}/tasks/t1/logs"), ("GET", f"{V}/secrets"), ("GET", f"{V}/secrets/s1"),
    ("GET", f"{V}/plugins"), ("GET", "/containers/json"), ("GET", "/v1.24/info"),
    ("GET", f"{V}/distribution/debian:bookworm/json"),
]
READ_ONLY_REFUSED = [
    ("GET", f"{V}/swarm"), ("GET", f"{V}/swarm/unlockkey"), ("GET", f"{V}/containers/abc/attach/ws?stdin=1&stream=1"),
    ("POST", f"{V}/containers/abc/attach?stdin=1"), ("POST", f"{V}/containers/abc/exec"),
    ("POST", f"{V}/exec/e1/start"), ("GET", f"{V}/containers/abc/archive?path=/etc/shadow"),
    ("HEAD", f"{V}/containers/abc/archive?path=/etc/shadow"), ("PUT", f"{V}/containers/abc/archive?path=/"),
    ("GET", f"{V}/containers/abc/export"), ("GET", f"{V}/images/get?names=apacz"),
    ("GET", f"{V}/images/apacz:1/get"), ("GET", f"{V}/configs"), ("GET", f"{V}/configs/c1"),
    ("POST", f"{V}/containers/create"), ("POST", f"{V}/containers/abc/start"), ("DELETE", f"{V}/containers/abc"),
    ("POST", f"{V}/networks/create"), ("POST", f"{V}/services/create"), ("POST", f"{V}/services/web/update"),
    ("POST", f"{V}/nodes/xyz/update"), ("POST", f"{V}/swarm/update"), ("POST", f"{V}/images/create"),
    ("POST", f"{V}/build"), ("DELETE", f"{V}/images/apacz:1"), ("POST", f"{V}/volumes/create"),
    ("POST", f"{V}/plugins/pull"), ("POST", f"{V}/session"), ("GET", f"{V}/unknown"), ("GET", f"{V}/"),
    ("PUT", f"{V}/info"), ("GET", f"{V}/containers/abc/json/../../../swarm"),
]
MEMBER_ALLOWED = [
    ("POST", f"{V}/containers/abc/start"), ("POST", f"{V}/containers/abc/stop"), ("POST", f"{V}/containers/abc/kill"),
    ("POST", f"{V}/containers/abc/wait"), ("DELETE", f"{V}/containers/abc?force=1"), ("POST", f"{V}/containers/prune"),
    ("POST", f"{V}/exec/e1/start"), ("POST", f"{V}/images/create?fromImage=debian&tag=12"),
    ("POST", f"{V}/images/apacz:1/tag?repo=apacz&tag=2"), ("DELETE", f"{V}/images/apacz:1"),
    ("POST", f"{V}/images/prune"), ("POST", f"{V}/build?t=x"),
    ("DELETE", f"{V}/networks/n1"), ("DELETE", f"{V}/volumes/v1"), ("DELETE", f"{V}/services/web"),
    ("DELETE", f"{V}/secrets/s1"),
    ("GET", f"{V}/configs"), ("GET", f"{V}/configs/c1"), ("POST", f"{V}/auth"), ("GET", f"{V}/images/get?names=a"),
]
MEMBER_REFUSED = [
    ("GET", f"{V}/swarm"), ("POST", f"{V}/swarm/update?rotateWorkerToken=true"), ("POST", f"{V}/swarm/leave"),
    ("POST", f"{V}/swarm/init"), ("POST", f"{V}/swarm/join"), ("GET", f"{V}/swarm/unlockkey"),
    ("POST", f"{V}/swarm/unlock"), ("POST", f"{V}/nodes/xyz/update?version=3"), ("DELETE", f"{V}/nodes/xyz"),
    ("POST", f"{V}/plugins/pull?remote=x"), ("POST", f"{V}/plugins/p/enable"), ("POST", f"{V}/plugins/create"),
    ("DELETE", f"{V}/plugins/p"), ("POST", f"{V}/session"), ("POST", f"{V}/grpc"),
    # the encodings and forms that went past the old plugin's regular expression
    ("POST", f"{V}/%6Eodes/xyz/update"), ("POST", f"{V}/swarm%2Fupdate"), ("POST", f"{V}/n%6fdes/xyz/update"),
    ("POST", f"http://10.3.0.4:2376{V}/nodes/xyz/update"), ("POST", f"//{V[1:]}/nodes/xyz/update"),
    ("POST", f"{V}//nodes/xyz/update"), ("POST", f"{V}/services/../nodes/xyz/update"),
    ("POST", f"{V}/./nodes/xyz/update"), ("POST", "/nodes/xyz/update"), ("POST", f"{V}/NODES/xyz/update"),
    ("GET", f"{V}/%73warm"), ("POST", f"{V}/containers/abc/../../swarm/leave"),
    # no push: the registry host's engine reaches the registry's push instance on loopback
    ("POST", f"{V}/images/127.0.0.1:5001/apacz/push?tag=1"), ("POST", f"{V}/images/localhost:5001/a/push"),
    ("POST", f"{V}/images/10.3.0.4:5000/apacz/push?tag=1"), ("POST", f"{V}/images/apacz/push"),
]


@pytest.mark.parametrize(("method", "uri"), READ_ONLY_ALLOWED)
def test_read_only_reads_metadata(method, uri):
    assert verdict("read-only", method, uri) is None


@pytest.mark.parametrize(("method", "uri"), READ_ONLY_REFUSED)
def test_read_only_is_refused_tokens_content_and_every_change(method, uri):
    assert verdict("read-only", method, uri) is not None


@pytest.mark.parametrize(("method", "uri"), MEMBER_ALLOWED)
def test_a_member_runs_workloads(method, uri):
    assert verdict("member", method, uri) is None


@pytest.mark.parametrize(("method", "uri"), MEMBER_REFUSED)
def test_a_member_may_not_touch_the_swarm_its_nodes_or_plugins_however_the_path_is_written(method, uri):
    assert verdict("member", method, uri) is not None


@pytest.mark.parametrize(("method", "uri"), READ_ONLY_REFUSED + MEMBER_REFUSED)
def test_an_admin_may_do_everything(method, uri):
    assert verdict("admin", method, uri) is None


SAFE_CONTAINER = {"Image": "apacz:1", "HostConfig": {"Binds": ["data:/var/www"], "PortBindings": {
    "80/tcp": [{"HostPort": "8080"}]}, "Mounts": [{"Type": "volume", "Source": "v", "Target": "/v"},
                                                   {"Type": "tmpfs", "Target": "/tmp"}],
    "SecurityOpt": ["no-new-privileges"], "CapDrop": ["ALL"]}}
CONTAINER_CASES = [
    ({}, None),
    ({"HostConfig": {"Binds": ["/:/host"]}}, "may not bind-mount host path /"),
    ({"HostConfig": {"Binds": ["/etc/docker/tls:/x:ro"]}}, "may not bind-mount host path /etc/docker/tls"),
    ({"HostConfig": {"Mounts": [{"Type": "bind", "Source": "/var/run/docker.sock", "Target": "/s"}]}},
     "may not bind-mount host path /var/run/docker.sock"),
    ({"HostConfig": {"Privileged": True}}, "may not run a privileged container"),
    ({"HostConfig": {"PidMode": "host"}}, "host's namespace (HostConfig.PidMode host)"),
    ({"HostConfig": {"NetworkMode": "host"}}, "host's namespace (HostConfig.NetworkMode host)"),
    ({"HostConfig": {"NetworkMode": HOST_NETWORK}}, "host's namespace (HostConfig.NetworkMode host)"),
    ({"HostConfig": {"IpcMode": "host"}}, "host's namespace (HostConfig.IpcMode host)"),
    ({"HostConfig": {"UTSMode": "host"}}, "(HostConfig.UTSMode host)"),
    ({"HostConfig": {"UsernsMode": "host"}}, "(HostConfig.UsernsMode host)"),
    ({"HostConfig": {"CgroupnsMode": "host"}}, None),  # the default on cgroup v1 engines
    ({"HostConfig": {"NetworkMode": "container:abc"}}, "may not join another container's namespace"),
    ({"HostConfig": {"PidMode": "container:abc"}}, "may not join another container's namespace"),
    ({"HostConfig": {"VolumesFrom": ["abc"]}}, "may not take another container's volumes"),
    ({"HostConfig": {"CapAdd": ["SYS_ADMIN"]}}, "may not add capabilities SYS_ADMIN"),
    ({"HostConfig": {"CapAdd": ["CAP_NET_ADMIN", "SYS_PTRACE"]}}, "may not add capabilities NET_ADMIN, SYS_PTRACE"),
    # Not in the engine's API (20.10): refused, as any key the engine would ignore.
    ({"HostConfig": {"Capabilities": ["CAP_SYS_ADMIN"]}}, "HostConfig.Capabilities: no such field"),
    ({"HostConfig": {"Devices": [{"PathOnHost": "/dev/sda"}]}}, "host's devices"),
    ({"HostConfig": {"DeviceCgroupRules": ["b 8:* rmw"]}}, "host's devices"),
    ({"HostConfig": {"DeviceRequests": [{"Count": -1}]}}, "host's devices"),
    ({"HostConfig": {"SecurityOpt": ["seccomp=unconfined"]}}, "may not run unconfined"),
    ({"HostConfig": {"SecurityOpt": ["apparmor:unconfined"]}}, "may not run unconfined"),
    ({"HostConfig": {"SecurityOpt": ["label=disable"]}}, "may not run unconfined"),
    ({"HostConfig": {"SecurityOpt": ["systempaths=unconfined"]}}, "may not run unconfined"),
    ({"HostConfig": {"Sysctls": {"kernel.core_pattern": "|/x"}}}, "may not set sysctls kernel.core_pattern"),
    ({"HostConfig": {"Sysctls": {"net.ipv4.ip_unprivileged_port_start": "0"}}}, None),
    ({"HostConfig": {"CgroupParent": "/"}}, "cgroup parent"),
    ({"HostConfig": {"Runtime": "io.containerd.runsc.v1"}}, "may not choose the runtime"),
    ({"NetworkingConfig": {"EndpointsConfig": {"host": {}}}}, "host's network"),
    ({"HostConfig": {"Mounts": [{"Type": "volume", "Source": "x", "Target": "/x", "VolumeOptions": {
        "DriverConfig": {"Name": "local", "Options": {"type": "none", "o": "bind", "device": "/"}}}}]}},
     "binds a host path"),
    ({"HostConfig": {"Mounts": [{"Type": "npipe", "Source": "x", "Target": "/x"}]}}, "may not mount a npipe"),
    (SAFE_CONTAINER, None),
    # Read as the engine reads them (Go's encoding/json): a key matches its field in any case.
    ({"HostConfig": {"privileged": True}}, "may not run a privileged container (HostConfig.Privileged)"),
    ({"HostConfig": {"binds": ["/:/host"]}}, "may not bind-mount host path /"),
    ({"HOSTCONFIG": {"Privileged": True, "Binds": ["/:/host"]}}, "may not run a privileged container"),
    ({"hostconfig": {"capadd": "SYS_ADMIN"}}, "may not add capabilities SYS_ADMIN"),  # a string is a list of it
    ({"HostConfig": {"Bind\u017f": ["/:/host"]}}, "may not bind-mount host path /"),  # long s is s
    ({"Privileged": True}, "a HostConfig field at the top of the body"),  # the engine's old clients' place
    ({"HostConfig": {"Privileged": False, "privileged": True}}, "the engine reads it as Privileged, which is also"),
    ({"HostConfig": {"Privilegd": True}}, "HostConfig.Privilegd: no such field"),
    ({"HostConfig": {"Privileged": 1}}, "HostConfig.Privileged: the engine reads true or false here"),
    ({"HostConfig": {"Priv\u0131leged": True}}, "no such field"),  # dotless i is no i, to Go
]


@pytest.mark.parametrize(("body", "expected"), CONTAINER_CASES)
def test_a_members_container_is_checked_for_what_reaches_the_host(body, expected):
    why = verdict("member", "POST", f"{V}/containers/create?name=x", body)
    assert why == expected if expected is None else expected in why


SERVICE = {"Name": "web", "TaskTemplate": {"ContainerSpec": {"Image": "apacz:1", "Mounts": [
    {"Type": "volume", "Source": "data", "Target": "/data"}]}, "Networks": [{"Target": "walkthrough_default"}]},
    "Mode": {"Replicated": {"Replicas": 4}}}


def service(**spec):
    body = json.loads(json.dumps(SERVICE))
    body["TaskTemplate"]["ContainerSpec"].update(spec.pop("container", {}))
    body["TaskTemplate"].update(spec)
    return body


SERVICE_CASES = [
    (SERVICE, None),
    (service(container={"Mounts": [{"Type": "bind", "Source": "/", "Target": "/host"}]}),
     "may not bind-mount host path /"),
    (service(container={"Mounts": [{"Type": "bind", "Source": "/srv/data/app", "Target": "/d"}]}), None),
    # Found by the differential test: the swarm reads a mount's type in any case, and none as a bind.
    (service(container={"Mounts": [{"Source": "/", "Target": "/host"}]}), "may not bind-mount host path /"),
    (service(container={"Mounts": [{"Type": "", "Source": "/etc", "Target": "/e"}]}),
     "may not bind-mount host path /etc"),
    (service(container={"Mounts": [{"Type": "BIND", "Source": "/", "Target": "/host"}]}),
     "may not bind-mount host path /"),
    (service(container={"CapabilityAdd": ["SYS_ADMIN"]}), "may not add capabilities SYS_ADMIN"),
    (service(container={"CapabilityAdd": ["NET_ADMIN"]}), None),
    (service(container={"Privileges": {"SELinuxContext": {"Disable": True}}}), "unconfined"),
    (service(container={"Privileges": {"Seccomp": {"Mode": "unconfined"}}}), "Privileges.Seccomp: no such field"),
    (service(container={"Privileges": {"AppArmor": {"Mode": "disabled"}}}), "Privileges.AppArmor: no such field"),
    (service(container={"privileges": {"selinuxcontext": {"disable": True}}}), "unconfined"),
    ({"name": "web", "tasktemplate": {"containerspec": {"image": "a", "mounts": [{"type": "bind", "source": "/"}]}}},
     "may not bind-mount host path /"),
    (service(container={"Sysctls": {"net.core.somaxconn": "1"}}), "may not set sysctls net.core.somaxconn"),
    (service(Networks=[{"Target": "host"}]), "host's network"),
    (service(Networks=[{"Target": HOST_NETWORK}]), "host's network"),
    (service(Networks=[{"Target": SWARM_HOST_NETWORK}]), "host's network"),
    (service(PluginSpec={"Name": "x"}, Runtime="plugin"), "may not run a plugin"),
    (service(container={"Mounts": [{"Type": "volume", "Source": "x", "Target": "/x", "VolumeOptions": {
        "DriverConfig": {"Options": {"o": "bind", "device": "/etc"}}}}]}), "binds a host path"),
]


@pytest.mark.parametrize(("body", "expected"), SERVICE_CASES)
def test_a_members_service_is_checked_on_create_and_update_alike(body, expected):
    allow = {"host_paths": ["/srv/data"], "capabilities": ["NET_ADMIN"]}
    for uri in (f"{V}/services/create", f"{V}/services/web/update?version=7"):
        why = verdict("member", "POST", uri, body, allow=allow)
        assert why == expected if expected is None else expected in why


OTHER_BODIES = [
    ("POST", f"{V}/volumes/create", {"Name": "v", "Driver": "local"}, None),
    ("POST", f"{V}/volumes/create", {"Name": "v", "DriverOpts": {"type": "none", "o": "bind", "device": "/"}},
     "binds a host path"),
    ("POST", f"{V}/volumes/create", {"Name": "v", "DriverOpts": {"type": "tmpfs", "device": "tmpfs"}}, None),
    ("POST", f"{V}/volumes/create", {"Name": "v", "DriverOpts": {"type": "ext4", "device": "/dev/sda1"}},
     "binds a host path"),
    ("POST", f"{V}/networks/create", {"Name": "n", "Driver": "overlay", "Attachable": True}, None),
    ("POST", f"{V}/networks/create", {"Name": "n", "Driver": "macvlan", "Options": {"parent": "eth0"}},
     "may not create a macvlan network"),
    ("POST", f"{V}/networks/create", {"Name": "n", "Driver": "ipvlan"}, "may not create a ipvlan network"),
    ("POST", f"{V}/networks/create", {"Name": "n", "Options": {"com.docker.network.bridge.name": "managed0"}},
     "bridge or configuration of the host's"),
    ("POST", f"{V}/networks/create", {"Name": "n", "ConfigFrom": {"Network": "managed-config"}},
     "bridge or configuration of the host's"),
    ("POST", f"{V}/containers/abc/exec", {"Cmd": ["sh"], "AttachStdin": True}, None),
    ("POST", f"{V}/containers/abc/exec", {"Cmd": ["sh"], "Privileged": True}, "privileged exec"),
    ("POST", f"{V}/containers/abc/update", {"Memory": 1000000}, None),
    ("POST", f"{V}/containers/abc/update", {"Devices": [{"PathOnHost": "/dev/mem"}]}, "host's devices"),
    ("POST", f"{V}/networks/n1/connect", {"Container": "abc"}, None),
    ("POST", f"{V}/build?networkmode=host&t=x", None, "may not build with the host's network"),
    ("POST", f"{V}/secrets/create", {"Name": "db", "Data": "eA=="}, None),
    ("POST", f"{V}/configs/create", {"Name": "site", "Data": "eA==", "Labels": {"app": "web"}}, None),
]


@pytest.mark.parametrize(("method", "uri", "body", "expected"), OTHER_BODIES)
def test_volumes_networks_exec_updates_and_builds_are_checked(method, uri, body, expected):
    why = verdict("member", method, uri, body)
    assert why == expected if expected is None else expected in why


@pytest.mark.parametrize("uri", [f"{V}/containers/create", f"{V}/services/create", f"{V}/services/web/update",
                                 f"{V}/volumes/create", f"{V}/networks/create", f"{V}/containers/abc/exec"])
def test_a_body_carrying_route_without_its_body_is_refused(uri):
    assert "without a body the plugin was given" in verdict("member", "POST", uri)


@pytest.mark.parametrize(("raw", "expected"), [
    (b"{not json", "the body is not JSON"),
    (b"[]", "the body is not a JSON object"),
    (b'{"Image": "x"} {"HostConfig": {"Privileged": true}}', "data after its JSON value"),
    (b'{"Image": "x", "Image": "y"}', "Image: given twice"),
    (b'{"Image": "\xff"}', "not UTF-8"),
    (b'{"Image": "\\ud800"}', "unpaired surrogate"),
    (b'{"HostConfig": {"Memory": NaN}}', "NaN is not JSON"),
])
def test_a_body_the_engine_would_read_otherwise_than_it_reads_is_refused_with_where(raw, expected):
    assert expected in verdict("member", "POST", f"{V}/containers/create", raw=raw)


PLATFORM_CASES = [
    ("member", "POST", f"{V}/services/console/update?version=3", service(), "may not change the services of the "
     "platform's stack paddock-console"),
    ("member", "DELETE", f"{V}/services/console", None, "the platform's stack paddock-console"),
    ("member", "POST", f"{V}/services/create", service(container={"Secrets": [{"SecretID": "ckey", "SecretName":
     "paddock-console_admin-key", "File": {"Name": "k"}}]}), "may not mount a secret of the platform's stack"),
    ("member", "POST", f"{V}/services/create", service(container={"Secrets": [{"SecretID": "s1", "SecretName": "db"}]}),
     None),
    ("member", "POST", f"{V}/services/create", service(container={"Configs": [{"ConfigID": "ccfg"}]}),
     "may not mount a config of the platform's stack"),
    ("member", "POST", f"{V}/services/create", service(container={"Secrets": [{"SecretID": "gone"}]}),
     "which the plugin cannot inspect"),
    ("member", "POST", f"{V}/services/create", dict(service(), Labels=PLATFORM), "may not label a service as"),
    ("member", "DELETE", f"{V}/secrets/ckey", None, "the platform's stack"),
    ("member", "DELETE", f"{V}/secrets/s1", None, None),
    ("member", "POST", f"{V}/configs/ccfg/update?version=1", {"Name": "x", "Labels": PLATFORM}, "the platform's stack"),
    ("member", "POST", f"{V}/secrets/create", {"Name": "x", "Labels": PLATFORM, "Data": "eA=="}, "may not label"),
    ("member", "DELETE", f"{V}/networks/cnet", None, "the platform's stack"),
    ("member", "POST", f"{V}/containers/console1/exec", {"Cmd": ["sh"]}, "may not reach into container"),
    ("read-only", "GET", f"{V}/services/console/logs?stdout=1", None, "the platform's stack"),
    ("read-only", "GET", f"{V}/tasks/t2/logs?stdout=1", None, "the platform's stack"),
    ("read-only", "GET", f"{V}/containers/console1/logs?stdout=1", None, "the platform's stack"),
    ("read-only", "GET", f"{V}/services/web/logs?stdout=1", None, None),
    ("read-only", "GET", f"{V}/services/console", None, None),  # its specification: metadata, as any service's
    ("console", "GET", f"{V}/services/console/logs?stdout=1", None, None),  # the console reads its actions back
    ("console", "GET", f"{V}/services/audit/logs?stdout=1", None, "may not read the logs of the services of the "
     "platform's stack"),  # every host's trail: an admin's, through the console too
]


@pytest.mark.parametrize(("role", "method", "uri", "body", "expected"), PLATFORM_CASES)
def test_the_platforms_own_stack_is_the_admins_alone(role, method, uri, body, expected):
    why = verdict(role, method, uri, body)
    assert why == expected if expected is None else expected in why

TARGET_CASES = [
    ("POST", f"{V}/containers/plain/attach?stream=1&stdin=1", None),
    ("GET", f"{V}/containers/plain/archive?path=/etc", None),
    ("POST", f"{V}/containers/rooted/attach?stream=1&stdin=1",
     "may not reach into container rooted: it may not bind-mount host path /"),
    ("GET", f"{V}/containers/rooted/attach/ws?stdin=1", "may not reach into container rooted"),
    ("GET", f"{V}/containers/rooted/archive?path=/host/etc/shadow", "may not reach into container rooted"),
    ("PUT", f"{V}/containers/privileged/archive?path=/", "may not reach into container privileged"),
    ("GET", f"{V}/containers/privileged/export", "may not reach into container privileged"),
    ("GET", f"{V}/containers/gone/export", "cannot inspect"),
]


@pytest.mark.parametrize(("method", "uri", "expected"), TARGET_CASES)
def test_a_member_may_not_reach_into_a_container_that_holds_the_host(method, uri, expected):
    why = verdict("member", method, uri)
    assert why == expected if expected is None else expected in why


def test_the_decoded_path_is_what_the_router_matches():
    assert authz.route_path(f"{V}/%6Eodes/x/update") == ("/nodes/x/update", {})
    assert authz.route_path(f"{V}/swarm%2Fupdate?x=1") == ("/swarm/update", {"x": ["1"]})
    assert authz.route_path(f"http://host:2376{V}/nodes/x/update")[0] == "/nodes/x/update"
    assert authz.route_path(f"//{V[1:]}//nodes/./x/../x/update")[0] == "/nodes/x/update"


def test_a_refusal_names_what_the_environment_allows():
    policy = Policy({"host_paths": ["/srv/data"]})
    req = request("member", "POST", f"{V}/containers/create", {"HostConfig": {"Binds": ["/:/h"]}})
    assert authz.refusal(policy, req, frozenset({HOST_NETWORK}), lookup)[2] == \
        "user carol (member) may not bind-mount host path / (this environment allows: /srv/data)"


def test_an_unknown_user_a_stale_certificate_and_a_broken_body_are_refused():
    policy = Policy()
    req = request("member", "GET", f"{V}/info")
    assert authz.refusal(policy, req) == ("member", "member: GET /(version|info|events|system/df)", None)
    other = dict(req, RequestPeerCertificates=[base64.b64encode(PEM.replace("YSBj", "eHh4").encode()).decode()])
    assert "presented a certificate this environment no longer issues" in authz.refusal(policy, other)[2]
    stranger = dict(req, User="mallory")
    assert authz.refusal(policy, stranger) == (None, "no such user", "user mallory has no access to this environment")
    assert authz.refusal(policy, dict(req, User="")) == (None, "unix socket", None)  # root on the host
    broken = dict(req, RequestBody=base64.b64encode(b"{not json").decode(), RequestMethod="POST",
                  RequestUri=f"{V}/containers/create")
    allowed, why, role, rule = authz.decide(policy, broken)
    assert (allowed, role, rule) == (False, "member", "member: POST /containers/create") and "not JSON" in why


def test_each_call_is_recorded_once_as_decided_and_once_as_answered_and_a_refusal_with_why(tmp_path):
    from ansible_collections.paddock.platform.plugins.module_utils._trail import read

    policy, path = Policy(), str(tmp_path / "api-audit.log")
    recorder = authz.Recorder(policy, path)
    allowed = dict(request("member", "POST", f"{V}/containers/abc/start"),
                   RequestHeaders={"User-Agent": "docker/28", "X-Paddock-On-Behalf-Of": "mallory"})
    recorder.requested(allowed, *authz.decide(policy, allowed, lookup=lookup))
    recorder.answered(dict(allowed, ResponseStatusCode=204))
    console = dict(request("console", "GET", f"{V}/services"), RequestHeaders={"X-Paddock-On-Behalf-Of": "dave"})
    recorder.requested(console, *authz.decide(policy, console, lookup=lookup))
    denied = request("read-only", "POST", f"{V}/%6Eodes/n1/update")
    recorder.requested(denied, *authz.decide(policy, denied, lookup=lookup))
    recorder.answered(dict(denied, ResponseStatusCode=200))  # never asked by dockerd: nothing pending matches
    found = read(path, 8)
    assert found["problems"] == []
    rows = [{k: r.get(k) for k in ("stage", "user", "role", "method", "path", "decision", "status", "on_behalf_of")}
            for r in found["records"]]
    assert rows == [
        {"stage": "request", "user": "carol", "role": "member", "method": "POST", "path": "/containers/abc/start",
         "decision": "allow", "status": None, "on_behalf_of": None},  # a header from a person is not believed
        {"stage": "response", "user": "carol", "role": "member", "method": "POST", "path": "/containers/abc/start",
         "decision": None, "status": 204, "on_behalf_of": None},
        {"stage": "request", "user": "paddock-console-read-only", "role": "read-only", "method": "GET",
         "path": "/services", "decision": "allow", "status": None, "on_behalf_of": "dave"},
        {"stage": "request", "user": "bob", "role": "read-only", "method": "POST", "path": "/nodes/n1/update",
         "decision": "deny", "status": 403, "on_behalf_of": None}]
    assert found["records"][0]["id"] == found["records"][1]["id"]
    assert found["records"][0]["rule"] == "member: POST /containers/{ID}/(start|stop|restart|kill|pause|unpause|" \
                                          "wait|rename|resize)".replace("{ID}", "[^/]+")
    assert found["records"][3]["reason"] == "user bob (read-only) may not POST /nodes/n1/update"
    assert "RequestBody" not in json.dumps(found["records"]) and FINGERPRINT[:16] == found["records"][0]["fingerprint"]


def test_a_call_whose_record_cannot_be_written_is_refused(tmp_path):
    (tmp_path / "paddock").write_text("a file where the trail's directory should be")
    handler = authz.Handler.__new__(authz.Handler)
    handler.recorder = authz.Recorder(Policy(), str(tmp_path / "paddock" / "api-audit.log"))
    handler.policy = Policy()
    authz.Handler.host_networks = frozenset({HOST_NETWORK})
    answer = handler.authorize(request("admin", "GET", f"{V}/info"))
    assert answer == {"Allow": False, "Msg": "refused: the engine's audit trail cannot be written (ask an admin)"}
    assert handler.authorize(dict(request("admin", "GET", f"{V}/info"), User="")) == {"Allow": True}  # root's socket


def test_the_inventorys_member_allowances_are_checked_before_any_host_is_touched():
    from ansible_collections.paddock.platform.plugins.filter.access import member_allow_errors

    assert member_allow_errors({"host_paths": ["/srv/data"], "capabilities": ["NET_ADMIN"]}) == []
    assert member_allow_errors(None) == []
    assert member_allow_errors({"host_paths": ["/", "data"], "capabilities": ["CAP_SYS_ADMIN", "net_admin"],
                                "devices": []}) == [
        "inventory: paddock_member_allow.devices: unknown key (known: capabilities, host_paths)",
        "inventory: paddock_member_allow.host_paths[0]: must be an absolute path other than /, got '/'",
        "inventory: paddock_member_allow.host_paths[1]: must be an absolute path other than /, got 'data'",
        "inventory: paddock_member_allow.capabilities[0]: must be a capability name such as NET_ADMIN, "
        "got 'CAP_SYS_ADMIN'",
        "inventory: paddock_member_allow.capabilities[1]: must be a capability name such as NET_ADMIN, "
        "got 'net_admin'",
    ]


KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICH2pUohk3CPGwgrM1MJc6jPRRmQCnSrejg4R93njSYJ alice@laptop"


def test_the_inventorys_users_are_checked_key_by_key_before_any_host_is_touched():
    from ansible_collections.paddock.platform.plugins.filter.access import users_errors

    assert users_errors([{"name": "alice", "role": "admin", "ssh_authorized_keys": [KEY]}]) == []
    assert users_errors([
        {"name": "alice", "role": "admin", "ssh_authorized_keys": ["ssh-ed25519 notakey!!", KEY + "\n" + KEY, 7]},
        {"name": "Bob", "role": "root", "shell": "/bin/sh"},
        {"name": "alice", "role": "member", "ssh_authorized_keys": KEY},
    ]) == [
        "inventory: paddock_users[0].ssh_authorized_keys[0]: not an SSH public key: bad base64",
        "inventory: paddock_users[0].ssh_authorized_keys[1]: not an SSH public key: a line break (a second key "
        "would ride along): one key per entry",
        "inventory: paddock_users[0].ssh_authorized_keys[2]: not an SSH public key: not a string",
        "inventory: paddock_users[1].shell: unknown key (known: name, password_hash, role, ssh_authorized_keys)",
        "inventory: paddock_users[1].name: must be a lower-case user name (letters, digits, . _ -), got 'Bob'",
        "inventory: paddock_users[1].role: must be one of admin, member, read-only, got 'root'",
        "inventory: paddock_users[2].name: alice is already listed as paddock_users[0]",
        "inventory: paddock_users[2].ssh_authorized_keys: must be a list of public keys (ssh-ed25519 AAAA...)",
    ]


def test_every_check_the_policy_names_is_one_function_of_the_call_and_each_is_used():
    named = {check for table in (authz.ADMIN, authz.READ_ONLY, authz.MEMBER) for _, _, checks in table
             for check in checks}
    assert named == set(authz.CHECKS)
    assert set(authz.ROUTES) == {"admin", "member", "read-only"}  # admin is a row of the table like the others
    from ansible_collections.paddock.platform.plugins.module_utils._engine_types import ROOTS
    assert {check for check in named if check in ROOTS} == set(ROOTS)
