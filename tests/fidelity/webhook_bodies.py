"""Hypothesis strategies for hostile webhook bodies (bytes), near-valid and not.

A body is one of: arbitrary bytes; arbitrary JSON (any nesting, any strings,
lone surrogates included, written with or without ``ensure_ascii``); or a
documented envelope of the provider with some fields swapped for hostile
values (too long, NUL, lone surrogates, wrong types, deep nesting, odd
timestamps and numbers); each maybe wrapped in many levels of arrays.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from tests.webhook_helpers import streampixel, streamstack

#: Any code point, lone surrogates and NUL included.
_any_char = st.characters(codec=None, exclude_categories=())
_text = st.text(_any_char, max_size=12)
_hostile_strings = st.one_of(
    _text,
    st.sampled_from(["", "\x00", "\ud800", "a\udfffb", "\ufeff", "\u2028", "é" * 3]),
    st.integers(0, 600).map(lambda n: "x" * n),
    st.integers(0, 300).map(lambda n: "é" * n),  # 2 bytes a character: length in characters
    st.sampled_from(
        [
            "2026-04-21T11:30:00.000Z",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-01:00",
            "9999-12-31T23:59:59.999999",
            "2026-02-30T00:00:00Z",
            "not a time",
            "1e400",
        ]
    ),
)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**18).map(lambda n: n**4),  # beyond 64-bit
    st.floats(),  # NaN and infinities included (json writes NaN/Infinity)
    _hostile_strings,
)
json_values: st.SearchStrategy[Any] = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_text, inner, max_size=4)),
    max_leaves=12,
)


def _nest(value: Any, depth: int) -> Any:
    """``value`` inside ``depth`` arrays (shallow; deep ones are nested as text, see _encode)."""
    for _ in range(min(depth, 40)):
        value = [value]
    return value


#: Extra levels of arrays around a value: mostly none, sometimes around the limit, or far past it.
_depths = st.one_of(
    st.just(0), st.just(0), st.integers(0, 40), st.sampled_from([31, 32, 33, 1000, 5000])
)


@st.composite
def _envelope(draw: st.DrawFn, provider: str) -> dict[str, Any]:
    event = draw(
        st.sampled_from(
            [
                "build.uploaded",
                "build.distributing",
                "build.rejected",
                "build.approved",
                "webhook.test",
                "media.uploaded",
                "media.failed",
                "media.published",
                "other",
            ]
        )
    )
    base: dict[str, Any] = streampixel(event) if provider == "streampixel" else streamstack(event)
    keys = sorted(base) + (["uuid"] if provider == "streamstack" else [])
    changed = st.lists(st.sampled_from(keys), max_size=3, unique=True)
    for key in draw(st.one_of(st.just([]), changed)):  # a third are left as documented
        value = draw(json_values)
        value = _nest(value, draw(_depths))
        data = base.get("data")
        if key == "uuid" and isinstance(data, dict) and draw(st.booleans()):
            base["data"] = {**data, "uuid": value}
        else:
            base[key] = value
    media = base.get("data") if provider == "streamstack" else None
    if isinstance(media, dict) and media and draw(st.booleans()):
        data = dict(media)
        for key in draw(st.lists(st.sampled_from(sorted(data)), max_size=3, unique=True)):
            data[key] = draw(json_values)
        base["data"] = data
    return base


def _encode(value: Any, ascii_only: bool, depth: int = 0) -> bytes:
    """JSON of ``value`` inside ``depth`` arrays (as text: json.dumps would recurse)."""
    text = "[" * depth + json.dumps(value, ensure_ascii=ascii_only) + "]" * depth
    return text.encode("utf-8", errors="surrogatepass")  # lone surrogates → not UTF-8


def bodies(provider: str) -> st.SearchStrategy[bytes]:
    """Hostile bodies for ``provider``'s webhook route (``streampixel`` or ``streamstack``)."""
    structured = st.builds(
        _encode,
        st.one_of(_envelope(provider), json_values),
        st.booleans(),
        _depths,
    )
    return st.one_of(
        structured,
        structured,  # twice as likely as raw bytes
        st.binary(max_size=64),
        structured.map(lambda b: b.replace(b'"', b'"\xff', 1)),  # one invalid byte inside
    )
