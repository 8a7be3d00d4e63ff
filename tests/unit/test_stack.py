"""Stacks: Rancher 1.x compose pairs validated and translated for Swarm, on the controller."""

import copy

import pytest
import yaml

from ansible_collections.paddock.platform.plugins.module_utils._stack import HASH_LABEL, render, render_all

CTX = {"ipvs": False, "lb_image": "reg:5000/paddock/haproxy:2.6", "lb_constraint": "node.labels.paddock.lb==true",
       "image_map": {"apacz:1": "reg:5000/apacz:1"}}

COMPOSE = yaml.safe_load("""
version: '2'
services:
  apacz:
    image: apacz:1
    stdin_open: true
    tty: true
  lb:
    image: rancher/lb-service-haproxy:v0.7.15
    ports: ["80:80/tcp"]
""")
RANCHER = yaml.safe_load("""
version: '2'
services:
  apacz:
    scale: 4
    upgrade_strategy: {start_first: true}
    health_check: {port: 80, request_line: GET / HTTP/1.0, interval: 1000, healthy_threshold: 2,
                   unhealthy_threshold: 2, response_timeout: 1000}
  lb:
    lb_config:
      port_rules:
        - {source_port: 80, target_port: 80, service: apacz}
""")


def walkthrough(compose=None, rancher=None, ctx=None, name="web"):
    return render(name, compose if compose is not None else copy.deepcopy(COMPOSE),
                  rancher if rancher is not None else copy.deepcopy(RANCHER), ctx or CTX)


def test_the_walkthrough_stack_becomes_a_replicated_service_and_a_global_load_balancer():
    stack = walkthrough()
    assert stack.errors == [] and stack.warnings == []
    app, lb = stack.compose["services"]["apacz"], stack.compose["services"]["lb"]
    assert stack.compose["version"] == "3.8"
    assert app["image"] == "reg:5000/apacz:1"
    assert app["deploy"]["replicas"] == 4
    assert app["deploy"]["update_config"] == {"order": "start-first"}
    assert app["deploy"]["endpoint_mode"] == "dnsrr"
    assert lb["image"] == "reg:5000/paddock/haproxy:2.6"
    assert lb["deploy"]["mode"] == "global"
    assert lb["deploy"]["placement"]["constraints"] == ["node.labels.paddock.lb==true"]
    assert lb["ports"] == [{"target": 80, "published": 80, "protocol": "tcp", "mode": "host"}]
    assert lb["volumes"][0]["source"] == "/etc/paddock/lb/web_lb"
    config = stack.lbs[0]["config"]
    # An HTTP request in flight on a server marked down is left to finish or be retried, not cut.
    assert "server-template apacz-80-80- 64 tasks.web_apacz:80 check port 80 inter 1000ms fall 2 rise 2\n" in config
    assert "option httpchk GET / HTTP/1.0" in config
    assert "frontend fe_80\n    bind :80\n    mode http" in config
    assert "balance roundrobin" in config
    assert stack.compose["networks"]["default"] == {"attachable": True}


def test_every_service_carries_the_content_hash_and_only_a_change_moves_it():
    first, again = walkthrough(), walkthrough()
    assert first.hash == again.hash
    assert {s["deploy"]["labels"][HASH_LABEL] for s in first.compose["services"].values()} == {first.hash}
    rancher = copy.deepcopy(RANCHER)
    rancher["services"]["apacz"]["scale"] = 8
    assert walkthrough(rancher=rancher).hash != first.hash


def test_with_ipvs_services_keep_virtual_ips_and_the_ingress_mesh():
    compose = copy.deepcopy(COMPOSE)
    compose["services"]["apacz"]["ports"] = ["8080:80"]
    stack = walkthrough(compose=compose, ctx={**CTX, "ipvs": True})
    app = stack.compose["services"]["apacz"]
    assert app["ports"] == [{"target": 80, "published": 8080, "protocol": "tcp", "mode": "ingress"}]
    assert "endpoint_mode" not in app["deploy"]
    assert stack.compose["services"]["lb"]["ports"][0]["mode"] == "host"


