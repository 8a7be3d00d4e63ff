"""A body as the engine reads it (plugins/module_utils/_gojson.py): each row is a body, what Go's
encoding/json (1.19, the engine's) does with it, and what paddock-authz must then believe.

Go's rules, as its documentation and source (encoding/json/decode.go, fold.go) state them:
- "Unmarshal matches incoming object keys to the keys used by Marshal (either the struct field
  name or its tag), preferring an exact match but also accepting a case-insensitive match";
  the comparison is fold.go's: ASCII case, U+017F for s and U+212A for k.
- "By default, object keys which don't have a corresponding struct field are ignored."
- A key given twice: each value is decoded in turn into the same field (the last wins; two
  objects given to one struct field are merged).
- "The JSON null value unmarshals into an interface, map, pointer, or slice by setting that Go
  value to nil. Otherwise ... null has no effect on the value."
- A number into an integer field is parsed with strconv.ParseInt (ParseUint for unsigned):
  1.0 and 1e2 are errors, so is a value past the field's size; NaN is not JSON.
- Invalid UTF-8 and unpaired surrogate escapes in strings become U+FFFD.
- json.Decoder.Decode (which the engine's routes use) reads one value and ignores what follows.
"""

import pytest

from ansible_collections.paddock.platform.plugins.module_utils._engine_types import ENGINE, ROOTS
from ansible_collections.paddock.platform.plugins.module_utils._gojson import Unreadable, fold, read

# (body, route, what the engine holds) for bodies Go reads one way only.
READ = [
    # Exact names, and every case of them.
    (b'{"Image": "a", "HostConfig": {"Privileged": true}}', "container_create",
     {"Image": "a", "HostConfig": {"Privileged": True}}),
    (b'{"IMAGE": "a", "hostconfig": {"pRIVILEGED": true}}', "container_create",
     {"Image": "a", "HostConfig": {"Privileged": True}}),
    # U+017F is s and U+212A is k to Go's fold; a Turkish dotless i is not i.
    ('{"HostConfig": {"Bind\u017f": ["/:/h"], "CapAdd": ["\u212a"]}}'.encode(), "container_create",
     {"HostConfig": {"Binds": ["/:/h"], "CapAdd": ["\u212a"]}}),
    ('{"\u212aernelMemory": 1}'.encode(), "container_update", {"KernelMemory": 1}),
    # Escapes are read before matching: \u0050 is P.
    (b'{"HostConfig": {"\\u0050rivileged": true}}', "container_create", {"HostConfig": {"Privileged": True}}),
    # null: nothing set, whatever the field's kind.
    (b'{"HostConfig": null, "Image": null}', "container_create", {}),
    (b'{"HostConfig": {"Privileged": null, "Binds": null}}', "container_create", {"HostConfig": {}}),
    # strslice.StrSlice: a string is a list of one.
    (b'{"Cmd": "sh", "Entrypoint": ["a", "b"], "HostConfig": {"CapAdd": "NET_ADMIN"}}', "container_create",
     {"Cmd": ["sh"], "Entrypoint": ["a", "b"], "HostConfig": {"CapAdd": ["NET_ADMIN"]}}),
    # Numbers by the field's type; interface{} values as Go's float64.
    (b'{"Memory": -0, "CpuShares": 1024, "NanoCpus": 9223372036854775807}', "container_update",
     {"Memory": 0, "CpuShares": 1024, "NanoCpus": 9223372036854775807}),
    # Maps keep their keys as written: only struct fields fold.
    (b'{"Name": "v", "DriverOpts": {"Type": "none", "type": "tmpfs"}}', "volume_create",
     {"Name": "v", "DriverOpts": {"Type": "none", "type": "tmpfs"}}),
    # What the docker CLI 28 sends to every engine, which this one ignores as Go ignores it.
    (b'{"Image": "a", "NetworkingConfig": {"EndpointsConfig": {"default": {"GwPriority": 0}}}}', "container_create",
     {"Image": "a", "NetworkingConfig": {"EndpointsConfig": {"default": {}}}}),
    (b'{"TaskTemplate": {"ContainerSpec": {"Image": "x", "Privileges": {"NoNewPrivileges": false}}}}',
     "service_create", {"TaskTemplate": {"ContainerSpec": {"Image": "x", "Privileges": {}}}}),
    (b'{"Cmd": ["sh"], "Tty": true, "ConsoleSize": [24, 80]}', "exec_create", {"Cmd": ["sh"], "Tty": True}),
    # Embedded structs' fields are read where Go promotes them: ServiceSpec's Annotations.
    (b'{"name": "web", "labels": {"a": "b"}, "TaskTemplate": {"ContainerSpec": {"Image": "x"}}}', "service_create",
     {"Name": "web", "Labels": {"a": "b"}, "TaskTemplate": {"ContainerSpec": {"Image": "x"}}}),
]

