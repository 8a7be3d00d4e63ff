"""Build contexts: what the builder's copy still holds that the source no longer has."""

import os

from ansible_collections.paddock.platform.plugins.filter.stack import images_stale_files, stack_image_map


def test_files_deleted_from_a_context_are_listed_for_removal(tmp_path):
    source = tmp_path / "inventory" / "apacz"
    source.mkdir(parents=True)
    (source / "Dockerfile").write_text("FROM debian\n")
    results = [{"item": {"name": "apacz", "tag": "1", "build": "apacz"},
                "files": [{"path": "/var/lib/paddock/images/apacz/Dockerfile"},
                          {"path": "/var/lib/paddock/images/apacz/old.conf"}]}]
    assert images_stale_files(results, "/var/lib/paddock/images", str(tmp_path / "inventory")) == [
        "/var/lib/paddock/images/apacz/old.conf"]
    assert os.path.exists(source / "Dockerfile")


def test_built_images_map_to_the_registry():
    assert stack_image_map([{"name": "apacz", "tag": "1"}], "10.3.0.4:5000") == {"apacz:1": "10.3.0.4:5000/apacz:1"}
    assert stack_image_map([{"name": "apacz", "tag": "1"}], "") == {}