def test_scheduler_labels_become_placement():
    compose = {"version": "2", "services": {
        "agent": {"image": "a", "labels": {"io.rancher.scheduler.global": "true",
                                           "io.rancher.scheduler.affinity:host_label": "zone=a,disk=ssd"}},
        "db": {"image": "d", "labels": {
            "io.rancher.scheduler.affinity:host_label_ne": "zone=b",
            "io.rancher.scheduler.affinity:container_label_ne":
                "io.rancher.stack_service.name=$${stack_name}/$${service_name}"}},
        "soft": {"image": "s", "labels": {"io.rancher.scheduler.affinity:host_label_soft": "zone=a"}}}}
    stack = render("s", compose, {"services": {"agent": {"scale": 3}}}, CTX)
    agent, db, soft = (stack.compose["services"][n] for n in ("agent", "db", "soft"))
    assert agent["deploy"]["mode"] == "global" and "replicas" not in agent["deploy"]
    assert agent["deploy"]["placement"]["constraints"] == ["node.labels.zone==a", "node.labels.disk==ssd"]
    assert db["deploy"]["placement"] == {"constraints": ["node.labels.zone!=b"], "max_replicas_per_node": 1}
    assert "placement" not in soft["deploy"]
    assert stack.warnings == [
        "rancher-compose.yml: services.agent.scale: ignored: a global service runs one task per host",
        "docker-compose.yml: services.soft.labels.io.rancher.scheduler.affinity:host_label_soft: has no Swarm "
        "equivalent (only hard host_label rules, global and a service's anti-affinity to itself map); ignored"]


def test_links_and_alias_services_become_network_aliases():
    compose = {"version": "2", "services": {
        "web": {"image": "w", "links": ["database:mongo"]},
        "database": {"image": "m"},
        "db": {"image": "rancher/dns-service", "links": ["database"]}}}
    stack = render("s", compose, None, CTX)
    assert stack.errors == []
    assert stack.compose["services"]["database"]["networks"] == {"default": {"aliases": ["db", "mongo"]}}
    assert "db" not in stack.compose["services"]


def test_compose_format_1_and_what_swarm_cannot_do_is_named():
    compose = {"web": {"image": "w", "privileged": True, "container_name": "x", "restart": "always",
                       "mem_limit": "256m", "labels": ["io.rancher.sidekicks=helper"]},
               "helper": {"image": "h"}}
    stack = render("s", compose, {"web": {"retain_ip": True, "scale": 2}}, CTX)
    web = stack.compose["services"]["web"]
    assert web["deploy"]["replicas"] == 2
    assert web["deploy"]["restart_policy"] == {"condition": "any"}
    assert web["deploy"]["resources"] == {"limits": {"memory": "256m"}}
    assert stack.warnings == [
        "docker-compose.yml: services.web.privileged: ignored: Swarm services cannot be privileged",
        "docker-compose.yml: services.web.container_name: ignored: Swarm names each task itself",
        "docker-compose.yml: services.web.labels.io.rancher.sidekicks: sidekicks are deployed as services of "
        "their own; Swarm cannot co-schedule them",
        "rancher-compose.yml: services.web.retain_ip: ignored: Swarm gives a replaced task a new address; "
        "reach services by name"]


def test_port_rules_follow_rancher_priority_order():
    rancher = copy.deepcopy(RANCHER)
    rancher["services"]["lb"]["lb_config"]["port_rules"] = [
        {"source_port": 80, "target_port": 80, "service": "apacz"},
        {"source_port": 80, "target_port": 80, "service": "apacz", "path": "/api"},
        {"source_port": 80, "target_port": 80, "service": "apacz", "hostname": "*.example.com"},
        {"source_port": 80, "target_port": 80, "service": "apacz", "hostname": "a.example.com", "path": "/x"},
        {"source_port": 80, "target_port": 80, "service": "apacz", "hostname": "z.example.com", "priority": 1}]
    config = walkthrough(rancher=rancher).lbs[0]["config"]
    order = [line.split()[1] for line in config.splitlines() if "use_backend" in line]
    assert order == ["be_80_z_example_com", "be_80_a_example_com__x", "be_80___example_com", "be_80__api"]
    assert "default_backend be_80" in config
    assert "acl r2_host hdr_end(host) -i .example.com" in config


