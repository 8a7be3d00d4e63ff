# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection.
"""Rancher 1.x stacks on Swarm: docker-compose.yml + rancher-compose.yml -> a Swarm stack.

``render`` runs on the controller. It validates both files (every problem, each as
``file: key.path: problem``), then translates them into one compose file of format 3.8 that
``docker stack deploy`` takes, plus the HAProxy configuration of each load balancer:

- ``scale`` becomes ``deploy.replicas``; ``io.rancher.scheduler.global`` becomes global mode;
  ``io.rancher.scheduler.affinity:host_label[_ne]`` becomes placement constraints; a service's
  anti-affinity to itself becomes ``max_replicas_per_node: 1``.
- ``upgrade_strategy`` becomes ``update_config`` (``start_first`` -> ``order: start-first``).
- ``links`` become network aliases on the stack's network; a ``rancher/dns-service`` alias
  service becomes an alias on its targets.
- A service with ``lb_config.port_rules`` (Rancher's ``rancher/lb-service-haproxy``) becomes
  Paddock's load balancer: HAProxy on the chosen hosts' ports, finding its targets' tasks through
  Swarm DNS (``tasks.<stack>_<service>``), so scaling a target needs no change to it.
- Without IPVS (``ipvs: false``) services use ``endpoint_mode: dnsrr`` and host-mode ports,
  because VIPs and the ingress mesh need IPVS.

What has no Swarm equivalent is reported as a warning naming the key, never dropped silently.
The result's ``hash`` covers everything deployed; the deploy step compares it with the hash
recorded on the running services, because ``docker stack deploy`` itself is not idempotent.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re

from ansible_collections.paddock.platform.plugins.module_utils import _stack_secrets
from ansible_collections.paddock.platform.plugins.module_utils._problems import as_text, key_path
from ansible_collections.paddock.platform.plugins.module_utils._stack_schema import (
    COMPOSE_SCHEMA,
    RANCHER_SCHEMA,
    schema_errors,
)

HASH_LABEL = "io.paddock.stack.hash"
# What a service's files say, on the service itself, so that a view of the swarm (the console)
# tells a change made outside the files (a scale, another image) from what the code deployed.
FILES_REPLICAS_LABEL = "io.paddock.files.replicas"
FILES_IMAGE_LABEL = "io.paddock.files.image"
LB_LABEL = "io.paddock.lb"
LB_RULES_LABEL = "io.paddock.lb.rules"
LEGACY_LB_IMAGE = "rancher/load-balancer-service"  # Rancher 1.0 and 1.1's, mapped onto Paddock's
LB_IMAGES = ("rancher/lb-service-haproxy", LEGACY_LB_IMAGE)
ALIAS_IMAGE = "rancher/dns-service"
UNSUPPORTED_IMAGES = {"rancher/external-service": "external services (external_ips or a hostname)"}
LEGACY_TARGET_LABEL = "io.rancher.loadbalancer.target."
NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
STACK_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

# Keys Swarm ignores or cannot do, and why. Each is reported as a warning naming the key.
UNMAPPED = {
    "build": "Swarm does not build; build and push it with playbooks/images.yml, then name the image",
    "dockerfile": "Swarm does not build; build and push it with playbooks/images.yml, then name the image",
    "container_name": "Swarm names each task itself",
    "volumes_from": "Swarm cannot share one task's volumes with another (only a service of the same stack's "
                    "volumes map, as named volumes)",
    "depends_on": "Swarm starts services in any order; make the service retry its dependencies",
    "privileged": "Swarm services cannot be privileged",
    "devices": "Swarm services cannot map devices",
    "cpu_shares": "Swarm has no CPU shares; use deploy.resources",
    "cpu_quota": "Swarm has no CPU quota; use deploy.resources.limits.cpus",
    "cpuset": "Swarm services cannot pin CPUs", "mem_swappiness": "not supported by Swarm",
    "memswap_limit": "not supported by Swarm",
    "external_links": "link across stacks by the stack network name <service>.<stack>_default instead",
    "network_mode": "Swarm services use the stack's network, or the host's (net: host)",
    "net": "Swarm services use the stack's network, or the host's (net: host)",
    "ipc": "not supported by Swarm", "pid": "not supported by Swarm", "security_opt": "not supported by Swarm",
    "userns_mode": "not supported by Swarm", "cgroup_parent": "not supported by Swarm",
    "mac_address": "not supported by Swarm", "oom_kill_disable": "not supported by Swarm",
    "oom_score_adj": "not supported by Swarm", "cpu_count": "not supported by Swarm",
    "cpu_percent": "not supported by Swarm", "cpu_period": "not supported by Swarm",
    "runtime": "not supported by Swarm",
    "storage_opt": "not supported by Swarm", "blkio_config": "not supported by Swarm",
    "device_cgroup_rules": "not supported by Swarm", "shm_size": "not supported by Swarm",
    "extends": "not supported by docker stack deploy; merge the files first", "group_add": "not supported by Swarm",
    "pids_limit": "not supported by Swarm", "platform": "not supported by Swarm",
}
# Keys that compose 3.8 takes as they are.
PASSTHROUGH = ("image", "command", "entrypoint", "environment", "env_file", "labels", "expose", "volumes",
               "stop_signal", "stop_grace_period", "hostname", "domainname", "user", "working_dir", "dns",
               "dns_search", "extra_hosts", "cap_add", "cap_drop", "read_only", "tty", "stdin_open", "init",
               "ulimits", "sysctls", "tmpfs", "logging", "healthcheck", "deploy", "secrets", "configs",
               "isolation", "credential_spec")
RANCHER_UNMAPPED = {
    "retain_ip": "Swarm gives a replaced task a new address; reach services by name",
    "metadata": "there is no metadata service; pass values as environment variables",
    "scale_policy": "Swarm has no autoscaling", "service_schemas": "not supported",
    "external_ips": "external services are not supported", "hostname": "external services are not supported",
    "load_balancer_config": "the v1.0/1.1 load balancer's HAProxy settings are not carried over (its ports, "
                            "expose, links and target labels are)",
    "certs": "only a load balancer serves certificates (lb_config.certs)",
    "default_cert": "only a load balancer serves certificates (lb_config.default_cert)",
    "vcpu": "virtual machines are not supported", "memory": "virtual machines are not supported",
    "userdata": "virtual machines are not supported", "disks": "virtual machines are not supported",
}
SCHEDULER = "io.rancher.scheduler."
LABELS_WARNED = {
    "io.rancher.sidekicks": "sidekicks are deployed as services of their own; Swarm cannot co-schedule them",
    "io.rancher.container.start_once": "Swarm restarts tasks that exit; set restart: 'no' instead",
    "io.rancher.container.requested_ip": "Swarm chooses task addresses",
    "io.rancher.container.network": "put the container on a stack network instead",
    "io.rancher.lb_service.target": "the load balancer balances over every task",
    "io.rancher.container.create_agent": "the container expects Rancher's API keys (CATTLE_*) and there is no "
                                         "Rancher API; what it does with them will not work",
    "io.rancher.container.agent.role": "there is no Rancher API to give the container a role on",
}
# Rancher labels whose behaviour Swarm has by itself: dropped from the service, with no warning.
LABELS_NATIVE = {
    "io.rancher.container.pull_image",  # docker stack deploy resolves the image at every deploy
}
HOSTNAME_OVERRIDE = "io.rancher.container.hostname_override"
# The name a stack gives Docker's "host" network (net: host), declared external.
HOST_NETWORK = "hostnet"
# Rancher's container_name, stack-service-N, as a Swarm template: the service's name and the task's slot.
TASK_HOSTNAME = "{{.Service.Name}}-{{.Task.Slot}}"
# A port rule's protocol -> HAProxy's mode for it. https and tls terminate TLS with the
# inventory's certificates (paddock_certificates) that lb_config names.
PROTOCOL_MODES = {"http": "http", "https": "http", "tcp": "tcp", "tls": "tcp"}
TLS_PROTOCOLS = ("https", "tls")
# The certificates an LB serves, in its directory; the first of crt-list is the default.
LB_CERT_DIR = "/etc/paddock-lb/certs"
# TLS 1.2 and later with forward secrecy and AEAD ciphers only (Mozilla's "intermediate").
TLS_CIPHERS = ("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
               "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305")
TLS_CIPHERSUITES = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"


class Stack:
    """The result of rendering one stack: errors, warnings, the Swarm compose and LB configs."""

    def __init__(self, name, compose_file, rancher_file):
        self.name = name
        self.compose_file = compose_file
        self.rancher_file = rancher_file
        self.errors = []
        self.warnings = []
        self.compose = None
        self.secret_files = {}
        # Files of the Swarm configs the compose file names as ./NAME.configs/KEY (load
        # balancers' files where no host files are written: ctx lb_run_script).
        self.config_files = {}
        self.lbs = []
        self.services = {}
        self.rancher = {}
        self.hash = None
        # The same, as (file, key path, problem), for callers that add the key's line.
        self.error_at, self.warning_at = [], []
        # (stack, service) that this stack's load balancers send traffic to.
        self.targets = set()

    def error(self, file, parts, problem):
        self.errors.append(f"{file}: {key_path(parts)}: {problem}")
        self.error_at.append((file, list(parts), problem))

    def warn(self, file, parts, problem):
        self.warnings.append(f"{file}: {key_path(parts)}: {problem}")
        self.warning_at.append((file, list(parts), problem))


def _normalise(document):
    """Compose format 1 has its services at the top level; formats 2 and 3 under services. A key
    of a service given as nothing (``links:``) is no key, as docker-compose and Rancher read it."""
    if isinstance(document, dict) and "services" not in document and "version" not in document:
        document, prefix = {"version": "1", "services": document}, ["services"]
    else:
        prefix = []
    services = document.get("services") if isinstance(document, dict) else None
    if isinstance(services, dict):
        document = {**document, "services": {
            name: {k: v for k, v in service.items() if v is not None} if isinstance(service, dict) else service
            for name, service in services.items()}}
    return document, prefix


def _as_map(value, separator="="):
    """Compose's list-or-mapping fields (labels, environment) as a mapping of strings."""
    if isinstance(value, dict):
        return {str(k): "" if v is None else as_text(v) for k, v in value.items()}
    out = {}
    for item in value or []:
        key, _, val = str(item).partition(separator)
        out[key] = val
    return out


