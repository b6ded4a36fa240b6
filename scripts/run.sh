#!/usr/bin/env bash
# `make run`: the web app (gunicorn) and the reminder scheduler side by side; Ctrl-C stops both.
set -euo pipefail
PORT=${PORT:-5000}
BIN=.venv/bin
# logs as readable lines in a terminal (the image and compose.yaml keep JSON)
export COMPANION_LOG_FORMAT=${COMPANION_LOG_FORMAT:-text}
trap 'trap - EXIT INT TERM; kill 0 2>/dev/null' EXIT INT TERM
"$BIN/companion" worker &
# gunicorn.conf.py as in production (one thread per worker: README, Performance), on loopback
"$BIN/gunicorn" --config gunicorn.conf.py --bind "127.0.0.1:${PORT}" \
  --workers "${WEB_WORKERS:-2}" --graceful-timeout 5 &
echo "serving http://127.0.0.1:${PORT} (and the reminder scheduler); Ctrl-C stops both"
wait -n