def test_stickiness_uses_dynamic_cookies():
    rancher = copy.deepcopy(RANCHER)
    rancher["services"]["lb"]["lb_config"]["stickiness_policy"] = {"cookie": "SRV", "mode": "insert",
                                                                   "indirect": True, "nocache": True}
    config = walkthrough(rancher=rancher).lbs[0]["config"]
    assert "cookie SRV insert indirect nocache dynamic" in config


def test_a_port_rule_may_target_another_stack_on_its_network():
    other = {"name": "db", "compose": {"version": "2", "services": {"web2": {"image": "x"}}}}
    lb_rancher = copy.deepcopy(RANCHER)
    lb_rancher["services"]["lb"]["lb_config"]["port_rules"].append(
        {"source_port": 81, "target_port": 80, "service": "db/web2"})
    compose = copy.deepcopy(COMPOSE)
    compose["services"]["lb"]["ports"].append("81:81")
    first, web = render_all([other, {"name": "web", "compose": compose, "rancher": lb_rancher}], CTX)
    assert first.errors == [] and web.errors == []
    assert web.compose["networks"]["db_default"] == {"external": True}
    assert web.compose["services"]["lb"]["networks"] == {"default": None, "db_default": None}
    assert "tasks.db_web2:80" in web.lbs[0]["config"]


def _bad(path, value, in_rancher=True):
    compose, rancher = copy.deepcopy(COMPOSE), copy.deepcopy(RANCHER)
    node = rancher if in_rancher else compose
    *parents, last = path
    for part in parents:
        node = node[part]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return compose, rancher


