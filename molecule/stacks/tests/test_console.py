"""The console in a real browser: Debian's headless Chromium, driven by Selenium through
Debian's chromium-driver. The walkthrough as the seeds tour it, through the web page.
Screenshots are kept in .test-logs/console/."""

import json
import os
import re
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from selenium.webdriver.common.by import By

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
from labtest import PROJECT, failures, on_host, playbook, wait_for  # noqa: E402

pytestmark = pytest.mark.timed  # runs alone: see conftest.py

SCENARIO = os.environ.get("MOLECULE_SCENARIO_DIRECTORY", os.path.dirname(os.path.dirname(__file__)))
INVENTORY = os.path.join(SCENARIO, "inventory")
STATE = os.path.expanduser("~/.paddock/paddock-mol-stacks")
CONSOLE = "https://10.3.6.11:8443"
LB = "http://10.3.6.12"
VIP = "10.3.6.100"  # the load balancers' virtual address (paddock_lb_vips)
SHOTS = os.path.join(PROJECT, ".test-logs", "console")


def password(user):
    with open(os.path.join(STATE, "console", user)) as handle:
        return handle.read().split()[0]  # the password lookup's file: the password, then its salt


def log_in(driver, user, secret=None, path="/"):
    driver.get(CONSOLE + path)
    find(driver, "#username").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(secret or password(user))
    driver.find_element(By.ID, "login").click()
    wait_for(lambda: "/login" not in driver.current_url or driver.find_elements(By.ID, "login-error"),
             timeout=10, interval=0.1)


def find(driver, css, timeout=10):
    """The element once the page shows it (after a click the old page may still be there)."""
    def found():
        elements = driver.find_elements(By.CSS_SELECTOR, css)
        return elements[0] if elements else None
    element = wait_for(found, timeout=timeout, interval=0.1)
    assert element is not None, f"{css} not on {driver.current_url}"
    return element


def shot(driver, name):
    driver.save_screenshot(os.path.join(SHOTS, f"{name}.png"))


def apacz_row(driver):
    return driver.find_element(By.CSS_SELECTOR, '#stack-walkthrough tr[data-service="walkthrough_apacz"]')


def scale_shown(driver):
    """(running, wanted) as the Stacks page shows walkthrough_apacz now."""
    try:
        row = apacz_row(driver)
        return (int(row.find_element(By.CLASS_NAME, "running").text),
                int(row.find_element(By.CLASS_NAME, "replicas").text))
    except Exception:  # noqa: BLE001 - the page is being replaced by its live refresh
        return None


def drift_shown(driver):
    """The drift badge of walkthrough_apacz's row ("" without one)."""
    try:
        return " ".join(b.text for b in apacz_row(driver).find_elements(By.CSS_SELECTOR, ".badge.drift"))
    except Exception:  # noqa: BLE001 - the page is being replaced by its live refresh
        return None


def hostnames_through_the_lb(count):
    got = set()
    for _ in range(count):
        with urllib.request.urlopen(LB + "/", timeout=3) as response:
            got.add(response.read().decode().strip())
    return got


def replicas():
    return int(on_host(INVENTORY, "st01", "docker service inspect walkthrough_apacz "
                                          "--format '{{.Spec.Mode.Replicated.Replicas}}'"))


def test_the_console_serves_the_environments_ca_and_asks_for_a_login():
    context = ssl.create_default_context(cafile=os.path.join(STATE, "pki", "ca.pem"))
    with urllib.request.urlopen(CONSOLE + "/healthz", context=context, timeout=5) as response:
        assert response.read() == b"ok"
    request = urllib.request.Request(CONSOLE + "/stacks")
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context),
                                         type("NoRedirect", (urllib.request.HTTPRedirectHandler,),
                                              {"redirect_request": lambda *a: None})())
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(request, timeout=5)
    assert refused.value.code == 303 and refused.value.headers["Location"] == "/login?next=/stacks"
    # Only TLS 1.2 and later.
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.check_hostname, old.verify_mode = False, ssl.CERT_NONE
    old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises((ssl.SSLError, OSError)):
        urllib.request.urlopen(CONSOLE + "/healthz", context=old, timeout=5)



