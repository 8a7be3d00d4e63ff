"""The Infrastructure view built from the swarm's nodes and the host agent's samples."""

from ansible_collections.paddock.platform.plugins.module_utils._status import cpu_use, memory_use, rows, table

SAMPLE_A = """# HELP node_cpu_seconds_total x
node_cpu_seconds_total{cpu="0",mode="idle"} 100
node_cpu_seconds_total{cpu="0",mode="user"} 50
node_memory_MemTotal_bytes 1000
node_memory_MemAvailable_bytes 750
"""
SAMPLE_B = SAMPLE_A.replace("} 100", "} 130").replace("} 50", "} 60")  # 30 idle, 10 busy


def test_cpu_use_is_the_busy_share_between_two_samples():
    assert cpu_use(SAMPLE_A, SAMPLE_B) == 0.25
    assert cpu_use(SAMPLE_A, SAMPLE_A) is None
    assert cpu_use(None, SAMPLE_B) == 1 - 130 / 190


def test_memory_use_is_what_is_not_available():
    assert memory_use(SAMPLE_B) == 0.25
    assert memory_use("") is None


def test_a_row_shows_role_state_availability_labels_and_containers():
    nodes = [{"ID": "n1", "Description": {"Hostname": "h1"}, "Status": {"State": "ready"},
              "ManagerStatus": {"Leader": True},
              "Spec": {"Role": "manager", "Availability": "drain",
                       "Labels": {"zone": "a", "paddock.host.cpus": "2", "io.rancher.host.docker_version": "x"}}}]
    hosts = [{"name": "h1", "addr": "10.0.0.1", "metrics_a": SAMPLE_A, "metrics_b": SAMPLE_B, "containers": ["b", "a"]},
             {"name": "h2", "addr": "10.0.0.2", "metrics_a": None, "metrics_b": None, "containers": []}]
    assert rows(hosts, nodes) == [
        {"host": "h1", "role": "manager (leader)", "state": "ready", "availability": "drain", "address": "10.0.0.1",
         "labels": "zone=a", "cpu": "25%", "memory": "25%", "containers": "a,b"},
        {"host": "h2", "role": "-", "state": "not in swarm", "availability": "-", "address": "10.0.0.2",
         "labels": "-", "cpu": "-", "memory": "-", "containers": "-"}]


def test_the_table_aligns_columns_under_a_header():
    lines = table([{"host": "h1", "role": "worker", "state": "ready", "availability": "active", "address": "a",
                    "labels": "-", "cpu": "1%", "memory": "2%", "containers": "-"}])
    assert lines[0].split() == ["HOST", "ROLE", "STATE", "AVAILABILITY", "ADDRESS", "CPU", "MEMORY", "LABELS",
                                "CONTAINERS"]
    assert lines[1].split() == ["h1", "worker", "ready", "active", "a", "1%", "2%", "-", "-"]
