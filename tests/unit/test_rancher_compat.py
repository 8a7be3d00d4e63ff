"""Rancher 1.x files as Rancher read them: each class of entry the real catalogs hold, in a small
case of the project's own, with its exact result. bench/rancher_catalog.py runs the real
catalogs; these keep each class fixed."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
import yaml
from test_catalog import checkout_entry

from ansible_collections.paddock.platform.plugins.module_utils import _catalog
from ansible_collections.paddock.platform.plugins.module_utils._stack import render, render_all

CTX = {"ipvs": False, "lb_image": "paddock/haproxy:2.6"}


def rendered(compose, rancher=None, name="app"):
    return render(name, yaml.safe_load(compose), yaml.safe_load(rancher) if rancher else None, CTX)


def docker_takes(compose, tmp_path):
    """Docker's own loader (docker stack config): None, or its complaint."""
    path = tmp_path / "stack.json"
    path.write_text(json.dumps(compose))
    done = subprocess.run(["docker", "stack", "config", "--compose-file", str(path)], capture_output=True,
                          text=True, env={**os.environ, "DOCKER_HOST": "unix:///nonexistent"})
    return None if done.returncode == 0 else done.stderr.strip()


def test_booleans_in_environment_and_labels_reach_the_container_as_rancher_gave_them(tmp_path):
    stack = rendered("""
version: '2'
services:
  web:
    image: nginx:1.25
    environment: {VERIFY: true, DEBUG: false, NAME: web}
    labels: {traefik.enable: true}
""")
    assert stack.errors == []
    web = stack.compose["services"]["web"]
    assert web["environment"] == {"VERIFY": "true", "DEBUG": "false", "NAME": "web"}
    assert web["labels"] == {"traefik.enable": "true"}
    assert docker_takes(stack.compose, tmp_path) is None


def test_named_volumes_are_declared_with_the_service_driver_and_rancher_volume_keys_are_translated(tmp_path):
    stack = rendered("""
version: '2'
services:
  db:
    image: postgres:15
    volume_driver: local
    volumes: ['pgdata:/var/lib/postgresql/data', 'logs:/var/log', '/srv/conf:/etc/conf:ro', /tmp/scratch]
volumes:
  pgdata: {driver: local, per_container: true, driver_opts: {}}
  shared: {external: true, driver: rancher-nfs}
""")
    assert stack.errors == []
    assert stack.compose["volumes"] == {"pgdata": {"driver": "local"}, "shared": {"external": True},
                                        "logs": {"driver": "local"}}
    assert stack.warnings == [
        "docker-compose.yml: volumes.pgdata.per_container: Swarm has no volume per container: the tasks on one "
        "node share this volume",
        "docker-compose.yml: volumes.shared.driver: ignored: the volume is external (it exists already, with its "
        "own driver)"]
    assert docker_takes(stack.compose, tmp_path) is None


def test_a_service_given_as_nothing_and_a_health_check_port_as_text_are_read_as_rancher_read_them():
    stack = rendered("""
version: '2'
services:
  dns: {image: 'internetsystemsconsortium/bind9:9.18'}
  lb:
    image: rancher/lb-service-haproxy:v0.7.15
    ports: ['53:53/tcp']
""", """
version: '2'
services:
  dns:
    health_check: {port: '53', interval: '2000', healthy_threshold: 2, unhealthy_threshold: 3}
  lb:
    lb_config:
      port_rules: [{source_port: 53, target_port: 53, service: dns, protocol: tcp, hostname: '', path: ''}]
  ghost:
""")
    assert stack.errors == []
    assert "check port 53 inter 2000ms fall 3 rise 2" in stack.lbs[0]["config"]
    assert stack.warnings == ["rancher-compose.yml: services.ghost: configures a service that docker-compose.yml "
                              "does not define; ignored, as Rancher ignored it"]


