#!/usr/bin/env bash
# `make run`: the web app (gunicorn) and the reminder scheduler side by side; Ctrl-C stops both.
set -euo pipefail
PORT=${PORT:-5000}
BIN=.venv/bin
trap 'trap - EXIT INT TERM; kill 0 2>/dev/null' EXIT INT TERM
"$BIN/companion" worker &
# one thread per worker: threads of one process contend for its interpreter lock, and 1 served
# both plain and database-bound requests faster than 2 or 4 (README, Performance); requests
# run side by side in the workers
"$BIN/gunicorn" --bind "127.0.0.1:${PORT}" --workers "${WEB_WORKERS:-2}" --threads 1 \
  --access-logfile - --graceful-timeout 5 'server:create_app()' &
echo "serving http://127.0.0.1:${PORT} (and the reminder scheduler); Ctrl-C stops both"
wait -n