def _scale(stack, file, value, where):
    if value is None:
        return None
    if isinstance(value, bool) or not re.fullmatch(r"-?\d+", str(value)):
        stack.error(file, where, f"must be a whole number, got {value!r}")
        return None
    if int(value) < 0:
        stack.error(file, where, f"must not be negative, got {value}")
        return None
    return int(value)


PORT_PROTOCOLS = ("tcp", "udp", "sctp")
PORT_MODES = ("ingress", "host")
_SHORT_PORT = re.compile(r"^(?:(?P<ip>\[[0-9a-fA-F:.]+\]|[0-9.]+):)??(?:(?P<published>\d+(?:-\d+)?)?:)?"
                         r"(?P<target>\d+(?:-\d+)?)(?:/(?P<protocol>[a-z]+))?$")


def _port_range(text):
    low, _, high = str(text).partition("-")
    return list(range(int(low), int(high or low) + 1))


def parse_ports(value):
    """A compose port, short (``[ip:][published:]target[/protocol]``, with ranges) or long syntax,
    as ``([{target, published, protocol, mode}], problem)``; the problem is what Docker's loader
    would refuse, or None."""
    if isinstance(value, dict):
        unknown = sorted(set(value) - {"target", "published", "protocol", "mode"})
        if unknown:
            return [], f"unknown key {unknown[0]!r} (target, published, protocol, mode)"
        target, published = value.get("target"), value.get("published")
        protocol, mode = value.get("protocol", "tcp"), value.get("mode")
        for key, number in (("target", target), ("published", published)):
            if number is not None and (isinstance(number, bool) or not str(number).isdigit()):
                return [], f"{key} must be a port number, got {number!r}"
        if target is None:
            return [], "target is required"
        numbers = [int(target)] + ([int(published)] if published is not None else [])
        entries = [{"target": int(target), "published": int(published) if published is not None else None,
                    "protocol": protocol, "mode": mode}]
    else:
        match = _SHORT_PORT.match(str(value))
        if not match:
            return [], f"not a port mapping ([host ip:][published:]target[/protocol]): {value!r}"
        targets = _port_range(match["target"])
        published = _port_range(match["published"]) if match["published"] else [None] * len(targets)
        if len(published) != len(targets):
            return [], f"the published range and the target range differ in length: {value!r}"
        protocol, mode = match["protocol"] or "tcp", None
        numbers = targets + [p for p in published if p is not None]
        entries = [{"target": t, "published": p, "protocol": protocol, "mode": mode}
                   for t, p in zip(targets, published, strict=True)]
        if match["ip"]:
            entries = [{**e, "host_ip": match["ip"]} for e in entries]
    bad = [n for n in numbers if not 1 <= n <= 65535]
    if bad:
        return [], f"port {bad[0]} is outside 1-65535"
    if protocol not in PORT_PROTOCOLS:
        return [], f"protocol must be one of: {', '.join(PORT_PROTOCOLS)}; got {protocol!r}"
    if mode not in (None,) + PORT_MODES:
        return [], f"mode must be one of: {', '.join(PORT_MODES)}; got {mode!r}"
    return entries, None


def _constraints(stack, where, label, value):
    """io.rancher.scheduler.* labels -> (constraints, max_replicas_per_node, global)."""
    kind = label[len(SCHEDULER):]
    if kind == "global":
        return [], None, str(value).lower() == "true"
    if kind in ("affinity:host_label", "affinity:host_label_ne"):
        op = "!=" if kind.endswith("_ne") else "=="
        pairs = [p.strip() for p in str(value).split(",") if p.strip()]
        return [f"node.labels.{k.strip()}{op}{v.strip()}" for k, _, v in (p.partition("=") for p in pairs)], None, False
    if kind == "affinity:container_label_ne":
        own = {f"io.rancher.stack_service.name={stack.name}/{where[1]}",
               "io.rancher.stack_service.name=$${stack_name}/$${service_name}",
               "io.rancher.stack_service.name=${stack_name}/${service_name}"}
        if str(value).replace(" ", "") in own:
            return [], 1, False
    stack.warn(stack.compose_file, where + ["labels", label],
               "has no Swarm equivalent (only hard host_label rules, global and a service's anti-affinity "
               "to itself map); ignored")
    return [], None, False


def _service_network(service):
    return service.setdefault("networks", {"default": None})


def _translate_service(stack, name, source, rancher, ctx):
    """One service -> its compose 3.8 form, or None when it creates no containers.

    Each step below reads the Rancher and compose keys it maps, writes their Swarm form into
    ``out`` (and its ``deploy``), and warns about what it cannot map, in the file's order."""
    where = ["services", name]
    image = source.get("image", "")
    if image.split(":")[0] in UNSUPPORTED_IMAGES:
        stack.warn(stack.compose_file, where + ["image"],
                   f"{UNSUPPORTED_IMAGES[image.split(':')[0]]} cannot be deployed on Swarm; service skipped")
        return None
    out = _passthrough(source)
    mode_key = "network_mode" if "network_mode" in source else "net"
    host_network = source.get(mode_key) == "host"
    for key in source:
        if key in UNMAPPED and not (key == mode_key and host_network) and key != "volumes_from":
            stack.warn(stack.compose_file, where + [key], f"ignored: {UNMAPPED[key]}")
    if not image:
        stack.error(stack.compose_file, where, "needs an image (Swarm cannot build; see playbooks/images.yml)")
    else:
        out["image"] = ctx.get("image_map", {}).get(image, image)
    deploy = out.setdefault("deploy", {})
    is_global = _labels(stack, where, source, out, deploy)
    _replicas(stack, where, source, rancher, deploy, is_global)
    _mounts(stack, where, source, out)
    _runtime(stack, where, source, out, deploy)
    _upgrades(stack, where, rancher, out, deploy)
    _ports(stack, where, source, ctx, out, deploy)
    _networks(stack, where, source, out, deploy, host_network)
    if not deploy:
        out.pop("deploy")
    return out


def _passthrough(source):
    """The keys compose 3.8 takes as they are, with Rancher's scalars as the text it passed on."""
    out = {key: copy.deepcopy(source[key]) for key in PASSTHROUGH if key in source}
    for key in ("command", "entrypoint"):
        if isinstance(out.get(key), list):  # an argv's numbers as text, as Rancher passed them
            out[key] = [as_text(arg) if isinstance(arg, (bool, int, float)) else arg for arg in out[key]]
    if isinstance(out.get("environment"), dict):
        # Rancher gave a container its environment as text; Docker refuses a YAML boolean there.
        out["environment"] = {k: as_text(v) if isinstance(v, bool) else v for k, v in out["environment"].items()}
    return out


