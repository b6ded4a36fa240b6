"""The floor of the stack, for the API benchmark: one POST that validates its JSON body with
marshmallow, inserts one row through Flask-SQLAlchemy, commits and answers the row as JSON.

No sign-in, no CSRF, no audit, no idempotency, no summaries: what Flask, the SQLAlchemy ORM
and marshmallow cost on their own, on the same database (SQLite with the product's pragmas, or
PostgreSQL through psycopg) and under the same gunicorn command as the product. The API
benchmark reports the product's authenticated POST as a share of this one.

    gunicorn 'benchmarks.minimal_app:create_app()'   (DATABASE_URL or COMPANION_INSTANCE_PATH)
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import event
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Row(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "bench_minimal_row"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(db.DateTime(timezone=True))
    bristol_type: Mapped[int]


class RowSchema(Schema):
    id = fields.Integer(dump_only=True)
    occurred_at = fields.AwareDateTime(required=True)
    bristol_type = fields.Integer(required=True, validate=validate.Range(1, 7))


ROW = RowSchema()


def database_uri() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    instance = Path(os.environ["COMPANION_INSTANCE_PATH"])
    return f"sqlite:///{instance / 'companion.sqlite3'}"


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_uri()
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":

            @event.listens_for(db.engine, "connect")
            def _pragmas(dbapi_connection: Any, record: Any) -> None:
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.execute("PRAGMA busy_timeout=30000")
                cursor.close()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/rows")
    def add_row() -> tuple[dict[str, Any], int]:
        try:
            values = ROW.load(request.get_json(force=True))
        except ValidationError as error:
            return {"errors": error.messages}, 422
        row = Row(**values)
        db.session.add(row)
        db.session.commit()
        return ROW.dump(row), 201

    return app


def create_table() -> None:
    """Made once by the benchmark before gunicorn starts (two workers would race)."""
    app = create_app()
    with app.app_context():
        db.create_all()
        db.engine.dispose()


def count_rows() -> int:
    app = create_app()
    with app.app_context():
        count = db.session.query(Row).count()
        db.engine.dispose()
        return count
