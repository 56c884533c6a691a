"""`omni segments` as a user runs it: a real process on a fresh SQLite store."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_commands import omni


def test_recompute_creates_the_predefined_segments_and_list_shows_them(tmp_path: Path) -> None:
    # when
    recomputed = omni("segments", "recompute", tmp=tmp_path)
    listed = omni("segments", "list", tmp=tmp_path)
    unknown = omni("segments", "recompute", "no_such_segment", tmp=tmp_path)
    one = omni("segments", "recompute", "vip", tmp=tmp_path)
    # then
    assert recomputed.returncode == 0, recomputed.stderr
    assert recomputed.stdout.count(": 0 members") == 16
    assert listed.returncode == 0, listed.stderr
    assert "repeat_buyers" in listed.stdout
    assert "omnichannel_shoppers" in listed.stdout
    assert unknown.returncode != 0
    assert "no segment no_such_segment" in unknown.stderr
    assert one.stdout.strip() == "vip: 0 members (0 entered, 0 exited)"
