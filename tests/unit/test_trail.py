"""The audit trail (plugins/module_utils/_trail.py): records chained by their hashes, kept across
rotation and restarts, and every edit or removal found by the reader."""

import json
import os
import stat

import pytest

from ansible_collections.paddock.platform.plugins.module_utils._trail import Trail, matches, read


def record(number, user="carol", path="/containers/create"):
    return {"time": f"2026-11-30T08:00:{number:02d}.000000Z", "user": user, "path": path, "decision": "allow"}


def written(tmp_path, count, user="carol", **options):
    trail = Trail(str(tmp_path / "paddock" / "api-audit.log"), **options)
    for number in range(count):
        trail.append(record(number, user=user))
    return trail


def lines(path):
    with open(path) as handle:
        return handle.read().splitlines()


def test_records_are_chained_and_read_back_whole(tmp_path):
    trail = written(tmp_path, 5)
    found = read(trail.path, 8)
    assert (found["count"], found["problems"]) == (5, [])
    assert [r["seq"] for r in found["records"]] == [1, 2, 3, 4, 5]
    assert all(r["prev"] == p["hash"] for p, r in zip(found["records"], found["records"][1:], strict=False))
    assert stat.S_IMODE(os.stat(trail.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(trail.path)).st_mode) == 0o700


def test_an_edited_line_is_reported_as_edited(tmp_path):
    trail = written(tmp_path, 3)
    text = lines(trail.path)
    text[1] = text[1].replace('"carol"', '"alice"')
    with open(trail.path, "w") as handle:
        handle.write("\n".join(text) + "\n")
    assert read(trail.path, 8)["problems"] == [f"{trail.path}:2: record 2 does not match its hash (edited)"]


def test_a_removed_line_is_reported_as_missing(tmp_path):
    trail = written(tmp_path, 4)
    text = lines(trail.path)
    del text[1]
    with open(trail.path, "w") as handle:
        handle.write("\n".join(text) + "\n")
    assert read(trail.path, 8)["problems"] == [
        f"{trail.path}:2: record 3 follows record 1 (records missing or reordered)"]


def test_a_line_replaced_by_a_valid_record_of_another_chain_is_reported(tmp_path):
    trail, other = written(tmp_path / "a", 3), written(tmp_path / "b", 3, user="mallory")
    text = lines(trail.path)
    text[1] = lines(other.path)[1]
    with open(trail.path, "w") as handle:
        handle.write("\n".join(text) + "\n")
    assert read(trail.path, 8)["problems"] == [
        f"{trail.path}:2: record 2 does not follow the record before it (one removed or replaced)",
        f"{trail.path}:3: record 3 does not follow the record before it (one removed or replaced)"]


def test_a_line_that_is_not_a_record_is_reported(tmp_path):
    trail = written(tmp_path, 2)
    with open(trail.path, "a") as handle:
        handle.write("rm -rf / was never here\n")
    assert read(trail.path, 8)["problems"] == [f"{trail.path}:3: not a record of the trail (edited, or cut short)"]


def test_the_chain_goes_on_across_a_restart_and_a_line_cut_short_is_ended_and_reported(tmp_path):
    trail = written(tmp_path, 2)
    again = Trail(trail.path)
    again.append(record(9))
    assert [r["seq"] for r in read(trail.path, 8)["records"]] == [1, 2, 3]
    assert read(trail.path, 8)["problems"] == []
    with open(trail.path, "a") as handle:
        handle.write('{"seq": 4, "ha')  # the host lost power in the middle of a write
    Trail(trail.path).append(record(10))
    found = read(trail.path, 8)
    assert found["problems"] == [f"{trail.path}:4: not a record of the trail (edited, or cut short)",
                                 f"{trail.path}:5: record 4 follows a line that could not be read"]
    assert found["records"][-1]["time"] == record(10)["time"]


def test_rotation_keeps_the_newest_files_and_the_chain_across_them(tmp_path):
    trail = written(tmp_path, 40, max_bytes=2000, keep=3)
    names = sorted(os.listdir(os.path.dirname(trail.path)))
    assert names == ["api-audit.log", "api-audit.log.1", "api-audit.log.2", "api-audit.log.3"]
    assert all(os.path.getsize(os.path.join(os.path.dirname(trail.path), n)) <= 2000 for n in names)
    found = read(trail.path, 3)
    assert found["problems"] == []  # the oldest kept record follows one rotated away: not a gap
    seqs = [r["seq"] for r in found["records"]]
    assert seqs == list(range(seqs[0], 41)) and seqs[0] > 1


def test_a_trail_that_cannot_be_written_raises_so_the_caller_refuses(tmp_path):
    (tmp_path / "paddock").write_text("a file where the directory should be")
    with pytest.raises(OSError):
        Trail(str(tmp_path / "paddock" / "api-audit.log")).append(record(1))


def test_records_are_found_by_user_time_and_path(tmp_path):
    trail = Trail(str(tmp_path / "t.log"))
    trail.append(record(1, user="carol"))
    trail.append(dict(record(2, user="paddock-console-member"), on_behalf_of="dave"))
    trail.append(record(3, user="bob", path="/services/web/update"))
    assert [r["seq"] for r in read(trail.path, 8, user="dave")["records"]] == [2]
    assert [r["seq"] for r in read(trail.path, 8, since="2026-11-30T08:00:02")["records"]] == [2, 3]
    assert [r["seq"] for r in read(trail.path, 8, until="2026-11-30T08:00:02")["records"]] == [1]
    assert [r["seq"] for r in read(trail.path, 8, pattern=r"^/services/")["records"]] == [3]
    assert read(trail.path, 8, limit=1)["records"][0]["seq"] == 3 and read(trail.path, 8, limit=1)["matched"] == 3
    assert matches({"target": "web"}, pattern="web")


def test_a_record_is_one_line_of_sorted_json_whatever_it_holds(tmp_path):
    trail = Trail(str(tmp_path / "t.log"))
    trail.append({"time": "t", "user": "eve\n{\"seq\": 99}", "path": "/x\u2028y"})
    text = lines(trail.path)
    assert len(text) == 1 and text[0].isascii() and json.loads(text[0])["user"] == "eve\n{\"seq\": 99}"
    assert list(json.loads(text[0])) == sorted(json.loads(text[0]))
