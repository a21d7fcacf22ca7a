# AayuLink Booking API. Not built in CI (no Docker engine there); see docs/store.md.
FROM python:3.13-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /srv/aayulink

# The locked pins first (a layer that changes only with the lock), then the project alone.
COPY requirements-runtime.lock ./
RUN pip install -r requirements-runtime.lock
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install --no-deps . && \
    groupadd --system aayulink && \
    useradd --system --gid aayulink --home-dir /srv/aayulink --shell /usr/sbin/nologin aayulink && \
    mkdir -p /srv/aayulink/data && chown aayulink:aayulink /srv/aayulink/data

USER aayulink

ENV APP_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/srv/aayulink/data

EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"8000\")}/healthz', timeout=2)"

# SIGTERM drains within SHUTDOWN_GRACE_SECONDS (10 s); give `docker stop -t` a little more.
STOPSIGNAL SIGTERM

CMD ["python", "-m", "app", "serve"]