def test_the_console_answers_behind_the_load_balancer_its_tls_passed_through_to_the_manager():
    """The front stack's port rule 8444 -> paddock-console/console:8443 (tcp): the load balancers
    hold the virtual address, and the console's own certificate, which names that address
    (paddock_console_names), is what the client verifies."""
    context = ssl.create_default_context(cafile=os.path.join(STATE, "pki", "ca.pem"))
    with urllib.request.urlopen(f"https://{VIP}:8444/healthz", context=context, timeout=5) as response:
        assert response.read() == b"ok"
    with urllib.request.urlopen(f"https://{VIP}:8444/login", context=context, timeout=5) as response:
        assert 'id="login"' in response.read().decode()
    rules = json.loads(on_host(INVENTORY, "st01", "docker service inspect front_lb "
                                                  "--format '{{json .Spec.Labels}}'"))["io.paddock.lb.rules"]
    assert {"port": 8444, "protocol": "tcp", "hostname": "", "path": "", "target": "paddock-console/console",
            "target_port": 8443} in json.loads(rules)


def test_the_walkthrough_in_the_browser_hosts_then_apacz_scaled_to_8_with_plus_answers_from_8(browser):
    log_in(browser, "alice", path="/events")
    find(browser, "#events")
    scaled_before = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "tr.type-console") if " scale " in r.text]
    browser.find_element(By.ID, "nav-infrastructure").click()
    assert find(browser, "#whoami").text == "alice (member)"
    find(browser, "section.host")
    hosts = {e.get_attribute("data-host"): e for e in browser.find_elements(By.CSS_SELECTOR, "section.host")}
    assert sorted(hosts) == ["st01", "st02", "st03"]
    assert hosts["st01"].find_element(By.CLASS_NAME, "role").text.startswith("manager")
    assert hosts["st01"].find_element(By.CLASS_NAME, "address").text == "10.3.6.11"
    apacz_on = {h: [c.text for c in e.find_elements(By.CLASS_NAME, "container") if "walkthrough_apacz." in c.text]
                for h, e in hosts.items()}
    assert sum(map(len, apacz_on.values())) == 4, apacz_on
    shot(browser, "infrastructure")

    browser.find_element(By.ID, "nav-stacks").click()
    stack = find(browser, "#stack-walkthrough")
    assert "managed by code" in stack.find_element(By.CLASS_NAME, "managed").text
    assert wait_for(lambda: scale_shown(browser) == (4, 4), timeout=10), scale_shown(browser)
    # Pressed 4 times: each press is a form post and the page comes back with the new scale.
    for wanted in range(5, 9):
        apacz_row(browser).find_element(By.CLASS_NAME, "plus").click()
        assert wait_for(lambda w=wanted: (scale_shown(browser) or (0, 0))[1] == w, timeout=10), scale_shown(browser)
    assert replicas() == 8
    # The tasks start after the page came back: the running count follows without a reload.
    browser.execute_script("window.paddockNotReloaded = true")
    assert wait_for(lambda: scale_shown(browser) == (8, 8), timeout=60), scale_shown(browser)
    assert browser.execute_script("return window.paddockNotReloaded") is True
    # The code owns the walkthrough: the page says the 8 are drift from its files' 4.
    assert wait_for(lambda: drift_shown(browser) == "drift: scale 8 here, 4 in its files", timeout=10), \
        drift_shown(browser)
    shot(browser, "stacks-scaled-to-8")
    got = wait_for(lambda: (lambda names: names if len(names) == 8 else None)(hostnames_through_the_lb(16)),
                   timeout=30)
    assert got and len(got) == 8, hostnames_through_the_lb(16)

    # And back to the walkthrough's 4 with minus, for the tests after this one.
    for wanted in range(7, 3, -1):
        apacz_row(browser).find_element(By.CLASS_NAME, "minus").click()
        assert wait_for(lambda w=wanted: (scale_shown(browser) or (0, 0))[1] == w, timeout=10), scale_shown(browser)
    assert wait_for(lambda: scale_shown(browser) == (4, 4), timeout=60), scale_shown(browser)
    assert wait_for(lambda: drift_shown(browser) == "", timeout=10), drift_shown(browser)
    assert replicas() == 4

    browser.find_element(By.ID, "nav-events").click()
    find(browser, "#events")
    scaled = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "tr.type-console") if " scale " in r.text]
    assert len(scaled) - len(scaled_before) == 8, scaled
    assert all("alice" in r and "walkthrough_apacz" in r for r in scaled), scaled
    assert any("scaled from 4 to 5" in r for r in scaled[:8]), scaled


