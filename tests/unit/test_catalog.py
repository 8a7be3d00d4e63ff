"""The catalog: entries in Rancher 1.x's layout, answers checked against questions, templates filled."""

import json
import os
import subprocess

import pytest
import yaml

from ansible_collections.paddock.platform.plugins.module_utils import _catalog
from ansible_collections.paddock.platform.plugins.module_utils._semver import matches, parse, range_errors
from ansible_collections.paddock.platform.plugins.module_utils._stack import render_all

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CATALOG = os.path.join(ROOT, "catalog")

# An entry with one question of every type and every constraint Rancher 1.x knew.
KITCHEN_COMPOSE = """
version: '2'
services:
  app:
    image: example/app:${tag}
    command: ["serve", "--port", "${port}", "--name", "$${stack_name}"]
    environment:
      MODE: ${mode}
      DEBUG: ${debug}
      ADMIN_PASSWORD: ${admin_password}
      BACKEND: ${backend}
      MOTD: ${motd}
      SELF: ${stack_name}/${service_name}
      UNSET: ${not_asked:-fallback}
    labels:
      io.rancher.scheduler.affinity:container_label_ne: io.rancher.stack_service.name=$${stack_name}/$${service_name}
"""
KITCHEN_RANCHER = """
version: '2'
catalog:
  name: Kitchen sink
  version: 2.0.0-rc1
  upgrade_from: '>=1.0.0 <2.0.0'
  questions:
    - {variable: tag, type: string, default: "1.0", valid_chars: "a-z0-9.", max_length: 10}
    - {variable: port, type: int, default: 8080, min: 1024, max: 65535, required: true}
    - {variable: replicas, type: int, default: 2, min: 1, max: 5}
    - {variable: mode, type: enum, options: [fast, safe], default: safe}
    - {variable: debug, type: boolean, default: false}
    - {variable: admin_password, type: password, required: true, min_length: 10, invalid_chars: " '"}
    - {variable: backend, type: service}
    - {variable: motd, type: multiline, max_length: 40}
    - {variable: tls_cert, type: certificate}
    - {variable: name, type: string, required: true, min_length: 3, invalid_chars: "/:"}
services:
  app:
    scale: ${replicas}
"""
GOOD = {"admin_password": "correct-horse", "name": "demo"}


def checkout_entry(root, name, config, compose, rancher, compose_name="docker-compose.yml"):
    """A one-version entry in a Rancher catalog checkout (``templates/<name>/0``) under ``root``."""
    entry = root / "templates" / name
    (entry / "0").mkdir(parents=True)
    (entry / "config.yml").write_text(config)
    (entry / "0" / compose_name).write_text(compose)
    (entry / "0" / "rancher-compose.yml").write_text(rancher)


@pytest.fixture
def kitchen(tmp_path):
    checkout_entry(tmp_path, "kitchen", "name: Kitchen sink\nversion: 2.0.0-rc1\ncategory: Test\n",
                   KITCHEN_COMPOSE, KITCHEN_RANCHER)
    found, problem = _catalog.find_entry([str(tmp_path)], "kitchen")
    assert problem is None
    return found


def prepare(entry, answers, version=None):
    return _catalog.prepare(entry, version, answers, "answers.yml", "shop")


