"""Planning logic of the cloud-config module: what it decides to change, without a host."""

import base64
import gzip

from ansible_collections.paddock.platform.plugins.module_utils._cloud_config import (
    assign_interfaces,
    decode_content,
    digest,
    fstab_lines,
    merge,
    network_script,
    plan_addresses,
    render_resolv_conf,
    replace_block,
    runcmd_argv,
)


def test_later_sources_override_earlier_ones_and_mappings_merge():
    base = {"hostname": "a", "rancher": {"network": {"dns": {"nameservers": ["1.1.1.1"]}}},
            "runcmd": ["x"]}
    top = {"hostname": "b", "rancher": {"network": {"interfaces": {"eth1": {"mtu": 1400}}}},
           "runcmd": ["y"]}
    assert merge(base, top) == {
        "hostname": "b", "runcmd": ["y"],
        "rancher": {"network": {"dns": {"nameservers": ["1.1.1.1"]},
                                "interfaces": {"eth1": {"mtu": 1400}}}}}


def test_a_mac_match_beats_an_exact_name_which_beats_a_glob():
    interfaces = {"eth*": {"mtu": 1}, "eth1": {"mtu": 2}, "mac=AA:BB:CC:DD:EE:01": {"mtu": 3}}
    links = [("eth0", "aa:bb:cc:dd:ee:00"), ("eth1", "aa:bb:cc:dd:ee:01"), ("eth2", None), ("lo", None)]
    assigned = assign_interfaces(interfaces, links)
    assert {name: key for name, (key, _cfg) in assigned.items()} == {
        "eth0": "eth*", "eth1": "mac=AA:BB:CC:DD:EE:01", "eth2": "eth*"}


def test_an_explicit_match_field_replaces_the_key():
    assigned = assign_interfaces({"uplink": {"match": "ens*", "mtu": 9000}}, [("ens3", None), ("eth0", None)])
    assert list(assigned) == ["ens3"]


def test_only_addresses_paddock_added_are_ever_removed():
    add, remove = plan_addresses(desired=["10.0.0.5/24"], current=["10.0.0.5/24", "172.17.0.2/16", "10.9.0.1/24"],
                                 managed_before=["10.9.0.1/24", "10.8.0.1/24"])
    assert add == []
    assert remove == ["10.9.0.1/24"]  # the Docker-assigned 172.17.0.2 is not ours; 10.8.0.1 is gone already


def test_the_managed_block_is_replaced_and_other_lines_are_kept():
    text = "ssh-ed25519 AAAA lab\n# BEGIN paddock cloud-config\nold\n# END paddock cloud-config\nafter\n"
    assert replace_block(text, ["new1", "new2"]) == (
        "ssh-ed25519 AAAA lab\nafter\n# BEGIN paddock cloud-config\nnew1\nnew2\n# END paddock cloud-config\n")
    assert replace_block(text, []) == "ssh-ed25519 AAAA lab\nafter\n"


def test_a_file_without_a_block_is_untouched_when_nothing_is_managed():
    assert replace_block("no newline at end", []) == "no newline at end"


def test_resolv_conf_lists_search_then_nameservers():
    assert render_resolv_conf(["10.0.0.2", "10.0.0.3"], ["a.internal"]) == (
        "# Managed by Paddock (cloud-config rancher.network.dns)\nsearch a.internal\n"
        "nameserver 10.0.0.2\nnameserver 10.0.0.3\n")


def test_runcmd_strings_go_through_the_shell_and_lists_are_argv():
    assert runcmd_argv("echo $HOME > /x") == ["/bin/sh", "-c", "echo $HOME > /x"]
    assert runcmd_argv(["touch", "/x"]) == ["touch", "/x"]


def test_the_runcmd_digest_changes_with_its_content_only():
    assert digest(["a", ["b"]]) == digest(["a", ["b"]])
    assert digest(["a", ["b"]]) != digest(["a", ["b", "c"]])


def test_every_cloud_init_encoding_decodes():
    raw = b"hello\n"
    b64 = base64.b64encode(raw).decode()
    gz_b64 = base64.b64encode(gzip.compress(raw)).decode()
    for encoding, content in [(None, "hello\n"), ("b64", b64), ("base64", b64), ("gz+b64", gz_b64),
                              ("gzip+base64", gz_b64), ("gz+base64", gz_b64)]:
        assert decode_content(content, encoding) == raw


def test_mounts_default_their_options():
    assert fstab_lines([["tmpfs", "/mnt/s", "tmpfs", ""]]) == ["tmpfs /mnt/s tmpfs defaults 0 0"]


def test_the_boot_script_reapplies_mtu_addresses_and_gateway():
    script = network_script({"eth1": {"mtu": 1450, "addresses": ["10.6.0.4/24"], "gateway": "10.5.0.1",
                                      "metric": 1028}})
    assert script.splitlines()[3:] == [
        "ip link set dev eth1 mtu 1450", "ip addr replace 10.6.0.4/24 dev eth1", "ip link set dev eth1 up",
        "ip -4 route replace default via 10.5.0.1 dev eth1 metric 1028"]