def test_a_change_made_outside_shows_on_an_open_page_within_2_s_without_a_reload(browser):
    log_in(browser, "bob", path="/stacks")
    assert wait_for(lambda: scale_shown(browser) == (4, 4), timeout=10), scale_shown(browser)
    browser.execute_script("window.paddockNotReloaded = true")
    on_host(INVENTORY, "st01", "docker service update -q --detach --replicas 5 walkthrough_apacz")
    try:
        # When the engine lists the new task running, the open page follows within 2 s.
        assert wait_for(lambda: on_host(INVENTORY, "st01", "docker service ls --filter name=walkthrough_apacz "
                                                           "--format '{{.Replicas}}'") == "5/5", timeout=60)
        seen = time.monotonic()
        assert wait_for(lambda: scale_shown(browser) == (5, 5), timeout=2, interval=0.1), scale_shown(browser)
        print(f"the page showed 5/5 {time.monotonic() - seen:.2f} s after the engine listed it")
        assert browser.execute_script("return window.paddockNotReloaded") is True
    finally:
        on_host(INVENTORY, "st01", "docker service update -q --replicas 4 walkthrough_apacz")


def test_a_read_only_user_sees_no_scale_button_and_the_consoles_identity_for_that_role_is_refused(browser):
    log_in(browser, "bob", path="/stacks")
    assert find(browser, "#whoami").text == "bob (read-only)"
    assert scale_shown(browser) == (4, 4)
    assert browser.find_elements(By.CSS_SELECTOR, "button.plus, button.minus") == []
    shot(browser, "stacks-read-only")
    # A forged press, with bob's own session and token: the console refuses it.
    service = on_host(INVENTORY, "st01", "docker service inspect walkthrough_apacz --format '{{.ID}}'")
    status = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const token = document.querySelector('form.who input[name=csrf]').value;
        fetch('/services/' + arguments[0] + '/scale',
              {method: 'POST', body: new URLSearchParams({csrf: token, delta: '+1'})}).then(r => done(r.status));""",
                                          service)
    assert status == 403
    # And the engines refuse the console's read-only identity itself (paddock-authz), so a
    # console that was tricked could still do no more than bob.
    bundle = os.path.join(STATE, "pki", "users", "paddock-console-read-only")
    refused = subprocess.run(
        ["docker", "--tlsverify", f"--tlscacert={bundle}/ca.pem", f"--tlscert={bundle}/cert.pem",
         f"--tlskey={bundle}/key.pem", "-H", "tcp://10.3.6.11:2376", "service", "scale", "walkthrough_apacz=9"],
        capture_output=True, text=True, timeout=60, check=False)
    assert refused.returncode != 0 and "paddock-authz" in refused.stderr, refused.stderr
    assert replicas() == 4


def test_a_wrong_password_a_missing_token_and_an_outside_redirect_are_refused_and_no_password_is_logged(browser):
    log_in(browser, "alice", secret="not-" + password("alice"))
    assert browser.find_element(By.ID, "login-error").text == "Wrong user name or password."
    log_in(browser, "mallory", secret="anything")
    assert browser.find_element(By.ID, "login-error").text == "Wrong user name or password."
    # A form posted from elsewhere carries no token of this session.
    status = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch('/login', {method: 'POST', body: new URLSearchParams({username: 'alice', password: 'x'})})
          .then(r => done(r.status));""")
    assert status == 403
    # After a login, a next= that leaves the console lands on the console's own page.
    browser.get(CONSOLE + "/login?next=" + urllib.parse.quote("//evil.example/"))
    browser.find_element(By.ID, "username").send_keys("alice")
    browser.find_element(By.ID, "password").send_keys(password("alice"))
    browser.find_element(By.ID, "login").click()
    assert urllib.parse.urlsplit(browser.current_url).netloc == "10.3.6.11:8443"
    cookie = browser.get_cookie("paddock_console")
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    logged = on_host(INVENTORY, "st01", "docker service logs --raw paddock-console_console 2>&1")
    assert password("alice") not in logged and password("bob") not in logged
    actions = [json.loads(line)["paddock_console_action"] for line in logged.splitlines()
               if line.startswith('{"paddock_console_action"')]
    assert {"who": "mallory", "action": "login", "result": "refused"}.items() <= next(
        a for a in actions if a["who"] == "mallory").items()