def _labels(stack, where, source, out, deploy):
    """Rancher's labels: scheduling becomes placement (returns whether the service is global),
    hostname_override a task hostname; the others are kept, or warned about."""
    labels = _as_map(source.get("labels"))
    if "labels" in source:
        out["labels"] = labels
    constraints, per_node, is_global = [], None, False
    for label, value in labels.items():
        if label.startswith(SCHEDULER):
            more, limit, glob = _constraints(stack, where, label, value)
            constraints += more
            per_node = limit or per_node
            is_global = is_global or glob
        elif label in LABELS_WARNED:
            stack.warn(stack.compose_file, where + ["labels", label], f"{LABELS_WARNED[label]}")
        elif label == HOSTNAME_OVERRIDE and value == "container_name":
            out.setdefault("hostname", TASK_HOSTNAME)
        elif label.startswith("io.rancher.") and label not in LABELS_NATIVE | {HOSTNAME_OVERRIDE}:
            stack.warn(stack.compose_file, where + ["labels", label],
                       "kept as a plain label: nothing on Swarm acts on Rancher's io.rancher labels")
    for label in LABELS_NATIVE | {HOSTNAME_OVERRIDE}:
        if label in out.get("labels", {}) and (label != HOSTNAME_OVERRIDE or out.get("hostname") == TASK_HOSTNAME):
            del out["labels"][label]
    if "labels" in out and not out["labels"]:
        del out["labels"]
    placement = deploy.setdefault("placement", {})
    if constraints:
        placement["constraints"] = placement.get("constraints", []) + constraints
    if per_node:
        placement["max_replicas_per_node"] = per_node
    if not placement:
        deploy.pop("placement")
    return is_global


def _replicas(stack, where, source, rancher, deploy, is_global):
    """scale (rancher-compose.yml's, else compose 1's), global, and start_on_create."""
    scale = _scale(stack, stack.rancher_file, rancher.get("scale"), where + ["scale"]) if "scale" in rancher else None
    if scale is None and "scale" in source:
        scale = _scale(stack, stack.compose_file, source["scale"], where + ["scale"])
    if is_global:
        deploy["mode"] = "global"
        if "scale" in rancher:
            stack.warn(stack.rancher_file, where + ["scale"], "ignored: a global service runs one task per host")
        if rancher.get("start_on_create") is False:
            stack.warn(stack.rancher_file, where + ["start_on_create"],
                       "ignored: a global service starts on every host it may run on")
    elif rancher.get("start_on_create") is False:
        # Created and not started, as Rancher left it: no task until it is scaled up.
        deploy["replicas"] = 0
    elif scale is not None:
        deploy["replicas"] = scale


def _mounts(stack, where, source, out):
    """Secrets' and configs' modes as numbers; a host path relative to the stack is refused."""
    for key in ("secrets", "configs"):
        for item in out.get(key) or []:
            mode = item.get("mode") if isinstance(item, dict) else None
            if isinstance(mode, str) and re.fullmatch(r"0?[0-7]{3}", mode):
                item["mode"] = int(mode, 8)  # Docker wants the number; '0444' is octal text
    for index, volume in enumerate(source.get("volumes") or []):
        host = str(volume).split(":")[0] if not isinstance(volume, dict) else volume.get("source") or ""
        if host.startswith((".", "~")) or ("/" in host and not host.startswith(("/", "$"))):
            stack.error(stack.compose_file, where + ["volumes", index],
                        f"'{host}' is a host path relative to the stack's files, but tasks run on any node; give "
                        "an absolute path that exists on every node, or a named volume")


def _runtime(stack, where, source, out, deploy):
    """restart, memory and CPU limits, and compose 1's logging keys."""
    restart = source.get("restart")
    if restart:
        condition = {"no": "none", "always": "any", "unless-stopped": "any"}.get(
            restart, "on-failure" if restart.startswith("on-failure") else None)
        if condition is None:
            stack.error(stack.compose_file, where + ["restart"],
                        f"must be no, always, unless-stopped or on-failure, got '{restart}'")
        else:
            deploy.setdefault("restart_policy", {"condition": condition})
    if "mem_limit" in source:
        deploy.setdefault("resources", {}).setdefault("limits", {})["memory"] = str(source["mem_limit"])
    if "mem_reservation" in source:
        deploy.setdefault("resources", {}).setdefault("reservations", {})["memory"] = str(source["mem_reservation"])
    if "cpus" in source:
        deploy.setdefault("resources", {}).setdefault("limits", {})["cpus"] = str(source["cpus"])
    if "log_driver" in source:
        out["logging"] = {"driver": source["log_driver"], "options": source.get("log_opt", {})}


def _upgrades(stack, where, rancher, out, deploy):
    """rancher-compose.yml's upgrade_strategy and drain timeout; its keys Swarm has no use for."""
    strategy = rancher.get("upgrade_strategy") or {}
    if strategy:
        update = deploy.setdefault("update_config", {})
        if strategy.get("start_first"):
            update["order"] = "start-first"
        if "batch_size" in strategy:
            update["parallelism"] = strategy["batch_size"]
        if "interval_millis" in strategy:
            update["delay"] = f"{strategy['interval_millis']}ms"
    if "drain_timeout_ms" in rancher:
        out.setdefault("stop_grace_period", f"{rancher['drain_timeout_ms']}ms")
    for key in rancher:
        if key in RANCHER_UNMAPPED:
            stack.warn(stack.rancher_file, where + [key], f"ignored: {RANCHER_UNMAPPED[key]}")


def _ports(stack, where, source, ctx, out, deploy):
    """Published ports: the ingress mesh with IPVS, else host mode beside DNS round robin."""
    ports = []
    for index, port in enumerate(source.get("ports") or []):
        parsed, problem = parse_ports(port)
        if problem:
            stack.error(stack.compose_file, where + ["ports", index], problem)
        for one in parsed:
            if one.get("host_ip"):
                stack.warn(stack.compose_file, where + ["ports", index],
                           f"the host address {one['host_ip']} is ignored: Swarm publishes on every address")
            entry = {"target": one["target"], "protocol": one["protocol"]}
            if one["published"]:
                entry["published"] = one["published"]
            # A port without a published one gets a random host port, as in docker-compose; in
            # host mode when the stack has no virtual IPs (ingress mode refuses dnsrr).
            entry["mode"] = one["mode"] or ("ingress" if ctx.get("ipvs") else "host")
            ports.append(entry)
    if ports:
        out["ports"] = ports
    if not ctx.get("ipvs") and not any(p.get("mode") == "ingress" for p in ports):
        deploy.setdefault("endpoint_mode", "dnsrr")


def _networks(stack, where, source, out, deploy, host_network):
    """The service's networks; Rancher's net: host as Docker's host network, its only one."""
    networks = source.get("networks")
    if host_network:
        out["networks"] = {HOST_NETWORK: None}
        if out.pop("ports", None):
            stack.warn(stack.compose_file, where + ["ports"],
                       "ignored: the service uses the host's network, so it listens on the host's ports itself")
        deploy.pop("endpoint_mode", None)
    elif networks is not None:
        out["networks"] = networks if isinstance(networks, dict) else {n: None for n in networks}


def _links(stack, name, source, services):
    """links: [target:alias] -> the alias on the target's default network."""
    for index, link in enumerate(source.get("links") or []):
        target, _, alias = str(link).partition(":")
        if "/" in target:
            stack.warn(stack.compose_file, ["services", name, "links", index],
                       "a link into another stack is not supported; use <service>.<stack>_default")
            continue
        if target not in services:
            stack.error(stack.compose_file, ["services", name, "links", index],
                        f"links to service '{target}', which is not in this stack")
            continue
        if services[target] is None or not alias or alias == target:
            continue
        if HOST_NETWORK in (services[target].get("networks") or {}):
            stack.warn(stack.compose_file, ["services", name, "links", index],
                       f"the alias '{alias}' is lost: '{target}' uses the host's network, which has no aliases; "
                       "reach it by its node's address")
            continue
        nets = _service_network(services[target])
        first = "default" if "default" in nets else next(iter(nets))
        entry = nets.get(first) or {}
        entry["aliases"] = sorted(set(entry.get("aliases", [])) | {alias})
        nets[first] = entry


def _rule_order(rule):
    """Rancher's rule order: priority first, then host+path, host, wildcard+path, wildcard, path, default."""
    host, path = rule.get("hostname") or "", rule.get("path") or ""
    wildcard = "*" in host
    rank = (0 if host and not wildcard and path else 1 if host and not wildcard else 2 if wildcard and path
            else 3 if wildcard else 4 if path else 5)
    return (0 if "priority" in rule else 1, rule.get("priority", 0), rank)


def _sanitise(text):
    return re.sub(r"[^A-Za-z0-9]", "_", text)


_SELECTOR_TERM = re.compile(r"^\s*(?:(?P<not>!)?(?P<exists>[\w./-]+)"
                            r"|(?P<key>[\w./-]+)\s*(?P<op>!=|==|=)\s*(?P<value>[^,()\s]*)"
                            r"|(?P<set_key>[\w./-]+)\s+(?P<set_op>in|notin)\s*\((?P<values>[^()]*)\))\s*$")


