import os
import sys

# The repository is the collection paddock.platform; .collections/ makes it importable.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, ".collections"))
