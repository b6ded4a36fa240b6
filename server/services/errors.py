"""What a use case can refuse with; the API maps each to the contract's error shape."""

from __future__ import annotations


class ServiceError(Exception):
    status = 400
    code = "bad_request"

    def __init__(
        self, message: str, fields: dict[str, list[str]] | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields
        if code is not None:  # a more precise code than the class's (CONTRACT.md: dose_withheld)
            self.code = code


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class Invalid(ServiceError):
    """Values that are well-formed but not acceptable (422), named per field."""

    status = 422
    code = "validation_failed"

    def __init__(
        self,
        fields: dict[str, list[str]],
        message: str = "Some values are not valid.",
        code: str | None = None,
    ) -> None:
        super().__init__(message, fields, code)


class Unauthenticated(ServiceError):
    status = 401
    code = "unauthenticated"
