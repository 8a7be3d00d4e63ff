import os
import sys

# The repository is the collection paddock.platform; .collections/ makes it importable.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, ".collections"))
# The project's ansible.cfg, wherever pytest runs from: the tests that load inventories with
# Ansible's own loaders need its settings (a YAML key written twice is an error).
os.environ.setdefault("ANSIBLE_CONFIG", os.path.join(ROOT, "ansible.cfg"))