def _selector_matches(selector, labels):
    """Whether ``labels`` satisfy Rancher's label selector, or (None, problem) for one it cannot read.
    Terms are comma-separated and all must hold: ``key``, ``!key``, ``key=value``, ``key!=value``,
    ``key in (a, b)``, ``key notin (a, b)``."""
    terms = re.split(r",(?![^()]*\))", selector)
    for term in terms:
        match = _SELECTOR_TERM.match(term)
        if not match:
            return None, f"cannot read the term {term.strip()!r} (key, !key, key=value, key!=value, " \
                         "key in (a, b), key notin (a, b))"
        if match["exists"]:
            holds = (match["exists"] in labels) != bool(match["not"])
        elif match["key"]:
            holds = (labels.get(match["key"]) == match["value"]) == (match["op"] != "!=")
        else:
            values = {v.strip() for v in match["values"].split(",") if v.strip()}
            holds = (labels.get(match["set_key"]) in values) == (match["set_op"] == "in")
        if not holds:
            return False, None
    return True, None


def _expand_selectors(stack, name, port_rules, where, ctx):
    """(index, rule) for each port rule; a ``selector`` rule becomes one rule for each service whose
    labels it selects, in this stack or another the inventory deploys (ctx ``service_labels``:
    stack -> service -> labels), as Rancher searched its environment. A ``container`` rule is refused."""
    candidates = [(service, source.get("labels")) for service, source in stack.services.items()
                  if service != name and isinstance(source, dict)]
    for other, services in sorted((ctx.get("service_labels") or {}).items()):
        if other != stack.name:
            candidates += [(f"{other}/{service}", labels) for service, labels in sorted(services.items())]
    for index, rule in enumerate(port_rules):
        at = where + [index]
        if not isinstance(rule, dict) or "service" in rule:
            yield index, rule
            continue
        if "container" in rule:
            stack.error(stack.rancher_file, at + ["container"], "a rule that targets a container is not supported: "
                        "Swarm gives a task no fixed name; target the container's service instead")
            continue
        if "selector" not in rule:
            yield index, rule
            continue
        selected = []
        for service, labels in candidates:
            matched, problem = _selector_matches(str(rule["selector"]), _as_map(labels))
            if problem:
                stack.error(stack.rancher_file, at + ["selector"], problem)
                break
            if matched:
                selected.append(service)
        else:
            if not selected:
                stack.error(stack.rancher_file, at + ["selector"],
                            f"selects no service of stack '{stack.name}' or of the other stacks the inventory deploys")
            for service in selected:
                yield index, {**{k: v for k, v in rule.items() if k != "selector"}, "service": service}


# The console (roles/console) runs on the managers' own network, not on a stack network: a load
# balancer reaches it at the managers' addresses (ctx ``console``: its port and those addresses),
# and passes its TLS through (the console serves its own HTTPS, with the environment's CA).
CONSOLE_TARGET = "paddock-console/console"


def _console_servers(rule, protocol, ctx):
    """(addresses, None) of the console's managers for a rule that targets it, or (None,
    (key, problem))."""
    console = ctx.get("console")
    if not console:
        return None, ("service", "the console is not enabled (paddock_console_enabled)")
    if protocol != "tcp":
        return None, ("protocol", "the console serves its own HTTPS: route it with protocol tcp, which passes "
                                  "its TLS through")
    if str(rule["target_port"]) != str(console["port"]):
        return None, ("target_port", f"the console listens on {console['port']} (paddock_console_port), "
                                     f"not {rule['target_port']}")
    return list(console.get("servers") or []), None


def _lb_rules(stack, name, rancher, known_targets, ctx):
    """Check an LB's port rules; return them sorted, each with its DNS name and backend name."""
    where = ["services", name, "lb_config", "port_rules"]
    rules, seen, modes = [], {}, {}
    for index, rule in _expand_selectors(stack, name, (rancher.get("lb_config") or {}).get("port_rules") or [], where,
                                         ctx):
        at = where + [index]
        for key in ("source_port", "target_port", "service"):
            if key not in rule:
                stack.error(stack.rancher_file, at, f"missing required key '{key}'")
        if not all(k in rule for k in ("source_port", "target_port", "service")):
            continue
        protocol = rule.get("protocol", "http")
        if protocol not in PROTOCOL_MODES:
            reason = {"sni": "route TLS by its server name with protocol tls and one backend per port, or "
                             "terminate it with https and hostname rules",
                      "udp": "HAProxy balances TCP and HTTP only; publish the service's port instead"}
            stack.error(stack.rancher_file, at + ["protocol"],
                        f"'{protocol}' is not supported by Paddock's load balancer (http, https, tcp or tls)"
                        + (f": {reason[protocol]}" if protocol in reason else ""))
            continue
        target = rule["service"]
        target_stack, _, target_service = target.rpartition("/")
        target_stack = target_stack or stack.name
        servers = None
        if f"{target_stack}/{target_service}" == CONSOLE_TARGET:
            servers, problem = _console_servers(rule, protocol, ctx)
            if problem:
                stack.error(stack.rancher_file, at + [problem[0]], problem[1])
                continue
        elif target_service not in known_targets.get(target_stack, ()):
            where_known = "this stack" if target_stack == stack.name else f"stack '{target_stack}'"
            stack.error(stack.rancher_file, at + ["service"],
                        f"target service '{target}' does not exist in {where_known}")
            continue
        if target_stack == stack.name and target_service == name:
            stack.error(stack.rancher_file, at + ["service"], "a load balancer cannot target itself")
            continue
        source = rule["source_port"]
        if modes.setdefault(source, protocol) != protocol:
            stack.error(stack.rancher_file, at + ["protocol"],
                        f"source port {source} already serves {modes[source]}; one port has one protocol")
            continue
        key = (source, (rule.get("hostname") or "").lower(), rule.get("path") or "")
        if PROTOCOL_MODES[protocol] == "tcp":
            key = (source,)
        backend = rule.get("backend_name") or "_".join(
            str(p) for p in (source, rule.get("hostname"), rule.get("path")) if p)
        if key in seen:
            first, first_backend, targets = seen[key]
            if (target_stack, target_service) in targets or first_backend != backend:
                same = (target_stack, target_service) in targets
                stack.error(stack.rancher_file, at + ["source_port"],
                            f"duplicate source port {source}: rule {first} already routes "
                            + ("it" if PROTOCOL_MODES[protocol] == "tcp" else "the same hostname and path")
                            + (" to the same service" if same else " to another backend"))
                continue
            # Another service for the same port, host name and path: one backend balances over both,
            # as Rancher's load balancer did.
            targets.add((target_stack, target_service))
        else:
            seen[key] = (index, backend, {(target_stack, target_service)})
        rules.append({**rule, "protocol": protocol, "mode": PROTOCOL_MODES[protocol],
                      "stack": target_stack, "target": target_service,
                      "dns": f"tasks.{target_stack}_{target_service}", "servers": servers,
                      "backend": "be_" + _sanitise(backend), "index": index})
    if not rules and not stack.errors:
        stack.error(stack.rancher_file, where, "a load balancer needs at least one port rule")
    return sorted(rules, key=_rule_order)


def _lb_certs(stack, name, rancher, rules, ctx):
    """The names of the certificates an LB serves, its default first, as its crt-list lists them.
    Each must be in the inventory's paddock_certificates (ctx ``certificates``)."""
    lb = rancher.get("lb_config") or {}
    # A Rancher 1.0 load balancer names its certificates on the service, and TLS in a label.
    legacy = str((stack.services.get(name) or {}).get("image", "")).split(":")[0] == LEGACY_LB_IMAGE
    where = ["services", name] if legacy else ["services", name, "lb_config"]
    known = set(ctx.get("certificates") or ())
    default, others = lb.get("default_cert"), list(lb.get("certs") or [])
    tls = [rule for rule in rules if rule["protocol"] in TLS_PROTOCOLS]
    named = ([(where + ["default_cert"], default)] if default else []) + [
        (where + ["certs", index], cert) for index, cert in enumerate(others)]
    for at, cert in named:
        if cert not in known:
            stack.error(stack.rancher_file, at, f"certificate '{cert}' is not in the inventory's paddock_certificates"
                        + (f" (it has: {', '.join(sorted(known))})" if known else " (it lists none)"))
    if tls and not named and legacy:
        stack.error(stack.compose_file, ["services", name, "labels", "io.rancher.loadbalancer.ssl.ports"],
                    f"TLS on port {tls[0]['source_port']} needs a certificate: set the service's default_cert in "
                    f"{stack.rancher_file} to a name from the inventory's paddock_certificates")
    elif tls and not named:
        stack.error(stack.rancher_file, where + ["port_rules", tls[0]["index"], "protocol"],
                    f"{tls[0]['protocol']} needs a certificate: set lb_config.default_cert to a name from the "
                    "inventory's paddock_certificates")
    if named and not tls:
        stack.warn(stack.rancher_file, where + ["default_cert" if default else "certs"],
                   "certificates are served on https and tls port rules only, and this load balancer has none")
    if lb.get("https_redirect") and not any(rule["protocol"] == "https" for rule in rules):
        stack.error(stack.rancher_file, where + ["https_redirect"], "there is no https port rule to redirect to")
    order = [default or others[0]] if named else []
    return order + [cert for cert in others if cert not in order]


