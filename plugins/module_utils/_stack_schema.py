# Copyright: Paddock contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection.
"""The shapes of docker-compose.yml (formats 1, 2 and 3) and rancher-compose.yml.

The compose schema lists every service key of the compose file formats 2.x and 3.x, with its
type, and nothing else: a key outside it is reported as unknown (with the nearest known key),
so a typo never passes silently. What a key *means* on Swarm is _stack.py's business; many
keys here are accepted only to be reported there as "cannot be mapped".
"""

from __future__ import annotations

import difflib
import re

from jsonschema import Draft7Validator, FormatChecker

from ansible_collections.paddock.platform.plugins.module_utils._problems import describe as _describe
from ansible_collections.paddock.platform.plugins.module_utils._problems import either

STR = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
NUM_OR_STR = {"type": ["string", "number"]}
STR_OR_LIST = {"type": ["string", "array"], "items": {"type": ["string", "number"]}}
LIST_OF_STR = {"type": "array", "items": {"type": ["string", "number"]}}
MAP_OR_LIST = {"type": ["object", "array"]}
OBJ = {"type": "object"}
# environment and labels: a mapping of scalars, or a list of KEY=value strings.
SCALAR_MAP_OR_LIST = {"type": ["object", "array"],
                      "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
                      "items": {"type": ["string", "number"]}}
BYTES = {"type": ["string", "integer"], "format": "bytes"}
POSITIVE = {"type": "integer", "minimum": 1}
COUNT = {"type": "integer", "minimum": 0}
DURATION = {"type": ["string", "number"], "format": "duration"}
UPDATE = {"type": "object", "additionalProperties": False, "properties": {
    "parallelism": COUNT, "delay": DURATION, "failure_action": {"enum": ["continue", "rollback", "pause"]},
    "monitor": DURATION, "max_failure_ratio": {"type": "number", "minimum": 0}, "order": {"enum": ["stop-first",
                                                                                                    "start-first"]}}}
# Compose 3's deploy and healthcheck, as Docker's own schema has them.
DEPLOY = {"type": "object", "additionalProperties": False, "properties": {
    "mode": {"enum": ["replicated", "global"]}, "replicas": COUNT, "endpoint_mode": {"enum": ["vip", "dnsrr"]},
    "labels": SCALAR_MAP_OR_LIST, "update_config": UPDATE, "rollback_config": UPDATE,
    "resources": {"type": "object", "additionalProperties": False, "properties": {
        "limits": {"type": "object", "additionalProperties": False,
                   "properties": {"cpus": NUM_OR_STR, "memory": BYTES, "pids": COUNT}},
        "reservations": {"type": "object", "additionalProperties": False,
                         "properties": {"cpus": NUM_OR_STR, "memory": BYTES, "generic_resources": {"type": "array"}}}}},
    "restart_policy": {"type": "object", "additionalProperties": False, "properties": {
        "condition": {"enum": ["none", "on-failure", "any"]}, "delay": DURATION, "max_attempts": COUNT,
        "window": DURATION}},
    "placement": {"type": "object", "additionalProperties": False, "properties": {
        "constraints": {"type": "array", "items": STR}, "preferences": {"type": "array"},
        "max_replicas_per_node": COUNT}}}}
HEALTHCHECK = {"type": "object", "additionalProperties": False, "properties": {
    "test": {"type": ["string", "array"], "items": STR}, "interval": DURATION, "timeout": DURATION,
    "start_period": DURATION, "retries": COUNT, "disable": BOOL}}

# ${VAR}, ${VAR:-default} and the like stand for text that is only known at deploy time.
_VARIABLE = re.compile(r"\$\{[^}]*\}")
_NAME = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
IMAGE_REF = re.compile(rf"^(?:[a-zA-Z0-9.-]+(?::\d+)?/)?{_NAME}(?:/{_NAME})*(?::\w[\w.-]{{0,127}})?"
                       r"(?:@[a-z0-9]+:[a-f0-9]{32,})?$")
RULE_HOST = re.compile(r"^[A-Za-z0-9*](?:[A-Za-z0-9.*-]*[A-Za-z0-9*])?$")
FORMATS = FormatChecker(formats=())
FORMAT_PROBLEMS = {
    "bytes": "is not a size like 512m or 2g (bytes, with b, k, m or g)",
    "image": "is not an image reference like registry:5000/team/app:1.2 (lower-case name, no spaces)",
    "rule-host": "is not a host name (letters, digits, '-', '.', and '*' for a wildcard)",
    "rule-path": "is not a URL path (starts with '/', no spaces)",
    "duration": "is not a duration like 10s, 1m30s or 500ms (a number alone has no unit)",
}


