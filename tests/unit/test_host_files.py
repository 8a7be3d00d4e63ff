"""Writing a role's files in one round trip (plugins/modules/host_files.py), run as Ansible runs it."""

import json
import os
import subprocess
import sys

from ansible_collections.paddock.platform.plugins.modules.host_files import converge

MODULE = os.path.join(os.path.dirname(__file__), "..", "..", "plugins", "modules", "host_files.py")
ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def run_module(args, check=False, diff=False):
    """The module as a process, its arguments on stdin as Ansible's old-style JSON."""
    payload = {"ANSIBLE_MODULE_ARGS": dict(args, _ansible_check_mode=check, _ansible_diff=diff)}
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.join(ROOT, ".collections"), *sys.path]))
    run = subprocess.run([sys.executable, MODULE], input=json.dumps(payload), capture_output=True, text=True,
                         env=env, check=False)
    return json.loads(run.stdout)


def mode(path):
    return f"{os.stat(path).st_mode & 0o7777:04o}"


def test_missing_files_and_directories_are_written_then_nothing_changes(tmp_path):
    conf = tmp_path / "etc" / "conf"
    params = {"directories": {str(conf): "0750"},
              "files": {str(conf / "a.json"): {"content": "{}\n", "mode": "0640"},
                        str(conf / "key.pem"): {"content": "KEY\n", "mode": "0600", "secret": True}}}
    written, _ = converge(params, check_mode=False)
    assert written == [str(conf), str(conf / "a.json"), str(conf / "key.pem")]
    assert (conf / "a.json").read_text() == "{}\n" and mode(conf / "a.json") == "0640"
    assert (conf / "key.pem").read_text() == "KEY\n" and mode(conf / "key.pem") == "0600"
    assert mode(conf) == "0750"
    assert converge(params, check_mode=False) == ([], [])
    assert sorted(os.listdir(conf)) == ["a.json", "key.pem"]  # no temporary file left behind


def test_a_changed_mode_alone_keeps_the_file_and_sets_the_mode(tmp_path):
    path = tmp_path / "f"
    path.write_text("x\n")
    os.chmod(path, 0o600)
    inode = os.stat(path).st_ino
    written, diffs = converge({"directories": {}, "files": {str(path): {"content": "x\n", "mode": "0644"}}}, False)
    assert written == [str(path)] and mode(path) == "0644" and os.stat(path).st_ino == inode
    assert diffs[0]["before"] == diffs[0]["after"] == "x\n"


def test_changed_content_replaces_the_file_atomically(tmp_path):
    path = tmp_path / "f"
    path.write_text("old\n")
    inode = os.stat(path).st_ino
    written, diffs = converge({"directories": {}, "files": {str(path): {"content": "new\n", "mode": "0644"}}}, False)
    assert written == [str(path)] and path.read_text() == "new\n"
    assert os.stat(path).st_ino != inode  # renamed into place, never truncated in place
    assert (diffs[0]["before"], diffs[0]["after"]) == ("old\n", "new\n")


def test_check_mode_reports_the_diff_and_writes_nothing(tmp_path):
    path = tmp_path / "d" / "f"
    result = run_module({"directories": {str(path.parent): "0755"},
                         "files": {str(path): {"content": "x\n", "mode": "0644"}}}, check=True, diff=True)
    assert result["changed"] is True and result["written"] == [str(path.parent), str(path)]
    assert result["diff"][1]["after"] == "x\n"
    assert not path.parent.exists()


def test_a_secret_never_comes_back_in_the_result_or_its_diff(tmp_path):
    path = tmp_path / "key.pem"
    path.write_text("OLD-SECRET-KEY\n")
    result = run_module({"files": {str(path): {"content": "NEW-SECRET-KEY\n", "mode": "0600", "secret": True},
                                   str(tmp_path / "plain"): {"content": "shown\n", "mode": "0644"}}}, diff=True)
    assert result["changed"] is True and path.read_text() == "NEW-SECRET-KEY\n"
    text = json.dumps(result)
    assert "NEW-SECRET-KEY" not in text and "OLD-SECRET-KEY" not in text
    assert result["diff"][0]["after"] == "(secret content, not shown)\n"
    assert result["diff"][1]["after"] == "shown\n"


def test_a_relative_path_or_an_entry_without_a_mode_is_refused_and_nothing_is_written(tmp_path):
    result = run_module({"files": {"etc/x": {"content": "x", "mode": "0644"},
                                   str(tmp_path / "y"): {"content": "y"}}})
    assert result["failed"] is True
    assert result["msg"] == f"etc/x: not an absolute path; {tmp_path / 'y'}: needs content and mode"
    assert os.listdir(tmp_path) == []


def test_an_unknown_owner_fails_with_the_reason(tmp_path):
    result = run_module({"files": {str(tmp_path / "f"): {"content": "x", "mode": "0644", "owner": "no-such-user"}}})
    assert result["failed"] is True and "no-such-user" in result["msg"]