# (body, route, what the refusal says) for bodies Go reads in a way the policy would have to copy.
REFUSED = [
    (b'{"Image": "a", "Privileged": true}', "container_create", "Privileged: a HostConfig field at the top"),
    (b'{"HostConfig": {"Privileged": false, "PRIVILEGED": true}}', "container_create",
     "HostConfig.PRIVILEGED: the engine reads it as Privileged, which is also given as 'Privileged'"),
    (b'{"HostConfig": {"Binds": []}, "HostConfig": {"Privileged": true}}', "container_create",
     "HostConfig: given twice"),
    (b'{"Name": "v", "Labels": {"a": "1", "a": "2"}}', "volume_create", "Labels.a: given twice"),
    (b'{"HostConfig": {"Privilegd": true}}', "container_create", "HostConfig.Privilegd: no such field"),
    ('{"HostConfig": {"Pr\u0131vileged": true}}'.encode(), "container_create", "no such field"),
    (b'{"HostConfig": {"Privileged": "true"}}', "container_create",
     "HostConfig.Privileged: the engine reads true or false here, got a string"),
    (b'{"Memory": 1.0}', "container_update",
     "Memory: the engine reads a whole number (int64) here, got the number 1.0"),
    (b'{"Memory": 1e3}', "container_update", "got the number 1e3"),
    (b'{"Memory": 9223372036854775808}', "container_update", "does not fit a whole number (int64)"),
    (b'{"TaskTemplate": {"ForceUpdate": -0}}', "service_create", "-0 does not fit a whole number (uint64)"),
    (b'{"Memory": NaN}', "container_update", "NaN is not JSON"),
    (b'{"Cmd": ["a", null]}', "container_create", "Cmd[1]: null in a list or map"),
    (b'{"Cmd": ["a", 1]}', "container_create", "Cmd[1]: the engine reads a string here"),
    (b'{"HostConfig": {"ConsoleSize": [1]}}', "container_create", "a list of exactly 2 here, got 1"),
    # Found by the differential test: an object where a list is read (the engine answered 500).
    (b'{"HostConfig": {"Devices": {}}}', "container_create",
     "HostConfig.Devices: the engine reads a list here, got an object"),
    (b'{"Cmd": {"a": "b"}}', "container_create",
     "Cmd: the engine reads a string or a list of strings here, got an object"),
    (b'{"Image": "\\ud800x"}', "container_create", "Image: a string with an unpaired surrogate escape"),
    (b'{"Image": "\xc3("}', "container_create", "the body is not UTF-8"),
    (b'{"Image": "a"} {"HostConfig": {}}', "container_create", "data after its JSON value"),
    (b'{"Image": "a"', "container_create", "the body is not JSON"),
    (b'"a"', "container_create", "the body is not a JSON object"),
    (b'\xef\xbb\xbf{"Image": "a"}', "container_create", "the body is not JSON"),  # a BOM: Go's scanner refuses
    (b'{"Data": "not base64!"}', "secret_create", "Data: not base64"),
]


@pytest.mark.parametrize(("body", "route", "expected"), READ)
def test_a_body_is_read_as_go_reads_it(body, route, expected):
    assert read(body, route) == expected


@pytest.mark.parametrize(("body", "route", "expected"), REFUSED)
def test_what_go_would_read_otherwise_or_not_at_all_is_refused_with_where(body, route, expected):
    with pytest.raises(Unreadable) as refused:
        read(body, route)
    assert expected in str(refused.value)


def test_fold_is_gos_for_the_engines_ascii_names():
    assert fold("privileged") == fold("PRIVILEGED") == fold("Privileged")
    assert fold("bind\u017f") == fold("BINDS") and fold("\u212aernelMemory") == fold("kernelmemory")
    assert fold("pr\u0131vileged") != fold("privileged")  # unicode's upper() would make it I
    assert fold("\u00df") != fold("SS")


def test_the_tables_are_the_engines_the_hosts_run():
    assert ENGINE["package"].startswith("docker.io 20.10.24") and ENGINE["go"] == "go1.19.8"
    assert set(ROOTS) >= {"container_create", "container_update", "exec_create", "service_create", "service_update",
                          "network_create", "volume_create", "secret_create", "config_create"}


def test_what_newer_clients_send_is_ignored_only_where_this_engine_has_no_such_field():
    from ansible_collections.paddock.platform.plugins.module_utils._engine_types import TYPES
    from ansible_collections.paddock.platform.plugins.module_utils._gojson import NEWER_CLIENTS
    for type_name, names in NEWER_CLIENTS.items():
        assert TYPES[type_name][0] == "struct" and not names & set(TYPES[type_name][1]), type_name