def _image(value):
    def default(match):
        body = match.group(0)[2:-1]
        return body.split(":-", 1)[1] if ":-" in body else body.split("-", 1)[1] if "-" in body else "x"
    return bool(IMAGE_REF.match(_VARIABLE.sub(default, value)))


FORMATS.checks("duration")(lambda v: isinstance(v, str) and bool(
    re.fullmatch(r"(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+", v)))
FORMATS.checks("bytes")(lambda v: not isinstance(v, str) or bool(re.fullmatch(r"(?i)\d+(\.\d+)?\s*[bkmg]?b?", v)))
FORMATS.checks("image")(lambda v: not isinstance(v, str) or _image(v))
# An empty host name or path is no condition, as Rancher read it.
FORMATS.checks("rule-host")(lambda v: not isinstance(v, str) or v == "" or bool(RULE_HOST.match(v)))
FORMATS.checks("rule-path")(lambda v: not isinstance(v, str) or bool(re.fullmatch(r"(/\S*)?", v)))

SERVICE_KEYS = {
    "image": {"type": "string", "format": "image"}, "build": {"type": ["string", "object"]}, "dockerfile": STR,
    "command": STR_OR_LIST,
    "entrypoint": STR_OR_LIST, "environment": SCALAR_MAP_OR_LIST, "env_file": STR_OR_LIST,
    "labels": SCALAR_MAP_OR_LIST, "ports": {"type": "array", "items": {"type": ["string", "integer", "object"]}},
    "expose": LIST_OF_STR, "volumes": {"type": "array", "items": {"type": ["string", "object"]}},
    "volumes_from": LIST_OF_STR, "volume_driver": STR, "networks": MAP_OR_LIST, "network_mode": STR,
    "net": STR, "links": LIST_OF_STR, "external_links": LIST_OF_STR, "depends_on": MAP_OR_LIST,
    "restart": STR, "stop_signal": STR, "stop_grace_period": STR, "hostname": STR, "domainname": STR,
    "user": NUM_OR_STR, "working_dir": STR, "dns": STR_OR_LIST, "dns_search": STR_OR_LIST,
    "dns_opt": LIST_OF_STR, "extra_hosts": MAP_OR_LIST, "cap_add": LIST_OF_STR, "cap_drop": LIST_OF_STR,
    "privileged": BOOL, "read_only": BOOL, "tty": BOOL, "stdin_open": BOOL, "init": BOOL,
    "mem_limit": BYTES, "memswap_limit": BYTES, "mem_reservation": BYTES,
    "mem_swappiness": INT, "shm_size": BYTES, "cpu_shares": NUM_OR_STR, "cpu_quota": NUM_OR_STR,
    "cpu_period": NUM_OR_STR, "cpus": NUM_OR_STR, "cpuset": STR, "cpu_count": INT, "cpu_percent": INT,
    "ulimits": OBJ, "sysctls": MAP_OR_LIST, "tmpfs": STR_OR_LIST, "devices": LIST_OF_STR,
    "logging": OBJ, "log_driver": STR, "log_opt": OBJ, "healthcheck": HEALTHCHECK, "deploy": DEPLOY,
    "secrets": {"type": "array"}, "configs": {"type": "array"}, "container_name": STR,
    "isolation": STR, "pid": STR, "ipc": STR, "security_opt": LIST_OF_STR, "userns_mode": STR,
    "extends": {"type": ["string", "object"]}, "scale": INT, "group_add": LIST_OF_STR,
    "oom_score_adj": INT, "oom_kill_disable": BOOL, "pids_limit": INT, "mac_address": STR,
    "cgroup_parent": STR, "credential_spec": OBJ, "platform": STR, "runtime": STR,
    "storage_opt": OBJ, "blkio_config": OBJ, "device_cgroup_rules": LIST_OF_STR,
}

COMPOSE_SCHEMA = {
    "type": "object",
    "properties": {
        "version": {"type": ["string", "number"]},
        "services": {"type": "object", "additionalProperties": {"type": "object",
                                                               "properties": SERVICE_KEYS,
                                                               "additionalProperties": False}},
        "networks": {"type": ["object", "null"]}, "volumes": {"type": ["object", "null"]},
        "secrets": {"type": ["object", "null"]}, "configs": {"type": ["object", "null"]},
    },
    "patternProperties": {"^x-": {}},
    "additionalProperties": False,
}

