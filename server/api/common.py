"""Small helpers shared by the blueprints."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from marshmallow import Schema

from server.api.access import access, current_patient, current_user, now, signed_in_actor
from server.api.body import BodyParser
from server.extensions import db
from server.policy import Access
from server.schemas.common import CollectionQuery
from server.services.content import ENGLISH, Content
from server.services.errors import Invalid
from server.services.formats import Formats, locale_tag
from server.services.idempotency import Claim, Entry, Outcome, fingerprint

BASE = "/patients/<int:patient_id>"  # the routes on one patient's records

IDEMPOTENCY_DOC = {
    "parameters": [
        {
            "in": "header",
            "name": "Idempotency-Key",
            "required": False,
            "schema": {"type": "string", "maxLength": 200},
            "description": "A client-made id; the same key from the same user returns the "
            "first answer and creates nothing new.",
        }
    ]
}


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = BodyParser()

    def arguments(self, schema: Any, *args: Any, **kwargs: Any) -> Any:
        """As flask-smorest's, with one schema instance per route: given a class, webargs
        makes an instance (copying every field) on each request."""
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(schema, *args, **kwargs)

    def entry_post(
        self, resource: str, rule: Access, body: type[Schema], answer: type[Schema]
    ) -> Callable[[Callable[..., Any]], Any]:
        """A route that records a log entry, `POST BASE/<resource>`: who may (`rule`), the
        entry's schema (`body`), 201 with `answer`, and the Idempotency-Key header. The view is
        given a `PostedEntry` (the loaded body, `resource` as its keys' scope) to record."""
        presenter = answer()  # built once: it presents the use case's row before the commit

        def decorate(view: Callable[..., Any]) -> Any:
            @wraps(view)
            def posted(data: dict[str, Any], **path: Any) -> Any:
                return view(PostedEntry(data, resource, presenter), **path)

            return stacked(
                posted,
                self.route(f"{BASE}/{resource}", methods=["POST"]),
                access(rule),
                self.arguments(body),
                self.response(201, answer),
                self.doc(**IDEMPOTENCY_DOC),
            )

        return decorate

    def entry_listing(
        self, resource: str, rule: Access, answer: type[Schema]
    ) -> Callable[[Callable[..., Any]], Any]:
        """A route that lists log entries, `GET BASE/<resource>`: who may (`rule`), the
        `CollectionQuery` the view is given, and 200 with `answer`."""

        def decorate(view: Callable[..., Any]) -> Any:
            return stacked(
                view,
                self.route(f"{BASE}/{resource}", methods=["GET"]),
                access(rule),
                self.arguments(CollectionQuery, location="query"),
                self.response(200, answer),
            )

        return decorate


def stacked(view: Callable[..., Any], *decorators: Callable[[Any], Any]) -> Any:
    """`view` under `decorators`, listed as they would be written above it (outermost first)."""
    for decorator in reversed(decorators):
        view = decorator(view)
    return view


LANGUAGE_COOKIE = "companion_lang"  # the app's chosen language, for page loads (i18n.js)


def browser_language(*, page: bool = False) -> str | None:
    """The language the browser asks for, one of the languages content/ has, or None when it
    asks for none of them: the one the app sends as Accept-Language on every API call; on a
    page load (`page`) the one the app keeps in a cookie, or the browser's own languages."""
    content: Content = current_app.extensions["companion.content"]
    chosen = request.cookies.get(LANGUAGE_COOKIE) if page else None
    if chosen in content.languages:
        return str(chosen)
    return request.accept_languages.best_match(content.languages)


def reader_language(*, page: bool = False, chosen: str | None = None) -> str:
    """The language to answer this request in: the signed-in person's own (`User.language`,
    the same on every device they use), else the browser's (`browser_language`), else English.
    Every word the server makes for the reader (API answers, pages, email, PDF, calendar)
    starts here.

    `chosen`: a language this function gave the reader before and a link carries (the calendar
    feed's URL holds the one it was made in: a calendar app asks with its own languages)."""
    content: Content = current_app.extensions["companion.content"]
    user = current_user()
    for wanted in (chosen, user.language if user is not None else None):
        if wanted in content.languages:
            return str(wanted)
    return browser_language(page=page) or ENGLISH


def reader_content(*, page: bool = False, chosen: str | None = None) -> Content:
    """The text in the reader's language (`reader_language`), English where there is no
    translation. The answer says which (Content-Language) and that it varies (Vary:
    Accept-Language)."""
    content: Content = current_app.extensions["companion.content"]
    tag = reader_language(page=page, chosen=chosen)
    g.content_language = tag
    return content.in_language(tag)


def reader_formats(content: Content) -> Formats:
    """CLDR formats for the reader of `content` (from `reader_content`): its language, in the
    region of the reader's first Accept-Language of that language (en-GB: 25 Nov 2026)."""
    accepted = [tag for tag, _quality in request.accept_languages]
    return Formats(locale_tag(content.language, accepted))


def say_content_language(response: Any) -> Any:
    """after_request: an answer made with `reader_content` says its language."""
    tag = g.get("content_language")
    if tag:
        response.headers["Content-Language"] = tag
        response.vary.add("Accept-Language")
    return response


def blueprint(name: str, description: str, url_prefix: str = "/api") -> ApiBlueprint:
    return ApiBlueprint(name, __name__, url_prefix=url_prefix, description=description)


def idempotency_claim(scope: str, schema: Schema) -> Claim:
    """The request's Idempotency-Key (None when the client sent none) as a claim, with the
    route's response schema (built once) to present the answer before the commit: the
    answer the key keeps."""
    actor = signed_in_actor()
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return Claim(actor.user_id, None, scope, "", schema.dump)
    key = key.strip()
    if not key or len(key) > 200 or not key.isascii():
        raise Invalid({"Idempotency-Key": ["Use 1 to 200 ASCII characters."]})
    # keys are scoped per patient: a caregiver's client that reuses a key for another patient
    # makes that patient's entry instead of replaying the first patient's answer
    patient_id = (request.view_args or {}).get("patient_id")
    if patient_id is not None:
        key = f"{patient_id}:{key}"
    request_hash = fingerprint(request.get_json(silent=True))
    return Claim(actor.user_id, key, scope, request_hash, schema.dump)


def outcome_response(outcome: Outcome) -> ResponseReturnValue:
    response = jsonify(outcome.answer)
    response.status_code = outcome.status
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@dataclass(frozen=True)
class PostedEntry:
    """A log entry POSTed (see `ApiBlueprint.entry_post`): the loaded body, the route's
    Idempotency-Key scope and its response schema (as in `idempotency_claim`)."""

    data: dict[str, Any]
    scope: str
    schema: Schema

    def record(
        self, use_case: Callable[..., Outcome], *, with_content: bool = False
    ) -> ResponseReturnValue:
        """The signed-in actor logs the entry for the route's patient through `use_case`, once
        per Idempotency-Key; the answer is the first one. `with_content`: the use case also
        takes the reader's words (`reader_content`, read once the key is accepted)."""
        entry = Entry(
            signed_in_actor(),
            current_patient(),
            self.data,
            now(),
            idempotency_claim(self.scope, self.schema),
        )
        extra = {"content": reader_content()} if with_content else {}
        return outcome_response(use_case(db.session, entry, **extra))


def config(name: str) -> Any:
    return current_app.config[name]
