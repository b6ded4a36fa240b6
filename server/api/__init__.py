"""Thin blueprints: load with a schema, ask the policy, call one service, dump."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api


class CompanionApi(Api):
    """flask-smorest's Api with the contract's error shape instead of its own, in the answers
    and in the OpenAPI document."""

    from server.schemas.errors import ErrorOut as ERROR_SCHEMA

    def _register_error_handlers(self) -> None:
        from server.api.errors import register_error_handlers

        register_error_handlers(self._app)


def build_api(app: Flask) -> Api:
    from server.api.common import say_content_language

    api = CompanionApi()
    api.init_app(app)
    register_blueprints(api)
    app.after_request(say_content_language)
    return api


def register_blueprints(api: Api) -> None:
    from server.api import (
        accounts,
        care_tasks,
        clinic,
        clinical,
        escalations,
        exports,
        guidance,
        health,
        medicines,
        patients,
        push,
        reminders,
        treatment,
    )
    from server.api import session as session_api

    modules = (
        health,
        session_api,
        accounts,
        patients,
        clinical,
        medicines,
        treatment,
        escalations,
        guidance,
        push,
        reminders,
        exports,
        clinic,
        care_tasks,
    )
    for module in modules:
        api.register_blueprint(module.blp)
