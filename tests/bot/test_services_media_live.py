"""Argument rules of the `/media` and `/live` services (pure parsing, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.errors import InvalidInput
from bot.services.live import CreateOptions, parse_create, parse_moment, parse_recordings
from bot.services.media import (
    EmbedFlags,
    Share,
    check_source_url,
    check_title,
    check_uuid,
    content_type_for,
    display_url,
    parse_embed_flags,
    parse_period,
    title_from_url,
    top_shares,
)

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


def test_period_defaults_and_is_checked() -> None:
    """The period defaults to 7d, ignores case, and rejects anything else by listing the ten."""
    assert parse_period(None) == "7d"
    assert parse_period("30D") == "30d"
    with pytest.raises(InvalidInput, match="use one of 15m, 1h, 6h"):
        parse_period("2d")


def test_uuid_check() -> None:
    """Plausible uuids pass; text with spaces or slashes does not."""
    assert check_uuid("5f0e1c2a-1b2c-4d5e-8f90-0123456789ab")
    for bad in ("../etc", "a b", "", "x" * 65):
        with pytest.raises(InvalidInput):
            check_uuid(bad)


def test_embed_flags() -> None:
    """Flags may be given in any order, with or without dashes; unknown ones are named."""
    assert parse_embed_flags(["--mute", "AUTOPLAY"]) == EmbedFlags(autoplay=True, mute=True)
    assert parse_embed_flags([]) == EmbedFlags()
    with pytest.raises(InvalidInput, match="unknown option `big`"):
        parse_embed_flags(["big"])


def test_urls_are_checked_and_shown_without_secrets() -> None:
    """Slack's <url|label> wrapping is removed; credentials, query and fragment are never shown."""
    assert check_source_url("<https://e.com/a.mp4|e.com/a.mp4>") == "https://e.com/a.mp4"
    with pytest.raises(InvalidInput, match="http:// or https://"):
        check_source_url("ftp://e.com/a.mp4")
    shown = display_url("https://user:pw@e.com:8443/v/a.mp4?sig=s3cret#t=5")
    assert shown == "https://e.com:8443/v/a.mp4"
    assert title_from_url("https://e.com/v/Summer%20Trailer.mov?x=1") == "Summer Trailer"
    assert title_from_url("https://e.com/") == "e.com"


def test_titles() -> None:
    """Title words are joined; no words gives the default; over 255 characters is refused."""
    assert check_title(["Launch", "day"], "default") == "Launch day"
    assert check_title([], "default") == "default"
    with pytest.raises(InvalidInput, match="limit is 255"):
        check_title(["x" * 256], "d")


def test_content_types() -> None:
    """Video files get their MIME type; other files and paths are refused."""
    assert content_type_for("a.mp4") == "video/mp4"
    assert content_type_for("b.MOV") == "video/quicktime"
    assert content_type_for("c.mkv") == "video/x-matroska"
    for bad in ("notes.txt", "dir/a.mp4", "noext"):
        with pytest.raises(InvalidInput):
            content_type_for(bad)


def test_top_shares() -> None:
    """The largest entries come first (ties by label), the rest fold into "N other"."""
    shares = top_shares({"b": 10, "a": 10, "c": 5, "d": 3, "e": 2, "zero": 0}, limit=3)
    assert shares == [
        Share("a", 10, 10 / 30),
        Share("b", 10, 10 / 30),
        Share("c", 5, 5 / 30),
        Share("2 other", 5, 5 / 30),
    ]
    assert top_shares({}) == []
    assert top_shares({"x": 0}) == []


def test_create_options() -> None:
    """`[username] [--private]` in any order; bad names and extra words are refused."""
    assert parse_create([]) == CreateOptions()
    assert parse_create(["--private", "alice"]) == CreateOptions("alice", True)
    with pytest.raises(InvalidInput, match="not a valid username"):
        parse_create(["al ice"])
    with pytest.raises(InvalidInput, match="at most one username"):
        parse_create(["alice", "bob"])
    with pytest.raises(InvalidInput, match="only option is --private"):
        parse_create(["--public"])


def test_moments() -> None:
    """Relative times count back from now; a date is its start, or its end as an `until`."""
    assert parse_moment("7d", now=NOW, end_of_day=False) == datetime(2026, 11, 3, 12, tzinfo=UTC)
    assert parse_moment("2026-11-01", now=NOW, end_of_day=False) == datetime(
        2026, 11, 1, tzinfo=UTC
    )
    end = parse_moment("2026-11-01", now=NOW, end_of_day=True)
    assert end == datetime(2026, 11, 1, 23, 59, 59, 999000, tzinfo=UTC)
    with pytest.raises(InvalidInput, match="not a date"):
        parse_moment("soon", now=NOW, end_of_day=False)


def test_recording_filters() -> None:
    """A leading all-digit word is the host; then since and until, in order."""
    every = parse_recordings([], now=NOW)
    assert (every.public_hostid, every.since, every.until) == (None, None, None)
    wanted = parse_recordings(["1000016132", "2026-11-01", "2026-11-02"], now=NOW)
    assert wanted.public_hostid == "1000016132"
    assert wanted.since == datetime(2026, 11, 1, tzinfo=UTC)
    assert wanted.until is not None and wanted.until.day == 2
    assert parse_recordings(["7d"], now=NOW).public_hostid is None
    with pytest.raises(InvalidInput, match="before `until`"):
        parse_recordings(["2026-11-05", "2026-11-01"], now=NOW)
