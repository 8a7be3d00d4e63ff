"""The catalog, end to end: apps launched from Rancher-style entries with answers, on images built offline."""

import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
from labtest import (  # noqa: E402
    PROJECT,
    changed_tasks,
    failures,
    on_host,
    on_hosts,
    playbook,
    recap,
    wait_for,
)
from selenium.webdriver.common.by import By  # noqa: E402
from test_console import CONSOLE, find, log_in, shot  # noqa: E402 - the console's page helpers

SCENARIO = os.environ.get("MOLECULE_SCENARIO_DIRECTORY", os.path.dirname(os.path.dirname(__file__)))
INVENTORY = os.path.join(SCENARIO, "inventory")
CATALOG = os.path.join(PROJECT, "playbooks", "catalog.yml")
LB_HOST = "10.3.6.12"
BLOG = f"http://{LB_HOST}:8080"
# Secrets of this test only, generated per run; the test checks they are never printed.
DB_PASSWORD = "Db-" + os.urandom(8).hex()
ROOT_PASSWORD = "Root-" + os.urandom(8).hex()


def answers_file(**answers):
    with tempfile.NamedTemporaryFile("w", suffix=".yml", prefix="paddock-answers-", delete=False) as handle:
        yaml.safe_dump(answers, handle)
    return handle.name


def vaulted(path):
    """The answers file encrypted with Ansible Vault, as a site keeps its passwords."""
    with open(VAULT_PASSWORD, "w") as handle:
        handle.write(os.urandom(16).hex())
    subprocess.run(["ansible-vault", "encrypt", "--vault-password-file", VAULT_PASSWORD, path], check=True,
                   capture_output=True)
    return path


_fd, VAULT_PASSWORD = tempfile.mkstemp(prefix="paddock-vault-")
os.close(_fd)
WORDPRESS_ANSWERS = vaulted(answers_file(public_port=8080, db_password=DB_PASSWORD, db_root_password=ROOT_PASSWORD))
WORDPRESS = ("-e", "app=wordpress", "-e", "stack_name=blog", "-e", f"answers_file={WORDPRESS_ANSWERS}",
             "--vault-password-file", VAULT_PASSWORD)


# What the bad answers below get, from the playbook (after the answers file's name and line) and
# from the console's form (after "answers"), word for word.
BAD_ANSWERS = {"public_port": "http", "db_password": "short", "table_prefix": "wp-"}
BAD_ANSWER_ERRORS = ("public_port: must be a whole number, got 'http'",
                     "db_password: must be at least 12 characters long, got 5",
                     "table_prefix: has 1 character(s) outside valid_chars [a-zA-Z0-9_]: '-'")


def launch(*args, check=True):
    run = playbook(INVENTORY, CATALOG, *args)
    if check:
        assert run.returncode == 0, failures(run.stdout)
    return run