def test_two_replicated_services_may_share_a_host_port_but_not_with_a_global_one():
    def check(compose):
        [stack] = render_all([{"name": "app", "compose": yaml.safe_load(compose), "rancher": None}], CTX)
        return stack

    shared = check("""
version: '2'
services:
  qdb1: {image: 'bureau14/qdb:2.1', ports: ['2836:2836']}
  qdb2: {image: 'bureau14/qdb:2.1', ports: ['2836:2836']}
""")
    assert shared.errors == []
    assert shared.warnings == ["docker-compose.yml: services.qdb2.ports: host port 2836/tcp is also published by "
                               "app/qdb1: their tasks run on different nodes, so they need as many nodes as tasks"]
    clash = check("""
version: '2'
services:
  qdb1: {image: 'bureau14/qdb:2.1', ports: ['2836:2836']}
  agent: {image: 'bureau14/qdb:2.1', ports: ['2836:2836'], labels: {io.rancher.scheduler.global: 'true'}}
""")
    assert clash.errors == ["docker-compose.yml: services.agent.ports: host port 2836/tcp is already published by "
                            "app/qdb1"]


def test_a_catalog_file_with_a_key_written_twice_keeps_the_last_as_rancher_did(tmp_path, monkeypatch):
    checkout_entry(tmp_path, "reg", "name: Registry\nversion: 1.0.0\n",
                   "version: '2'\nservices:\n  reg:\n    image: registry:2\n    labels:\n"
                   "      io.rancher.scheduler.affinity:host_label: a=1\n"
                   "      io.rancher.scheduler.affinity:host_label: a=2\n",
                   "version: '2'\ncatalog:\n  name: Registry\n  version: 1.0.0\n  questions:\n")
    found, problem = _catalog.find_entry([str(tmp_path)], "reg")
    assert problem is None
    monkeypatch.chdir(tmp_path)
    out = _catalog.prepare(found, None, {}, "answers", "reg")
    assert out["errors"] == []
    assert out["warnings"] == [
        "templates/reg/0/docker-compose.yml: line 7: key 'io.rancher.scheduler.affinity:host_label' is written "
        "twice in one mapping (first on line 6); the last is kept, as Rancher kept it"]
    assert out["compose"]["services"]["reg"]["labels"] == {"io.rancher.scheduler.affinity:host_label": "a=2"}


@pytest.mark.parametrize("template,message", [
    ('{{- if (ne .Values.LB "true") and .Values.PORT}}x{{end}}',
     'line 1: can\'t give argument to non-function (ne .Values.LB "true")'),
])
def test_a_broken_go_template_is_reported_as_go_reports_it(template, message):
    from ansible_collections.paddock.platform.plugins.module_utils._gotemplate import TemplateError
    from ansible_collections.paddock.platform.plugins.module_utils._gotemplate import render as go

    with pytest.raises(TemplateError) as caught:
        go(template, {"LB": "false", "PORT": "80"}, {"Name": "", "Version": ""})
    assert str(caught.value) == message


def test_rancher_patterns_with_a_swarm_equivalent_are_mapped_and_docker_takes_them(tmp_path):
    stack = rendered("""
version: '2'
services:
  app:
    image: example/app:1
    volumes_from: [data]
    links: ['agent:monitor']
    labels:
      io.rancher.sidekicks: data
      io.rancher.container.hostname_override: container_name
      io.rancher.container.pull_image: always
  data:
    image: busybox:1.36
    volumes: [/var/lib/app, 'logs:/var/log/app']
  agent:
    image: example/agent:1
    net: host
    ports: ['9100:9100']
""")
    assert stack.errors == []
    app, data, agent = (stack.compose["services"][s] for s in ("app", "data", "agent"))
    # volumes_from: the sidekick's volumes, named, mounted by both.
    assert data["volumes"] == ["data_var_lib_app:/var/lib/app", "logs:/var/log/app"]
    assert app["volumes"] == ["data_var_lib_app:/var/lib/app", "logs:/var/log/app"]
    assert stack.compose["volumes"] == {"data_var_lib_app": {}, "logs": {}}
    # hostname_override: container_name -> the task's own name; pull_image: Swarm resolves on deploy.
    assert app["hostname"] == "{{.Service.Name}}-{{.Task.Slot}}"
    assert app["labels"] == {"io.rancher.sidekicks": "data"}
    # net: host -> Docker's host network, its ports the host's own.
    assert agent["networks"] == {"hostnet": None} and "ports" not in agent
    assert stack.compose["networks"]["hostnet"] == {"external": True, "name": "host"}
    assert stack.warnings == [
        "docker-compose.yml: services.app.labels.io.rancher.sidekicks: sidekicks are deployed as services of "
        "their own; Swarm cannot co-schedule them",
        "docker-compose.yml: services.agent.ports: ignored: the service uses the host's network, so it listens on "
        "the host's ports itself",
        "docker-compose.yml: services.app.links[0]: the alias 'monitor' is lost: 'agent' uses the host's network, "
        "which has no aliases; reach it by its node's address",
        "docker-compose.yml: services.app.volumes_from: mapped to the volumes data_var_lib_app, logs, which app "
        "mounts too; Swarm keeps a volume on each node, not with one container",
    ]
    assert docker_takes(stack.compose, tmp_path) is None