def graph(host_section, metric):
    """(value shown, points drawn) of one host's graph."""
    figure = host_section.find_element(By.CSS_SELECTOR, f'figure[data-metric="{metric}"]')
    lines = figure.find_elements(By.TAG_NAME, "polyline")
    return (figure.find_element(By.CLASS_NAME, "value").text,
            len(lines[0].get_attribute("points").split()) if lines else 0)


def graphs_shown(driver):
    try:
        return {e.get_attribute("data-host"): {m: graph(e, m) for m in ("cpu", "memory", "disk")}
                for e in driver.find_elements(By.CSS_SELECTOR, "section.host")}
    except Exception:  # noqa: BLE001 - the page is being replaced by its live refresh
        return None


def test_each_hosts_cpu_memory_and_disk_are_drawn_from_its_agent_and_a_silent_agent_shows_as_no_data(browser):
    log_in(browser, "bob", path="/infrastructure")
    find(browser, "section.host figure.graph")

    def all_drawn():
        shown = graphs_shown(browser)
        ok = shown and sorted(shown) == ["st01", "st02", "st03"] and all(
            g[0].endswith("%") and g[1] >= 2 for metrics in shown.values() for g in metrics.values())
        return shown if ok else None

    shown = wait_for(all_drawn, timeout=30, interval=0.5)
    assert shown, graphs_shown(browser)
    # The memory shown is the host's own, as free would compute it from /proc/meminfo.
    meminfo = dict(line.split(":") for line in on_host(INVENTORY, "st02", "cat /proc/meminfo").splitlines())
    total, available = (int(meminfo[k].split()[0]) for k in ("MemTotal", "MemAvailable"))
    assert abs(float(shown["st02"]["memory"][0].rstrip(" %")) - 100 * (total - available) / total) < 5, shown
    shot(browser, "infrastructure-graphs")
    # The graphs move without a reload: more points a few seconds later.
    browser.execute_script("window.paddockNotReloaded = true")
    before = shown["st01"]["cpu"][1]
    assert wait_for(lambda: ((graphs_shown(browser) or {}).get("st01", {}).get("cpu", ("", 0))[1] > before),
                    timeout=10, interval=0.5)
    assert browser.execute_script("return window.paddockNotReloaded") is True
    # A host whose agent stops answering shows no data instead of its last figure; the others go on.
    on_host(INVENTORY, "st03", "systemctl stop prometheus-node-exporter")
    try:
        gone = wait_for(lambda: (lambda s: s if s and s["st03"]["cpu"][0] == "no data" else None)(
            graphs_shown(browser)), timeout=15, interval=0.5)
        assert gone, graphs_shown(browser)
        assert gone["st01"]["cpu"][0].endswith("%") and gone["st02"]["memory"][0].endswith("%")
        shot(browser, "infrastructure-agent-down")
    finally:
        on_host(INVENTORY, "st03", "systemctl start prometheus-node-exporter")