def http(url, data=None, timeout=10):
    """(status, body) of a request; redirects are not followed, so a 302 is seen as such."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, data=data), timeout=timeout) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")
    except OSError as exc:
        return None, repr(exc)


def services(stack):
    """{service: (replicas, labels)} of a stack, as the manager lists them."""
    out = on_host(INVENTORY, "st01", (
        f"docker service ls -q --filter label=com.docker.stack.namespace={stack} | xargs -r docker service inspect"))
    return {s["Spec"]["Name"][len(stack) + 1:]: ((s["Spec"]["Mode"].get("Replicated") or {}).get("Replicas"),
                                                 s["Spec"].get("Labels") or {})
            for s in json.loads(out or "[]")}


def running(service):
    out = on_host(INVENTORY, "st01", f"docker service ps {service} --filter desired-state=running "
                                     "--format '{{.CurrentState}}'")
    return [line for line in out.splitlines() if line.startswith("Running")]


def test_the_catalog_lists_its_entries_and_shows_an_entrys_questions():
    listing = playbook(INVENTORY, os.path.join(PROJECT, "playbooks", "catalog_list.yml"))
    assert listing.returncode == 0, failures(listing.stdout)
    assert "wordpress: WordPress [Blogging]" in listing.stdout
    assert "versions 0 (1.0.0), 1 (1.1.0); default 1" in listing.stdout
    for entry in ("jenkins: Jenkins", "prometheus: Prometheus", "hadoop: Hadoop + Yarn"):
        assert entry in listing.stdout
    shown = playbook(INVENTORY, os.path.join(PROJECT, "playbooks", "catalog_list.yml"), "-e", "app=wordpress",
                     "-e", "version=0")
    assert shown.returncode == 0, failures(shown.stdout)
    assert "wordpress version 0 (1.0.0)" in shown.stdout
    assert "db_password (password, required) - Database user's password; min_length 12" in shown.stdout


def test_bad_answers_are_all_reported_and_nothing_is_deployed():
    bad = answers_file(**BAD_ANSWERS, db_nmae="blog", db_root_password=ROOT_PASSWORD)
    run = launch("-e", "app=wordpress", "-e", "stack_name=blog", "-e", f"answers_file={bad}", check=False)
    os.unlink(bad)
    shown = os.path.relpath(bad, PROJECT)
    assert run.returncode != 0
    # Each names the answers file, the answer's line in it, the question and the problem.
    for error in ("db_nmae: not a question of catalog/wordpress/1 (did you mean 'db_name'?)", *BAD_ANSWER_ERRORS):
        assert re.search(rf"{re.escape(shown)}:\d+: {re.escape(error)}", run.stdout), failures(run.stdout)
    assert "short" not in run.stdout.replace("db_password: must be at least", "")
    assert all(r["changed"] == 0 for r in recap(run.stdout).values())
    assert services("blog") == {}


def test_a_port_another_stack_publishes_is_refused_before_anything_is_deployed():
    taken = answers_file(public_port=80, db_password=DB_PASSWORD, db_root_password=ROOT_PASSWORD)
    run = launch("-e", "app=wordpress", "-e", "stack_name=blog", "-e", f"answers_file={taken}", check=False)
    os.unlink(taken)
    assert run.returncode != 0
    assert ("services.wordpress-lb.ports: host port 80/tcp is already published by walkthrough/lb"
            in run.stdout), failures(run.stdout)
    assert services("blog") == {}


def console_form(driver, **answers):
    """Fill the console's form of WordPress version 0 as stack blog, and press Launch."""
    driver.get(f"{CONSOLE}/catalog/wordpress?version=0&stack=blog")
    find(driver, "#launch-form")
    for variable, value in answers.items():
        field = driver.find_element(By.ID, f"q_{variable}")
        field.clear()
        field.send_keys(str(value))
    driver.find_element(By.ID, "launch").click()


def shown_errors(driver):
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#errors li")]


