"""The `companion` command: a Flask CLI group (every Flask command works too).

`tick` and `worker` come from the reminders package through the `flask.commands` entry point,
so the web app never imports the scheduler.
"""

from __future__ import annotations

import datetime as dt
import sys

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from server.extensions import db


@click.group(cls=FlaskGroup, create_app=lambda: _create_app(), add_version_option=False)
def cli() -> None:
    """Clozapine companion: serve, migrate, create users, seed demo data, run reminders."""


def _create_app() -> Flask:
    from server import create_app

    return create_app()


def register_commands(app: Flask) -> None:
    """The app's own commands (FlaskGroup adds them to `companion`, and to `flask`)."""
    for command in (create_user, seed_demo, init_instance):
        app.cli.add_command(command)


@click.command("create-user")
@click.option("--role", type=click.Choice(["clinician", "admin"]), required=True)
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--clinic", required=True, help="The clinic's name; created if it is new.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_user(role: str, email: str, name: str, clinic: str, password_stdin: bool) -> None:
    """Create a care-team account (clinician or admin)."""
    from marshmallow import ValidationError

    from server.schemas.accounts import CreateUserIn
    from server.services.accounts import create_care_team_user
    from server.services.errors import ServiceError

    if not password_stdin:
        raise click.UsageError("Give the password on standard input with --password-stdin.")
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        CreateUserIn().load({"role": role, "email": email, "name": name, "clinic": clinic})
        user = create_care_team_user(
            db.session,
            role=role,
            email=email,
            name=name,
            clinic_name=clinic,
            password=password,
            policy=current_app.extensions["companion.passwords"],
            now=dt.datetime.now(dt.UTC),
        )
    except ValidationError as exc:
        raise click.ClickException(f"invalid input: {exc.messages}") from exc
    except ServiceError as exc:
        detail = f" {exc.fields}" if exc.fields else ""
        raise click.ClickException(f"{exc.message}{detail}") from exc
    click.echo(f"created {user.role} {user.email} (id {user.id}) in clinic {clinic}")


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """A demo clinic, clinician, patient and caregiver with a few weeks of data."""
    from server.services.demo import seed

    lines = seed(
        db.session,
        current_app.extensions["companion.passwords"],
        dt.datetime.now(dt.UTC),
        current_app.extensions["companion.content"],
    )
    for line in lines:
        click.echo(line)


@click.command("init-instance")
@with_appcontext
def init_instance() -> None:
    """Create the secret key and the VAPID key pair under instance/ if they are missing."""
    from pathlib import Path

    from server.notify.vapid import application_server_key, load_or_create_vapid

    vapid = load_or_create_vapid(Path(current_app.instance_path) / "vapid_private.pem")
    click.echo(f"instance: {current_app.instance_path}")
    click.echo(f"VAPID public key: {application_server_key(vapid)}")