def test_the_load_balancers_page_lists_its_rules_and_the_tasks_each_reaches_now(browser):
    log_in(browser, "bob", path="/stacks")
    find(browser, '#stack-walkthrough tr[data-service="walkthrough_lb"] a').click()
    assert find(browser, "#service-name").text == "walkthrough_lb"
    rule = find(browser, '#rules tr.rule[data-port="80"]')
    assert rule.get_attribute("data-target") == "walkthrough/apacz"
    # The addresses shown are those of apacz's running tasks on the walkthrough's network.
    tasks = json.loads(on_host(INVENTORY, "st01", (
        "docker inspect $(docker service ps -q --filter desired-state=running walkthrough_apacz)")))
    addresses = sorted(a.split("/")[0] for t in tasks if t["Status"]["State"] == "running"
                       for n in t["NetworksAttachments"] if n["Network"]["Spec"]["Name"] == "walkthrough_default"
                       for a in n["Addresses"])
    assert len(addresses) == 4

    def reached():
        try:
            row = browser.find_element(By.CSS_SELECTOR, '#rules tr.rule[data-port="80"]')
            return sorted(e.text.split()[0] for e in row.find_elements(By.CLASS_NAME, "reach"))
        except Exception:  # noqa: BLE001 - the page is being replaced by its live refresh
            return None

    assert wait_for(lambda: reached() == addresses, timeout=5, interval=0.2), (reached(), addresses)
    assert find(browser, '#rules tr.rule[data-port="80"] .count').text == "4"
    shot(browser, "load-balancer-rules")


def directory_password(user):
    with open(os.path.join(STATE, "ldap", user)) as handle:
        return handle.read().split()[0]


def login_error(driver):
    errors = driver.find_elements(By.ID, "login-error")
    return errors[0].text if errors else None


def test_directory_users_log_in_with_their_groups_role_and_nothing_else_gets_in(browser):
    """slapd on st03 (prepare.yml): carol is in operators (member), dave in auditors (read-only),
    erin only in interns, which maps to no role."""
    log_in(browser, "carol", secret=directory_password("carol"), path="/stacks")
    assert find(browser, "#whoami").text == "carol (member)"
    assert find(browser, "#stack-walkthrough button.plus")
    shot(browser, "ldap-member")
    browser.delete_all_cookies()
    log_in(browser, "dave", secret=directory_password("dave"), path="/stacks")
    assert find(browser, "#whoami").text == "dave (read-only)"
    find(browser, "#stack-walkthrough")
    assert browser.find_elements(By.CSS_SELECTOR, "button.plus, button.minus") == []
    browser.delete_all_cookies()

    refused = {
        "a member of no mapped group": ("erin", directory_password("erin")),
        "a wrong password": ("carol", directory_password("dave")),
        "a filter for anyone, with a real password": ("*", directory_password("carol")),
        "a filter injected after a real name": ("carol)(uid=*", directory_password("carol")),
        "the console's own bind DN's name": ("paddock-console", directory_password("paddock-console")),
    }
    for case, (user, secret) in refused.items():
        log_in(browser, user, secret=secret)
        assert login_error(browser) == "Wrong user name or password.", case
    # An empty password is an anonymous bind to LDAP, which succeeds: the console refuses it
    # before asking (the form's `required` is bypassed by submitting it from script).
    browser.get(CONSOLE + "/login")
    find(browser, "#username").send_keys("carol")
    browser.execute_script("document.getElementById('password').removeAttribute('required');"
                           "document.getElementById('login').click()")
    assert wait_for(lambda: login_error(browser), timeout=10, interval=0.1) == "Wrong user name or password."

    # With the directory down, its users are told so, and local users still log in.
    on_host(INVENTORY, "st03", "systemctl stop slapd")
    try:
        log_in(browser, "carol", secret=directory_password("carol"))
        assert login_error(browser) == "The directory does not answer; try again, or log in as a local user."
        log_in(browser, "alice", path="/stacks")
        assert find(browser, "#whoami").text == "alice (member)"
    finally:
        on_host(INVENTORY, "st03", "systemctl start slapd")
    logged = on_host(INVENTORY, "st01", "docker service logs --raw paddock-console_console 2>&1")
    for user in ("carol", "dave", "erin", "paddock-console"):
        assert directory_password(user) not in logged
    actions = [json.loads(line)["paddock_console_action"] for line in logged.splitlines()
               if line.startswith('{"paddock_console_action"')]
    assert any(a["who"] == "carol" and a["result"] == "ok (member, from the directory)" for a in actions), actions


