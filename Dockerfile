# The clozapine companion: one image for the web app, the worker and the migrations.
#   docker build -t clozapine-companion .
# Commands (compose.yaml runs each in its own container):
#   gunicorn --config gunicorn.conf.py    the web app on port 8000 (the default)
#   companion worker                      the reminder scheduler (one is enough)
#   companion db upgrade                  the migrations, once per release
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first (their layer is rebuilt only when the lock changes): exactly the pinned
# versions, each checked against its hash.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

# The app, its migrations, its text and its web files; installed in place (no dependencies
# left to fetch), so the `companion` command and its Flask commands exist.
COPY pyproject.toml README.md gunicorn.conf.py ./
COPY server ./server
COPY reminders ./reminders
COPY migrations ./migrations
COPY content ./content
COPY pwa_static ./pwa_static
COPY scripts/healthcheck.py ./scripts/healthcheck.py
RUN pip install --no-deps --no-build-isolation -e . \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/companion --create-home companion

# Not root. Keys made on first start (the session secret, the VAPID key) live here: mount a
# volume so that they outlive the container.
USER companion
ENV COMPANION_ENV=production \
    COMPANION_INSTANCE_PATH=/var/lib/companion \
    PORT=8000
VOLUME ["/var/lib/companion"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "scripts/healthcheck.py"]
CMD ["gunicorn", "--config", "gunicorn.conf.py"]
