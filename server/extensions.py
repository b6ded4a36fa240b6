"""Flask extensions, created unbound; create_app() binds them."""

from __future__ import annotations

from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from server.models import Base
from server.ratelimit import DatabaseStorage

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
# gzip for public content only (views opt in with @compress.compressed()), never for answers
# that carry a session's secrets (BREACH); the app's own files: server/assets.py
compress = Compress()
# the limiter's counters in the app's database unless configured otherwise (server/ratelimit.py)
assert DatabaseStorage.STORAGE_SCHEME
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)
