"""Errors as ``application/problem+json`` (RFC 9457), with the command line's words.

Every :class:`~complaintkit.errors.ComplaintkitError` becomes a problem whose ``detail`` is
the error's message, exactly what the command line prints after ``Error:``; the status says
what kind of failure it is (table in docs/api.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from complaintkit.attachments import AttachmentExistsError
from complaintkit.errors import (
    ApprovalError,
    ComplaintkitError,
    ConfigError,
    ConflictError,
    DuplicateComplaintError,
    NotFoundError,
    StorageError,
    TransitionRejected,
    UnknownSchemeError,
    ValidationError,
)

__all__ = ["MEDIA_TYPE", "ApiProblem", "problem_body", "problem_for"]

MEDIA_TYPE = "application/problem+json"

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    428: "Precondition Required",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class ApiProblem(Exception):
    """A problem the API answers with: status, a short ``slug`` naming its kind (the end of
    its ``type`` URI), the detail for people, and optional headers and error lines."""

    def __init__(
        self,
        status: int,
        slug: str,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        errors: Sequence[str] = (),
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.detail = detail
        self.headers = dict(headers or {})
        self.errors = list(errors)


def problem_body(problem: ApiProblem, instance: str) -> dict[str, Any]:
    """The RFC 9457 document of ``problem`` for the request path ``instance``."""
    body: dict[str, Any] = {
        "type": f"urn:complaintkit:problem:{problem.slug}",
        "title": TITLES.get(problem.status, "Error"),
        "status": problem.status,
        "detail": problem.detail,
        "instance": instance,
    }
    if problem.errors:
        body["errors"] = problem.errors
    return body


#: The status of each kind of error, most specific first.
_STATUSES: tuple[tuple[type[ComplaintkitError], int, str], ...] = (
    (NotFoundError, 404, "not-found"),
    (DuplicateComplaintError, 409, "duplicate"),
    (AttachmentExistsError, 409, "attachment-exists"),
    (ConflictError, 409, "conflict"),
    (ApprovalError, 403, "approval"),
    (TransitionRejected, 409, "transition-rejected"),
    (ValidationError, 422, "validation"),
    (UnknownSchemeError, 400, "unknown-name"),
    (ConfigError, 400, "bad-request"),
    (StorageError, 503, "storage"),
)


def problem_for(exc: ComplaintkitError) -> ApiProblem:
    """The problem a complaintkit error is answered with; its message is the detail."""
    for kind, status, slug in _STATUSES:
        if isinstance(exc, kind):
            errors = exc.problems if isinstance(exc, ValidationError) else ()
            return ApiProblem(status, slug, str(exc), errors=errors)
    return ApiProblem(400, "error", str(exc))