def test_what_has_no_swarm_equivalent_is_named_in_a_warning():
    [stack] = render_all([{"name": "app", "compose": yaml.safe_load("""
version: '2'
services:
  web: {image: 'example/web:1'}
  worker:
    image: example/worker:1
    labels: {io.rancher.container.create_agent: 'true', io.rancher.container.agent.role: environment}
  lb: {image: 'rancher/lb-service-haproxy:v0.7.15', ports: ['80:80']}
"""), "rancher": yaml.safe_load("""
version: '2'
services:
  web:
    health_check: {port: 80, interval: 2000, strategy: recreate}
  worker:
    health_check: {port: 8080, interval: 2000}
  lb:
    lb_config:
      port_rules: [{source_port: 80, target_port: 80, service: web}]
""")}], CTX)
    assert stack.errors == []
    assert stack.warnings == [
        "docker-compose.yml: services.worker.labels.io.rancher.container.create_agent: the container expects "
        "Rancher's API keys (CATTLE_*) and there is no Rancher API; what it does with them will not work",
        "docker-compose.yml: services.worker.labels.io.rancher.container.agent.role: there is no Rancher API to "
        "give the container a role on",
        "rancher-compose.yml: services.web.health_check.strategy: ignored: the load balancer takes a failing task "
        "out of rotation; Swarm replaces a task only when its container exits",
        "rancher-compose.yml: services.worker.health_check: ignored: no load balancer sends traffic to this "
        "service, and only the load balancer acts on a health check (a compose healthcheck runs a command in the "
        "container)",
    ]


def test_rancher_1_0_load_balancer_becomes_paddocks_with_its_ports_links_and_target_labels(tmp_path):
    """Its ports and expose are listen:target; a target label (listen=target) limits a service to
    the ports it names."""
    stack = rendered("""
lb:
  image: rancher/load-balancer-service
  ports: ['80:8080', '5443:443/tcp']
  expose: ['3306:3307/tcp']
  links: ['web:web', 'proxy:proxy']
  labels:
    io.rancher.loadbalancer.target.proxy: 5443=8443
web:
  image: nginx:1.25
proxy:
  image: example/proxy:1
""")
    assert stack.errors == []
    config = stack.lbs[0]["config"]
    assert "frontend fe_80\n    bind :80\n    mode http" in config
    assert "frontend fe_5443\n    bind :5443\n    mode tcp" in config
    assert "frontend fe_3306\n    bind :3306\n    mode tcp" in config
    servers = sorted(line.split()[3] for line in config.splitlines() if "server-template" in line)
    assert servers == ["tasks.app_proxy:8443", "tasks.app_web:3307", "tasks.app_web:443", "tasks.app_web:8080"]
    # Published as HAProxy listens: each listening port as itself.
    assert stack.compose["services"]["lb"]["ports"] == [
        {"target": 80, "published": 80, "protocol": "tcp", "mode": "host"},
        {"target": 5443, "published": 5443, "protocol": "tcp", "mode": "host"}]
    assert docker_takes(stack.compose, tmp_path) is None


LEGACY_TLS_LB = """
lb:
  image: rancher/load-balancer-service
  ports: ['443:8080', '80:8080']
  links: ['web:web']
  labels: {io.rancher.loadbalancer.ssl.ports: '443'}
web: {image: 'nginx:1.25'}
"""


def test_rancher_1_0_load_balancer_terminates_tls_on_its_ssl_ports_with_the_services_certificate():
    stack = render("app", yaml.safe_load(LEGACY_TLS_LB), {"lb": {"default_cert": "www"}},
                   {**CTX, "certificates": ["www"]})
    assert stack.errors == []
    config = stack.lbs[0]["config"]
    assert "frontend fe_443\n    bind :443 ssl crt-list /etc/paddock-lb/certs/crt-list alpn h2,http/1.1\n" in config
    assert "frontend fe_80\n    bind :80\n    mode http" in config
    assert stack.lbs[0]["certs"] == ["www"]