DELETE = object()
RULES = ["services", "lb", "lb_config", "port_rules"]
BAD = [
    (_bad(["services", "apacz", "imagee"], "x", False),
     "docker-compose.yml: services.apacz.imagee: unknown key (did you mean 'image'?)"),
    (_bad(["services", "lb", "ports"], "80:80", False),
     "docker-compose.yml: services.lb.ports: must be a list, got string '80:80'"),
    (_bad(["services", "apacz", "tty"], "yes", False),
     "docker-compose.yml: services.apacz.tty: must be a boolean, got string 'yes'"),
    (_bad(["services", "apacz", "scale"], -1),
     "rancher-compose.yml: services.apacz.scale: must not be negative, got -1"),
    (_bad(["services", "apacz", "scale"], "four"),
     "rancher-compose.yml: services.apacz.scale: must be a whole number, got 'four'"),
    (_bad(RULES + [0, "service"], "missing"),
     "rancher-compose.yml: services.lb.lb_config.port_rules[0].service: target service 'missing' does not "
     "exist in this stack"),
    (_bad(RULES + [0, "service"], "other/web"),
     "rancher-compose.yml: services.lb.lb_config.port_rules[0].service: target service 'other/web' does not "
     "exist in stack 'other'"),
    (_bad(RULES, [{"source_port": 80, "target_port": 80, "service": "apacz"},
                  {"source_port": 80, "target_port": 8080, "service": "apacz"}]),
     "rancher-compose.yml: services.lb.lb_config.port_rules[1].source_port: duplicate source port 80: rule 0 "
     "already routes the same hostname and path to the same service"),
    (_bad(RULES, [{"source_port": 80, "target_port": 80, "service": "apacz"},
                  {"source_port": 80, "target_port": 80, "service": "apacz", "protocol": "tcp"}]),
     "rancher-compose.yml: services.lb.lb_config.port_rules[1].protocol: source port 80 already serves http; "
     "one port has one protocol"),
    (_bad(RULES + [0, "protocol"], "https"),
     "rancher-compose.yml: services.lb.lb_config.port_rules[0].protocol: https needs a certificate: set "
     "lb_config.default_cert to a name from the inventory's paddock_certificates"),
    (_bad(RULES + [0, "protocol"], "udp"),
     "rancher-compose.yml: services.lb.lb_config.port_rules[0].protocol: 'udp' is not supported by "
     "Paddock's load balancer (http, https, tcp or tls): HAProxy balances TCP and HTTP only; publish the "
     "service's port instead"),
    (_bad(["services", "lb", "lb_config", "default_cert"], "nope"),
     "rancher-compose.yml: services.lb.lb_config.default_cert: certificate 'nope' is not in the inventory's "
     "paddock_certificates (it lists none)"),
    (_bad(["services", "lb", "lb_config", "https_redirect"], True),
     "rancher-compose.yml: services.lb.lb_config.https_redirect: there is no https port rule to redirect to"),
    (_bad(RULES + [0, "protocol"], "quic"),
     "rancher-compose.yml: services.lb.lb_config.port_rules[0].protocol: must be one of: http, tcp, https, tls, "
     "sni, udp; got string 'quic'"),
    (_bad(RULES + [0, "source_port"], 70000),
     "rancher-compose.yml: services.lb.lb_config.port_rules[0].source_port: must be between 1 and 65535, "
     "got 70000"),
    (_bad(RULES + [0, "target_port"], DELETE),
     "rancher-compose.yml: services.lb.lb_config.port_rules[0]: missing required key 'target_port'"),
    (_bad(["services", "apacz", "image"], DELETE, False),
     "docker-compose.yml: services.apacz: needs an image (Swarm cannot build; see playbooks/images.yml)"),
    (_bad(["services", "apacz", "restart"], "sometimes", False),
     "docker-compose.yml: services.apacz.restart: must be no, always, unless-stopped or on-failure, got "
     "'sometimes'"),
    (_bad(["version"], "4", False),
     "docker-compose.yml: version: compose format 4 is not supported (1, 2.x or 3.x)"),
    (_bad(["services", "apacz", "health_check", "interval"], "2s"),
     "rancher-compose.yml: services.apacz.health_check.interval: must be an integer, got string '2s'"),
]


@pytest.mark.parametrize(("documents", "expected"), BAD, ids=[e.split(": ", 1)[1][:60] for _d, e in BAD])
def test_bad_stack_files_are_refused_with_file_path_and_problem(documents, expected):
    stack = walkthrough(*documents)
    assert stack.errors == [expected]
    assert stack.compose is None


def test_two_stacks_publishing_one_host_port_are_refused():
    stacks = render_all([{"name": "a", "compose": copy.deepcopy(COMPOSE), "rancher": copy.deepcopy(RANCHER)},
                         {"name": "b", "compose": copy.deepcopy(COMPOSE), "rancher": copy.deepcopy(RANCHER)}], CTX)
    assert stacks[0].errors == []
    assert stacks[1].errors == ["docker-compose.yml: services.lb.ports: host port 80/tcp is already published by a/lb"]


def test_a_bad_stack_name_is_refused():
    assert walkthrough(name="Web Site").errors == [
        "inventory: paddock_stacks.name: stack name must be lower-case letters, digits, - and _, got 'Web Site'"]


def test_a_tcp_rule_cuts_sessions_on_a_server_marked_down_and_an_http_rule_does_not():
    rancher = copy.deepcopy(RANCHER)
    rancher["services"]["lb"]["lb_config"]["port_rules"].append(
        {"source_port": 6379, "target_port": 6379, "service": "apacz", "protocol": "tcp"})
    compose = copy.deepcopy(COMPOSE)
    compose["services"]["lb"]["ports"].append("6379:6379/tcp")
    stack = walkthrough(compose, rancher)
    assert stack.errors == []
    servers = [line.strip() for line in stack.lbs[0]["config"].splitlines() if "server-template" in line]
    assert [line.endswith("on-marked-down shutdown-sessions") for line in servers] == [False, True]
    assert "load-server-state-from-file global" in stack.lbs[0]["config"]


