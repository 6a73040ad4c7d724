"""Text a database column can store: no NUL (PostgreSQL refuses it), no lone surrogate."""

from __future__ import annotations

HAS_NUL = "contains a NUL character"
HAS_SURROGATE = "contains a lone UTF-16 surrogate"


def storable(text: str) -> str:
    """``text`` unchanged when a column can store it.

    Raises:
        ValueError: it holds a NUL character or a lone surrogate (what a JSON
            ``"\\ud800"`` decodes to); the message says which.
    """
    if "\x00" in text:
        raise ValueError(HAS_NUL)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # only an unpaired surrogate has no UTF-8 form
        raise ValueError(HAS_SURROGATE) from None
    return text