def _acl(rule):
    conditions, acls = [], []
    host, path, tag = rule.get("hostname"), rule.get("path"), f"r{rule['index']}"
    if host:
        if host.startswith("*"):
            acls.append(f"acl {tag}_host hdr_end(host) -i {host[1:]}")
        elif host.endswith("*"):
            acls.append(f"acl {tag}_host hdr_beg(host) -i {host[:-1]}")
        else:
            acls.append(f"acl {tag}_host req.hdr(host),field(1,:) -i {host}")
        conditions.append(f"{tag}_host")
    if path:
        acls.append(f"acl {tag}_path path_beg -i {path}")
        conditions.append(f"{tag}_path")
    return acls, conditions


# haproxy.cfg's fixed part: master-worker (reloads keep connections), Swarm's DNS as resolver,
# and the health endpoint the load balancer's own health check reads.
HAPROXY_HEAD = [
    "global",
    "    master-worker",
    "    stats socket /var/run/haproxy-admin.sock mode 600 level admin expose-fd listeners",
    "    maxconn 4096",
    "    hard-stop-after 60s",
    "    server-state-file /tmp/paddock-lb.state",
    "",
    "resolvers swarm",
    "    nameserver docker 127.0.0.11:53",
    "    accepted_payload_size 8192",
    "    resolve_retries 3",
    "    timeout resolve 1s",
    "    timeout retry 1s",
    "    hold valid 5s",
    "    hold obsolete 0s",
    "",
    "defaults",
    "    mode tcp",
    "    option redispatch 1",
    "    retries 3",
    "    timeout connect 1s",
    "    timeout client 50s",
    "    timeout server 50s",
    "    timeout check 2s",
    # A reload starts its servers where the last process left them (the run script saves
    # their state first), not unresolved until the first DNS answer.
    "    load-server-state-from-file global",
    "    default-server init-addr last,none resolvers swarm resolve-prefer ipv4",
    "",
    "listen paddock_health",
    "    bind :42",
    "    mode http",
    "    monitor-uri /",
    "",
]


# Added to global where a load balancer terminates TLS; without one its configuration stays as it was.
HAPROXY_TLS_GLOBAL = [f"    ssl-default-bind-ciphers {TLS_CIPHERS}",
                      f"    ssl-default-bind-ciphersuites {TLS_CIPHERSUITES}",
                      "    ssl-default-bind-options ssl-min-ver TLSv1.2"]


def haproxy_config(stack, name, rules, rancher, health, ctx):
    """Render the load balancer's haproxy.cfg: the fixed part, a frontend per source port, a
    backend per routed host name and path (with every service it balances over), custom lines."""
    lb = rancher.get("lb_config") or {}
    lines = [f"# Paddock load balancer {stack.name}/{name}: rendered from the stack's rancher-compose.yml; "
             "do not edit.", *HAPROXY_HEAD]
    if any(rule["protocol"] in TLS_PROTOCOLS for rule in rules):
        end_of_global = lines.index("resolvers swarm") - 1  # the blank line that ends global
        lines[end_of_global:end_of_global] = HAPROXY_TLS_GLOBAL
    https_ports = sorted({rule["source_port"] for rule in rules if rule["protocol"] == "https"})
    backends = _frontends(rules, lines, https_ports[0] if lb.get("https_redirect") and https_ports else None)
    lines += _backends(stack, name, backends, lb, health, ctx)
    if lb.get("config"):
        lines += ["# lb_config.config, as given", lb["config"].rstrip(), ""]
    return "\n".join(lines)


def _frontends(rules, lines, redirect=None):
    """Append a frontend per source port, with its routing; return {backend: [its rules]}.
    ``redirect``: the https port every plain http request is sent to, if any."""
    frontends = {}
    for rule in rules:
        frontends.setdefault(rule["source_port"], []).append(rule)
    backends = {}
    for port in sorted(frontends):
        port_rules = frontends[port]
        mode, tls = port_rules[0]["mode"], port_rules[0]["protocol"] in TLS_PROTOCOLS
        bind = f"    bind :{port}"
        if tls:
            bind += f" ssl crt-list {LB_CERT_DIR}/crt-list" + (" alpn h2,http/1.1" if mode == "http" else "")
        lines += [f"frontend fe_{port}", bind, f"    mode {mode}"]
        if mode == "http":
            # Keep-alive on both sides (HAProxy's default), where Rancher's LB closed the server
            # side after each request: a kept-alive client keeps its server connection, which
            # doubles what the hop carries (bench/lb_hop.py). Each server connection stays its
            # client's own (http-reuse never, in the backend); see docs/decisions.md.
            lines += ["    option forwardfor",
                      f"    http-request set-header X-Forwarded-Proto {'https' if tls else 'http'}"]
            if redirect and not tls:
                lines.append(f"    http-request redirect location https://%[req.hdr(host),field(1,:)]"
                             f"{'' if redirect == 443 else f':{redirect}'}%[capture.req.uri] code 301")
        default = None
        for rule in port_rules:
            if rule["backend"] in backends:  # a second service of a backend already routed to
                backends[rule["backend"]].append(rule)
                continue
            acls, conditions = _acl(rule)
            lines += ["    " + a for a in acls]
            if conditions:
                lines.append(f"    use_backend {rule['backend']} if {' '.join(conditions)}")
            elif default is None:
                default = rule["backend"]
            backends[rule["backend"]] = [rule]
        if default:
            lines.append(f"    default_backend {default}")
        lines.append("")
    return backends


def _backends(stack, name, backends, lb, health, ctx):
    """A backend per route: its mode, stickiness and health check, and a server-template per
    service it balances over."""
    slots = ctx.get("lb_max_servers", 64)
    lines = []
    sticky = lb.get("stickiness_policy")
    for backend, members in backends.items():
        rule = members[0]
        check = health.get((rule["stack"], rule["target"])) or {}
        mode = rule["mode"]
        lines += [f"backend {backend}", f"    mode {mode}", "    balance roundrobin"]
        if mode == "http":
            # Shared idle connections (http-reuse safe) held a request for 5 s when their server's
            # host froze, where a fresh connection fails over in 1 s (timeout connect, redispatch).
            lines += ["    http-reuse never", "    retry-on all-retryable-errors",
                      "    http-request set-header X-Forwarded-Port %[dst_port]"]
            if check.get("request_line"):
                lines.append(f"    option httpchk {check['request_line'].strip()}")
            if sticky:
                cookie = sticky.get("cookie") or backend
                flags = [sticky.get("mode", "insert")] + [f for f in ("indirect", "nocache", "postonly")
                                                          if sticky.get(f)]
                if sticky.get("domain"):
                    flags.append(f"domain {sticky['domain']}")
                lines += [f"    cookie {cookie} {' '.join(flags)} dynamic",
                          f"    dynamic-cookie-key {stack.name}-{name}"]
        if check.get("response_timeout"):
            lines.append(f"    timeout check {check['response_timeout']}ms")
        for rule in members:
            lines += _servers(rule, health.get((rule["stack"], rule["target"])) or {}, mode, slots, ctx)
        lines.append("")
    return lines


def _servers(rule, check, mode, slots, ctx):
    """The server lines of one target service of a backend, with its health check: a
    server-template resolved through Swarm's DNS, or a server per fixed address."""
    inter = check.get("interval", ctx.get("lb_check_interval_ms", 1000))
    fall = check.get("unhealthy_threshold", 2)
    rise = check.get("healthy_threshold", 2)
    port = f" port {check['port']}" if check.get("port") else ""
    # The ports are in the servers' names: a saved state never brings back an old port.
    prefix = f"{_sanitise(rule['target'])}-{rule['target_port']}" + (f"-{check['port']}" if port else "") + "-"
    # A TCP session on a server marked down is cut so that its client reconnects; an HTTP
    # request in flight is left to finish, or to be retried on another server (retry-on).
    cut = " on-marked-down shutdown-sessions" if mode == "tcp" else ""
    checks = f"check{port} inter {inter}ms fall {fall} rise {rise}{cut}"
    if rule.get("servers") is not None:  # fixed addresses (the console on the managers)
        return [f"    server {prefix}{i} {address}:{rule['target_port']} {checks}"
                for i, address in enumerate(rule["servers"], 1)]
    return [f"    server-template {prefix} {slots} {rule['dns']}:{rule['target_port']} {checks}"]


