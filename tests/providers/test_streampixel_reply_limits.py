"""Streampixel replies are read by pydantic models limited to the columns their values land in.

An id no column can hold (too long, NUL, lone surrogate) makes the reply "unexpected"
(ProviderUnavailable) instead of failing later in the database; a long project name
is cut to its column; a file entry with an unusable id is skipped, as one without an
id always was.
"""

from __future__ import annotations

import json

import httpx
import pytest

from bot.errors import ProviderUnavailable
from storage import lengths
from tests.providers.test_streampixel_retries import PROJECT, UPLOAD, make, ok


def raw(text: str) -> httpx.Response:
    """A 200 whose JSON is written by hand (for ``\\ud800`` escapes)."""
    return httpx.Response(200, content=text.encode(), headers={"content-type": "application/json"})


def project(**fields: object) -> dict[str, object]:
    return {"_id": PROJECT, "name": "Showroom", "status": True, **fields}


@pytest.mark.parametrize(
    "reply",
    [
        ok({"projects": [project(_id="p" * (lengths.PROJECT_ID + 1))]}),
        ok({"projects": [project(_id="p\x00")]}),
        raw('{"projects": [{"_id": "\\ud800", "name": "x", "status": true}]}'),
        ok({"projects": [project(name="a\x00b")]}),
        ok({"projects": [project(_id="")]}),
    ],
    ids=["id too long", "NUL in id", "lone surrogate in id", "NUL in name", "empty id"],
)
async def test_a_project_no_column_can_hold_is_an_unexpected_reply(reply: httpx.Response) -> None:
    client, _, _ = make(reply)
    with pytest.raises(ProviderUnavailable, match="unexpected reply"):
        await client.list_projects()


async def test_ids_at_their_column_limit_are_read_and_long_names_are_cut() -> None:
    longest = "p" * lengths.PROJECT_ID
    body = {"projects": [project(_id=longest, name="n" * 500), project(_id=12345)]}
    client, _, _ = make(ok(body))
    first, second = await client.list_projects()
    assert (first.id, first.name) == (longest, "n" * lengths.PROJECT_NAME)
    assert second.id == "12345"  # a number sent as an id is read as its digits, as before


@pytest.mark.parametrize(
    ("body", "upload_id"),
    [
        ({"uploadId": "u" * (lengths.UPLOAD_ID + 1), "message": "ok"}, None),
        ({"uploadId": "u\x00", "message": "ok"}, None),
        ({"message": "ok"}, None),
        ({"uploadId": "u" * lengths.UPLOAD_ID, "message": "ok"}, "u" * lengths.UPLOAD_ID),
    ],
)
async def test_an_upload_id_must_fit_its_column(
    body: dict[str, str], upload_id: str | None
) -> None:
    client, _, _ = make(ok(body))
    if upload_id is None:
        with pytest.raises(ProviderUnavailable, match="unexpected reply"):
            await client.upload(PROJECT, "https://b.example.com/x.zip")
    else:
        assert (await client.upload(PROJECT, "https://b.example.com/x.zip")).upload_id == upload_id


async def test_distribute_falls_back_to_the_requested_id_but_refuses_an_unstorable_one() -> None:
    client, _, _ = make(ok({"message": "triggered", "uploadId": ""}))
    assert (await client.distribute(PROJECT, UPLOAD)).upload_id == UPLOAD
    client, _, _ = make(ok({"message": "triggered", "uploadId": "u" * 65}))
    with pytest.raises(ProviderUnavailable, match="unexpected reply"):
        await client.distribute(PROJECT, UPLOAD)


async def test_files_with_ids_or_statuses_no_column_holds_are_skipped() -> None:
    files = [
        {"_id": UPLOAD, "status": "Approved", "url": "https://b.example.com/1.zip"},
        {"_id": "u" * 65, "status": "Approved"},
        {"_id": "bad\x00", "status": "Approved"},
        {"_id": "665a2b3c4d5e6f7a8b9c0e99", "status": "s" * 65},
        {"_id": "665a2b3c4d5e6f7a8b9c0e98", "status": None, "date": "9999-12-31T23:59:59-01:00"},
    ]
    client, _, _ = make(httpx.Response(200, content=json.dumps({"files": files}).encode()))
    found = await client.project_files(PROJECT)
    assert [(f.upload_id, f.status, f.date) for f in found] == [
        (UPLOAD, "Approved", None),
        ("665a2b3c4d5e6f7a8b9c0e98", "", None),
    ]
