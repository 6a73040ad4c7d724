"""The StreamAPI simulator's wire behaviour: signatures, check order, rid marks, methods."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from defusedxml.ElementTree import fromstring

from bot.providers.streamapi_sign import signature
from bot.sandbox.streamapi import StreamAPISimulator
from bot.sandbox.streamapi_state import DEMO_API_KEY, DEMO_SECRET
from tests.providers.streamapi_fixtures import MOCK_KEY, MOCK_SECRET, FakeClock, served

RID = "1700000000000"
GOOD_SIG = "4506c3858854c53507cb6f4f53ccc940"
RID_ALSO_SIGNED = "69619a73d9a05fc38e98327f2ce005e8"


@pytest.fixture
def sim() -> StreamAPISimulator:
    """Demo data plus the account of the public test vectors."""
    simulator = StreamAPISimulator.with_demo_data(clock=FakeClock())
    simulator.add_account(MOCK_KEY, MOCK_SECRET)
    return simulator


@pytest.fixture
async def http(sim: StreamAPISimulator) -> AsyncIterator[httpx.AsyncClient]:
    """A plain HTTP client on the served simulator."""
    async with served(sim) as url, httpx.AsyncClient(base_url=url) as client:
        yield client


def reply(response: httpx.Response) -> tuple[int, str | None]:
    """The reply's code and message."""
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    root = fromstring(response.content)
    return int(root.findtext("code")), root.findtext("msg")


def signed(params: dict[str, str], rid: str, key: str = DEMO_API_KEY) -> dict[str, str]:
    """``params`` plus key, rid and a correct signature for the demo account."""
    secret = MOCK_SECRET if key == MOCK_KEY else DEMO_SECRET
    full = {**params, "key": key}
    return {**full, "rid": rid, "sig": signature(full, secret, rid)}


async def test_public_vector_signature_is_accepted(http: httpx.AsyncClient) -> None:
    """The published no-parameter vector is accepted by the simulator."""
    params = {"key": MOCK_KEY, "rid": RID, "sig": GOOD_SIG}
    assert reply(await http.get("/theme/list", params=params)) == (0, None)


async def test_rid_also_signed_variant_is_refused(
    http: httpx.AsyncClient, sim: StreamAPISimulator
) -> None:
    """The wrong reading of the rule (rid among the sorted values) gets 202, mark untouched."""
    params = {"key": MOCK_KEY, "rid": RID, "sig": RID_ALSO_SIGNED}
    assert reply(await http.get("/theme/list", params=params)) == (
        202,
        "Invalid sig (or signature) value",
    )
    assert sim.rid_mark(MOCK_KEY) is None


async def test_signature_hex_is_case_insensitive(http: httpx.AsyncClient) -> None:
    """An uppercase hex digest is accepted (A5)."""
    params = {"key": MOCK_KEY, "rid": RID, "sig": GOOD_SIG.upper()}
    assert reply(await http.get("/theme/list", params=params))[0] == 0


async def test_repeated_or_smaller_rid_is_refused(
    http: httpx.AsyncClient, sim: StreamAPISimulator
) -> None:
    """The same rid twice, or a smaller one, is code 203; a larger one passes."""
    assert reply(await http.get("/theme/list", params=signed({}, "500")))[0] == 0
    assert reply(await http.get("/theme/list", params=signed({}, "500"))) == (
        203,
        "Invalid request ID value",
    )
    assert reply(await http.get("/theme/list", params=signed({}, "499")))[0] == 203
    assert reply(await http.get("/theme/list", params=signed({}, "x1")))[0] == 203
    assert sim.rid_mark(DEMO_API_KEY) == 500
    assert reply(await http.get("/theme/list", params=signed({}, "501")))[0] == 0


async def test_rid_magnitude_is_not_checked(http: httpx.AsyncClient) -> None:
    """Microsecond rids are as good as millisecond ones: only "greater" matters (A4)."""
    assert reply(await http.get("/theme/list", params=signed({}, "1")))[0] == 0
    big = "1700000000000000"
    assert reply(await http.get("/theme/list", params=signed({}, big)))[0] == 0


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"rid": "10", "sig": "00"}, 1),  # no key
        ({"key": DEMO_API_KEY, "rid": "10"}, 1),  # no sig
        ({"key": DEMO_API_KEY, "sig": "00"}, 1),  # no rid
        ({"key": "NOSUCHKEY", "rid": "10", "sig": "00"}, 200),  # unknown key before sig
        ({"key": DEMO_API_KEY, "rid": "10", "sig": "00"}, 202),
    ],
)
async def test_check_order(http: httpx.AsyncClient, params: dict[str, str], code: int) -> None:
    """Missing parameters → 1, then unknown key → 200, then bad sig → 202 (A3)."""
    assert reply(await http.get("/theme/list", params=params))[0] == code


