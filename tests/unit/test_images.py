"""The images the platform builds: decided on the controller, where their contexts live."""

from ansible_collections.paddock.platform.plugins.filter.stack import stack_image_map
from ansible_collections.paddock.platform.plugins.module_utils._images import errors as images_errors
from ansible_collections.paddock.platform.plugins.module_utils._images import plan as images_plan
from ansible_collections.paddock.platform.plugins.module_utils._images import stack_images

REGISTRY = "10.3.0.4:5000"


def context(tmp_path, name="apacz", files=None):
    directory = tmp_path / name
    directory.mkdir(parents=True, exist_ok=True)
    for path, text in (files or {"Dockerfile": "FROM debian\n"}).items():
        (directory / path).write_text(text)
    return directory


def test_built_images_map_to_the_registry():
    assert stack_image_map([{"name": "apacz", "tag": "1"}], REGISTRY) == {"apacz:1": f"{REGISTRY}/apacz:1"}
    assert stack_image_map([{"name": "apacz", "tag": "1"}], "") == {}


def test_a_context_digest_changes_with_a_file_a_deleted_file_or_an_argument(tmp_path):
    directory = context(tmp_path, files={"Dockerfile": "FROM debian\n", "old.conf": "x"})
    item = {"name": "apacz", "tag": "1", "build": "apacz"}
    first = images_plan([item], str(tmp_path), REGISTRY, [])[0]["context"]
    assert images_plan([item], str(tmp_path), REGISTRY, [])[0]["context"] == first
    (directory / "old.conf").unlink()
    without = images_plan([item], str(tmp_path), REGISTRY, [])[0]["context"]
    with_args = images_plan([dict(item, args={"VERSION": "2"})], str(tmp_path), REGISTRY, [])[0]["context"]
    assert len({first, without, with_args}) == 3


def test_an_on_demand_image_is_planned_only_when_a_stack_to_deploy_runs_it(tmp_path):
    context(tmp_path, "wordpress")
    context(tmp_path, "apacz")
    images = [{"name": "apacz", "tag": "1", "build": "apacz"},
              {"name": "paddock/wordpress", "tag": "6.1", "build": "wordpress", "on_demand": True}]
    idle = [{"name": "walkthrough", "state": "present", "compose": {"services": {"web": {"image": "apacz:1"}}}}]
    launch = idle + [{"name": "blog", "state": "present",
                      "compose": {"services": {"wp": {"image": "wordpress:6.4-apache"}}}},
                     {"name": "gone", "state": "absent"}]
    image_map = {**stack_image_map(images, REGISTRY), "wordpress:6.4-apache": f"{REGISTRY}/paddock/wordpress:6.1"}
    assert [i["ref"] for i in images_plan(images, str(tmp_path), REGISTRY, stack_images(idle, image_map))] == \
        [f"{REGISTRY}/apacz:1"]
    assert [i["ref"] for i in images_plan(images, str(tmp_path), REGISTRY, stack_images(launch, image_map))] == \
        [f"{REGISTRY}/apacz:1", f"{REGISTRY}/paddock/wordpress:6.1"]


def test_every_problem_of_the_images_list_is_named(tmp_path):
    context(tmp_path, "apacz")
    images = [{"name": "apacz", "tag": "1", "build": "apacz"},
              {"name": "apacz", "tag": "1", "build": "missing", "on_demand": "yes", "arg": {}},
              {"tag": "2"}]
    assert images_errors(images, str(tmp_path)) == [
        "inventory: paddock_images[1].arg: unknown key (known: args, build, include, name, on_demand, tag)",
        f"inventory: paddock_images[1].build: no such directory: {tmp_path}/missing",
        "inventory: paddock_images[1].on_demand: must be a boolean",
        "inventory: paddock_images[1]: apacz:1 is already listed as paddock_images[0]",
        "inventory: paddock_images[2].name: must be set",
        "inventory: paddock_images[2].build: must be set",
    ]
    assert images_errors(None, str(tmp_path)) == []
    assert images_errors("apacz", str(tmp_path)) == ["inventory: paddock_images: must be a list of images "
                                                     "(name, tag, build)"]


def test_a_context_takes_what_it_includes_copied_and_its_digest_follows_them_and_its_dockerignore(tmp_path):
    from ansible_collections.paddock.platform.plugins.module_utils._images import errors, plan
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "code.py").write_text("one")
    context = tmp_path / "context"
    (context / "tests").mkdir(parents=True)
    (context / "Dockerfile").write_text("FROM scratch")
    (context / ".dockerignore").write_text("**/__pycache__\ntests\n")
    (context / "paddock-include.json").write_text('{"include": {"lib/shared": "../shared"}}')
    item = {"name": "app", "tag": "1", "build": str(context)}
    first = plan([item], str(tmp_path), REGISTRY, [])[0]
    assert first["include"] == [{"dest": "lib/shared", "src": str(shared), "dir": True}]
    (shared / "code.py").write_text("two")  # what it includes is part of its context
    second = plan([item], str(tmp_path), REGISTRY, [])[0]["context"]
    assert second != first["context"]
    (shared / "__pycache__").mkdir()
    (shared / "__pycache__" / "code.cpython-311.pyc").write_bytes(b"\0")
    (context / "tests" / "test_app.py").write_text("what the build leaves out changes no image")
    assert plan([item], str(tmp_path), REGISTRY, [])[0]["context"] == second
    assert errors([dict(item, include={"../up": str(shared), "x": "missing"})], str(tmp_path)) == [
        "inventory: paddock_images[0].include.../up: must be a relative path inside the context",
        "inventory: paddock_images[0].include.x: no such file or directory: 'missing'"]
