"""The outbox removes the temporary files of writers killed mid-write, once they are old
enough that no live writer can own them; results and fresh temporary files stay."""

from __future__ import annotations

import os
import time

from triage.delivery.outbox import STALE_SECONDS, Outbox


def test_an_old_temporary_file_is_swept_and_a_fresh_one_and_the_results_stay(tmp_path):
    now = time.time()
    old = tmp_path / ".t-1.json.4242-7.tmp"
    fresh = tmp_path / ".t-2.json.4243-1.tmp"
    result = tmp_path / "t-3.json"
    note = tmp_path / ".keep.tmp"  # not one of ours: never touched
    for path in (old, fresh, result, note):
        path.write_text("{}")
    os.utime(old, (now - STALE_SECONDS - 1, now - STALE_SECONDS - 1))
    os.utime(note, (now - STALE_SECONDS - 1, now - STALE_SECONDS - 1))
    Outbox(tmp_path, now=now)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".keep.tmp", fresh.name, result.name]


def test_a_killed_writers_leftover_is_gone_at_the_next_start(tmp_path):
    outbox = Outbox(tmp_path)
    leftover = tmp_path / ".t-9.json.999-1.tmp"
    leftover.write_text('{"id": "t-9"')  # half written
    assert outbox.sweep(time.time()) == 0  # young: its writer might still be at work
    assert outbox.sweep(time.time() + STALE_SECONDS + 1) == 1
    assert not leftover.exists()