# Each bad answer, and the exact error it gets. None of them renders anything.
BAD_ANSWERS = [
    ({"admin_password": None, "name": None},
     ["answers.yml: admin_password: required (password), and the question has no default",
      "answers.yml: name: required (string), and the question has no default"]),
    ({"admin_password": ""},
     ["answers.yml: admin_password: required (password), and the question has no default"]),
    ({"port": "http"}, ["answers.yml: port: must be a whole number, got 'http'"]),
    ({"port": 80}, ["answers.yml: port: must be at least 1024, got 80"]),
    ({"port": 70000}, ["answers.yml: port: must be at most 65535, got 70000"]),
    ({"port": True}, ["answers.yml: port: must be a whole number, got True"]),
    ({"port": 8080.5}, ["answers.yml: port: must be a whole number, got 8080.5"]),
    ({"replicas": 0}, ["answers.yml: replicas: must be at least 1, got 0"]),
    ({"mode": "turbo"}, ["answers.yml: mode: must be one of fast, safe, got 'turbo'"]),
    ({"debug": "yes"}, ["answers.yml: debug: must be true or false, got 'yes'"]),
    ({"admin_password": "short"}, ["answers.yml: admin_password: must be at least 10 characters long, got 5"]),
    ({"admin_password": "has a space'"},
     ["answers.yml: admin_password: has 2 character(s) from invalid_chars [ ']"]),
    ({"tag": "1.0-RC"}, ["answers.yml: tag: has 3 character(s) outside valid_chars [a-z0-9.]: '-' 'C' 'R'"]),
    ({"tag": "1.0.0.0.0.0"}, ["answers.yml: tag: must be at most 10 characters long, got 11"]),
    ({"name": "ab"}, ["answers.yml: name: must be at least 3 characters long, got 2"]),
    ({"name": "a/b:c"}, ["answers.yml: name: has 2 character(s) from invalid_chars [/:]: '/' ':'"]),
    ({"name": "two\nlines"}, ["answers.yml: name: must be one line (a multiline question takes several)"]),
    ({"name": ["a", "list"]}, ["answers.yml: name: must be text, got a list"]),
    ({"port": {"a": 1}}, ["answers.yml: port: must be a whole number, got a mapping"]),
    ({"backend": "web/api/extra"},
     ["answers.yml: backend: must name a service as STACK/SERVICE, or SERVICE in this stack, got 'web/api/extra'"]),
    ({"motd": "x" * 41}, ["answers.yml: motd: must be at most 40 characters long, got 41"]),
    ({"tls_cert": "-----BEGIN CERTIFICATE-----"},
     ["answers.yml: tls_cert: must name a certificate of the inventory's paddock_certificates, got "
      "'-----BEGIN CERTIFICATE-----'"]),
    ({"admin_pasword": "x"}, ["answers.yml: admin_pasword: not a question of {dir} (did you mean 'admin_password'?)"]),
    ({"port": "80", "mode": "turbo", "debug": "maybe"},
     ["answers.yml: port: must be at least 1024, got 80", "answers.yml: mode: must be one of fast, safe, got 'turbo'",
      "answers.yml: debug: must be true or false, got 'maybe'"]),
]


@pytest.mark.parametrize("answers,expected", BAD_ANSWERS, ids=[str(sorted(a))[:60] for a, _ in BAD_ANSWERS])
def test_a_bad_answer_is_refused_with_its_variable_and_nothing_is_rendered(kitchen, answers, expected):
    out = prepare(kitchen, {**GOOD, **answers})
    directory = os.path.relpath(kitchen.versions["0"].directory)
    assert out["errors"] == [e.format(dir=directory) for e in expected]
    assert "compose" not in out


def test_a_certificate_answer_names_one_of_the_inventorys_certificates(kitchen):
    """As a certificate question of Rancher's offered the certificates of its store, by name."""
    assert _catalog.prepare(kitchen, None, {**GOOD, "tls_cert": "www"}, "answers.yml", "shop", ["www"])["errors"] == []
    assert _catalog.prepare(kitchen, None, {**GOOD, "tls_cert": "api"}, "answers.yml", "shop", ["www"])["errors"] == [
        "answers.yml: tls_cert: certificate 'api' is not in the inventory's paddock_certificates (it has: www)"]


def test_a_password_is_never_quoted_in_an_error(kitchen):
    out = prepare(kitchen, {**GOOD, "admin_password": "bad pass word"})
    assert out["errors"] == ["answers.yml: admin_password: has 1 character(s) from invalid_chars [ ']"]
    assert "bad pass" not in json.dumps(out["errors"])