HEALTH_CHECK = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "port": {"type": "integer", "minimum": 1, "maximum": 65535}, "request_line": STR,
        "interval": POSITIVE, "response_timeout": POSITIVE, "healthy_threshold": POSITIVE,
        "unhealthy_threshold": POSITIVE, "initializing_timeout": POSITIVE, "reinitializing_timeout": POSITIVE,
        "strategy": {"enum": ["none", "recreate", "recreateOnQuorum"]},
        "recreate_on_quorum_strategy_config": OBJ, "name": STR,
    },
}
PORT = {"type": "integer", "minimum": 1, "maximum": 65535}
PORT_RULE = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "source_port": PORT, "target_port": PORT, "service": STR,
        "hostname": {"type": "string", "format": "rule-host"}, "path": {"type": "string", "format": "rule-path"},
        "protocol": {"enum": ["http", "tcp", "https", "tls", "sni", "udp"]}, "priority": INT,
        "backend_name": STR, "selector": STR, "container": STR,
    },
}
RANCHER_SERVICE = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "scale": {"type": ["integer", "string"]}, "retain_ip": BOOL, "start_on_create": BOOL,
        "drain_timeout_ms": INT, "health_check": HEALTH_CHECK, "metadata": OBJ,
        "external_ips": LIST_OF_STR, "hostname": STR, "scale_policy": OBJ,
        "upgrade_strategy": {"type": "object", "additionalProperties": False,
                             "properties": {"start_first": BOOL, "batch_size": POSITIVE,
                                            "interval_millis": {"type": "integer", "minimum": 0}}},
        "lb_config": {
            "type": "object", "additionalProperties": False,
            "properties": {
                "port_rules": {"type": "array", "items": PORT_RULE}, "certs": LIST_OF_STR,
                "default_cert": STR, "config": STR,
                # Paddock's own: every plain http port answers with a redirect to the https one.
                "https_redirect": BOOL,
                "stickiness_policy": {"type": "object", "properties": {
                    "name": STR, "cookie": STR, "domain": STR, "indirect": BOOL, "nocache": BOOL,
                    "postonly": BOOL, "mode": {"enum": ["rewrite", "insert", "prefix"]}},
                    "additionalProperties": False},
            },
        },
        "load_balancer_config": OBJ, "default_cert": STR, "certs": LIST_OF_STR,
        "service_schemas": OBJ, "vcpu": INT, "memory": INT, "userdata": STR, "disks": {"type": "array"},
    },
}
RANCHER_SCHEMA = {
    "type": "object",
    "properties": {
        "version": {"type": ["string", "number"]},
        "services": {"type": "object", "additionalProperties": RANCHER_SERVICE},
        ".catalog": OBJ, "catalog": OBJ,
    },
    "additionalProperties": False,
}

TYPE_NAMES = {"string": "a string", "integer": "an integer", "number": "a number", "boolean": "a boolean",
              "object": "a mapping", "array": "a list", "null": "null"}


def _problem(error):
    """One jsonschema error as [(path parts, problem)], in the words a compose author uses."""
    path = list(error.absolute_path)
    kind, expected, value = error.validator, error.validator_value, error.instance
    if kind == "additionalProperties":
        known = list(error.schema.get("properties", {}))
        out = []
        for key in sorted((k for k in value if k not in known and not str(k).startswith("x-")), key=str):
            near = difflib.get_close_matches(str(key), known, n=1)
            out.append((path + [key], "unknown key" + (f" (did you mean '{near[0]}'?)" if near else "")))
        return out
    if kind == "type":
        types = expected if isinstance(expected, list) else [expected]
        return [(path, f"must be {either(TYPE_NAMES[t] for t in types)}, got {_describe(value)}")]
    if kind == "enum":
        return [(path, f"must be one of: {', '.join(map(str, expected))}; got {_describe(value)}")]
    if kind in ("minimum", "maximum"):
        low, high = error.schema.get("minimum"), error.schema.get("maximum")
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        return [(path, f"must be {bounds}, got {value}")]
    if kind == "format":
        return [(path, f"{value!r} {FORMAT_PROBLEMS[expected]}")]
    return [(path, error.message)]


def schema_errors(document, schema):
    found = []
    for error in Draft7Validator(schema, format_checker=FORMATS).iter_errors(document):
        found.extend(_problem(error))
    return found
