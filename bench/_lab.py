"""What every bench script shares: the project root, and an environment in which
ansible-playbook is the one beside this interpreter (.venv/bin/python bench/...) and reads the
project's ansible.cfg."""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
           PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))


def changed(output):
    """{host: changed count} from an ansible-playbook run's recap."""
    return {host: int(n) for host, n in re.findall(r"^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)", output, re.M)}


def wrk_report(out):
    """Requests per second, p50 and p99 in ms, and any errors, from the output of ``wrk --latency``."""

    def millis(label):
        value, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50_ms": millis("50%"),
            "p99_ms": millis("99%"), "errors": errors.group(0) if errors else None}