def render(name, compose, rancher, ctx, compose_file="docker-compose.yml", rancher_file="rancher-compose.yml",
           known_targets=None, service_labels=None, passwords=None):
    """Validate and translate one stack. ``compose`` and ``rancher`` are the parsed documents;
    ``service_labels`` are set on every service (a catalog app's entry and version);
    ``passwords`` (a catalog app's password answers) become Swarm secrets where the image reads
    them from a file.

    The phases: read both files as Rancher read them and check their shapes; translate each
    service, then each load balancer (whose rules name the services); resolve links and shared
    volumes (which may name a load balancer); assemble the compose file and its digest."""
    stack = Stack(name, compose_file, rancher_file)
    if not isinstance(name, str) or not STACK_NAME.match(name):
        stack.error("inventory", ["paddock_stacks", "name"],
                    f"stack name must be lower-case letters, digits, - and _, got {name!r}")
    if not isinstance(compose, dict):
        stack.error(compose_file, [], "must be a mapping with services")
        return stack
    compose, services, rservices = _read_documents(stack, compose, rancher)
    if stack.errors:
        return stack
    known = dict(known_targets or {})
    known[name] = [s for s in services if not _is_lb(services[s], rservices.get(s, {}))]
    out_services, lbs = {}, []
    for svc, source in services.items():
        rsvc = rservices.get(svc, {})
        if str(source.get("image", "")).split(":")[0] == ALIAS_IMAGE:
            out_services[svc] = None
        elif _is_lb(source, rsvc):
            lbs.append(svc)
        else:
            out_services[svc] = _translate_service(stack, svc, source, rsvc, ctx)
    health = dict(ctx.get("health") or {})
    health.update({(name, s): rservices.get(s, {}).get("health_check") for s in services})
    for svc in lbs:
        rules = _lb_rules(stack, svc, rservices.get(svc, {}), known, ctx)
        stack.targets |= {(rule["stack"], rule["target"]) for rule in rules}
        out_services[svc] = _lb_service(stack, svc, services[svc], rservices.get(svc, {}), rules, ctx)
        certs = _lb_certs(stack, svc, rservices.get(svc, {}), rules, ctx)
        stack.lbs.append({"service": svc, "config": haproxy_config(stack, svc, rules, rservices.get(svc, {}),
                                                                    health, ctx),
                          "certs": certs,
                          "dir": f"{ctx.get('lb_dir', '/etc/paddock/lb')}/{name}_{svc}",
                          "ports": sorted({p["published"] for p in out_services[svc].get("ports", [])})})
    _resolve(stack, services, out_services, lbs)
    compose_out = _assemble(stack, compose, services, out_services, lbs, rservices)
    if stack.errors:
        return stack
    for service in compose_out["services"].values():
        deploy = service.setdefault("deploy", {})
        labels = deploy.setdefault("labels", {})
        labels.update(service_labels or {})
        if deploy.get("mode") != "global":
            labels[FILES_REPLICAS_LABEL] = str(deploy.get("replicas", 1))
        labels[FILES_IMAGE_LABEL] = str(service.get("image", ""))
    if ctx.get("lb_run_script") is not None:
        _lb_as_configs(stack, compose_out, ctx["lb_run_script"])
    # Before the digest, which is on every service: it must not be a fast oracle of a password.
    stack.secret_files = _stack_secrets.to_secrets(name, compose_out, passwords)
    digest = hashlib.sha256(json.dumps(compose_out, sort_keys=True).encode()).hexdigest()
    for service in compose_out["services"].values():
        service.setdefault("deploy", {}).setdefault("labels", {})[HASH_LABEL] = digest
    stack.compose = compose_out
    stack.hash = digest
    return stack


def _lb_as_configs(stack, compose, run_script):
    """Where no host files can be written (the console launches an app: it holds no SSH to the
    load-balancer hosts), each load balancer's run script and haproxy.cfg are Swarm configs in
    place of the bind-mounted directory. A config cannot change: each is named by its content,
    and new content is a new config that the service moves to (a rolling restart of the load
    balancer, where a host file is reloaded in place). Certificates stay host files: a load
    balancer that serves one is launched with playbooks/catalog.yml."""
    for lb in stack.lbs:
        service = compose["services"][lb["service"]]
        if lb["certs"]:
            stack.error(stack.rancher_file, ["services", lb["service"], "lb_config", "certs"],
                        "serves the inventory's certificates, which only the playbooks hold: launch it with "
                        "playbooks/catalog.yml")
            continue
        service.pop("volumes", None)
        service["configs"] = []
        for part, target, text in (("run", "/etc/paddock-lb/run", run_script),
                                   ("haproxy", "/etc/paddock-lb/haproxy.cfg", lb["config"])):
            key = f"{lb['service']}_{part}"
            digest = hashlib.sha256(text.encode()).hexdigest()[:12]
            compose.setdefault("configs", {})[key] = {"name": f"{stack.name}_{key}_{digest}",
                                                      "file": f"./{stack.name}.configs/{key}"}
            stack.config_files[key] = text
            service["configs"].append({"source": key, "target": target, "mode": 0o444})


def _read_documents(stack, compose, rancher):
    """(compose, services, rancher's services): both files normalised as Rancher read them, their
    shapes checked (a key Rancher did not know in rancher-compose.yml is a warning), and Rancher
    1.0's load balancers given port rules."""
    compose_file, rancher_file = stack.compose_file, stack.rancher_file
    compose, prefix = _normalise(compose)
    for parts, problem in schema_errors(compose, COMPOSE_SCHEMA):
        stack.error(compose_file, prefix + parts[1:] if prefix and parts[:1] == ["services"] else parts, problem)
    version = str(compose.get("version", "1"))
    if not re.fullmatch(r"[123](\.\d+)?", version):
        stack.error(compose_file, ["version"], f"compose format {version} is not supported (1, 2.x or 3.x)")
    rancher = rancher if rancher is not None else {}
    if not isinstance(rancher, dict):
        stack.error(rancher_file, [], "must be a mapping")
        rancher = {}
    rancher, rprefix = _normalise(rancher) if rancher else ({"services": {}}, [])
    _rancher_as_rancher_read_it(rancher)
    if rprefix:  # format 1: catalog sections live at the top level beside the services
        catalog = {k: rancher["services"].pop(k) for k in (".catalog", "catalog") if k in rancher["services"]}
        rancher.update(catalog)
    for parts, problem in schema_errors(rancher, RANCHER_SCHEMA):
        at = rprefix + parts[1:] if rprefix and parts[:1] == ["services"] else parts
        if problem.startswith("unknown key"):
            # Rancher ignored a key it did not know; so does Paddock, saying so.
            stack.warn(rancher_file, at, f"{problem}; ignored, as Rancher ignored it")
            _drop(rancher, parts)
        else:
            stack.error(rancher_file, at, problem)
    if stack.errors:
        return compose, {}, {}
    services = compose.get("services") or {}
    rservices = {k: v for k, v in (rancher.get("services") or {}).items() if k != ".catalog"}
    for svc in rservices:
        if svc not in services:
            stack.warn(rancher_file, rprefix + [svc] if rprefix else ["services", svc],
                       "configures a service that docker-compose.yml does not define; ignored, as Rancher ignored it")
    for svc in services:
        if not NAME.match(str(svc)):
            stack.error(compose_file, ["services", svc], "not a valid service name")
    if not services:
        stack.error(compose_file, ["services"], "defines no services")
    for svc, source in services.items():
        if str(source.get("image", "")).split(":")[0] == LEGACY_LB_IMAGE and isinstance(source, dict):
            legacy = _legacy_lb_config(stack, svc, source, rservices.get(svc, {}), services)
            rservices[svc] = {**rservices.get(svc, {}), "lb_config": legacy}
    stack.services, stack.rancher = services, rservices
    return compose, services, rservices


def _resolve(stack, services, out_services, lbs):
    """Links (and alias services), shared volumes and depends_on, once every service exists: a
    link may name a load balancer."""
    for svc, source in services.items():
        if str(source.get("image", "")).split(":")[0] == ALIAS_IMAGE:
            if not source.get("links") and source.get("external_links"):
                stack.warn(stack.compose_file, ["services", svc, "external_links"],
                           "ignored, with its alias service: Swarm has no alias of another stack's service; "
                           "reach it as <service>.<stack>_default")
            for index, link in enumerate(source.get("links") or []):
                target = str(link).partition(":")[0]
                if target not in out_services or out_services[target] is None:
                    stack.error(stack.compose_file, ["services", svc, "links", index],
                                f"alias of service '{target}', which is not in this stack")
                    continue
                _links(stack, target, {"links": [f"{target}:{svc}"]}, out_services)
        elif svc in out_services and svc not in lbs:
            _links(stack, svc, source, out_services)
            _volumes_from(stack, svc, source, services, out_services)
        depends = source.get("depends_on") or []
        for target in depends if isinstance(depends, (list, dict)) else []:
            if str(target) not in services:  # depends_on is ignored (warned); Rancher ignored this too
                stack.warn(stack.compose_file, ["services", svc, "depends_on"],
                           f"names service '{target}', which is not in this stack")


