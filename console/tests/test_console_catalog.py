"""The console's catalog pages, their pure parts: a form's answers, the ports a running swarm
has taken, the catalog's upgrade rule, and a launch rendered as playbooks/catalog.yml renders it
(console/paddock_console/catalog.py, _catalog_upgrade, _stack's load balancer as configs)."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.paddock.platform.plugins.module_utils import _catalog_upgrade, _stack_entries
from paddock_console import catalog

WORDPRESS = {"public_port": "8081", "db_password": "a" * 12, "db_root_password": "b" * 12}


def service(name, stack, ports=(), labels=None, is_global=False):
    spec_labels = {"com.docker.stack.namespace": stack, **(labels or {})} if stack else dict(labels or {})
    return {"Spec": {"Name": name, "Labels": spec_labels, "Mode": {"Global": {}} if is_global else {"Replicated": {}}},
            "Endpoint": {"Spec": {"Ports": list(ports)}}}


def port(published, mode="host"):
    return {"PublishedPort": published, "TargetPort": published, "Protocol": "tcp", "PublishMode": mode}


def test_a_form_gives_answers_as_an_answers_file_would():
    questions = [{"variable": "public_port", "type": "int"}, {"variable": "debug", "type": "boolean"},
                 {"variable": "tls", "type": "boolean"}, {"variable": "name", "type": "string"},
                 {"variable": "motd", "type": "multiline"}]
    form = {"q_public_port": "8080", "q_tls": "true", "q_name": "", "q_motd": "a\r\nb", "q_other": "x", "csrf": "t"}
    assert catalog.answers_from_form(questions, form) == {"public_port": "8080", "debug": "false", "tls": "true",
                                                          "motd": "a\nb"}


def test_ports_taken_are_those_of_other_stacks_with_their_reach():
    services = [service("walkthrough_lb", "walkthrough", [port(80)], is_global=True),
                service("web", None, [port(8080, "ingress")]),
                service("blog_wordpress-lb", "blog", [port(8081)]),
                service("tiers_app", "tiers", [port(9000)])]
    assert catalog.published_ports(services, "blog") == [[80, "tcp", "walkthrough", "lb", True],
                                                         [8080, "tcp", "-", "web", True],
                                                         [9000, "tcp", "tiers", "app", False]]


def test_the_running_apps_of_an_entry_and_the_entry_that_keeps_one_in_git():
    labels = {"io.paddock.catalog.entry": "wordpress", "io.paddock.catalog.version": "1.1.0"}
    services = [service("blog_wordpress", "blog", labels=labels), service("blog_mariadb", "blog", labels=labels),
                service("walkthrough_web", "walkthrough")]
    assert catalog.apps(services) == {"wordpress": {"blog": "1.1.0"}}
    assert catalog.running_labels(services, "walkthrough") == {"com.docker.stack.namespace": "walkthrough"}
    assert catalog.running_labels(services, "gone") is None
    assert yaml.safe_load(catalog.gitops_entry("blog", "wordpress", "1")) == [
        {"name": "blog", "catalog": "wordpress", "version": 1, "answers_file": "answers/blog.yml"}]


def test_the_upgrade_rule_is_the_playbooks():
    want = {"entry": "wordpress", "folder": "1", "version": "1.1.0", "upgrade_from": ">=1.0.0 <1.1.0"}
    running = {"io.paddock.catalog.entry": "wordpress", "io.paddock.catalog.folder": "0",
               "io.paddock.catalog.version": "1.0.0"}
    assert _catalog_upgrade.check("blog", None, want) == (None, None)
    assert _catalog_upgrade.check("blog", running, want) == (None, "blog: wordpress 0 (1.0.0) -> 1 (1.1.0)")
    newer = {**running, "io.paddock.catalog.folder": "2", "io.paddock.catalog.version": "1.2.0"}
    assert "is a downgrade" in _catalog_upgrade.check("blog", newer, want)[0]
    assert _catalog_upgrade.check("blog", {"com.docker.stack.namespace": "blog"}, want)[0] == (
        "stack blog already exists and was not launched from the catalog; choose another stack_name")
    assert "upgrades only from '>=1.0.0 <1.1.0'" in _catalog_upgrade.check(
        "blog", {**running, "io.paddock.catalog.version": "0.9.0"}, want)[0]


@pytest.fixture(autouse=True)
def in_the_consoles_directory(monkeypatch):
    monkeypatch.chdir(catalog.ROOT)  # as the console runs


def test_a_launch_from_the_console_is_checked_with_the_playbooks_messages():
    bad = {**WORDPRESS, "public_port": "80x", "db_password": "short", "db_nmae": "a"}
    console = catalog.Catalog({}).render("journal", "wordpress", "1", bad, [])
    reader = _stack_entries.Reader(catalog.ROOT, [], launch_answers=bad, certificates=[])
    playbook = _stack_entries.check([], [{"name": "journal", "catalog": "wordpress", "version": "1"}], reader,
                                    {})["errors"]
    assert console[0] is None
    assert console[1] == [e.replace("-e answers", "answers") for e in playbook]
    assert "stack journal: answers: db_nmae: not a question of catalog/wordpress/1 (did you mean 'db_name'?)" \
        in console[1]
    assert "stack journal: answers: db_password: must be at least 12 characters long, got 5" in console[1]
    assert "short" not in " ".join(console[1])


def test_a_port_a_running_stack_publishes_is_taken():
    taken = [service("walkthrough_lb", "walkthrough", [port(8081)], is_global=True)]
    rendered, errors, _warnings = catalog.Catalog({}).render("journal", "wordpress", "1", WORDPRESS, taken)
    assert rendered is None
    assert errors == ["stack journal: catalog/wordpress/1/docker-compose.yml:28: services.wordpress-lb.ports: "
                      "host port 8081/tcp is already published by walkthrough/lb"]


def test_a_launch_refuses_a_downgrade_of_a_running_app():
    labels = {"io.paddock.catalog.entry": "wordpress", "io.paddock.catalog.folder": "1",
              "io.paddock.catalog.version": "1.1.0"}
    rendered, errors, _warnings = catalog.Catalog({}).render(
        "blog", "wordpress", "0", WORDPRESS, [service("blog_wordpress", "blog", labels=labels)])
    assert rendered is None and "going back to version 0 (1.0.0) is a downgrade" in errors[0]


def test_a_launched_load_balancer_reads_its_files_from_swarm_configs_named_by_content():
    rendered, errors, _warnings = catalog.Catalog({"lb_constraint": "node.labels.paddock.lb==true"}).render(
        "journal", "wordpress", "1", WORDPRESS, [])
    assert errors == []
    stack = rendered["stack"]
    lb = stack.compose["services"]["wordpress-lb"]
    assert "volumes" not in lb  # no host directory: the console writes no host file
    assert [(c["target"], c["mode"]) for c in lb["configs"]] == [("/etc/paddock-lb/run", 0o444),
                                                                  ("/etc/paddock-lb/haproxy.cfg", 0o444)]
    assert lb["deploy"]["placement"]["constraints"] == ["node.labels.paddock.lb==true"]
    configs = stack.compose["configs"]
    assert stack.config_files["wordpress-lb_haproxy"] == stack.lbs[0]["config"]
    assert stack.config_files["wordpress-lb_run"].startswith("#!/bin/sh")
    name = configs["wordpress-lb_haproxy"]["name"]
    assert name.startswith("journal_wordpress-lb_haproxy_")
    # Other answers, another haproxy.cfg: another config, which the service moves to.
    other = catalog.Catalog({}).render("journal", "wordpress", "1", {**WORDPRESS, "public_port": "8082"}, [])[0]
    assert other["stack"].compose["configs"]["wordpress-lb_haproxy"]["name"] != name
    # The passwords are Swarm secrets, as from the playbook, never in the compose file.
    assert WORDPRESS["db_password"] not in str(stack.compose)
    assert sorted(k.rsplit("_", 1)[0] for k in stack.secret_files) == ["db_password", "db_root_password"]


def test_the_listing_has_every_entry_of_paddocks_catalog_with_its_versions():
    listed = {e["entry"]: e for e in catalog.Catalog({}).entries()}
    assert sorted(listed) == ["hadoop", "jenkins", "prometheus", "wordpress"]
    assert [v["version"] for v in listed["wordpress"]["versions"]] == ["1.0.0", "1.1.0"]
    assert listed["wordpress"]["errors"] == [] and listed["wordpress"]["icon"] is False
    assert catalog.Catalog({}).entry("../wordpress") is None
    assert catalog.Catalog({}).icon("wordpress") is None
