"""The cloud-config schema: every bad document is refused with the exact problem, at its key path."""

import pytest

from ansible_collections.paddock.platform.plugins.module_utils._cloud_config_schema import (
    validate,
    warnings,
)

KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN6VtTT0KqUdRlFWM+Y7jM/Cgwl/G7+W7HW+vMn/ST84 ops")
GOOD = {
    "hostname": "node-1.example.com",
    "ssh_authorized_keys": [KEY, 'from="10.0.0.0/8" ' + KEY],
    "write_files": [
        {"path": "/etc/motd", "content": "hi\n", "permissions": "0644", "owner": "root:root"},
        {"path": "/etc/x.gz", "content": "H4sIAAAAAAAAA8tIzcnJVyjPL8pJAQCFEUoNCwAAAA==",
         "encoding": "gzip+base64"},
    ],
    "runcmd": ["echo hi", ["touch", "/tmp/x"]],
    "mounts": [["/dev/vdb", "/mnt/s", "ext4", ""]],
    "rancher": {
        "environment": {"A": "b", "N": 3},
        "network": {
            "dns": {"nameservers": ["8.8.8.8", "2001:4860:4860::8888"], "search": ["example.com"]},
            "interfaces": {
                "eth*": {"dhcp": True},
                "eth1": {"address": "172.68.1.100/24", "gateway": "172.68.1.1", "mtu": 1500,
                         "dhcp": False},
                "bond0": {"addresses": ["192.168.101.33/31"], "bond_opts": {"mode": "4", "miimon": "100"}},
                "mac=0c:c4:d7:b2:14:d2": {"bond": "bond0"},
                "eth0": {"vlans": "100,200:foobar", "gateway_ipv6": "fe80::1"},
            },
        },
        "docker": {"storage_driver": "overlay2", "registry_mirror": "http://10.10.10.23:5555",
                   "insecure_registry": ["10.0.0.1:5000"], "log_opts": {"max-size": "10m"},
                   "extra_args": ["--mtu", "1460"]},
    },
}