def test_a_rancher_compose_entry_for_a_service_the_compose_file_lacks_is_ignored_with_a_warning():
    """Rancher ignored it (an exported stack often has one for a removed service)."""
    rancher = copy.deepcopy(RANCHER)
    rancher["services"]["cache"] = {"scale": 1}
    stack = walkthrough(rancher=rancher)
    assert stack.errors == []
    assert stack.warnings == ["rancher-compose.yml: services.cache: configures a service that docker-compose.yml "
                              "does not define; ignored, as Rancher ignored it"]
    assert "cache" not in stack.compose["services"]


def test_a_key_rancher_did_not_know_in_rancher_compose_is_ignored_with_a_warning_naming_the_nearest():
    rancher = copy.deepcopy(RANCHER)
    rancher["services"]["apacz"]["scael"] = 8
    stack = walkthrough(rancher=rancher)
    assert stack.errors == []
    assert stack.warnings == ["rancher-compose.yml: services.apacz.scael: unknown key (did you mean 'scale'?); "
                              "ignored, as Rancher ignored it"]
    assert stack.compose["services"]["apacz"]["deploy"]["replicas"] == 4


SELECTED = yaml.safe_load("""
version: '2'
services:
  web1: {image: 'apacz:1', labels: {tier: web, zone: a}}
  web2: {image: 'apacz:1', labels: [tier=web, zone=b]}
  db: {image: 'redis:7', labels: {tier: db}}
  lb:
    image: rancher/lb-service-haproxy:v0.7.15
    ports: ["80:80/tcp"]
""")


def selector_stack(rule):
    rancher = {"version": "2", "services": {"lb": {"lb_config": {"port_rules": [rule]}}}}
    return walkthrough(copy.deepcopy(SELECTED), rancher)


def test_a_selector_rule_targets_every_service_whose_labels_it_selects_in_one_backend():
    stack = selector_stack({"source_port": 80, "target_port": 80, "selector": "tier=web, zone in (a, b)"})
    assert stack.errors == []
    config = stack.lbs[0]["config"]
    servers = sorted(line.split()[3] for line in config.splitlines() if "server-template" in line)
    assert servers == ["tasks.web_web1:80", "tasks.web_web2:80"]
    assert config.count("\nbackend ") == 1
    assert selector_stack({"source_port": 80, "target_port": 80, "selector": "tier!=web"}).lbs[0]["config"].count(
        "tasks.web_db:80") == 1


@pytest.mark.parametrize(("rule", "expected"), [
    ({"source_port": 80, "target_port": 80, "selector": "tier=cache"},
     "rancher-compose.yml: services.lb.lb_config.port_rules[0].selector: selects no service of stack 'web' or of "
     "the other stacks the inventory deploys"),
    ({"source_port": 80, "target_port": 80, "selector": "tier ~ web"},
     "rancher-compose.yml: services.lb.lb_config.port_rules[0].selector: cannot read the term 'tier ~ web' (key, "
     "!key, key=value, key!=value, key in (a, b), key notin (a, b))"),
    ({"source_port": 80, "target_port": 80, "container": "web1-1"},
     "rancher-compose.yml: services.lb.lb_config.port_rules[0].container: a rule that targets a container is not "
     "supported: Swarm gives a task no fixed name; target the container's service instead"),
])
def test_a_rule_paddock_cannot_target_is_refused_with_the_reason(rule, expected):
    assert selector_stack(rule).errors == [expected]


def test_a_selector_reaches_the_services_of_another_stack_the_inventory_deploys():
    app = {"name": "app",
           "compose": {"version": "2", "services": {"api": {"image": "apacz:1", "labels": {"public": "yes"}}}}}
    front = {"name": "front", "compose": {"version": "2", "services": {"lb": {
                 "image": "rancher/lb-service-haproxy:v0.7.15", "ports": ["80:80/tcp"]}}},
             "rancher": {"version": "2", "services": {"lb": {"lb_config": {"port_rules": [
                 {"source_port": 80, "target_port": 8080, "selector": "public=yes"}]}}}}}
    _app, lb = render_all([app, front], CTX)
    assert lb.errors == []
    assert "server-template api-8080- 64 tasks.app_api:8080" in lb.lbs[0]["config"]
    assert "app_default" in lb.compose["services"]["lb"]["networks"]


