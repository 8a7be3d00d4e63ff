"""What only ansible-playbook itself shows: how the project's ansible.cfg and playbooks treat an
inventory that does not parse, a variable written twice, and an answer that is an Ansible
template. Each runs the real playbook against an inventory of hosts that do not exist: the
validation opens no connection, so a refusal here happens before any host is touched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOK_BIN = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
HOSTS = """\
all:
  children:
    paddock:
      children:
        swarm_managers:
          hosts:
            n1: {ansible_host: 192.0.2.11}
"""


def playbook(playbook_name, inventory, *args):
    env = {**os.environ, "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    return subprocess.run([PLAYBOOK_BIN, "-i", str(inventory), os.path.join(ROOT, "playbooks", playbook_name),
                           *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_bad_inventories_and_templated_answers_stop_the_run(tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "hosts.yml").write_text(HOSTS + "        swarm_workers: [\n")
    twice = tmp_path / "twice"
    (twice / "group_vars").mkdir(parents=True)
    (twice / "hosts.yml").write_text(HOSTS)
    (twice / "group_vars" / "paddock.yml").write_text("registry_port: 5000\nregistry_port: 5050\n")
    facts = tmp_path / "facts"
    facts.mkdir()
    # A setting templated from a fact, which validation (before any host is touched) cannot know:
    # the role checks it when it runs; validation lets it pass.
    setting = '        swarm_drain_timeout: "{{ 120 if ansible_memtotal_mb > 4096 else 60 }}"\n'
    children = "      children:\n"
    (facts / "hosts.yml").write_text(HOSTS.replace(children, "      vars:\n" + setting + children, 1))
    marker = tmp_path / "ran"
    template = "{{ lookup('pipe', 'touch " + str(marker) + "; echo 8080') }}"
    answers = json.dumps({"answers": {"public_port": template, "db_password": "correct-horse-1",
                                      "db_root_password": "correct-horse-2"}})
    # The same as YAML text (-e answers='...'): a string extra var is templated when it is read.
    text = json.dumps({"answers": f"{{public_port: \"{template}\"}}"})
    limited = tmp_path / "limited"
    limited.mkdir()
    (limited / "hosts.yml").write_text(HOSTS + "        swarm_workers:\n          hosts:\n"
                                       "            n2: {ansible_host: 192.0.2.12}\n")
    with ThreadPoolExecutor(6) as pool:
        runs = list(pool.map(lambda call: playbook(*call), [
            ("validate.yml", broken),
            ("validate.yml", twice),
            ("validate.yml", facts),
            ("catalog.yml", os.path.join(ROOT, "inventory"), "-e", "app=wordpress", "-e", answers),
            ("catalog.yml", os.path.join(ROOT, "inventory"), "-e", "app=wordpress", "-e", text),
            ("validate.yml", limited, "--limit", "n1"),
        ]))
    broken_run, twice_run, facts_run, answers_run, text_run, limited_run = runs

    # YAML that does not parse is an error, not "no hosts matched" and exit 0.
    assert broken_run.returncode != 0
    assert "Completely failed to parse inventory source" in broken_run.stdout + broken_run.stderr

    assert facts_run.returncode == 0, facts_run.stdout[-2000:]

    # A variable written twice in one file is an error, not a silent choice of the last.
    assert twice_run.returncode != 0
    assert "Found duplicate mapping key 'registry_port'" in twice_run.stdout + twice_run.stderr

    # An answer is data: Ansible's template in it never runs on the controller, and it is refused.
    for run in (answers_run, text_run):
        assert run.returncode != 0
        assert ("stack wordpress: -e answers: public_port: has '{{', which Swarm reads as its own template"
                in run.stdout), run.stdout[-2000:]
    assert not marker.exists()

    # A run limited to some hosts would deploy the stacks from part of the swarm: refused.
    assert limited_run.returncode != 0
    assert "--limit (the command line): n1 leaves out n2. Paddock converges every host" in limited_run.stdout, \
        limited_run.stdout[-2000:]