# (name, document, [(key path, problem)]): the exact errors a user reads.
BAD = [
    ("unknown top-level key", {"hostnme": "x"},
     [("hostnme", "unknown key; known keys: bootcmd, hostname, mounts, rancher, runcmd, "
                  "ssh_authorized_keys, write_files")]),
    ("hostname not a string", {"hostname": 42}, [("hostname", "must be a string, got integer 42")]),
    ("hostname with underscore", {"hostname": "my_host"},
     [("hostname", "'my_host' is not a valid host name (letters, digits and '-', labels of 1-63 "
                   "characters)")]),
    ("hostname label too long", {"hostname": "a" * 64},
     [("hostname", f"'{'a' * 64}' is not a valid host name (letters, digits and '-', labels of "
                   "1-63 characters)")]),
    ("keys not a list", {"ssh_authorized_keys": KEY},
     [("ssh_authorized_keys", f"must be a list, got string '{KEY}'")]),
    ("key without type", {"ssh_authorized_keys": ["AAAAC3Nza ops"]},
     [("ssh_authorized_keys[0]", "'AAAAC3Nza ops' is not an SSH public key: no key type ('<type> <base64> "
                                 "[comment]', type one of ssh-rsa, ssh-dss, ssh-ed25519, ...)")]),
    ("key data of another type", {"ssh_authorized_keys": ["ssh-rsa " + KEY.split()[1]]},
     [("ssh_authorized_keys[0]", f"'ssh-rsa {KEY.split()[1]}' is not an SSH public key: key data does "
                                 "not match its type")]),
    ("write_files entry without path", {"write_files": [{"content": "x"}]},
     [("write_files[0]", "missing required key 'path'")]),
    ("write_files relative path", {"write_files": [{"path": "etc/motd"}]},
     [("write_files[0].path", "'etc/motd' is not an absolute path to a file (starts with '/', does not "
                              "end with '/', has no '..' and no line break)")]),
    ("permissions unquoted", {"write_files": [{"path": "/a", "permissions": 420}]},
     [("write_files[0].permissions", "must be a quoted octal string like '0644' (YAML reads an "
                                     "unquoted 0644 as the number 420)")]),
    ("permissions not octal", {"write_files": [{"path": "/a", "permissions": "0999"}]},
     [("write_files[0].permissions", "'0999' is not an octal mode like '0644'")]),
    ("owner with spaces", {"write_files": [{"path": "/a", "owner": "root root"}]},
     [("write_files[0].owner", "'root root' is not 'user' or 'user:group'")]),
    ("unknown encoding", {"write_files": [{"path": "/a", "encoding": "zip"}]},
     [("write_files[0].encoding", "must be one of: b64, base64, gz, gzip, gz+b64, gz+base64, "
                                  "gzip+b64, gzip+base64; got string 'zip'")]),
    ("content that does not decode", {"write_files": [{"path": "/a", "encoding": "b64",
                                                       "content": "not base64!"}]},
     [("write_files[0].content", "does not decode as b64: Only base64 data is allowed")]),
    ("two entries write one path", {"write_files": [{"path": "/a"}, {"path": "/a"}]},
     [("write_files[1].path", "'/a' is also written by write_files[0]")]),
    ("unknown write_files key", {"write_files": [{"path": "/a", "mode": "0644"}]},
     [("write_files[0].mode", "unknown key; known keys: container, content, encoding, owner, "
                              "path, permissions")]),
    ("runcmd not a list", {"runcmd": "echo hi"}, [("runcmd", "must be a list, got string 'echo hi'")]),
    ("runcmd argv with a mapping", {"runcmd": [["sleep", {"s": 5}]]},
     [("runcmd[0][1]", "must be a string or an integer, got a mapping")]),
    ("mount with three fields", {"mounts": [["/dev/vdb", "/mnt", "ext4"]]},
     [("mounts[0]", "must have exactly 4 fields [device, mountpoint, fstype, options], got 3")]),
    ("mount point relative", {"mounts": [["/dev/vdb", "mnt", "ext4", ""]]},
     [("mounts[0][1]", "mount point 'mnt' is not an absolute path")]),
    ("rancher not a mapping", {"rancher": ["network"]},
     [("rancher", "must be a mapping, got a list")]),
    ("unknown rancher key", {"rancher": {"netwrok": {}}},
     [("rancher.netwrok", "unknown key; known keys: autoformat, bootstrap, bootstrap_docker, cloud_init, "
                          "cloud_init_services, console, debug, default_network, defaults, disable, "
                          "docker, environment, force_console_rebuild, http_load_retries, "
                          "hypervisor_service, log, modules, network, no_sharedroot, preload_wait, "
                          "recovery, registry_auths, repositories, "
                          "resize_device, restart_services, rm_usr, services, services_include, "
                          "shutdown_timeout, ssh, state, sysctl, system_docker, upgrade")]),
    ("nameserver not an address", {"rancher": {"network": {"dns": {"nameservers": ["dns.google"]}}}},
     [("rancher.network.dns.nameservers[0]", "'dns.google' is not an IP address")]),
    ("search domain not a name", {"rancher": {"network": {"dns": {"search": ["bad domain"]}}}},
     [("rancher.network.dns.search[0]", "'bad domain' is not a valid host name (letters, digits "
                                        "and '-', labels of 1-63 characters)")]),
    ("address without prefix", {"rancher": {"network": {"interfaces": {"eth1": {"address": "10.0.0.5"}}}}},
     [("rancher.network.interfaces.eth1.address",
       "'10.0.0.5' is not an address with a prefix length, like 10.0.0.5/24")]),
    ("prefix too long", {"rancher": {"network": {"interfaces": {"eth1": {"address": "10.0.0.5/33"}}}}},
     [("rancher.network.interfaces.eth1.address",
       "'10.0.0.5/33' is not an address with a prefix length, like 10.0.0.5/24")]),
    ("octet out of range", {"rancher": {"network": {"interfaces": {"eth1": {"addresses": ["10.0.0.256/24"]}}}}},
     [("rancher.network.interfaces.eth1.addresses[0]",
       "'10.0.0.256/24' is not an address with a prefix length, like 10.0.0.5/24")]),
    ("gateway not an address", {"rancher": {"network": {"interfaces": {"eth1": {"gateway": "10.0.0"}}}}},
     [("rancher.network.interfaces.eth1.gateway", "'10.0.0' is not an IPv4 address")]),
    ("gateway outside the network", {"rancher": {"network": {"interfaces": {
        "eth1": {"address": "10.0.0.5/24", "gateway": "10.0.1.1"}}}}},
     [("rancher.network.interfaces.eth1.gateway",
       "10.0.1.1 is not inside 10.0.0.0/24, the network of this interface's address")]),
    ("ipv4 gateway_ipv6", {"rancher": {"network": {"interfaces": {"eth1": {"gateway_ipv6": "10.0.0.1"}}}}},
     [("rancher.network.interfaces.eth1.gateway_ipv6", "'10.0.0.1' is not an IPv6 address")]),
    ("mtu as a string", {"rancher": {"network": {"interfaces": {"eth1": {"mtu": "9000"}}}}},
     [("rancher.network.interfaces.eth1.mtu", "must be an integer, got string '9000'")]),
    ("mtu as a decimal", {"rancher": {"network": {"interfaces": {"eth1": {"mtu": 1450.0}}}}},
     [("rancher.network.interfaces.eth1.mtu", "must be an integer, got number 1450.0")]),
    ("mtu too small", {"rancher": {"network": {"interfaces": {"eth1": {"mtu": 40}}}}},
     [("rancher.network.interfaces.eth1.mtu", "must be between 68 and 65535, got 40")]),
    ("dhcp as a string", {"rancher": {"network": {"interfaces": {"eth1": {"dhcp": "yes"}}}}},
     [("rancher.network.interfaces.eth1.dhcp", "must be true or false, got string 'yes'")]),
    ("dhcp and a static address", {"rancher": {"network": {"interfaces": {
        "eth1": {"dhcp": True, "address": "10.0.0.5/24"}}}}},
     [("rancher.network.interfaces.eth1", "sets both dhcp: true and a static address")]),
    ("unknown interface key", {"rancher": {"network": {"interfaces": {"eth1": {"netmask": "255.0.0.0"}}}}},
     [("rancher.network.interfaces.eth1.netmask",
       "unknown key; known keys: address, addresses, bond, bond_opts, bridge, dhcp, dhcp_args, "
       "gateway, gateway_ipv6, ipv4ll, match, mtu, post_up, pre_up, vlans, wifi_network")]),
    ("bad mac= match", {"rancher": {"network": {"interfaces": {"mac=0c:c4:d7": {"dhcp": True}}}}},
     [("rancher.network.interfaces.mac=0c:c4:d7", "'0c:c4:d7' is not a MAC address like "
                                                  "0c:c4:d7:b2:14:d2")]),
    ("bond names a missing interface", {"rancher": {"network": {"interfaces": {"eth2": {"bond": "bond1"}}}}},
     [("rancher.network.interfaces.eth2.bond",
       "names bond 'bond1', which is not configured in rancher.network.interfaces")]),
    ("unknown bond mode", {"rancher": {"network": {"interfaces": {"bond0": {"bond_opts": {"mode": "9"}}}}}},
     [("rancher.network.interfaces.bond0.bond_opts.mode",
       "'9' is not a bonding mode (0-6 or balance-rr, active-backup, 802.3ad, ...)")]),
    ("vlan syntax", {"rancher": {"network": {"interfaces": {"eth0": {"vlans": "100;200"}}}}},
     [("rancher.network.interfaces.eth0.vlans", "'100;200' is not a VLAN list like '100,200:name'")]),
    ("vlan id out of range", {"rancher": {"network": {"interfaces": {"eth0": {"vlans": "4095"}}}}},
     [("rancher.network.interfaces.eth0.vlans", "VLAN id 4095 is outside 1-4094")]),
    ("registry_mirror as a list", {"rancher": {"docker": {"registry_mirror": ["http://m:5000"]}}},
     [("rancher.docker.registry_mirror", "must be a string, got a list")]),
    ("registry_mirror not a URL", {"rancher": {"docker": {"registry_mirror": "mirror:5000"}}},
     [("rancher.docker.registry_mirror", "'mirror:5000' is not a URL like http://mirror.example:5000")]),
    ("extra_args as a string", {"rancher": {"docker": {"extra_args": "--mtu 1460"}}},
     [("rancher.docker.extra_args", "must be a list, got string '--mtu 1460'")]),
    ("unknown engine key", {"rancher": {"docker": {"storage-driver": "overlay2"}}},
     [("rancher.docker.storage-driver",
       "unknown key; known keys: args, bip, bridge, ca_cert, ca_key, config_file, containerd, debug, "
       "engine, environment, exec, exec_root, extra_args, graph, group, host, insecure_registry, "
       "live_restore, log_driver, log_opts, pid_file, registry_mirror, restart, selinux_enabled, "
       "server_cert, server_key, storage_context, storage_driver, tls, tls_args, userland_proxy")]),
    ("tls without certificates", {"rancher": {"docker": {"tls": True, "ca_cert": "PEM"}}},
     [("rancher.docker.server_cert", "is required when rancher.docker.tls is true"),
      ("rancher.docker.server_key", "is required when rancher.docker.tls is true")]),
    ("environment value a list", {"rancher": {"environment": {"A": ["x"]}}},
     [("rancher.environment.A", "must be a string, a number or true or false, got a list")]),
    ("several problems at once", {"hostname": "a_b", "runcmd": 1, "mounts": [[1, 2, 3, 4]]},
     [("hostname", "'a_b' is not a valid host name (letters, digits and '-', labels of 1-63 "
                   "characters)"),
      ("mounts[0][0]", "must be a string, got integer 1"),
      ("mounts[0][1]", "must be a string, got integer 2"),
      ("mounts[0][2]", "must be a string, got integer 3"),
      ("mounts[0][3]", "must be a string, got integer 4"),
      ("runcmd", "must be a list, got integer 1")]),
]


def test_the_table_has_at_least_thirty_bad_documents():
    assert len(BAD) >= 30


def test_a_full_rancheros_document_is_valid():
    assert validate(GOOD) == []


def test_an_empty_document_is_valid():
    assert validate({}) == []
    assert validate(None) == []


@pytest.mark.parametrize("document,expected", [(d, e) for _n, d, e in BAD], ids=[n for n, _d, _e in BAD])
def test_a_bad_document_is_refused_with_its_exact_errors(document, expected):
    assert validate(document) == expected


def test_rancheros_only_keys_are_accepted_with_a_warning_naming_them():
    document = {"bootcmd": ["x"], "rancher": {"console": "ubuntu", "docker": {"engine": "docker-17"},
                                              "network": {"pre_cmds": ["x"],
                                                          "interfaces": {"eth0": {"pre_up": ["x"]}}}},
                "write_files": [{"path": "/a", "container": "ntp"}]}
    assert validate(document) == []
    assert [path for path, _message in warnings(document)] == [
        ["bootcmd"], ["rancher", "console"], ["rancher", "docker", "engine"],
        ["rancher", "network", "pre_cmds"], ["rancher", "network", "interfaces", "eth0", "pre_up"],
        ["write_files", 0, "container"]]