def test_wordpress_launched_from_the_consoles_form_answers_through_the_load_balancer(browser):
    """Issue 17's catalog test: the app launched from its form in a browser, after the form
    refused what the playbook refuses, with the playbook's words; then playbooks/catalog.yml
    sees it as its own (the upgrade below)."""
    log_in(browser, "bob", path="/catalog")
    find(browser, "#entry-wordpress")
    browser.get(f"{CONSOLE}/catalog/wordpress")
    find(browser, "#entry-name")
    assert browser.find_elements(By.ID, "launch-form") == []  # read-only: the questions, no form
    # A forged launch with bob's own session and token: the console refuses it (and the engines
    # refuse its read-only identity: test_console.py).
    status = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const token = document.querySelector('form.who input[name=csrf]').value;
        fetch('/catalog/wordpress', {method: 'POST', body: new URLSearchParams(
            {csrf: token, stack: 'forged', version: '1', q_db_password: 'x'.repeat(12),
             q_db_root_password: 'y'.repeat(12), q_public_port: '8090'})}).then(r => done(r.status));""")
    assert status == 403 and services("forged") == {}
    browser.delete_all_cookies()
    log_in(browser, "alice", path="/catalog")
    assert find(browser, "#entry-wordpress .versions").text == "Versions: 1.0.0, 1.1.0"
    shot(browser, "catalog")
    good = {"public_port": 8080, "db_password": DB_PASSWORD, "db_root_password": ROOT_PASSWORD}
    console_form(browser, **{**good, "public_port": 80})
    find(browser, "#errors")
    assert shown_errors(browser) == ["stack blog: catalog/wordpress/0/docker-compose.yml:28: services.wordpress-lb."
                                     "ports: host port 80/tcp is already published by walkthrough/lb"]
    console_form(browser, **{**good, **BAD_ANSWERS})
    find(browser, "#errors")
    shot(browser, "catalog-bad-answers")
    assert shown_errors(browser) == [f"stack blog: answers: {e}" for e in BAD_ANSWER_ERRORS]
    assert "short" not in browser.page_source.replace("got 5", "")
    assert services("blog") == {}
    console_form(browser, **good)
    notice = find(browser, "#notice").text
    assert "launched wordpress 0 (1.0.0)" in notice and "catalog: wordpress" in notice, notice
    find(browser, "#stack-blog")
    shot(browser, "catalog-launched")
    for secret in (DB_PASSWORD, ROOT_PASSWORD):
        assert secret not in browser.page_source
    found = services("blog")
    assert set(found) == {"mariadb", "wordpress", "wordpress-lb"}
    assert found["wordpress"][1]["io.paddock.catalog.version"] == "1.0.0"
    # WordPress answers through the load balancer and reaches its database: the installer shows.
    # (Until MariaDB has initialised, WordPress answers 500 with its "Error establishing a database
    # connection" page, whose title starts with "WordPress" too: the wait is for the installer.)
    status, body = wait_for(lambda: (lambda r: r if r[0] == 200 and "Installation" in r[1] else None)(
        http(f"{BLOG}/wp-admin/install.php")), timeout=180, interval=2) or http(f"{BLOG}/wp-admin/install.php")
    assert status == 200 and "Installation" in body, (status, body[:500])
    form = urllib.parse.urlencode({"weblog_title": "Paddock catalog", "user_name": "admin",
                                   "admin_password": DB_PASSWORD, "admin_password2": DB_PASSWORD,
                                   "pw_weak": "1", "admin_email": "admin@example.com", "blog_public": "0"})
    status, body = http(f"{BLOG}/wp-admin/install.php?step=2", data=form.encode(), timeout=60)
    assert status == 200 and "Success" in body, (status, body[:500])
    status, body = http(f"{BLOG}/")
    assert status == 200 and "<title>Paddock catalog" in body, (status, body[:500])


def test_then_its_passwords_are_swarm_secrets_that_no_service_specification_shows():
    """What a read-only user reads (GET /services) holds no password: the database and WordPress
    read theirs from Swarm secrets (the installer above proved WordPress reached the database)."""
    specs = on_host(INVENTORY, "st01", "docker service ls -q --filter label=com.docker.stack.namespace=blog "
                                       "| xargs docker service inspect")
    for secret in (DB_PASSWORD, ROOT_PASSWORD):
        assert secret not in specs
    env = {s["Spec"]["Name"]: s["Spec"]["TaskTemplate"]["ContainerSpec"].get("Env") or [] for s in json.loads(specs)}
    assert any(v.startswith("WORDPRESS_DB_PASSWORD_FILE=/run/secrets/db_password_") for v in env["blog_wordpress"])
    assert {v.split("=")[0] for v in env["blog_mariadb"]} >= {"MARIADB_PASSWORD_FILE", "MARIADB_ROOT_PASSWORD_FILE"}
    names = on_host(INVENTORY, "st01", "docker secret ls --format '{{.Name}}'").split()
    assert sorted(n.rsplit("_", 1)[0] for n in names if n.startswith("blog_")) == \
        ["blog_db_password", "blog_db_root_password"]
    assert on_host(INVENTORY, "st01", "ls /etc/paddock/stacks/blog.secrets 2>&1 || true").strip().endswith(
        "No such file or directory")


def test_the_playbook_upgrades_the_app_the_console_launched_keeping_the_blog_and_scaling_wordpress():
    run = launch(*WORDPRESS)
    assert "blog: wordpress 0 (1.0.0) -> 1 (1.1.0)" in run.stdout, failures(run.stdout)
    found = services("blog")
    assert found["wordpress"][0] == 2
    assert {f[1]["io.paddock.catalog.version"] for f in found.values()} == {"1.1.0"}
    assert wait_for(lambda: len(running("blog_wordpress")) == 2, timeout=60)
    # The data is the same database's: the blog installed on version 0 is still there.
    status, body = http(f"{BLOG}/")
    assert status == 200 and "<title>Paddock catalog" in body, (status, body[:500])


def test_then_launching_again_with_the_same_answers_changes_nothing_in_check_mode_or_for_real():
    check = launch(*WORDPRESS, "--check", "--diff")
    assert all(r["changed"] == 0 for r in recap(check.stdout).values()), changed_tasks(check.stdout)
    again = launch(*WORDPRESS)
    assert all(r["changed"] == 0 for r in recap(again.stdout).values()), changed_tasks(again.stdout)


def test_going_back_to_an_older_version_is_refused():
    run = launch(*WORDPRESS, "-e", "version=0", check=False)
    assert run.returncode != 0
    assert "stack blog runs wordpress version 1 (1.1.0); going back to version 0 (1.0.0) is a downgrade" in run.stdout
    assert services("blog")["wordpress"][1]["io.paddock.catalog.version"] == "1.1.0"


def test_removing_the_app_from_the_console_removes_its_services_and_the_playbook_its_load_balancers_files(browser):
    log_in(browser, "alice", path="/stacks")
    find(browser, "#stack-blog button.remove-stack").click()
    browser.switch_to.alert.accept()  # the button asks first
    assert "blog: removed" in find(browser, "#notice").text
    assert wait_for(lambda: services("blog") == {}, timeout=30)
    # Its secrets and configs (the console's load-balancer files, then the playbook's) go with it.
    left = "for kind in secret config; do docker $kind ls -q --filter label=com.docker.stack.namespace=blog; done"
    assert wait_for(lambda: on_host(INVENTORY, "st01", left).strip() == "", timeout=30)
    # The stacks of the inventory have no Remove: Git owns them.
    assert browser.find_elements(By.CSS_SELECTOR, "#stack-walkthrough button.remove-stack") == []
    # The playbook removes what only it wrote: the load balancer's files on its hosts.
    launch("-e", "app=wordpress", "-e", "stack_name=blog", "-e", "state=absent")
    # The blog's load balancer directory is gone; the inventory's stacks keep theirs.
    assert on_host(INVENTORY, "st02", "ls /etc/paddock/lb").split() == ["front_lb", "walkthrough_lb"]
    assert http(f"{BLOG}/", timeout=3)[0] is None
    # The walkthrough's load balancer, on the same host, still answers.
    assert http(f"http://{LB_HOST}/")[0] == 200


def prometheus(path):
    status, body = http(f"http://{LB_HOST}:9090{path}")
    return json.loads(body)["data"] if status == 200 else None


def test_prometheus_finds_every_host_and_its_companions_through_swarm_dns():
    monitoring = answers_file(scrape_interval=2, alert_after=10)
    launch("-e", "app=prometheus", "-e", "stack_name=monitoring", "-e", f"answers_file={monitoring}")
    os.unlink(monitoring)
    tasks = on_hosts(INVENTORY, "paddock", "docker ps -q --filter label=com.docker.swarm.service.name=monitoring_"
                                            "node-exporter | wc -l")
    assert {host: int(count) for host, count in tasks.items()} == {"st01": 1, "st02": 1, "st03": 1}

    jobs = {"node", "prometheus", "pushgateway", "alertmanager", "blackbox"}

    def healthy_targets():
        # Every job found (a task that starts late is found at the next DNS refresh) and up.
        data = prometheus("/api/v1/targets")
        if not data:
            return None
        up = {}
        for target in data["activeTargets"]:
            up.setdefault(target["labels"]["job"], []).append(target["health"])
        return up if set(up) == jobs and len(up["node"]) == 3 and all(h == ["up"] * len(h)
                                                                       for h in up.values()) else None

    up = wait_for(healthy_targets, timeout=120, interval=2)
    assert up, prometheus("/api/v1/targets")
    # A metric pushed through the load balancer's Pushgateway port is scraped into Prometheus.
    status, _body = http(f"http://{LB_HOST}:9091/metrics/job/paddock_test", data=b"paddock_catalog_test 42\n")
    assert status == 200
    value = wait_for(lambda: (prometheus("/api/v1/query?query=paddock_catalog_test") or {}).get("result"),
                     timeout=30, interval=1)
    assert value and value[0]["value"][1] == "42", value
    assert (prometheus("/api/v1/alertmanagers") or {}).get("activeAlertmanagers"), "no Alertmanager found"
    launch("-e", "app=prometheus", "-e", "stack_name=monitoring", "-e", "state=absent")
    assert services("monitoring") == {}


def teardown_module():
    os.unlink(WORDPRESS_ANSWERS)
    os.unlink(VAULT_PASSWORD)
