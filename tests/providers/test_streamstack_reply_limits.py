"""StreamStack media objects are read by a pydantic model: the stored uuid and title must fit.

Reconciliation stores a listed video's uuid as a webhook delivery's subject (and in the
subject key); a scheduled delete stores its title. A uuid longer than that column, or a
uuid or title holding a NUL or a lone surrogate, makes the object unusable: skipped in a
list, ProviderUnavailable naming the field on its own. The rest is read as leniently as before.
"""

from __future__ import annotations

import httpx
import pytest

from bot.errors import ProviderUnavailable
from storage import lengths
from tests.providers.test_streamstack_errors import Recorder, make, media


def raw(text: str) -> httpx.Response:
    return httpx.Response(200, content=text.encode(), headers={"content-type": "application/json"})


async def test_a_list_skips_objects_whose_uuid_or_title_no_column_can_hold() -> None:
    rows = [
        media("ok-1"),
        media("v" * (lengths.VIDEO_ID + 1)),
        media("nul\x00"),
        media("ok-2", title="a\x00b"),
        media("é" * lengths.VIDEO_ID),
        {"id": 12345, "title": 7},
    ]
    client = make(Recorder(httpx.Response(200, json={"data": rows})))
    listed = await client.list_all()
    assert [(m.uuid, m.title) for m in listed] == [
        ("ok-1", "T"),
        ("é" * lengths.VIDEO_ID, "T"),
        ("12345", "7"),
    ]


@pytest.mark.parametrize(
    "reply",
    [
        raw('{"uuid": "\\ud800", "title": "x"}'),
        raw('{"uuid": "u1", "title": "\\udfff"}'),
        httpx.Response(200, json=media("v" * (lengths.VIDEO_ID + 1))),
        httpx.Response(200, json={"title": "no uuid"}),
    ],
    ids=["lone surrogate in uuid", "lone surrogate in title", "uuid too long", "no uuid"],
)
async def test_one_unusable_object_is_an_unexpected_reply(reply: httpx.Response) -> None:
    client = make(Recorder(reply))
    with pytest.raises(ProviderUnavailable, match=r"media object has (no uuid|an unusable \w+)"):
        await client.get_media("u1")