def test_answers_and_defaults_fill_the_templates_with_their_types(kitchen):
    out = prepare(kitchen, {**GOOD, "port": "9000", "debug": True, "backend": "db/mysql", "tls_cert": "www",
                            "motd": "hello\nworld"})
    assert out["errors"] == []
    app = out["compose"]["services"]["app"]
    assert app["image"] == "example/app:1.0"
    assert app["command"] == ["serve", "--port", 9000, "--name", "$${stack_name}"]
    assert app["environment"] == {"MODE": "safe", "DEBUG": True, "ADMIN_PASSWORD": "correct-horse",
                                  "BACKEND": "db/mysql", "MOTD": "hello\nworld", "SELF": "shop/app",
                                  "UNSET": "fallback"}
    assert out["rancher"]["services"]["app"]["scale"] == 2
    assert "catalog" not in out["rancher"]
    assert out["labels"] == {"io.paddock.catalog.entry": "kitchen", "io.paddock.catalog.folder": "0",
                             "io.paddock.catalog.version": "2.0.0-rc1"}
    assert out["upgrade_from"] == ">=1.0.0 <2.0.0"
    assert "correct-horse" in out["secrets"]


def test_the_rancher_escape_survives_to_the_anti_affinity_rule(kitchen):
    out = prepare(kitchen, GOOD)
    [stack] = render_all([{"name": "shop", "compose": out["compose"], "rancher": out["rancher"],
                           "labels": out["labels"]}], {"ipvs": False})
    assert stack.errors == []
    assert stack.compose["services"]["app"]["deploy"]["placement"] == {"max_replicas_per_node": 1}


def test_a_dollar_in_an_answer_reaches_the_container_literally():
    """docker stack deploy interpolates again, so a meant `$` is doubled for it."""
    version = _catalog.Version("0", "/nowhere")
    version.meta = {"questions": [{"variable": "pw", "type": "password"}]}
    values, typed, secrets, errors = _catalog.check_answers(version, {"pw": "a$b"}, "answers")
    warnings = []
    filled = _catalog.fill({"services": {"x": {"environment": {"PW": "${pw}", "COST": "$$5"}}}},
                           values, typed, "f", warnings, ["services"])
    assert filled["services"]["x"]["environment"] == {"PW": "a$$b", "COST": "$$5"}
    assert "a$$b" in secrets and errors == [] and warnings == []


def test_a_variable_no_question_asks_becomes_empty_with_a_warning():
    warnings = []
    filled = _catalog.fill({"services": {"x": {"image": "img:${TAG}"}}}, {}, {}, "dc.yml", warnings, ["services"])
    assert filled["services"]["x"]["image"] == "img:"
    assert warnings == ["dc.yml: services.x.image: ${TAG} is not a question of this entry; substituted with an "
                        "empty string, as Rancher did"]


@pytest.mark.parametrize("rancher,expected", [
    ({".catalog": {"questions": [{"variable": "a", "type": "enum"}]}},
     ["rancher-compose.yml: .catalog.questions[0].options: an enum question needs a list of options"]),
    ({".catalog": {"questions": [{"variable": "a", "valid_chars": "z-a"}]}},
     ["rancher-compose.yml: .catalog.questions[0].valid_chars: not a set of characters as a regular expression "
      "class takes, got 'z-a'"]),
    ({"catalog": {"upgrade_from": ">=banana"}},
     ["rancher-compose.yml: catalog.upgrade_from: '>=banana' is not a version or a comparison with one"]),
    ({"services": {".catalog": {"questions": {"a": 1}}}},
     ["rancher-compose.yml: services..catalog.questions: must be a list of questions"]),
])
def test_an_entrys_own_mistakes_are_reported_where_they_are(tmp_path, rancher, expected):
    (tmp_path / "docker-compose.yml").write_text("a: {image: x}\n")
    (tmp_path / "rancher-compose.yml").write_text(yaml.safe_dump(rancher))
    version = _catalog.Version("0", str(tmp_path)).load()
    relative = os.path.relpath(str(tmp_path))
    assert version.errors == [f"{relative}/{e}" for e in expected]


