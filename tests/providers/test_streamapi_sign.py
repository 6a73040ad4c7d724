"""StreamAPI signatures match the public test vectors in providers.md §3.1."""

from __future__ import annotations

import pytest

from bot.providers.streamapi_sign import preimage, signature

KEY = "APIKEY0123456789"
SECRET = "SECRETKEY0123456789"
RID = 1700000000000

VECTORS = [
    ({}, "APIKEY0123456789SECRETKEY01234567891700000000000", "4506c3858854c53507cb6f4f53ccc940"),
    (
        {"username": "alice", "site_user_id": "42"},
        "APIKEY012345678942aliceSECRETKEY01234567891700000000000",
        "eb88590dcf162cd37b91a0b40e3bb093",
    ),
    (
        {"is_video_private": "true"},
        "trueAPIKEY0123456789SECRETKEY01234567891700000000000",
        "8cfb84cc102074cb54626dedb1a6993a",
    ),
    (
        {"public_hostid": "1000016132"},
        "APIKEY01234567891000016132SECRETKEY01234567891700000000000",
        "e63694c5c2e28966f29790c007e84ca8",
    ),
    (
        {"public_hostid": "1000016132", "start_date": "1690000000000", "end_date": "1700000000000"},
        "1700000000000APIKEY012345678910000161321690000000000SECRETKEY01234567891700000000000",
        "67b38ab3b29392b4c1670d05db4fa4c1",
    ),
]

#: The wrong reading of the rule (rid also among the sorted values) and its digest.
WRONG_SIG = "69619a73d9a05fc38e98327f2ce005e8"


@pytest.mark.parametrize(("extra", "pre", "sig"), VECTORS)
def test_public_vectors(extra: dict[str, str], pre: str, sig: str) -> None:
    """Each vector's pre-image and signature come out exactly as published."""
    params = {**extra, "key": KEY}
    assert preimage(params, SECRET, RID) == pre
    assert signature(params, SECRET, RID) == sig


def test_rid_and_sig_in_params_are_not_signed_twice() -> None:
    """A ``rid`` or ``sig`` already among the params does not change the signature."""
    params = {"key": KEY, "rid": str(RID), "sig": "whatever"}
    assert signature(params, SECRET, RID) == "4506c3858854c53507cb6f4f53ccc940"
    assert signature(params, SECRET, RID) != WRONG_SIG


def test_unknown_parameters_are_signed() -> None:
    """Any extra parameter takes part in the signature (A5)."""
    assert signature({"key": KEY, "zzz": "1"}, SECRET, RID) != signature({"key": KEY}, SECRET, RID)
