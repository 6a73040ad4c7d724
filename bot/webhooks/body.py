"""The JSON a webhook body may hold, checked before its fields are read.

A body is refused (:class:`bot.errors.InvalidInput`, answered 400 with the
message) when it is not UTF-8, not JSON (``NaN`` and ``Infinity`` included),
nested deeper than :data:`MAX_DEPTH` levels, or holds a string (key or value)
with a NUL character (PostgreSQL ``text`` cannot store one) or a lone UTF-16
surrogate such as ``"\\ud800"`` (no UTF-8 form: neither database can store it).
The checks cover the whole document, not only the fields that are read, so
a body is judged the same whatever the receiver happens to use of it.
"""

from __future__ import annotations

import json
from typing import Any

from bot import storable
from bot.errors import InvalidInput

#: Levels of arrays and objects a body may nest (the envelopes use two).
MAX_DEPTH = 32

NOT_UTF8 = "body is not UTF-8"
NOT_JSON = "body is not valid JSON"
TOO_DEEP = f"body is nested deeper than {MAX_DEPTH} levels"
HAS_NUL = f"body {storable.HAS_NUL}"
HAS_SURROGATE = f"body {storable.HAS_SURROGATE}"


def _no_constant(name: str) -> Any:
    """``NaN``, ``Infinity`` and ``-Infinity`` are not JSON (Python's parser allows them)."""
    raise InvalidInput(NOT_JSON)


def read_json(body: bytes) -> Any:
    """The JSON value of ``body``, checked as the module docstring says.

    Raises:
        InvalidInput: with one of the reasons above.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(NOT_UTF8) from None
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except RecursionError:  # thousands of levels: the parser gives up before we could count
        raise InvalidInput(TOO_DEEP) from None
    except ValueError:  # JSONDecodeError, and integers longer than Python converts
        raise InvalidInput(NOT_JSON) from None
    _check(value)
    return value


def _check(value: Any) -> None:
    """Depth, NUL and lone surrogates over the whole document (iteratively: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                raise InvalidInput(TOO_DEEP)
            children = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in children:
                if isinstance(key, str):
                    _check_text(key)
                stack.append((child, depth + 1))


def _check_text(text: str) -> None:
    try:
        storable.storable(text)
    except ValueError as exc:
        raise InvalidInput(f"body {exc}") from None
