"""What every bench script shares: the project root, and an environment in which
ansible-playbook is the one beside this interpreter (.venv/bin/python bench/...) and reads the
project's ansible.cfg."""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
           PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