def test_a_services_logs_follow_it_as_it_writes_them_without_a_reload(browser):
    """A service that writes a line every half second, with the time it wrote it: the page shows
    each line within 2 s of its writing, as the engine streams it."""
    image = on_host(INVENTORY, "st01", "docker service inspect walkthrough_apacz "
                                       "--format '{{.Spec.TaskTemplate.ContainerSpec.Image}}'").split("@")[0]
    service = on_host(INVENTORY, "st01", (
        f"docker service create -q --detach --name paddock-ticker --constraint node.hostname==st02 {image} "
        "sh -c 'i=0; while true; do i=$((i+1)); echo \"tick $i $(date +%s.%N)\"; sleep 0.5; done'"))
    try:
        log_in(browser, "bob", path=f"/services/{service}")
        assert find(browser, "#service-name").text == "paddock-ticker"
        browser.execute_script("window.paddockNotReloaded = true")

        def last_tick():
            ticks = [line.split() for line in browser.find_element(By.ID, "logs").text.splitlines()
                     if " tick " in line]
            return (int(ticks[-1][-2]), float(ticks[-1][-1])) if ticks else None

        first = wait_for(last_tick, timeout=60, interval=0.2)
        assert first, browser.find_element(By.ID, "logs").text[-500:]
        lags, started = [], time.monotonic()
        while time.monotonic() - started < 6:
            number, written = last_tick()
            lags.append(time.time() - written)
            time.sleep(0.25)
        number, _ = last_tick()
        print(f"log lines shown {min(lags):.2f} to {max(lags):.2f} s after they were written")
        assert number >= first[0] + 8, (first, number)
        assert max(lags) < 2, lags
        assert browser.execute_script("return window.paddockNotReloaded") is True
        shot(browser, "service-logs-followed")
    finally:
        on_host(INVENTORY, "st01", "docker service rm paddock-ticker")


def test_the_events_of_users_survive_a_restart_of_the_console(browser):
    log_in(browser, "alice", path="/events")
    mine = wait_for(lambda: [r.get_attribute("data-id") for r in browser.find_elements(
        By.CSS_SELECTOR, "tr.type-console") if "alice" in r.text and "login" in r.text], timeout=10, interval=0.2)
    assert mine
    before = on_host(INVENTORY, "st01", "docker ps -q --filter label=com.docker.swarm.service.name="
                                        "paddock-console_console")
    on_host(INVENTORY, "st01", "docker service update -q --force paddock-console_console")
    assert on_host(INVENTORY, "st01", "docker ps -q --filter label=com.docker.swarm.service.name="
                                      "paddock-console_console") != before
    # The session is a signed cookie: still logged in, and the login made before is listed.
    assert wait_for(lambda: (lambda status: status == 200)(
        browser.execute_async_script("const done = arguments[arguments.length - 1];"
                                     "fetch('/events').then(r => done(r.status)).catch(() => done(0));")),
        timeout=60, interval=0.5)
    browser.get(CONSOLE + "/events")
    listed = [r.get_attribute("data-id") for r in browser.find_elements(By.CSS_SELECTOR, "tr.type-console")]
    assert set(mine) <= set(listed), (mine, listed)


def console_get(path, cookie):
    """(status, location): one GET to the console with a session cookie, redirects not followed."""
    context = ssl.create_default_context(cafile=os.path.join(STATE, "pki", "ca.pem"))
    context.check_hostname = False

    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), Stay)
    request = urllib.request.Request(CONSOLE + path, headers={"Cookie": f"paddock_console={cookie}"})
    try:
        with opener.open(request, timeout=10) as answer:
            return answer.status, None
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Location")


def test_a_copied_session_cookie_is_refused_after_logout(browser):
    browser.delete_all_cookies()
    log_in(browser, "bob", path="/stacks")
    copied = browser.get_cookie("paddock_console")["value"]
    assert console_get("/stacks", copied) == (200, None)
    find(browser, "#logout").click()
    wait_for(lambda: "/login" in browser.current_url, timeout=10, interval=0.1)
    status, location = console_get("/stacks", copied)
    assert status == 303 and location.startswith("/login"), (status, location)


