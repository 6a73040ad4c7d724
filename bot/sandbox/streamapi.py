"""A local StreamAPI: the seven documented calls, answering in StreamAPI's XML.

Base path: ``/service``. Point ``STREAMAPI_BASE_URL`` at ``http://127.0.0.1:PORT/service``.
Every reply is HTTP 200 with a ``<code>`` (0 = OK) and, on error, the documented
``<msg>``; only a wrong HTTP method gets a 405. POST parameters may come in the
form body or the query string (the body wins). There are no background tasks:
liveness and the list delay are computed from the injected clock.

Usage (the demo account is :data:`DEMO_API_KEY` / :data:`DEMO_SECRET`)::

    app = create_app(StreamAPISimulator.with_demo_data())
    # STREAMAPI_BASE_URL=http://127.0.0.1:PORT/service
    # STREAMAPI_KEY=DEMOKEY0123456789 STREAMAPI_SECRET=DEMOSECRET0123456789
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl
from xml.etree.ElementTree import Element, SubElement, tostring

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.providers.streamapi_xml import CODE_MESSAGES
from bot.sandbox.streamapi_state import (
    ALNUM,
    DEMO_API_KEY,
    DEMO_SECRET,
    DIGITS,
    SimError,
    SimSession,
    StreamAPISimulator,
    check_format,
)

__all__ = ["BASE_PATH", "DEMO_API_KEY", "DEMO_SECRET", "StreamAPISimulator", "create_app"]

BASE_PATH = "/service"

Handler = Callable[[StreamAPISimulator, str, Mapping[str, str]], list[Element]]


def _leaf(parent: Element, name: str, value: object) -> None:
    SubElement(parent, name).text = "" if value is None else str(value)


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else int(seconds * 1000)


def _ids(session: SimSession) -> list[Element]:
    public, private = Element("public_hostid"), Element("private_hostid")
    public.text, private.text = session.public_hostid, session.private_hostid
    return [private, public]


def _live_fields(sim: StreamAPISimulator, parent: Element, session: SimSession) -> None:
    since = session.live_since
    duration = None if since is None else int(sim.clock() - since)
    _leaf(parent, "private_hostid", session.private_hostid)
    _leaf(parent, "public_hostid", session.public_hostid)
    _leaf(parent, "username", session.username)
    _leaf(parent, "start_time", _ms(since))
    _leaf(parent, "duration", duration)
    _leaf(parent, "channel_id", session.channel_id)


def _create(sim: StreamAPISimulator, key: str, params: Mapping[str, str]) -> list[Element]:
    site_user_id = params.get("site_user_id") or None
    username = params.get("username") or None
    fme_key = params.get("fme_key") or None
    private = (params.get("is_video_private") or "false").lower()
    check_format(site_user_id, DIGITS)
    check_format(username, ALNUM)
    check_format(fme_key, ALNUM)
    if private not in ("true", "false"):
        raise SimError(1)
    session = sim.add_session(
        key,
        site_user_id=site_user_id,
        username=username,
        fme_key=fme_key,
        is_video_private=private == "true",
    )
    return _ids(session)


def _live(sim: StreamAPISimulator, key: str, params: Mapping[str, str]) -> list[Element]:
    # The documented codes for this call have no 201: another key's host is "No user found".
    session = sim.own_by_public(key, params["public_hostid"], foreign=8)
    holder = Element("response")
    _leaf(holder, "is_live", "true" if session.live_since is not None else "false")
    if session.live_since is None:
        _leaf(holder, "public_hostid", session.public_hostid)
    else:
        _live_fields(sim, holder, session)
    return list(holder)


def _live_list(sim: StreamAPISimulator, key: str, params: Mapping[str, str]) -> list[Element]:
    wrapper = Element("live_sessions")
    for session in sim.sessions.values():
        if session.owner != key or not sim.is_listed_live(session):
            continue
        item = SubElement(wrapper, "session")
        _live_fields(sim, item, session)
        for name in (
            "total_viewers",
            "total_chatters",
            "max_viewers",
            "max_chatters",
            "current_viewers",
            "current_chatters",
        ):
            _leaf(item, name, getattr(session, name))
    return [wrapper]


def _public_id(sim: StreamAPISimulator, key: str, params: Mapping[str, str]) -> list[Element]:
    return _ids(sim.own_by_private(key, params["private_hostid"]))


def _private_id(sim: StreamAPISimulator, key: str, params: Mapping[str, str]) -> list[Element]:
    return _ids(sim.own_by_public(key, params["public_hostid"], foreign=201))


def _videos(sim: StreamAPISimulator, key: str, params: Mapping[str, str]) -> list[Element]:
    host = params.get("public_hostid") or None
    start, end = params.get("start_date") or None, params.get("end_date") or None
    for value in (host, start, end):
        check_format(value, DIGITS)
    if host is not None:
        sim.own_by_public(key, host, foreign=8)
    wrapper = Element("videos")
    for video in sim.videos:
        created = int(video.created * 1000)
        if video.owner != key or (host is not None and video.public_hostid != host):
            continue
        if (start is not None and created < int(start)) or (end is not None and created > int(end)):
            continue
        item = SubElement(wrapper, "video", id=video.id)
        _leaf(item, "public_hostid", video.public_hostid)
        _leaf(item, "duration", video.duration)
        _leaf(item, "channel_id", video.channel_id)
        _leaf(item, "creation_date", created)
        _leaf(item, "filename", video.filename)
        _leaf(item, "size", video.size)
        _leaf(item, "url", video.url)
        _leaf(item, "embed_code", video.embed_code)
    return [wrapper]


def _themes(sim: StreamAPISimulator, key: str, params: Mapping[str, str]) -> list[Element]:
    wrapper = Element("themes")
    for theme in sim.themes:
        item = SubElement(wrapper, "theme", id=theme.id)
        _leaf(item, "name", theme.name)
        _leaf(item, "width", theme.width)
        _leaf(item, "height", theme.height)
        _leaf(item, "layout_path", theme.layout_path)
        _leaf(item, "skin_path", theme.skin_path)
    return [wrapper]


@dataclass(frozen=True)
class _Endpoint:
    path: str
    method: str
    required: tuple[str, ...]
    handler: Handler


ENDPOINTS = (
    _Endpoint("/session/create", "POST", (), _create),
    _Endpoint("/session/live", "GET", ("public_hostid",), _live),
    _Endpoint("/session/live/list", "GET", (), _live_list),
    _Endpoint("/host/id/public", "GET", ("private_hostid",), _public_id),
    _Endpoint("/host/id/private", "GET", ("public_hostid",), _private_id),
    _Endpoint("/video/list", "GET", (), _videos),
    _Endpoint("/theme/list", "GET", (), _themes),
)


def render(code: int, children: list[Element]) -> bytes:
    """A reply document: ``<response><code>…</code>[<msg>…</msg>]…</response>``."""
    root = Element("response")
    _leaf(root, "code", code)
    if code:
        _leaf(root, "msg", CODE_MESSAGES.get(code, "Unknown Error"))
    root.extend(children)
    document: bytes = tostring(root, encoding="UTF-8", xml_declaration=True)
    return document


async def _params(request: Request) -> dict[str, str]:
    params = dict(request.query_params)
    if request.method == "POST":
        body = (await request.body()).decode("utf-8", errors="replace")
        params.update(parse_qsl(body, keep_blank_values=True))
    return params


def _route(sim: StreamAPISimulator, endpoint: _Endpoint) -> Route:
    async def answer(request: Request) -> Response:
        params = await _params(request)
        try:
            key = sim.authenticate(params, endpoint.required)
            code, children = 0, endpoint.handler(sim, key, params)
        except SimError as error:
            code, children = error.code, []
        sim.record(request.method, endpoint.path, code, params.get("rid"))
        return Response(render(code, children), media_type="text/xml; charset=UTF-8")

    return Route(BASE_PATH + endpoint.path, answer, methods=[endpoint.method])


def create_app(sim: StreamAPISimulator) -> Starlette:
    """The simulator's ASGI app, serving the real API's paths under :data:`BASE_PATH`."""
    return Starlette(routes=[_route(sim, endpoint) for endpoint in ENDPOINTS])
