"""The state of the StreamAPI simulator: accounts, rid marks, sessions, recordings, themes.

Everything the HTTP layer (:mod:`bot.sandbox.streamapi`) answers comes from here,
and tests and the demo drive it through the public methods: mark a session
live or ended, add recordings, inject a failure, move a key's rid mark.
"""

from __future__ import annotations

import hmac
import random
import re
import string
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bot.providers.streamapi_sign import signature

Clock = Callable[[], float]

#: Credentials the demo data is created with (not secret: they only open the simulator).
DEMO_API_KEY = "DEMOKEY0123456789"
DEMO_SECRET = "DEMOSECRET0123456789"  # noqa: S105 (simulator-only demo credential)
#: A second account, owning a session the demo key may not touch (code 201).
PARTNER_API_KEY = "PARTNERKEY0123456789"
PARTNER_SECRET = "PARTNERSECRET0123456789"  # noqa: S105 (simulator-only demo credential)

FIRST_PUBLIC_HOSTID = 1_000_000_000
DIGITS = re.compile(r"[0-9]+")
ALNUM = re.compile(r"[a-zA-Z0-9]+")
PRIVATE = re.compile(r"[A-Z0-9]+")


class SimError(Exception):
    """A request the simulator refuses with a StreamAPI status code."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class SimSession:
    """One host: created by ``owner``, live once :meth:`StreamAPISimulator.go_live` says so."""

    owner: str = field(repr=False)
    public_hostid: str
    private_hostid: str
    channel_id: str
    username: str | None = None
    fme_key: str | None = field(default=None, repr=False)
    is_video_private: bool = False
    live_since: float | None = None
    current_viewers: int = 0
    current_chatters: int = 0
    total_viewers: int = 0
    total_chatters: int = 0
    max_viewers: int = 0
    max_chatters: int = 0


@dataclass
class SimVideo:
    """One recording; ``created`` is in epoch seconds, ``duration`` in seconds."""

    id: str
    owner: str = field(repr=False)
    public_hostid: str
    channel_id: str
    created: float
    duration: int
    filename: str
    size: int
    url: str
    embed_code: str


@dataclass(frozen=True)
class SimTheme:
    """A layout theme (shared by every account)."""

    id: str
    name: str
    width: int
    height: int
    layout_path: str
    skin_path: str


@dataclass(frozen=True)
class Call:
    """One request the simulator answered, for tests to inspect."""

    method: str
    path: str
    code: int
    rid: str | None


class StreamAPISimulator:
    """A stateful StreamAPI.

    Args:
        accounts: API key → secret key.
        clock: seconds since the epoch (injectable).
        live_list_delay: seconds before a live session shows in ``/session/live/list``
            (the real service: up to 60).
        seed: seeds the generated private host ids.
    """

    def __init__(
        self,
        accounts: Mapping[str, str] | None = None,
        *,
        clock: Clock = time.time,
        live_list_delay: float = 0.0,
        seed: int | None = None,
    ) -> None:
        self._accounts: dict[str, str] = dict(accounts or {})
        self.clock = clock
        self.live_list_delay = live_list_delay
        self._random = random.Random(seed)
        self._rid_marks: dict[str, int] = {}
        self.sessions: dict[str, SimSession] = {}
        self.videos: list[SimVideo] = []
        self.themes: list[SimTheme] = []
        self.calls: list[Call] = []
        self._failures: list[int] = []
        self._next_public = FIRST_PUBLIC_HOSTID
        self._next_channel = 7001
        self._next_video = 501

    def __repr__(self) -> str:
        return (
            f"StreamAPISimulator(accounts={len(self._accounts)}, sessions={len(self.sessions)}, "
            f"videos={len(self.videos)})"
        )

    @classmethod
    def with_demo_data(
        cls,
        *,
        api_key: str = DEMO_API_KEY,
        secret: str = DEMO_SECRET,
        clock: Clock = time.time,
        live_list_delay: float = 0.0,
    ) -> StreamAPISimulator:
        """A simulator with two accounts, three hosts (one live), recordings and themes.

        The ``api_key`` account owns ``1000016132`` (alice, live, with an encoder
        key) and ``1000016133`` (bob, offline); the partner account owns
        ``1000020001``, which ``api_key`` may not look up (code 201).
        """
        sim = cls({api_key: secret, PARTNER_API_KEY: PARTNER_SECRET}, clock=clock, seed=4)
        sim.live_list_delay = live_list_delay
        now = clock()
        alice = sim.add_session(api_key, site_user_id="1000016132", username="alice")
        alice.fme_key = "f1b8221d2b69"
        sim.add_session(api_key, site_user_id="1000016133", username="bob")
        sim.add_session(PARTNER_API_KEY, site_user_id="1000020001", username="carol")
        for days, minutes in ((3, 42), (2, 17), (1, 65)):
            sim.add_video(alice.public_hostid, created=now - days * 86_400, duration=minutes * 60)
        sim.add_video("1000016133", created=now - 5 * 86_400, duration=600)
        sim.add_video("1000020001", created=now - 86_400, duration=300)
        sim.go_live(alice.public_hostid, viewers=12, chatters=3, since=now - 1_800)
        for theme_id, name, width, height in (
            ("7", "Classic", 640, 480),
            ("8", "Widescreen", 960, 540),
            ("9", "Compact", 320, 240),
        ):
            slug = name.lower()
            sim.themes.append(
                SimTheme(
                    theme_id,
                    name,
                    width,
                    height,
                    f"/layouts/{slug}.xml",
                    f"/skins/{slug}.swf",
                )
            )
        return sim

    # -- driving the state ----------------------------------------------------------------

    def add_account(self, api_key: str, secret: str) -> None:
        """Accept another API key with its secret."""
        self._accounts[api_key] = secret

    def add_session(
        self,
        owner: str,
        *,
        site_user_id: str | None = None,
        username: str | None = None,
        fme_key: str | None = None,
        is_video_private: bool = False,
    ) -> SimSession:
        """Create (or, for the same owner and ``site_user_id``, update) a host.

        Raises:
            SimError: 201 when ``site_user_id`` is a host of another API key.
        """
        if site_user_id is not None and site_user_id in self.sessions:
            session = self.sessions[site_user_id]
            if session.owner != owner:
                raise SimError(201)
        else:
            public = site_user_id or self._new_public_hostid()
            session = SimSession(
                owner=owner,
                public_hostid=public,
                private_hostid=self._new_private_hostid(),
                channel_id=str(self._next_channel),
            )
            self._next_channel += 1
            self.sessions[public] = session
        if username is not None:
            session.username = username
        if fme_key is not None:
            session.fme_key = fme_key
        session.is_video_private = is_video_private
        return session

    def go_live(
        self, public_hostid: str, *, viewers: int = 0, chatters: int = 0, since: float | None = None
    ) -> None:
        """Mark a host as streaming (from ``since``, default now)."""
        session = self.sessions[public_hostid]
        session.live_since = self.clock() if since is None else since
        session.current_viewers, session.current_chatters = viewers, chatters
        session.total_viewers += viewers
        session.total_chatters += chatters
        session.max_viewers = max(session.max_viewers, viewers)
        session.max_chatters = max(session.max_chatters, chatters)

    def end_live(self, public_hostid: str, *, record: bool = True) -> SimVideo | None:
        """Stop a host's stream; with ``record``, its recording joins the video list."""
        session = self.sessions[public_hostid]
        if session.live_since is None:
            return None
        started, session.live_since = session.live_since, None
        session.current_viewers = session.current_chatters = 0
        if not record:
            return None
        return self.add_video(
            public_hostid, created=self.clock(), duration=int(self.clock() - started)
        )

    def add_video(self, public_hostid: str, *, created: float, duration: int) -> SimVideo:
        """Add a recording of ``public_hostid`` made at ``created`` (epoch seconds)."""
        session = self.sessions[public_hostid]
        video_id = str(self._next_video)
        self._next_video += 1
        filename = f"{public_hostid}_{video_id}.flv"
        video = SimVideo(
            id=video_id,
            owner=session.owner,
            public_hostid=public_hostid,
            channel_id=session.channel_id,
            created=created,
            duration=duration,
            filename=filename,
            size=duration * 62_500,
            url=f"http://video.streamapi.com/recordings/{filename}",
            embed_code=f'<embed src="http://video.streamapi.com/player.swf?video={video_id}"/>',
        )
        self.videos.append(video)
        return video

    def fail_next(self, code: int = 100) -> None:
        """Answer the next authenticated request with ``code`` instead of its result."""
        self._failures.append(code)

    def rid_mark(self, api_key: str) -> int | None:
        """The last rid accepted for ``api_key``."""
        return self._rid_marks.get(api_key)

    def set_rid_mark(self, api_key: str, rid: int) -> None:
        """Move a key's high-water mark (e.g. to simulate another client or clock skew)."""
        self._rid_marks[api_key] = rid

    # -- answering requests ---------------------------------------------------------------

    def authenticate(self, params: Mapping[str, str], required: tuple[str, ...] = ()) -> str:
        """Run the checks every call starts with (A3) and return the caller's API key.

        Order: missing ``key``/``sig``/``rid`` or a required parameter → 1; unknown key
        → 200; wrong signature → 202; ``rid`` not greater than the key's mark → 203.
        The mark advances only when all of these pass; an injected failure comes next.

        Raises:
            SimError: with the code of the first failed check.
        """
        if any(not params.get(name) for name in ("key", "sig", "rid", *required)):
            raise SimError(1)
        api_key = params["key"]
        secret = self._accounts.get(api_key)
        if secret is None:
            raise SimError(200)
        expected = signature(params, secret, params["rid"])
        if not hmac.compare_digest(expected, params["sig"].lower()):
            raise SimError(202)
        if not DIGITS.fullmatch(params["rid"]):
            raise SimError(203)
        rid = int(params["rid"])
        mark = self._rid_marks.get(api_key)
        if mark is not None and rid <= mark:
            raise SimError(203)
        self._rid_marks[api_key] = rid
        if self._failures:
            raise SimError(self._failures.pop(0))
        return api_key

    def own_by_public(self, api_key: str, public_hostid: str, *, foreign: int) -> SimSession:
        """The caller's host ``public_hostid``; 8 if unknown, ``foreign`` if another key's."""
        if not DIGITS.fullmatch(public_hostid):
            raise SimError(1)
        session = self.sessions.get(public_hostid)
        if session is None:
            raise SimError(8)
        if session.owner != api_key:
            raise SimError(foreign)
        return session

    def own_by_private(self, api_key: str, private_hostid: str) -> SimSession:
        """The caller's host with ``private_hostid``; 46 if unknown, 201 if another key's."""
        if not PRIVATE.fullmatch(private_hostid):
            raise SimError(1)
        for session in self.sessions.values():
            if session.private_hostid == private_hostid:
                if session.owner != api_key:
                    raise SimError(201)
                return session
        raise SimError(46)

    def is_listed_live(self, session: SimSession) -> bool:
        """Live, and live for at least :attr:`live_list_delay` seconds (A12)."""
        since = session.live_since
        return since is not None and self.clock() - since >= self.live_list_delay

    def record(self, method: str, path: str, code: int, rid: str | None) -> None:
        """Remember an answered request."""
        self.calls.append(Call(method, path, code, rid))

    # -- helpers ----------------------------------------------------------------------------

    def _new_public_hostid(self) -> str:
        while str(self._next_public) in self.sessions:
            self._next_public += 1
        public = str(self._next_public)
        self._next_public += 1
        return public

    def _new_private_hostid(self) -> str:
        alphabet = string.ascii_uppercase + string.digits
        while True:
            candidate = "".join(self._random.choice(alphabet) for _ in range(12))
            if all(s.private_hostid != candidate for s in self.sessions.values()):
                return candidate


def check_format(value: str | None, pattern: re.Pattern[str]) -> None:
    """Refuse (code 1) a given value that does not match its documented pattern."""
    if value is not None and not pattern.fullmatch(value):
        raise SimError(1)
