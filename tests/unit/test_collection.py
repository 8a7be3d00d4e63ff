"""The collection as its users install it: built, installed with ansible-galaxy into an empty
directory, and used by its FQCNs from a playbook outside the repository."""

import os
import re
import shutil
import subprocess
import sys
import tarfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)  # the virtualenv's ansible-galaxy and ansible-playbook


def test_the_collections_version_is_the_changelogs_newest():
    with open(os.path.join(ROOT, "galaxy.yml")) as handle:
        version = yaml.safe_load(handle)["version"]
    with open(os.path.join(ROOT, "CHANGELOG.md")) as handle:
        newest = re.search(r"^## (\d+\.\d+\.\d+)", handle.read(), re.MULTILINE).group(1)
    assert version == newest


PLAYBOOK = """
- name: Validate and render a stack with the installed collection
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Render the walkthrough
      paddock.platform.stack_render:
        stacks: [{name: walkthrough, path: walkthrough}]
        base_dir: "{{ playbook_dir }}"
        lb_image: registry.example:5000/paddock/haproxy:2.6
      register: rendered

    - name: Show what was rendered
      ansible.builtin.debug:
        msg: >-
          {{ rendered.stacks | map(attribute='name') | list }}
          {{ rendered.stacks[0].compose.services | list | sort }}

    - name: Refuse a bad one before any host
      block:
        - name: Render the broken stack
          paddock.platform.stack_render:
            stacks: [{name: broken, path: broken}]
            base_dir: "{{ playbook_dir }}"
      rescue:
        - name: Show the refusal
          ansible.builtin.debug:
            msg: "refused: {{ ansible_failed_result.errors }}"
"""


def test_the_built_collection_installs_into_an_empty_directory_and_works_by_its_names(tmp_path):
    (tmp_path / "empty.cfg").write_text("")  # no setting of the repository's
    env = dict(os.environ, ANSIBLE_CONFIG=str(tmp_path / "empty.cfg"),
               ANSIBLE_COLLECTIONS_PATH=str(tmp_path / "installed"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"),
               ANSIBLE_FORCE_COLOR="0")
    built = subprocess.run([f"{BIN}/ansible-galaxy", "collection", "build", ROOT, "--output-path", str(tmp_path)],
                           capture_output=True, text=True, env=env, check=True)
    tarball = next(tmp_path.glob("paddock-platform-*.tar.gz"))
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    assert not [n for n in names if re.search(r"^(\.pytest_cache|\.ruff_cache|__pycache__|\.pki|\.lab|\.venv|"
                                              r"\.test-logs|molecule|bench|tests|lab|inventory)(/|$)|/__pycache__/",
                                              n)], built.stdout
    assert "plugins/module_utils/_gojson.py" in names and "roles/docker/files/paddock_authz.py" in names
    subprocess.run([f"{BIN}/ansible-galaxy", "collection", "install", str(tarball), "--no-deps", "-p",
                    str(tmp_path / "installed")], capture_output=True, text=True, env=env, check=True)
    play = tmp_path / "elsewhere"
    shutil.copytree(os.path.join(ROOT, "stacks", "walkthrough"), play / "walkthrough")
    (play / "broken").mkdir()
    (play / "broken" / "docker-compose.yml").write_text("services:\n  web:\n    image: nginx\n    scale: many\n")
    (play / "site.yml").write_text(PLAYBOOK)
    run = subprocess.run([f"{BIN}/ansible-playbook", "-i", "localhost,", "-c", "local", str(play / "site.yml")],
                         capture_output=True, text=True, env=env, cwd=str(play), timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    said = " ".join(run.stdout.split())
    assert "['walkthrough'] ['apacz', 'lb']" in said, said[-2000:]
    assert "stack broken: broken/docker-compose.yml:4: services.web.scale: must be an integer, got string 'many'" \
        in said, said[-2000:]