def forged(driver, path, fields):
    """A POST made from a logged-in page with its own session and token: the status it got."""
    return driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const token = document.querySelector('form.who input[name=csrf]').value;
        fetch(arguments[0], {method: 'POST', body: new URLSearchParams(Object.assign({csrf: token}, arguments[1]))})
          .then(r => done(r.status));""", path, fields)


def audit_lines(*extra):
    run = playbook(INVENTORY, "playbooks/audit_log.yml", *extra)
    assert run.returncode == 0, failures(run.stdout)
    unfolded = re.sub(r"\n\s{6,}", " ", run.stdout)  # the YAML output folds long lines
    return [" ".join(line.strip(" -'").split()) for line in unfolded.splitlines() if re.match(r"^\s*- '?\d{4}-", line)]


def test_a_console_action_and_a_read_only_forgery_are_each_in_the_trails_once_with_their_user(browser):
    browser.delete_all_cookies()
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    service = on_host(INVENTORY, "st01", "docker service inspect walkthrough_apacz --format '{{.ID}}'")
    log_in(browser, "alice", path="/stacks")
    assert forged(browser, f"/services/{service}/scale", {"delta": "+1"}) in (200, 303)
    browser.delete_all_cookies()
    log_in(browser, "bob", path="/stacks")
    assert forged(browser, f"/services/{service}/scale", {"delta": "+1"}) == 403
    on_host(INVENTORY, "st01", "docker service scale -d walkthrough_apacz=4 >/dev/null")
    alice = [line for line in audit_lines("-e", "audit_log_user=alice", "-e", f"audit_log_since={since}")
             if "scale" in line or "/update" in line]
    # The engine's trail: the update by the console's member identity, for alice, and its answer;
    # the console's: the action asked, then done (the playbook prints each trail in turn).
    assert [re.sub(r"^\S+ (\S+) (\S+) #\d+ ", r"\1 \2 ", line) for line in alice] == [
        f"st01 api-audit request paddock-console-member for alice (member) POST /services/{service}/update allow",
        f"st01 api-audit response paddock-console-member for alice (member) POST /services/{service}/update 200",
        f"st01 console-audit request alice (member) scale /services/{service}/scale",
        "st01 console-audit result alice (member) scale walkthrough_apacz scaled from 4 to 5",
    ], alice
    bob = [line for line in audit_lines("-e", "audit_log_user=bob", "-e", f"audit_log_since={since}")
           if "scale" in line]
    assert [re.sub(r"^\S+ (\S+) (\S+) #\d+ ", r"\1 \2 ", line) for line in bob] == [
        f"st01 console-audit result bob (read-only) scale /services/{service}/scale refused: read-only may not "
        "scale"], bob


def test_the_audit_page_shows_every_hosts_trail_to_an_admin_and_to_no_one_else(browser):
    browser.delete_all_cookies()
    log_in(browser, "bob", path="/stacks")
    assert browser.execute_async_script("const done = arguments[arguments.length - 1];"
                                        "fetch('/audit').then(r => done(r.status));") == 403
    browser.delete_all_cookies()
    log_in(browser, "ops", path="/audit?user=bob")
    assert find(browser, "#nav-audit")

    def bobs_refusal():
        browser.get(CONSOLE + "/audit?user=bob")
        return [r.text for r in browser.find_elements(By.CSS_SELECTOR, "tr.audit-record")
                if "refused: read-only may not audit" in r.text]
    assert wait_for(bobs_refusal, timeout=20, interval=1)
    # Every host's engine trail, through the audit service: bob's CLI on st02's engine.
    bundle = os.path.join(STATE, "pki", "users", "bob")
    subprocess.run(["docker", "--tlsverify", f"--tlscacert={bundle}/ca.pem", f"--tlscert={bundle}/cert.pem",
                    f"--tlskey={bundle}/key.pem", "-H", "tcp://10.3.6.12:2376", "volume", "ls"],
                   capture_output=True, timeout=60, check=True)

    def on_st02():
        browser.get(CONSOLE + "/audit?user=bob&path=/volumes")
        return [r.text for r in browser.find_elements(By.CSS_SELECTOR, "tr.audit-record") if "st02" in r.text]
    assert wait_for(on_st02, timeout=20, interval=1)
    shot(browser, "audit")