@pytest.mark.parametrize("rancher,expected", [
    ({".catalog": {"questions": [{"variable": "a", "type": "strng"}]}},
     ["rancher-compose.yml: .catalog.questions[0].type: unknown type 'strng' (did you mean 'string'?); read as a "
      "string, as Rancher's form showed it"]),
    ({".catalog": {"questions": [{"variable": "a"}, {"variable": "a"}]}},
     ["rancher-compose.yml: .catalog.questions[1].variable: a is asked twice; the first question is the one asked"]),
    ({".catalog": {"questions": [{"variable": "a b"}]}},
     ["rancher-compose.yml: .catalog.questions[0].variable: not a variable name, got 'a b'; the question is skipped "
      "(no template can refer to it)"]),
    ({".catalog": {"questions": [{"variable": "a", "type": "int", "default": "x"}]}},
     ["rancher-compose.yml: .catalog.questions[0].default: must be a whole number, got 'x'; used as it is, as "
      "Rancher used it"]),
])
def test_a_question_rancher_tolerated_is_read_as_rancher_read_it_with_a_warning(tmp_path, rancher, expected):
    (tmp_path / "docker-compose.yml").write_text("a: {image: x}\n")
    (tmp_path / "rancher-compose.yml").write_text(yaml.safe_dump(rancher))
    version = _catalog.Version("0", str(tmp_path)).load()
    relative = os.path.relpath(str(tmp_path))
    assert version.errors == []
    assert version.warnings == [f"{relative}/{e}" for e in expected]
    assert [q["variable"] for q in version.questions] == (["a"] if rancher[".catalog"]["questions"][0]["variable"]
                                                          == "a" else [])


def test_entries_are_found_in_a_catalog_and_in_a_rancher_checkout(kitchen, tmp_path):
    found = _catalog.entry_dirs([str(tmp_path), CATALOG])
    names = [name for name, _directory, _catalog_dir in found]
    assert names[0] == "kitchen" and {"wordpress", "jenkins", "prometheus"} <= set(names)


def test_a_version_is_chosen_by_folder_or_by_version_string_and_defaults_to_config_yml():
    entry, _problem = _catalog.find_entry([CATALOG], "wordpress")
    assert entry.default_folder() == "1"
    assert entry.find("0") == ("0", None) and entry.find("1.0.0") == ("0", None)
    assert entry.find("7") == (None, "catalog entry wordpress has no version '7'; it has 0 (1.0.0), 1 (1.1.0)")
    assert _catalog.find_entry([CATALOG], "wordpres")[1].startswith(
        "no catalog entry named 'wordpres' (did you mean 'wordpress'?)")


@pytest.mark.parametrize("version,spec,expected", [
    ("1.0.0", ">=1.0.0 <1.1.0", True), ("1.1.0", ">=1.0.0 <1.1.0", False), ("v0.2-bitnami", ">=0.1", True),
    ("2.7.1-rancher1", "2.7.1-rancher1", True), ("1.642.2", ">1.0.0 <2.0.0 || >3.0.0", True),
    ("2.5.0", ">1.0.0 <2.0.0 || >3.0.0", False), ("3.0.1", ">1.0.0 <2.0.0 || >3.0.0", True),
    ("1.0.0-rc1", ">=1.0.0", False), ("1.0.0", "!=1.0.0", False), ("1.2", ">= 1.1", True),
])
def test_upgrade_from_ranges_read_as_rancher_read_them(version, spec, expected):
    assert range_errors(spec) == []
    assert matches(version, spec) is expected


def test_versions_sort_pre_releases_first():
    assert parse("1.0.0-rc1") < parse("1.0.0") < parse("1.0.1") < parse("v1.1")
    assert parse("banana") is None


def shipped():
    for name, directory, _catalog_dir in _catalog.entry_dirs([CATALOG]):
        entry = _catalog.Entry(name, directory, CATALOG)
        for folder in entry.versions:
            yield pytest.param(entry, folder, id=f"{name}/{folder}")


