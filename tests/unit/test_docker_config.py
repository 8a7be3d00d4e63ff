"""cloud-config rancher.docker -> the engine's daemon.json and flags."""

import os

import pytest
import yaml

from ansible_collections.paddock.platform.plugins.module_utils._docker_config import (
    daemon_args,
    daemon_options,
    tls_files,
)


def test_rancher_engine_keys_become_daemon_json_keys():
    assert daemon_options({"storage_driver": "overlay2", "registry_mirror": "http://m:5000",
                           "insecure_registry": ["r:5000"], "log_driver": "json-file",
                           "log_opts": {"max-size": "10m", "max-file": 3}, "engine": "ignored"}) == {
        "storage-driver": "overlay2", "registry-mirrors": ["http://m:5000"],
        "insecure-registries": ["r:5000"], "log-driver": "json-file",
        "log-opts": {"max-size": "10m", "max-file": "3"}}


def test_no_rancher_docker_section_means_no_options():
    assert daemon_options(None) == {}
    assert daemon_args(None) == []


def test_tls_turns_on_verification_and_the_2376_listener():
    docker = {"tls": True, "ca_cert": "CA", "server_cert": "CERT", "server_key": "KEY", "extra_args": ["--mtu", "1460"]}
    assert daemon_options(docker)["tlsverify"] is True
    assert daemon_args(docker) == ["--mtu", "1460", "-H", "tcp://0.0.0.0:2376"]
    assert [f["mode"] for f in tls_files(docker)] == ["0644", "0644", "0600"]


def test_tls_without_its_certificates_is_refused():
    with pytest.raises(ValueError, match="rancher.docker.server_key is not set"):
        tls_files({"tls": True, "ca_cert": "CA", "server_cert": "CERT"})



def test_the_paths_the_role_s_conditions_name_are_the_authorization_plugin_s_files():
    # The conditions name docker_authz_paths so as not to render the files; the two must agree.
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "roles", "docker", "vars", "main.yml")) as handle:
        role_vars = yaml.safe_load(handle)
    assert role_vars["docker_authz_paths"] == list(role_vars["docker_authz_files"])
