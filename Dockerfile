# StreamOps: `streamops serve` on port 3000 (Slack at /slack/events, webhooks at /webhooks/...).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
RUN pip install ".[postgres]"

RUN useradd --create-home --uid 10001 streamops && mkdir -p /data && chown streamops /data
USER streamops
ENV DATABASE_URL=sqlite+aiosqlite:////data/streamops.db
VOLUME ["/data"]
EXPOSE 3000

HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=2).status == 200 else 1)"]

CMD ["streamops", "serve", "--host", "0.0.0.0", "--port", "3000"]