async def test_missing_required_parameter_comes_first(
    http: httpx.AsyncClient, sim: StreamAPISimulator
) -> None:
    """A call without its required parameter is code 1 even with a bad signature."""
    params = {"key": DEMO_API_KEY, "rid": "10", "sig": "00"}
    assert reply(await http.get("/session/live", params=params)) == (
        1,
        "Missing required parameter(s)",
    )
    assert sim.rid_mark(DEMO_API_KEY) is None


async def test_bad_signature_does_not_advance_the_mark(
    http: httpx.AsyncClient, sim: StreamAPISimulator
) -> None:
    """Only a request whose key and sig check out moves the rid mark (A4)."""
    bad = {"key": DEMO_API_KEY, "rid": "900", "sig": "00"}
    assert reply(await http.get("/theme/list", params=bad))[0] == 202
    assert reply(await http.get("/theme/list", params=signed({}, "800")))[0] == 0


async def test_unknown_parameters_are_signed(http: httpx.AsyncClient) -> None:
    """An extra parameter added after signing breaks the signature (A5)."""
    params = {**signed({}, "10"), "extra": "1"}
    assert reply(await http.get("/theme/list", params=params))[0] == 202


async def test_create_accepts_query_string_with_body_winning(
    http: httpx.AsyncClient, sim: StreamAPISimulator
) -> None:
    """POST parameters may come in the query string; the form body overrides it (A6)."""
    body = signed({"username": "frank"}, "20")
    response = await http.post(
        "/session/create", params={"username": "ignored", "rid": "1"}, data=body
    )
    assert reply(response)[0] == 0
    assert any(s.username == "frank" for s in sim.sessions.values())
    query_only = signed({"username": "gina"}, "21")
    assert reply(await http.post("/session/create", params=query_only))[0] == 0
    assert any(s.username == "gina" for s in sim.sessions.values())


async def test_create_reply_elements(http: httpx.AsyncClient) -> None:
    """A create reply carries private_hostid and public_hostid directly under the root."""
    response = await http.post("/session/create", data=signed({"site_user_id": "77"}, "30"))
    root = fromstring(response.content)
    assert root.tag == "response"
    assert root.findtext("code") == "0"
    assert root.findtext("public_hostid") == "77"
    assert root.findtext("private_hostid")


async def test_wrong_method_is_405(http: httpx.AsyncClient) -> None:
    """Only the documented method is served on each path (A2)."""
    assert (await http.get("/session/create", params=signed({}, "40"))).status_code == 405
    assert (await http.post("/theme/list", data=signed({}, "41"))).status_code == 405


async def test_injected_failure_is_answered_once(
    http: httpx.AsyncClient, sim: StreamAPISimulator
) -> None:
    """fail_next answers the next authenticated request with the code, then normal service."""
    sim.fail_next(100)
    assert reply(await http.get("/theme/list", params=signed({}, "50"))) == (100, "Unknown Error")
    assert reply(await http.get("/theme/list", params=signed({}, "51")))[0] == 0
    assert [(c.path, c.code, c.rid) for c in sim.calls] == [
        ("/theme/list", 100, "50"),
        ("/theme/list", 0, "51"),
    ]


async def test_empty_lists_are_code_zero(http: httpx.AsyncClient, sim: StreamAPISimulator) -> None:
    """Empty lists are an empty wrapper element with code 0 (A10)."""
    sim.themes.clear()
    response = await http.get("/theme/list", params=signed({}, "60"))
    root = fromstring(response.content)
    assert root.findtext("code") == "0"
    themes = root.find("themes")
    assert themes is not None and len(themes) == 0


def test_repr_hides_credentials() -> None:
    """The simulator's repr shows counts, not keys or secrets."""
    sim = StreamAPISimulator.with_demo_data()
    assert DEMO_API_KEY not in repr(sim)
    assert DEMO_SECRET not in repr(sim)
    assert "f1b8221d2b69" not in repr(sim.sessions["1000016132"])