def default_answers(version):
    """The defaults, plus an answer to each required question that has none (a password)."""
    return {q["variable"]: "Answer-4-paddock-tests" for q in version.questions
            if q.get("required") and q.get("default") in (None, "")}


@pytest.mark.parametrize("entry,folder", list(shipped()))
def test_every_shipped_entry_renders_for_its_default_answers_and_docker_takes_it(entry, folder, tmp_path):
    version = entry.versions[folder].load()
    assert version.errors == [] and version.warnings == [] and entry.errors == []
    out = prepare(entry, default_answers(version), version=folder)
    assert out["errors"] == [] and out["warnings"] == []
    [stack] = render_all([{"name": "app", "compose": out["compose"], "rancher": out["rancher"],
                           "compose_file": out["compose_file"], "rancher_file": out["rancher_file"],
                           "labels": out["labels"]}], {"ipvs": False, "lb_image": "paddock/haproxy:2.6"})
    assert stack.errors == []
    rendered = tmp_path / "stack.json"
    rendered.write_text(json.dumps(stack.compose))
    # Docker's own loader (the compose schema and interpolation docker stack deploy uses).
    checked = subprocess.run(["docker", "stack", "config", "--compose-file", str(rendered)],
                             capture_output=True, text=True, env={**os.environ, "DOCKER_HOST": "unix:///nonexistent"})
    assert checked.returncode == 0, checked.stderr
    assert set(yaml.safe_load(checked.stdout)["services"]) == set(stack.compose["services"])


# Rancher's community catalog entry templates/jenkins-ci/0, as it was (sidekicks and all).
RANCHER_JENKINS_COMPOSE = """
jenkins-primary:
  image: "jenkins:1.642.2"
  ports: ["${PORT}:8080"]
  labels:
    io.rancher.sidekicks: jenkins-plugins,jenkins-datavolume
    io.rancher.container.hostname_override: container_name
  volumes_from: [jenkins-plugins, jenkins-datavolume]
  entrypoint: /usr/share/jenkins/rancher/jenkins.sh
jenkins-plugins:
  image: rancher/jenkins-plugins:v0.1.1
jenkins-datavolume:
  image: "busybox"
  volumes: [/var/jenkins_home]
  labels: {io.rancher.container.start_once: true}
  entrypoint: ["chown", "-R", "1000:1000", "/var/jenkins_home"]
"""
RANCHER_JENKINS_RANCHER = """
.catalog:
  name: Jenkins
  version: 1.642.2-rancher1
  questions:
  - {variable: PORT, type: int, label: "Port Number", default: 8080, required: true}
  - {variable: plugins, type: multiline, label: "List of Plugins", default: "credentials\\ngit\\n"}
jenkins-primary:
  metadata:
    plugins: |
      ${plugins}
"""