def test_rancher_1_0_load_balancer_with_tls_and_no_certificate_is_refused_where_tls_is_asked():
    stack = rendered(LEGACY_TLS_LB)
    assert stack.errors == [
        "docker-compose.yml: services.lb.labels.io.rancher.loadbalancer.ssl.ports: TLS on port 443 needs a "
        "certificate: set the service's default_cert in rancher-compose.yml to a name from the inventory's "
        "paddock_certificates"]


def test_an_exported_stack_deploys_as_rancher_ran_it(tmp_path):
    """The classes "Export Config" files showed: a container-only port beside DNS round robin, a
    secret's mode as text, a service created stopped, keys given as nothing, compose 1's
    dockerfile, a link to the stack's load balancer, an alias of another stack's service."""
    [stack] = render_all([{"name": "app", "compose": yaml.safe_load("""
version: '2'
secrets:
  token: {external: true}
services:
  ldap:
    image: osixia/openldap:1.5.0
    ports: ['389']
    links:
    secrets: [{source: token, mode: '0444'}]
  worker:
    image: example/worker:1
    dockerfile: Dockerfile.worker
    links: ['lb:frontend']
  remote-db:
    image: rancher/dns-service
    external_links: [other/db:db]
  lb:
    image: rancher/lb-service-haproxy:v0.7.15
    ports: ['8080:80']
"""), "rancher": yaml.safe_load("""
version: '2'
services:
  worker: {start_on_create: false, scale: 3}
  lb:
    lb_config:
      port_rules: [{source_port: 80, target_port: 389, service: ldap, protocol: tcp}]
""")}], CTX)
    assert stack.errors == []
    ldap, worker, lb = (stack.compose["services"][s] for s in ("ldap", "worker", "lb"))
    assert ldap["ports"] == [{"target": 389, "protocol": "tcp", "mode": "host"}]
    assert ldap["secrets"] == [{"source": "token", "mode": 0o444}]
    assert worker["deploy"]["replicas"] == 0
    assert lb["networks"]["default"] == {"aliases": ["frontend"]}
    assert "remote-db" not in stack.compose["services"]
    assert stack.warnings == [
        "docker-compose.yml: services.worker.dockerfile: ignored: Swarm does not build; build and push it with "
        "playbooks/images.yml, then name the image",
        "docker-compose.yml: services.remote-db.external_links: ignored, with its alias service: Swarm has no "
        "alias of another stack's service; reach it as <service>.<stack>_default",
    ]
    assert docker_takes(stack.compose, tmp_path) is None


def test_a_relative_host_path_is_refused_since_tasks_run_on_any_node():
    stack = rendered("version: '2'\nservices:\n  web: {image: nginx:1.25, volumes: ['./html:/usr/share/nginx/html']}\n")
    assert stack.errors == ["docker-compose.yml: services.web.volumes[0]: './html' is a host path relative to the "
                            "stack's files, but tasks run on any node; give an absolute path that exists on every "
                            "node, or a named volume"]


def test_yaml_booleans_in_a_question_are_text_to_the_templates_as_rancher_gave_them(tmp_path, monkeypatch):
    checkout_entry(tmp_path, "grid", "name: Grid\nversion: 1.0.0\n",
                   "version: '2'\nservices:\n  hub: {image: 'selenium/hub:3.141'}\n"
                   "{{- if eq .Values.chrome \"true\" }}\n"
                   "  chrome: {image: 'selenium/node-chrome:3.141'}\n{{- end }}\n",
                   "version: '2'\ncatalog:\n  name: Grid\n  version: 1.0.0\n  questions:\n"
                   "    - {variable: chrome, type: enum, options: [true, false], default: true}\n",
                   compose_name="docker-compose.yml.tpl")
    monkeypatch.chdir(tmp_path)
    found, _ = _catalog.find_entry([str(tmp_path)], "grid")
    for answers in ({}, {"chrome": "true"}, {"chrome": True}):
        out = _catalog.prepare(found, None, answers, "answers", "grid")
        assert out["errors"] == [] and set(out["compose"]["services"]) == {"hub", "chrome"}, answers
    out = _catalog.prepare(found, None, {"chrome": "false"}, "answers", "grid")
    assert set(out["compose"]["services"]) == {"hub"}
