"""One web worker in its own process, as gunicorn would run several: the app on a loopback port
over a given database and limiter storage. `python -m tests.support.web_worker URL INSTANCE
STORAGE PORT`; prints "ready" once it serves."""

from __future__ import annotations

import sys
from pathlib import Path

from werkzeug.serving import make_server


def main() -> None:
    from server import create_app
    from tests.conftest import app_config

    database_url, instance, storage, port = sys.argv[1:5]
    config = app_config(database_url, Path(instance))
    config.pop("CLOCK")  # the real clock: the limiter's windows are wall-clock ones too
    config["RATELIMIT_STORAGE_URI"] = storage
    app = create_app(config)
    server = make_server("127.0.0.1", int(port), app, threaded=False)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