def test_a_rancher_catalog_checkout_entry_renders_unchanged_and_names_what_swarm_cannot_do(tmp_path):
    checkout_entry(tmp_path, "jenkins-ci", "name: Jenkins\nversion: 1.642.2-rancher1\ncategory: CI\n",
                   RANCHER_JENKINS_COMPOSE, RANCHER_JENKINS_RANCHER)
    entry, problem = _catalog.find_entry([str(tmp_path), CATALOG], "jenkins-ci")
    assert problem is None and entry.default_folder() == "0"
    out = prepare(entry, {"PORT": 9000})
    assert out["errors"] == [] and out["warnings"] == []
    [stack] = render_all([{"name": "ci", "compose": out["compose"], "rancher": out["rancher"],
                           "compose_file": "dc.yml", "rancher_file": "rc.yml", "labels": out["labels"]}],
                         {"ipvs": False})
    assert stack.errors == []
    assert stack.compose["services"]["jenkins-primary"]["ports"] == [
        {"target": 8080, "protocol": "tcp", "published": 9000, "mode": "host"}]
    assert set(stack.compose["services"]) == {"jenkins-primary", "jenkins-plugins", "jenkins-datavolume"}
    # The data-volume sidekick's volume is a named volume both mount.
    assert stack.compose["services"]["jenkins-datavolume"]["volumes"] == [
        "jenkins-datavolume_var_jenkins_home:/var/jenkins_home"]
    assert stack.compose["services"]["jenkins-primary"]["volumes"] == [
        "jenkins-datavolume_var_jenkins_home:/var/jenkins_home"]
    assert stack.compose["volumes"] == {"jenkins-datavolume_var_jenkins_home": {}}
    assert sorted(stack.warnings) == sorted([
        "dc.yml: services.jenkins-primary.volumes_from: mapped to the volumes jenkins-datavolume_var_jenkins_home, "
        "which jenkins-primary mounts too; Swarm keeps a volume on each node, not with one container",
        "dc.yml: services.jenkins-primary.volumes_from[0]: 'jenkins-plugins' mounts no volume in the stack, so "
        "nothing is shared; volumes only its image declares (Dockerfile VOLUME) are not shared on Swarm",
        "dc.yml: services.jenkins-primary.labels.io.rancher.sidekicks: sidekicks are deployed as services of "
        "their own; Swarm cannot co-schedule them",
        "dc.yml: services.jenkins-datavolume.labels.io.rancher.container.start_once: Swarm restarts tasks that "
        "exit; set restart: 'no' instead",
        "rc.yml: services.jenkins-primary.metadata: ignored: there is no metadata service; pass values as "
        "environment variables",
    ])


# A Rancher 1.6 entry written as the community catalog wrote them from 1.5 on: Go template
# actions in docker-compose.yml.tpl choose services and settings from the answers, then
# ${...} fills values.
GIT_COMPOSE_TPL = """version: '2'
services:
  git:
    image: example/git:${version}
    ports:
      - ${http_port}:3000/tcp
    environment:
      DB_HOST: db
{{- if eq .Values.ssh_enabled "true" }}
      SSH_PORT: ${ssh_port}
{{- end }}
    labels:
      io.paddock.release: {{ .Stack.Name | lower }}-{{ .Stack.Version }}
{{- if ne .Values.db_link "" }}
    external_links:
      - ${db_link}:db
{{- else }}
    links:
      - db:db
  db:
    image: example/db:10
    environment:
      DB_PASSWORD: ${db_password}
    volumes:
      - git-db:/var/lib/db
{{- end }}
{{- if eq .Values.db_link "" }}
volumes:
  git-db: {}
{{- end }}
"""
GIT_RANCHER = """version: '2'
catalog:
  name: Git
  version: 1.4.0
  questions:
    - {variable: version, type: string, default: "1.4"}
    - {variable: ssh_enabled, type: boolean, default: false}
    - {variable: ssh_port, type: int, default: 2222}
    - {variable: http_port, type: int, default: 3000}
    - {variable: db_link, type: service, description: "An existing database; empty for a bundled one"}
    - {variable: db_password, type: password, default: "change-me-please"}
"""


@pytest.fixture
def templated_entry(tmp_path):
    checkout_entry(tmp_path, "git", "name: Git\nversion: 1.4.0\n", GIT_COMPOSE_TPL, GIT_RANCHER,
                   compose_name="docker-compose.yml.tpl")
    entry, problem = _catalog.find_entry([str(tmp_path)], "git")
    assert problem is None
    return entry


