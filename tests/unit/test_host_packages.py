"""site.yml installs the later roles' packages in the engine's apt run (playbooks/provision.yml):
each list there must be the one the role itself installs when it runs alone."""

import os

import yaml

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def load(*parts):
    with open(os.path.join(ROOT, *parts)) as handle:
        return yaml.safe_load(handle)


def apt_names(role, tasks_file):
    return [task["ansible.builtin.apt"]["name"] for task in load("roles", role, "tasks", tasks_file)
            if "ansible.builtin.apt" in task]


def test_each_roles_packages_are_the_ones_provision_installs_with_the_engine():
    play = next(p for p in load("playbooks", "provision.yml") if "paddock_host_packages" in p.get("vars", {}))
    packages = play["vars"]["paddock_host_packages"]
    role_vars = load("roles", "managed_network", "vars", "main.yml")
    assert packages["managed_network"] == role_vars["managed_network_packages"]
    assert apt_names("managed_network", "main.yml") == ["{{ managed_network_packages }}"]
    assert apt_names("agent", "converge.yml") == packages["agent"]
    assert apt_names("registry", "converge.yml") == packages["registry"]
    assert apt_names("lb_vip", "main.yml") == packages["lb_vip"]
