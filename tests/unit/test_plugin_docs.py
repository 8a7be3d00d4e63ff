"""Every module's and filter's documentation parses, as ansible-doc reads it: a broken block shows
nothing to a user and ansible-lint only warns about it."""

import ast
import glob
import os

import pytest
import yaml

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
MODULES = sorted(glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py")))
FILTER_DOCS = sorted(glob.glob(os.path.join(ROOT, "plugins", "filter", "*.yml")))


def blocks(path):
    with open(path) as handle:
        tree = ast.parse(handle.read())
    return {target.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
            for target in node.targets if isinstance(target, ast.Name)
            and target.id in ("DOCUMENTATION", "EXAMPLES", "RETURN")}


@pytest.mark.parametrize("path", MODULES, ids=os.path.basename)
def test_a_modules_documentation_examples_and_return_parse(path):
    found = blocks(path)
    assert set(found) == {"DOCUMENTATION", "EXAMPLES", "RETURN"}
    documentation = yaml.safe_load(found["DOCUMENTATION"])
    assert documentation["module"] == os.path.basename(path)[:-3]
    for name, option in (documentation.get("options") or {}).items():
        assert option.get("description"), f"option {name} has no description"
    yaml.safe_load(found["EXAMPLES"])
    yaml.safe_load(found["RETURN"])


@pytest.mark.parametrize("path", FILTER_DOCS, ids=os.path.basename)
def test_a_filters_documentation_parses(path):
    with open(path) as handle:
        document = yaml.safe_load(handle)
    assert document["DOCUMENTATION"]["name"] == os.path.basename(path)[:-4]