def _assemble(stack, compose, services, out_services, lbs, rservices):
    """The compose file for docker stack deploy: the services, the file's own networks, secrets
    and configs, the volumes as Swarm wants them, and the networks the stack needs."""
    compose_out = {"version": "3.8", "services": {k: v for k, v in out_services.items() if v is not None}}
    for section in ("networks", "secrets", "configs"):
        if compose.get(section):
            compose_out[section] = copy.deepcopy(compose[section])
    volumes = _volumes(stack, compose.get("volumes"), services, compose_out["services"])
    if volumes:
        compose_out["volumes"] = volumes
    other_stacks = sorted({r for lb in lbs for r in _lb_stacks(stack, lb, rservices)} - {stack.name})
    if other_stacks:
        compose_out.setdefault("networks", {})
        for other in other_stacks:
            compose_out["networks"][f"{other}_default"] = {"external": True}
    # The stack's own network: attachable, so that plain containers can join it too.
    networks = compose_out.setdefault("networks", {})
    networks["default"] = {**(networks.get("default") or {}), "attachable": True}
    if any(HOST_NETWORK in (s.get("networks") or {}) for s in compose_out["services"].values()):
        networks[HOST_NETWORK] = {"external": True, "name": "host"}
    return compose_out


def _drop(document, parts):
    """Remove the key at ``parts`` from a document (it was warned about)."""
    node = document
    for part in parts[:-1]:
        node = node[part]
    node.pop(parts[-1], None)


def _rancher_as_rancher_read_it(rancher):
    """What Rancher's Go types took that the schema would not: a service given as nothing, and a
    health check's numbers written as text (``port: '53'``)."""
    services = rancher.get("services")
    if not isinstance(services, dict):
        return
    for name, service in services.items():
        if service is None:
            services[name] = service = {}
        check = service.get("health_check") if isinstance(service, dict) else None
        for key, value in (check or {}).items() if isinstance(check, dict) else ():
            if key in HEALTH_CHECK_NUMBERS and isinstance(value, str) and value.strip().isdigit():
                check[key] = int(value)


HEALTH_CHECK_NUMBERS = ("port", "interval", "response_timeout", "healthy_threshold", "unhealthy_threshold",
                        "initializing_timeout", "reinitializing_timeout")


def _named_volume(volume):
    """The named volume a service's volume entry mounts, or None (a bind mount, an anonymous one)."""
    if isinstance(volume, dict):
        return volume.get("source") if volume.get("type", "volume") == "volume" else None
    parts = str(volume).split(":")
    source = parts[0] if len(parts) > 1 else ""
    # A name has no '/': anything else is a host path (relative ones are the deploying host's).
    return source if source and "/" not in source and not source.startswith(("/", ".", "~", "$")) else None


def _volumes(stack, declared, sources, services):
    """The top-level volumes, as docker stack deploy wants them.

    Compose format 1 (and Rancher) created a named volume on first use; Swarm wants it declared,
    so each one a service mounts is declared, with the service's ``volume_driver`` as its driver.
    Rancher's ``per_container`` has no Swarm equivalent and is dropped with a warning; an empty
    ``driver_opts`` is dropped; ``external`` with a ``driver`` keeps ``external`` (the volume
    exists; Docker refuses both)."""
    out = {}
    for name, spec in (declared or {}).items():
        spec = dict(spec) if isinstance(spec, dict) else {}
        where = ["volumes", name]
        if spec.pop("per_container", None) is not None:
            stack.warn(stack.compose_file, where + ["per_container"],
                       "Swarm has no volume per container: the tasks on one node share this volume")
        if not spec.get("driver_opts"):
            spec.pop("driver_opts", None)
        for key in ("driver", "driver_opts"):
            if spec.get("external") and key in spec:
                spec.pop(key)
                stack.warn(stack.compose_file, where + [key],
                           "ignored: the volume is external (it exists already, with its own driver)")
        out[name] = spec
    for svc, service in services.items():
        source = sources.get(svc) if isinstance(sources.get(svc), dict) else {}
        for volume in (service or {}).get("volumes") or []:
            name = _named_volume(volume)
            if name and name not in out:
                out[name] = {"driver": source["volume_driver"]} if source.get("volume_driver") else {}
    return out


def _volumes_from(stack, name, source, services, out_services):
    """Rancher's volumes_from another service of the stack (a data-volume sidekick, most often):
    the other service's volumes become named volumes that both mount at the same paths. Swarm
    keeps a named volume per node, not with one container; the warning says so."""
    where = ["services", name, "volumes_from"]
    mapped, mine = [], out_services.get(name)
    for index, ref in enumerate(source.get("volumes_from") or []):
        target, _, mode = str(ref).partition(":")
        if target not in services or out_services.get(target) is None or mine is None:
            stack.warn(stack.compose_file, where + [index], f"ignored: {UNMAPPED['volumes_from']}")
            continue
        theirs = out_services[target].setdefault("volumes", [])
        if not theirs:
            stack.warn(stack.compose_file, where + [index],
                       f"'{target}' mounts no volume in the stack, so nothing is shared; volumes only its image "
                       "declares (Dockerfile VOLUME) are not shared on Swarm")
        for position, volume in enumerate(list(theirs)):
            if isinstance(volume, dict):
                shared = copy.deepcopy(volume)
                if mode == "ro":
                    shared["read_only"] = True
            else:
                parts = str(volume).split(":")
                if len(parts) == 1:  # an anonymous volume: named, so that both can mount it
                    volume_name = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{target}{parts[0]}")
                    theirs[position] = f"{volume_name}:{parts[0]}"
                    parts = [volume_name, parts[0]]
                shared = ":".join(parts[:2] + (["ro"] if mode == "ro" else parts[2:]))
                mapped.append(parts[0])
            if shared not in mine.setdefault("volumes", []):
                mine["volumes"].append(shared)
    if mapped:
        stack.warn(stack.compose_file, where,
                   f"mapped to the volumes {', '.join(sorted(set(mapped)))}, which {name} mounts too; Swarm keeps a "
                   "volume on each node, not with one container")


def _legacy_lb_config(stack, name, source, rancher, services):
    """Rancher 1.0 and 1.1's load balancer as port rules. Each of its ``ports`` (``listen:target``,
    published) and ``expose`` (``listen:target``, the stack alone reaches it) sends to every
    linked service of the stack on the target port; an ``io.rancher.loadbalancer.target.<service>``
    label (``listen=target``, comma-separated) sends only those ports to that service. A port is
    http unless it says ``/tcp``, as that load balancer read it, and terminates TLS (https, or tls
    with ``/tcp``) where ``io.rancher.loadbalancer.ssl.ports`` names it, with the service's
    ``default_cert`` and ``certs``. Its ``ports`` are rewritten to
    publish each listening port as itself, where Paddock's HAProxy listens."""
    targets = [str(link).partition(":")[0] for link in source.get("links") or []]
    overrides, tls_ports = {}, set()
    for label, value in _as_map(source.get("labels")).items():
        if label.startswith(LEGACY_TARGET_LABEL):
            pairs = overrides.setdefault(label[len(LEGACY_TARGET_LABEL):], {})
            for pair in value.split(","):
                match = re.fullmatch(r"\s*(?:[^:=/]*:)?(\d+)(?:/[^=]*)?=(\d+)\s*", pair)
                if match:
                    pairs[int(match[1])] = int(match[2])
        elif label == "io.rancher.loadbalancer.ssl.ports":
            for port in str(value).split(","):
                if port.strip().isdigit():
                    tls_ports.add(int(port))
                else:
                    stack.error(stack.compose_file, ["services", name, "labels", label],
                                f"{port.strip()!r} is not a port number (a comma-separated list of listening ports)")
    rules, published = [], []
    for key in ("ports", "expose"):
        for port in source.get(key) or []:
            text, _, protocol = str(port).partition("/")
            listen, _, target = text.partition(":")
            target = target or listen
            if not (listen.isdigit() and target.isdigit()):
                continue  # parse_ports reports it
            if key == "ports":
                published.append(f"{listen}:{listen}/tcp")
            for service in targets:
                if service not in services:
                    continue
                if service in overrides:  # only the ports its label names
                    if int(listen) not in overrides[service]:
                        continue
                    target = str(overrides[service][int(listen)])
                kind = ("tcp", "tls") if protocol == "tcp" else ("http", "https")
                rules.append({"source_port": int(listen), "service": service, "target_port": int(target),
                              "protocol": kind[int(listen) in tls_ports]})
    source["ports"] = published
    lb_config = {"port_rules": rules}
    for key in ("default_cert", "certs"):  # the service's own, in those versions
        if key in rancher:
            lb_config[key] = rancher[key]
    return lb_config


def _int(text):
    return int(text) if str(text or "").isdigit() else None


def _is_lb(source, rancher):
    image = str(source.get("image", "")).split(":")[0]
    rules = (rancher.get("lb_config") or {}).get("port_rules") or []
    return image in LB_IMAGES or any(isinstance(r, dict) and r.get("source_port") for r in rules)


