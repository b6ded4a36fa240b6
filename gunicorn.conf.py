"""gunicorn's settings for the web app (the image, compose.yaml, the Procfile, `make run`).

Environment: PORT (8000), WEB_CONCURRENCY (worker processes, 2), COMPANION_LOG_FORMAT
(json, or text for a terminal), COMPANION_LOG_LEVEL (INFO)."""

import os

from server.logs import dict_config, log_settings

wsgi_app = "server:create_app()"
bind = [f"0.0.0.0:{os.environ.get('PORT', '8000')}"]
# One thread per worker: threads of one process contend for its interpreter lock, and one
# served more requests than 2 or 4 (README, Performance); add workers, about two per core.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = 1
timeout = 30
graceful_timeout = 10
# The app writes one JSON line per request itself (with the request id and the user);
# gunicorn's own lines go through the same JSON handler.
accesslog = None
logconfig_dict = dict_config(*log_settings(os.environ))
# Which proxies to believe about the client's scheme and address is the app's decision alone
# (COMPANION_TRUSTED_PROXIES, werkzeug's ProxyFix): gunicorn must not act on those headers too.
forwarded_allow_ips = ""
secure_scheme_headers = {}
