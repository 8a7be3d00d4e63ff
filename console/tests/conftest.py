import os
import sys

# The console's package, and the collection it imports (.collections/ makes it importable).
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path[:0] = [os.path.join(ROOT, "console"), os.path.join(ROOT, ".collections")]
os.environ.setdefault("ANSIBLE_CONFIG", os.path.join(ROOT, "ansible.cfg"))
