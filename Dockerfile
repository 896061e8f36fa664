# syncbot in a container: `docker build -t syncbot .`, then see compose.yaml (PostgreSQL and
# two replicas, one leading) or README.md, "Container".
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A dedicated, unprivileged user; its home holds the default SQLite state.
RUN useradd --system --uid 10001 --create-home --home-dir /var/lib/syncbot \
        --shell /usr/sbin/nologin syncbot

WORKDIR /opt/syncbot
COPY pyproject.toml README.md ./
COPY syncbot ./syncbot
RUN pip install '.[postgres]' && rm -rf /opt/syncbot/build

USER syncbot
WORKDIR /var/lib/syncbot
ENV SYNCBOT_HOST=0.0.0.0 \
    SYNCBOT_PORT=8080 \
    SYNCBOT_LOG_FORMAT=json \
    SYNCBOT_CONFIG=/etc/syncbot/syncbot.toml \
    SYNCBOT_DATABASE_URL=sqlite:////var/lib/syncbot/syncbot.db
VOLUME ["/var/lib/syncbot"]
EXPOSE 8080

# 200 while every source is fresh and (on the leader) the scheduler runs; a follower is
# healthy while it can reach the leader lock. See README.md, "GET /healthz".
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('SYNCBOT_PORT', '8080'), timeout=4)"

# syncbot handles SIGTERM itself (exit 0), as PID 1 too.
STOPSIGNAL SIGTERM
ENTRYPOINT ["syncbot"]
CMD ["run"]