def _lb_stacks(stack, svc, rservices):
    """The stacks whose networks a load balancer joins: those its rules target (the console's
    has none; it is reached at the managers' addresses)."""
    rules = ((rservices.get(svc) or {}).get("lb_config") or {}).get("port_rules") or []
    return {str(r["service"]).rpartition("/")[0] or stack.name for r in rules
            if r.get("service") and str(r["service"]) != CONSOLE_TARGET}


def _lb_service(stack, name, source, rancher, rules, ctx):
    where = ["services", name]
    for key in source:
        if key not in ("image", "ports", "labels", "expose", "environment", "restart", "logging", "networks"):
            stack.warn(stack.compose_file, where + [key], "ignored on a load balancer")
    if "scale" in rancher:
        stack.warn(stack.rancher_file, where + ["scale"],
                   "ignored: the load balancer runs one task on each load-balancer host")
    ports = []
    for index, port in enumerate(source.get("ports") or []):
        parsed, problem = parse_ports(port)
        if problem:
            stack.error(stack.compose_file, where + ["ports", index], problem)
        ports += [{"target": one["target"], "published": one["published"] or one["target"],
                   "protocol": "tcp", "mode": "host"} for one in parsed]
    listened = {r["source_port"] for r in rules}
    for port in ports:
        if port["target"] not in listened:
            stack.warn(stack.compose_file, where + ["ports"], f"port {port['target']} has no port rule")
    # The rules, as the console shows them beside the tasks each reaches (a service label: a
    # change updates the service without restarting its tasks).
    shown = [{"port": r["source_port"], "protocol": r["protocol"], "hostname": r.get("hostname") or "",
              "path": r.get("path") or "", "target": f"{r['stack']}/{r['target']}", "target_port": r["target_port"]}
             for r in rules]
    deploy = {"mode": "global", "labels": {LB_LABEL: "true", LB_RULES_LABEL: json.dumps(shown, separators=(",", ":"))},
              "update_config": {"parallelism": 1, "order": "stop-first", "failure_action": "rollback"},
              "restart_policy": {"condition": "any"}, "endpoint_mode": "dnsrr"}
    if ctx.get("lb_constraint"):
        deploy["placement"] = {"constraints": [ctx["lb_constraint"]]}
    lb_dir = f"{ctx.get('lb_dir', '/etc/paddock/lb')}/{stack.name}_{name}"
    service = {"image": ctx.get("lb_image", "paddock/haproxy:latest"),
               "entrypoint": ["/bin/sh", "/etc/paddock-lb/run"],
               "volumes": [{"type": "bind", "source": lb_dir, "target": "/etc/paddock-lb", "read_only": True}],
               "labels": {**_as_map(source.get("labels")), LB_LABEL: "true"},
               "deploy": deploy, "stop_grace_period": "10s"}
    if ports:
        service["ports"] = ports
    networks = {"default": None}
    for other in sorted({r["stack"] for r in rules if r.get("servers") is None} - {stack.name}):
        networks[f"{other}_default"] = None
    service["networks"] = networks
    return service


# Host ports the platform itself listens on (docs/access-control.md, The host firewall): a stack that publishes one
# takes it from SSH, Swarm, the tunnels, the engines' API, the agent or the registry.
PLATFORM_PORTS = {
    (22, "tcp"): "SSH", (2376, "tcp"): "the engines' TLS API", (2377, "tcp"): "Swarm's cluster management",
    (7946, "tcp"): "Swarm's gossip", (7946, "udp"): "Swarm's gossip", (4789, "udp"): "Swarm's VXLAN",
    (500, "udp"): "the managed network's IKE", (4500, "udp"): "the managed network's IKE (NAT-T)",
    (9100, "tcp"): "the host agent's exporter",
}
# Host ports the platform takes on one host only, the registry's: a task placed there cannot start.
REGISTRY_PORTS = {(5000, "tcp"): "the registry's port", (5001, "tcp"): "the registry's push port"}


def _published(stack):
    """[((port, protocol), service, shared)] for every port a stack publishes on hosts; ``shared``
    when the port takes every node's (the ingress mesh) or the service runs on every node it may
    (global), so that no other service can have the port anywhere it runs."""
    return [((port["published"], port.get("protocol", "tcp")), svc,
             port.get("mode") != "host" or (service.get("deploy") or {}).get("mode") == "global")
            for svc, service in (stack.compose or {}).get("services", {}).items()
            for port in service.get("ports", []) if port.get("published")]


def render_all(documents, ctx):
    """Render every stack of the inventory; check what only shows across stacks.

    ``documents`` is a list of dicts: name, compose, rancher, compose_file, rancher_file, state
    and, for a catalog app, labels.
    Returns the rendered Stack objects, in order."""
    known, health, labels = {}, {}, {}
    for doc in documents:
        compose, _prefix = _normalise(doc.get("compose"))
        services = (compose or {}).get("services") if isinstance(compose, dict) else None
        rancher, _rprefix = _normalise(doc.get("rancher") or {})
        rservices = (rancher or {}).get("services") or {} if isinstance(rancher, dict) else {}
        if isinstance(services, dict):
            known[doc["name"]] = [s for s, v in services.items() if isinstance(v, dict)
                                  and not _is_lb(v, rservices.get(s) if isinstance(rservices.get(s), dict) else {})]
            labels[doc["name"]] = {s: services[s].get("labels") for s in known[doc["name"]]}
            for svc, conf in rservices.items():
                if isinstance(conf, dict) and isinstance(conf.get("health_check"), dict):
                    health[(doc["name"], svc)] = conf["health_check"]
    # Host ports that services outside these documents publish (the console launches one app
    # into a running swarm): [port, protocol, stack, service, shared].
    rendered, names = [], {}
    ports = {(p[0], p[1]): (p[2], p[3], p[4]) for p in ctx.get("published") or []}
    for doc in documents:
        stack = render(doc["name"], doc.get("compose"), doc.get("rancher"),
                       {**ctx, "health": health, "service_labels": labels},
                       doc.get("compose_file", "docker-compose.yml"), doc.get("rancher_file", "rancher-compose.yml"),
                       known_targets=known, service_labels=doc.get("labels"), passwords=doc.get("passwords"))
        if doc["name"] in names:
            stack.error("inventory", ["paddock_stacks", names[doc["name"]]], f"stack '{doc['name']}' is listed twice")
        names[doc["name"]] = len(names)
        if doc.get("state", "present") == "present":
            for key, svc, shared in _published(stack):
                if key in PLATFORM_PORTS:
                    stack.error(stack.compose_file, ["services", svc, "ports"],
                                f"host port {key[0]}/{key[1]} is the platform's own ({PLATFORM_PORTS[key]}); "
                                "publish another port")
                    continue
                if key in REGISTRY_PORTS:
                    stack.warn(stack.compose_file, ["services", svc, "ports"],
                               f"host port {key[0]}/{key[1]} is {REGISTRY_PORTS[key]} on the registry's host: a "
                               "task placed there cannot start")
                if key in ports and (shared or ports[key][2]):
                    other, other_svc, _shared = ports[key]
                    stack.error(stack.compose_file, ["services", svc, "ports"],
                                f"host port {key[0]}/{key[1]} is already published by {other}/{other_svc}")
                elif key in ports:
                    # Two replicated services in host mode: Swarm's scheduler puts their tasks on
                    # different nodes (it will not give one host port twice), as Rancher did.
                    other, other_svc, _shared = ports[key]
                    stack.warn(stack.compose_file, ["services", svc, "ports"],
                               f"host port {key[0]}/{key[1]} is also published by {other}/{other_svc}: their tasks "
                               "run on different nodes, so they need as many nodes as tasks")
                else:
                    ports[key] = (doc["name"], svc, shared)
        rendered.append(stack)
    _health_check_warnings(rendered)
    return rendered


def _health_check_warnings(stacks):
    """Say where a Rancher health check does nothing: only Paddock's load balancers use one (to take
    a failing task out of rotation), and none of them acts on it by replacing the task."""
    targeted = set().union(*(s.targets for s in stacks)) if stacks else set()
    for stack in stacks:
        balancers = {lb["service"] for lb in stack.lbs}  # checked on their own port 42, as Rancher's were
        for svc, rancher in (stack.rancher or {}).items():
            check = rancher.get("health_check") if isinstance(rancher, dict) else None
            if not isinstance(check, dict) or svc in balancers:
                continue
            where = ["services", svc, "health_check"]
            if (stack.name, svc) not in targeted:
                stack.warn(stack.rancher_file, where,
                           "ignored: no load balancer sends traffic to this service, and only the load balancer "
                           "acts on a health check (a compose healthcheck runs a command in the container)")
            elif check.get("strategy") in ("recreate", "recreateOnQuorum"):
                stack.warn(stack.rancher_file, where + ["strategy"],
                           "ignored: the load balancer takes a failing task out of rotation; Swarm replaces a "
                           "task only when its container exits")
