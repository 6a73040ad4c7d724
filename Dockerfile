# StreamOps: `streamops serve` on port 3000 (Slack at /slack/events, webhooks at /webhooks/...).
#
# Dependencies come from requirements.lock (every package pinned, with hashes) in a layer of
# their own, so changing the source rebuilds only the last layers. Regenerate the lock with the
# command written at its top after changing pyproject.toml.
FROM python:3.11-slim

# Every Python in the image runs without docstrings and asserts (PYTHONOPTIMIZE=2) and
# without column ranges in its code objects (PYTHONNODEBUGRANGES=1: tracebacks lose their ^^^
# markers, nothing else): ~6 MB less resident memory for `serve` (BENCHMARKS.md §10).
# The bytecode for these settings is compiled at build time (pip compiles what it installs
# under them; the last RUN below compiles the standard library), as nothing is written at run
# time.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONOPTIMIZE=2 \
    PYTHONNODEBUGRANGES=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The service user; its uid/gid (10001) is what a bind-mounted data directory must belong to
# when the container is started with `--user 10001` (see deploy/docker-entrypoint.sh).
RUN groupadd --gid 10001 streamops \
    && useradd --uid 10001 --gid 10001 --create-home --shell /usr/sbin/nologin streamops \
    && mkdir -p /data && chown streamops:streamops /data

WORKDIR /app
# 1. Pinned, hash-checked dependencies (cached until requirements.lock changes).
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock

# 2. The application itself (no dependency resolution, nothing fetched).
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
RUN pip install --no-deps --no-build-isolation --no-index . && rm -rf build *.egg-info
# 3. Bytecode for the settings above, for the standard library and every package (pip compiled
#    what it installed already; up-to-date files are skipped). A file that does not compile (a
#    test fixture of some package) is only left to be compiled on import, so failures don't stop
#    the build.
RUN python -m compileall -q -j 0 /usr/local/lib/python3.11 > /dev/null || true

COPY deploy/docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN chmod 0755 /usr/local/bin/docker-entrypoint.sh

ENV DATABASE_URL=sqlite+aiosqlite:////data/streamops.db \
    STREAMOPS_DATA_DIR=/data
# A named volume starts as a copy of the image's /data (owned by streamops); a bind mount keeps
# the host's owner, which the entrypoint fixes when started as root, then drops to uid 10001.
VOLUME ["/data"]
EXPOSE 3000

HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=2).status == 200 else 1)"]

ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["streamops", "serve", "--host", "0.0.0.0", "--port", "3000"]