def test_http_backends_keep_server_connections_alive_each_for_its_own_client_and_tcp_ones_are_untouched():
    rancher = copy.deepcopy(RANCHER)
    rancher["services"]["lb"]["lb_config"]["port_rules"] = [
        {"source_port": 80, "target_port": 80, "service": "apacz"},
        {"source_port": 80, "target_port": 80, "service": "apacz", "path": "/api"},
        {"source_port": 5000, "target_port": 80, "service": "apacz", "protocol": "tcp"}]
    config = walkthrough(rancher=rancher).lbs[0]["config"]
    sections = {block.splitlines()[0]: block for block in config.split("\n\n") if block.strip()}
    http = [name for name, block in sections.items() if name.startswith("backend") and "mode http" in block]
    tcp = [name for name, block in sections.items() if name.startswith("backend") and "mode tcp" in block]
    assert len(http) == 2 and len(tcp) == 1, sections.keys()
    assert all("\n    http-reuse never\n" in sections[name] for name in http)
    assert "http-reuse" not in sections[tcp[0]]
    assert "http-server-close" not in config and "httpclose" not in config


def console_rule(**rule):
    rancher = copy.deepcopy(RANCHER)
    rancher["services"]["lb"]["lb_config"]["port_rules"].append(
        {"source_port": 8444, "target_port": 8443, "service": "paddock-console/console", "protocol": "tcp", **rule})
    return rancher


CONSOLE = {"port": 8443, "servers": ["10.0.0.1", "10.0.0.2"]}


def test_a_port_rule_passes_tls_through_to_the_console_on_every_manager():
    stack = walkthrough(rancher=console_rule(), ctx={**CTX, "console": CONSOLE})
    assert stack.errors == []
    config = stack.lbs[0]["config"]
    assert "    server console-8443-1 10.0.0.1:8443 check inter 1000ms fall 2 rise 2 on-marked-down shutdown-sessions" \
        in config
    assert "    server console-8443-2 10.0.0.2:8443" in config
    assert "bind :8444\n    mode tcp" in config
    # The console is on the managers' own network: the load balancer joins no network of its.
    assert stack.compose["services"]["lb"]["networks"] == {"default": None}
    assert "paddock-console_default" not in stack.compose["networks"]


@pytest.mark.parametrize(("rule", "ctx", "key", "problem"), [
    ({}, {}, "service", "the console is not enabled (paddock_console_enabled)"),
    ({"protocol": "https"}, {"console": CONSOLE}, "protocol",
     "the console serves its own HTTPS: route it with protocol tcp, which passes its TLS through"),
    ({"target_port": 443}, {"console": CONSOLE}, "target_port",
     "the console listens on 8443 (paddock_console_port), not 443"),
])
def test_a_port_rule_to_the_console_is_refused_where_it_cannot_reach_it(rule, ctx, key, problem):
    stack = walkthrough(rancher=console_rule(**rule), ctx={**CTX, **ctx})
    assert stack.errors == [f"rancher-compose.yml: services.lb.lb_config.port_rules[1].{key}: {problem}"]


def test_each_service_carries_what_its_files_say_so_that_a_change_outside_them_shows():
    stack = walkthrough()
    apacz, lb = stack.compose["services"]["apacz"], stack.compose["services"]["lb"]
    assert apacz["deploy"]["labels"]["io.paddock.files.replicas"] == "4"
    assert apacz["deploy"]["labels"]["io.paddock.files.image"] == "reg:5000/apacz:1"
    assert "io.paddock.files.replicas" not in lb["deploy"]["labels"]  # global: one task per node