def test_a_go_templated_entry_chooses_its_services_from_the_answers(templated_entry, tmp_path):
    bundled = prepare(templated_entry, {})
    assert bundled["errors"] == [] and bundled["warnings"] == []
    assert set(bundled["compose"]["services"]) == {"git", "db"} and "git-db" in bundled["compose"]["volumes"]
    assert bundled["compose"]["services"]["git"]["environment"] == {"DB_HOST": "db"}
    assert bundled["compose"]["services"]["git"]["labels"] == {"io.paddock.release": "git-1.4.0"}
    linked = prepare(templated_entry, {"db_link": "shared/postgres", "ssh_enabled": True})
    assert linked["errors"] == []
    assert set(linked["compose"]["services"]) == {"git"} and "volumes" not in linked["compose"]
    git = linked["compose"]["services"]["git"]
    assert git["external_links"] == ["shared/postgres:db"] and git["environment"]["SSH_PORT"] == 2222
    # What the template produced goes through the same stack rendering and Docker's own loader.
    [stack] = render_all([{"name": "git", "compose": bundled["compose"], "rancher": bundled["rancher"],
                           "compose_file": bundled["compose_file"], "rancher_file": bundled["rancher_file"],
                           "labels": bundled["labels"]}], {"ipvs": False})
    rendered = tmp_path / "stack.json"
    rendered.write_text(json.dumps(stack.compose))
    checked = subprocess.run(["docker", "stack", "config", "--compose-file", str(rendered)],
                             capture_output=True, text=True, env={**os.environ, "DOCKER_HOST": "unix:///nonexistent"})
    assert checked.returncode == 0, checked.stderr
    assert set(yaml.safe_load(checked.stdout)["services"]) == {"git", "db"}


@pytest.mark.parametrize("compose,expected", [
    (GIT_COMPOSE_TPL.rsplit("{{- end }}", 1)[0],
     "templates/git/0/docker-compose.yml.tpl: line 27: unexpected EOF: {{if}} has no {{end}} (a file that is not "
     "a template starts with '# notemplating')"),
    (GIT_COMPOSE_TPL.replace("| lower", "| toYaml"),
     "templates/git/0/docker-compose.yml.tpl: line 13: function \"toYaml\" not defined (a file that is not a "
     "template starts with '# notemplating')"),
])
def test_a_broken_template_is_an_error_of_the_entry_with_its_line(tmp_path, monkeypatch, compose, expected):
    checkout_entry(tmp_path, "git", "name: Git\nversion: 1.4.0\n", compose, GIT_RANCHER,
                   compose_name="docker-compose.yml.tpl")
    monkeypatch.chdir(tmp_path)
    entry, _ = _catalog.find_entry([str(tmp_path)], "git")
    assert entry.versions["0"].load().errors == [expected]
    assert prepare(entry, {})["errors"] == [expected]


def test_a_template_that_renders_into_bad_yaml_names_the_answers(templated_entry, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = prepare(templated_entry, {"version": "1.4: [x"})
    assert out["errors"] == []  # a value filled after parsing cannot break the YAML
    (tmp_path / "templates" / "git" / "0" / "docker-compose.yml.tpl").write_text(
        GIT_COMPOSE_TPL.replace("DB_HOST: db", "DB_HOST: {{ .Values.db_link }}: x"))
    entry, _ = _catalog.find_entry([str(tmp_path)], "git")
    assert prepare(entry, {"db_link": "a"})["errors"] == [
        "templates/git/0/docker-compose.yml.tpl: rendered with the answers, line 8 column 17: not valid YAML: "
        "mapping values are not allowed in this context"]


def test_the_shipped_prometheus_template_leaves_the_blackbox_exporter_out_when_asked():
    entry, problem = _catalog.find_entry([CATALOG], "prometheus")
    assert problem is None
    out = prepare(entry, {"blackbox_enabled": False})
    assert out["errors"] == [] and out["warnings"] == []
    assert "blackbox-exporter" not in out["compose"]["services"]
    assert "blackbox-exporter" not in out["rancher"]["services"]
    scrape = yaml.safe_load(out["compose"]["services"]["prometheus"]["environment"]["PROMETHEUS_CONFIG"])
    assert [job["job_name"] for job in scrape["scrape_configs"]] == ["prometheus", "node", "pushgateway",
                                                                      "alertmanager"]
    with_it = prepare(entry, {})
    assert "blackbox" in [job["job_name"] for job in yaml.safe_load(
        with_it["compose"]["services"]["prometheus"]["environment"]["PROMETHEUS_CONFIG"])["scrape_configs"]]
