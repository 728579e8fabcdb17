"""The HTTP API as an ASGI application (FastAPI on Starlette; served by uvicorn).

Routes are plain (``def``) functions: FastAPI runs them on its worker threads, each with its
own store (:class:`~complaintkit_api.service.Service`). A route reads the token, checks the
role, builds a desk acting for the token's name and answers with the records the command
line prints with ``--format json``. Errors are problem documents (:mod:`.problems`).
"""

import logging
import re
import urllib.parse
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import datetime
from itertools import islice
from typing import Annotated, Any, Literal

import attrs
from fastapi import Depends, FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from complaintkit import Complaint, Party, find_sorted, new_reference
from complaintkit.attachments import AttachmentSettings, check_attachment, safe_name
from complaintkit.desk import Desk, utcnow
from complaintkit.display import json_text
from complaintkit.errors import ComplaintkitError, ValidationError
from complaintkit.intake import complaint_problems, contact_value, parse_level, party_problems
from complaintkit.model import Channel, Status
from complaintkit.records import (
    attachment_record,
    clock_records,
    plugin_records,
    reporter_record,
    scheme_records,
    sweep_record,
)
from complaintkit.reporting import check_options

from . import queries
from .problems import MEDIA_TYPE, TITLES, ApiProblem, problem_body, problem_for
from .roles import allowed, least_role
from .schemas import (
    ATTACHMENT_SCHEMA,
    CLOCK_SCHEMA,
    COMPLAINT_SCHEMA,
    NOTE_SCHEMA,
    PROBLEM_SCHEMA,
    REVIEW_SCHEMA,
    AssignBody,
    BatchBody,
    ClassifyBody,
    EditBody,
    EscalateBody,
    IntakeBody,
    LabelBody,
    MergeBody,
    NoteBody,
    PauseBody,
    RemedyBody,
    RespondBody,
    ResumeBody,
    ReviewDecisionsBody,
    SatisfactionBody,
    SweepBody,
    TokenBody,
    TransitionBody,
)
from .service import Idempotency, Replay, Service
from .tokens import Token, TokenError

__all__ = ["REPORT_MEDIA_TYPES", "create_app"]

log = logging.getLogger("complaintkit.api")

VERSION = "1"

#: The media type of each report format; others are text/plain or octet-stream.
REPORT_MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv",
    "html": "text/html",
    "markdown": "text/markdown",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "table": "text/plain",
}

# A NUL character no store can hold; a lone UTF-16 surrogate no store or JSON encoder can.
_NUL = re.compile(rb"\x00|\\u0000")
_SURROGATE_PAIR = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")

SORT_HELP = (
    "Order by received_at, due_at, reference, status (process order) or escalation_level; "
    "- before it for descending (newest, latest, highest first), as complaintkit list --sort. "
    "Complaints without a due_at come last either way."
)

_PROBLEM_CONTENT = {MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}}


def _problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {"description": TITLES[status], "content": _PROBLEM_CONTENT} for status in statuses
    }


#: Every route may answer these (bad input, no token, too large, storage down).
COMMON = _problems(400, 401, 403, 413, 415, 422, 503)
ONE = {**COMMON, **_problems(404)}
CHANGE = {**ONE, **_problems(409, 412, 428)}
COMPLAINT_CONTENT = {"application/json": {"schema": COMPLAINT_SCHEMA}}
ETAG_HEADER = {"ETag": {"description": "The complaint's version", "schema": {"type": "string"}}}
#: The answer of a route that changes one complaint (through ``change``).
CHANGED = {
    "description": "The complaint as changed",
    "content": COMPLAINT_CONTENT,
    "headers": ETAG_HEADER,
}


class BodyTooLarge(Exception):
    """The request body passed ``[api] max_body``."""


#: The one route whose body is a file, not JSON: an attachment uploaded.
UPLOAD = re.compile(r"/complaints/[^/]+/attachments")


def is_upload(method: str, path: str) -> bool:
    """Whether a request uploads an attachment (its body is the file's bytes)."""
    return method == "POST" and UPLOAD.fullmatch(path) is not None


class Guard:
    """Pure ASGI middleware: refuses a body above the size limit (413) before the route reads
    it, and NUL characters or lone surrogates in the path, query or body (400), which no
    store can hold. An attachment's body is a file: any bytes, up to ``max_file``
    (``[attachments] max_size``)."""

    def __init__(self, app: Any, max_body: int, max_file: int = 0) -> None:
        self.app = app
        self.max_body = max_body
        self.max_file = max_file or max_body

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
        send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        upload = is_upload(scope.get("method", ""), path)
        limit = self.max_file if upload else self.max_body
        query = urllib.parse.unquote_to_bytes(scope.get("query_string", b""))
        raw_path = urllib.parse.unquote_to_bytes(scope.get("raw_path") or b"")
        if "\x00" in path or b"\x00" in query or b"\x00" in raw_path:
            await _send_problem(
                send, ApiProblem(400, "bad-character", "the request has a NUL character"), path
            )
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and (not value.isdigit() or int(value) > limit):
                await _send_problem(send, self._too_large(upload), path)
                return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > limit:
                await _send_problem(send, self._too_large(upload), path)
                return
        if not upload and (_NUL.search(body) or _SURROGATE.search(_SURROGATE_PAIR.sub(b"", body))):
            await _send_problem(
                send,
                ApiProblem(
                    400,
                    "bad-character",
                    "the body has a NUL character or a lone UTF-16 surrogate, which no store "
                    "can hold",
                ),
                path,
            )
            return
        scope.setdefault("state", {})["raw"] = bytes(body)  # the idempotency fingerprint
        sent = False

        async def replay() -> MutableMapping[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)

    def _too_large(self, upload: bool) -> ApiProblem:
        if upload:
            return ApiProblem(
                413,
                "too-large",
                f"the attachment is larger than the {self.max_file:,} bytes allowed "
                "([attachments] max_size)",
            )
        return ApiProblem(
            413,
            "too-large",
            f"the request body is larger than {self.max_body:,} bytes ([api] max_body)",
        )


async def _send_problem(
    send: Callable[[MutableMapping[str, Any]], Awaitable[None]], problem: ApiProblem, path: str
) -> None:
    body = json_text(problem_body(problem, path), lines=True).encode()
    await send(
        {
            "type": "http.response.start",
            "status": problem.status,
            "headers": [
                (b"content-type", MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json_text(data, lines=True),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def _problem_response(problem: ApiProblem, request: Request) -> Response:
    headers = dict(problem.headers)
    if problem.status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return Response(
        json_text(problem_body(problem, request.url.path), lines=True),
        status_code=problem.status,
        media_type=MEDIA_TYPE,
        headers=headers,
    )


def _query_names(dependant: Any) -> set[str]:
    """The query parameters a route (and its dependencies) takes."""
    names = {field.alias for field in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _refuse_unknown_query(request: Request) -> None:
    """A query parameter the operation does not take is refused (400), as an unknown field of
    a body is: a misspelt filter (``stauts=closed``) must not quietly list everything."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known = _query_names(dependant)
    unknown = sorted({name for name in request.query_params if name not in known})
    if unknown:
        raise ApiProblem(
            400,
            "bad-parameter",
            f"unknown query parameter(s) {', '.join(map(repr, unknown))}; this operation "
            f"takes: {', '.join(sorted(known)) or 'none'}",
        )


def _describe(error: Any) -> str:
    where = ".".join(str(part) for part in error.get("loc", ()))
    return f"{where}: {error.get('msg', 'invalid')}"


def create_app(service: Service) -> FastAPI:
    """The API over ``service``'s store."""
    app = FastAPI(
        title="complaintkit",
        version=VERSION,
        description="Customer-complaint management (客户投诉管理) over HTTP: intake, "
        "handling, reports. Bodies are the records `complaintkit … --format json` prints; "
        "errors are RFC 9457 problem documents with the command line's words. See docs/api.md.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.service = service
    host = service.host
    tz = host.config.tzinfo
    settings = service.settings
    # Read once: the configuration does not change while the server runs.
    attachment_limits = AttachmentSettings.from_config(host.config)
    idempotency = Idempotency(service)
    bearer = HTTPBearer(auto_error=False, description="complaintkit token create")

    # --- errors -------------------------------------------------------------------------

    @app.exception_handler(ApiProblem)
    async def on_problem(request: Request, exc: ApiProblem) -> Response:
        return _problem_response(exc, request)

    @app.exception_handler(ComplaintkitError)
    async def on_error(request: Request, exc: ComplaintkitError) -> Response:
        return _problem_response(problem_for(exc), request)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = list(exc.errors())
        media = request.headers.get("content-type", "")
        raw = getattr(request.state, "raw", b"")
        upload = is_upload(request.method, request.url.path)
        if raw and "json" not in media.lower() and not upload:
            problem = ApiProblem(
                415,
                "not-json",
                f"the body must be JSON (Content-Type: application/json), not {media or 'untyped'}",
            )
            return _problem_response(problem, request)
        if any(
            tuple(e.get("loc", ())) == ("header", "If-Match") and e.get("type") == "missing"
            for e in errors
        ):
            reference = request.path_params.get("reference", "")
            try:
                queries.expected_version(None, reference)
            except ApiProblem as required:
                return _problem_response(required, request)
        if any(e.get("type") == "json_invalid" for e in errors):
            problem = ApiProblem(
                400,
                "bad-json",
                "the body is not valid JSON: " + "; ".join(_describe(e) for e in errors),
            )
        else:
            lines = [_describe(e) for e in errors]
            problem = ApiProblem(422, "validation", "; ".join(lines), errors=lines)
        return _problem_response(problem, request)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> Response:
        status = exc.status_code
        headers = dict(exc.headers or {})
        if status == 405:
            # Each method of a path is its own route: Allow names those of every route.
            methods = set()
            for route in app.routes:
                match, _ = route.matches(request.scope)
                if match != Match.NONE:
                    methods |= set(getattr(route, "methods", None) or ())
            headers["Allow"] = ", ".join(sorted(methods))
        problem = ApiProblem(status, "http", str(exc.detail), headers=headers)
        return _problem_response(problem, request)

    @app.exception_handler(Exception)
    async def on_crash(request: Request, exc: Exception) -> Response:
        log.exception("request %s %s failed", request.method, request.url.path)
        problem = ApiProblem(500, "internal", f"internal error ({type(exc).__name__}); logged")
        return _problem_response(problem, request)

    # --- who is calling -----------------------------------------------------------------

    def caller(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Token:
        if credentials is None:
            raise ApiProblem(
                401,
                "no-token",
                "this API needs a token: Authorization: Bearer ck_… "
                "(complaintkit token create --name NAME --role agent)",
            )
        token = service.tokens().check(credentials.credentials)
        if token is None:
            raise ApiProblem(401, "bad-token", "the token is unknown or has been revoked")
        _refuse_unknown_query(request)
        return token

    def require(token: Token, action: str) -> None:
        if not allowed(token.role, action):
            raise ApiProblem(
                403,
                "forbidden",
                f"a token with role {token.role} may not {action.replace('_', ' ')}; "
                f"it needs role {least_role(action)} or higher",
            )

    def may(action: str) -> Callable[[Token], Token]:
        def check(token: Annotated[Token, Depends(caller)]) -> Token:
            require(token, action)
            return token

        return check

    Reader = Annotated[Token, Depends(may("read"))]
    Ref = Annotated[str, Path(max_length=255, description="The complaint's reference.")]
    IfMatch = Annotated[
        str,
        Header(
            alias="If-Match",
            description='The ETag of the version the change is based on (e.g. "3"); without '
            "it the change is refused with 428.",
            max_length=100,
        ),
    ]
    Lang = Annotated[Literal["en", "zh"] | None, Query(description="Language of names.")]

    def out(c: Complaint) -> dict[str, Any]:
        data: dict[str, Any] = host.converter().unstructure(host.mask(c))
        return data

    def complaint_response(c: Complaint, status: int = 200) -> Response:
        return _json(out(c), status, {"ETag": queries.etag(c)})

    def change(
        token: Token,
        reference: str,
        if_match: str | None,
        work: Callable[[Desk], Complaint],
        status: int = 200,
    ) -> Response:
        expected = queries.expected_version(if_match, reference)
        desk = service.desk(token, guard=(reference, expected))
        return complaint_response(work(desk), status)

    def changing(
        method: Literal["POST", "PUT", "PATCH", "DELETE"],
        path: str,
        *,
        tag: str,
        summary: str,
        status_code: int = 200,
    ) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
        """Register a route that changes one complaint (through :func:`change`): it answers
        the complaint as changed, or a problem (404; If-Match: 409, 412, 428 …)."""
        return app.api_route(
            path,
            methods=[method],
            tags=[tag],
            summary=summary,
            status_code=status_code,
            responses={status_code: CHANGED, **CHANGE},
            response_class=Response,
        )

    # --- complaints ---------------------------------------------------------------------

    def check_batch(count: int, what: str) -> None:
        if count > settings.max_batch:
            raise ApiProblem(
                422,
                "too-many",
                f"a batch holds at most {settings.max_batch} {what} ([api] max_batch), "
                f"this one {count}",
            )

    def new_complaint(body: IntakeBody, reference: str) -> Complaint:
        received = queries.in_zone(body.received_at or utcnow(), tz, "received_at")
        party = Party(
            body.name, contact_value(body.phone), contact_value(body.email), body.customer_id
        )
        problems = [f"{field}: {reason}" for field, reason in party_problems(party)]
        if not body.text.strip():
            problems.append("text: the complaint text is empty")
        if problems:
            raise ApiProblem(422, "validation", "; ".join(problems), errors=problems)
        return Complaint(
            reference=reference,
            received_at=received,
            text=body.text.strip(),
            title=body.title,
            channel=body.channel,
            complainant=party,
            product=body.product,
            order=body.order,
            remedy_sought=body.remedy,
            tags=tuple(body.tags),
            custom=dict(body.fields),
        )

    def idempotent(
        request: Request,
        token: Token,
        key: str | None,
        references: list[str],
        work: Callable[[list[str]], Replay],
    ) -> Response:
        """The response of ``work``, or under an ``Idempotency-Key`` the one kept for it."""
        replayed = False
        if key is None:
            result = work(references)
        else:
            raw = getattr(request.state, "raw", b"")
            fingerprint = Idempotency.fingerprint(request.method, request.url.path, raw)
            result, replayed = idempotency.run(token, key, fingerprint, references, work)
        headers = {}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        if result.status >= 400:
            return Response(
                json_text(result.body, lines=True),
                status_code=result.status,
                media_type=MEDIA_TYPE,
                headers=headers,
            )
        if isinstance(result.body, dict) and "version" in result.body:
            headers["ETag"] = f'"{result.body["version"]}"'
            headers["Location"] = f"/complaints/{urllib.parse.quote(result.body['reference'])}"
        return _json(result.body, result.status, headers)

    IdemKey = Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=200,
            description="A retry with the same key and body returns the first response.",
        ),
    ]

    @app.post(
        "/complaints",
        status_code=201,
        tags=["complaints"],
        summary="Register one complaint (complaintkit add)",
        responses={
            201: {"description": "Stored", "content": COMPLAINT_CONTENT, "headers": ETAG_HEADER},
            **_problems(409),
            **COMMON,
        },
        response_class=Response,
    )
    def intake_one(
        body: IntakeBody,
        request: Request,
        token: Annotated[Token, Depends(may("intake"))],
        idempotency_key: IdemKey = None,
    ) -> Response:
        received = body.received_at or utcnow()
        reference = body.reference or new_reference(received)

        def work(references: list[str]) -> Replay:
            try:
                complaint = new_complaint(body, references[0])
                stored = service.desk(token).intake(complaint, classify=body.classify)
            except ComplaintkitError as exc:
                raise problem_for(exc) from exc
            return Replay(201, out(stored))

        return idempotent(request, token, idempotency_key, [reference], work)

    @app.post(
        "/complaints/batch",
        tags=["complaints"],
        summary="Register many complaints at once (complaintkit import)",
        responses={
            200: {
                "description": "What was added, skipped (reference already stored), refused",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["added", "skipped", "refused", "references"],
                            "properties": {
                                "added": {"type": "integer"},
                                "skipped": {"type": "array", "items": {"type": "string"}},
                                "refused": {"type": "array", "items": {"type": "array"}},
                                "references": {"type": "array", "items": {"type": "string"}},
                            },
                        }
                    }
                },
            },
            **_problems(409),
            **COMMON,
        },
        response_class=Response,
    )
    def intake_many(
        body: BatchBody,
        request: Request,
        token: Annotated[Token, Depends(may("intake"))],
        idempotency_key: IdemKey = None,
    ) -> Response:
        check_batch(len(body.complaints), "complaints")
        now = utcnow()
        references = [
            item.reference or new_reference(item.received_at or now) for item in body.complaints
        ]

        def work(refs: list[str]) -> Replay:
            complaints = []
            problems = []
            for number, (item, ref) in enumerate(zip(body.complaints, refs, strict=True)):
                try:
                    complaint = new_complaint(item, ref)
                except ApiProblem as problem:
                    problems += [f"complaints.{number}: {line}" for line in problem.errors]
                    continue
                problems += [
                    f"complaints.{number}.{field or 'complaint'}: {reason}"
                    for field, reason in complaint_problems(complaint)
                ]
                complaints.append(complaint)
            if problems:
                raise ApiProblem(422, "validation", "; ".join(problems), errors=problems)
            try:
                result = service.desk(token).intake_many(complaints, classify=body.classify)
            except ComplaintkitError as exc:
                raise problem_for(exc) from exc
            data = attrs.asdict(result, recurse=False)
            data["skipped"] = list(result.skipped)
            data["refused"] = [list(pair) for pair in result.refused]
            data["references"] = refs
            return Replay(200, data)

        return idempotent(request, token, idempotency_key, references, work)

    @app.get(
        "/complaints",
        tags=["complaints"],
        summary="List complaints, newest first (or sort), with the filters of complaintkit list",
        responses={
            200: {
                "description": "A page of complaints (the Link header has the next page)",
                "content": {
                    "application/json": {"schema": {"type": "array", "items": COMPLAINT_SCHEMA}}
                },
                "headers": {
                    "Next-Cursor": {
                        "description": "Pass as cursor for the next page",
                        "schema": {"type": "string"},
                    },
                    "Link": {"description": 'rel="next"', "schema": {"type": "string"}},
                },
            },
            **COMMON,
        },
        response_class=Response,
    )
    def list_complaints(
        request: Request,
        token: Reader,
        status: Annotated[list[Status], Query()] = [],  # noqa: B006 - FastAPI copies it
        channel: Annotated[list[Channel], Query()] = [],  # noqa: B006
        label: Annotated[list[str], Query(description="SCHEME=LABEL")] = [],  # noqa: B006
        unclassified: Annotated[str | None, Query(max_length=255)] = None,
        department: Annotated[str | None, Query(max_length=255)] = None,
        assignee: Annotated[str | None, Query(max_length=255)] = None,
        product: Annotated[str | None, Query(max_length=255)] = None,
        since: Annotated[str | None, Query(max_length=40)] = None,
        until: Annotated[str | None, Query(max_length=40)] = None,
        search: Annotated[str | None, Query(max_length=255)] = None,
        min_level: Annotated[
            Literal["front_line", "department", "complaint_management", "leadership"] | None,
            Query(),
        ] = None,
        open: Annotated[bool, Query()] = False,
        due_by: Annotated[str | None, Query(max_length=40)] = None,
        overdue: Annotated[bool, Query()] = False,
        tag: Annotated[
            list[Annotated[str, Query(max_length=255)]],
            Query(description="Carrying this tag (repeatable: all of them)"),
        ] = [],  # noqa: B006
        custom: Annotated[
            list[Annotated[str, Query(max_length=2000)]],
            Query(description="KEY=VALUE: custom field KEY is VALUE (repeatable: all of them)"),
        ] = [],  # noqa: B006
        sort: Annotated[str, Query(max_length=40, description=SORT_HELP)] = "-received_at",
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        cursor: Annotated[str | None, Query(max_length=2000)] = None,
    ) -> Response:
        limit = min(limit, settings.max_page)
        order = queries.parse_sort(sort)
        flt = queries.build_filter(
            host,
            tz,
            statuses=status,
            channels=channel,
            labels=label,
            unclassified=unclassified,
            department=department,
            assignee=assignee,
            product=product,
            since=since,
            until=until,
            search=search,
            min_level=min_level,
            open_only=open,
            due_by=due_by,
            overdue=overdue,
            tags=tag,
            custom=custom,
            now=datetime.now(tz),
        )
        after = None
        if cursor:
            flt, after = queries.after_cursor(flt, cursor, order)
        matching = find_sorted(service.store(), flt, order, limit=None if after else limit + 1)
        found = list(islice(queries.pages(matching, after), limit + 1))
        headers = {}
        if len(found) > limit:
            found = found[:limit]
            following = queries.cursor_for(found[-1], order)
            headers["Next-Cursor"] = following
            query = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
            query.append(("cursor", following))
            headers["Link"] = f'<{request.url.path}?{urllib.parse.urlencode(query)}>; rel="next"'
        return _json([out(c) for c in found], headers=headers)

    @app.get(
        "/complaints/{reference}",
        tags=["complaints"],
        summary="One complaint with its labels and history (complaintkit show)",
        responses={
            200: {
                "description": "The complaint",
                "content": COMPLAINT_CONTENT,
                "headers": ETAG_HEADER,
            },
            **ONE,
        },
        response_class=Response,
    )
    def get_complaint(
        reference: Ref,
        token: Reader,
        unmasked: Annotated[bool, Query(description="Personal data in full (supervisor)")] = False,
        reason: Annotated[str | None, Query(max_length=1000)] = None,
    ) -> Response:
        complaint = service.store().get(reference)
        if not unmasked:
            if reason:
                raise ApiProblem(400, "bad-parameter", "reason goes with unmasked")
            return complaint_response(complaint)
        require(token, "unmask")
        if not reason or not reason.strip():
            raise ApiProblem(
                400, "bad-parameter", "unmasked needs reason WHY (it is recorded in the history)"
            )
        service.desk(token).record_disclosure([reference], reason=reason)
        complaint = service.store().get(reference)
        data: dict[str, Any] = host.converter().unstructure(complaint)
        return _json(data, headers={"ETag": queries.etag(complaint)})

    @changing(
        "POST",
        "/complaints/{reference}/transitions",
        tag="handling",
        summary="Move a complaint through the process (complaintkit transition)",
    )
    def transition(
        reference: Ref,
        body: TransitionBody,
        token: Annotated[Token, Depends(may("transition"))],
        if_match: IfMatch,
    ) -> Response:
        return change(
            token,
            reference,
            if_match,
            lambda desk: desk.transition(
                reference,
                body.action,
                reason=body.reason,
                solution=body.solution,
                satisfaction=body.satisfaction,
            ),
        )

    @changing(
        "PUT",
        "/complaints/{reference}/assignment",
        tag="handling",
        summary="Give a complaint to a department and/or person (complaintkit assign)",
    )
    def assign(
        reference: Ref,
        body: AssignBody,
        token: Annotated[Token, Depends(may("assign"))],
        if_match: IfMatch,
    ) -> Response:
        if body.department is None and body.assignee is None:
            raise ApiProblem(422, "validation", "give department, assignee or both")
        return change(
            token,
            reference,
            if_match,
            lambda desk: desk.assign(
                reference, department=body.department, assignee=body.assignee, reason=body.reason
            ),
        )

    @changing(
        "PUT",
        "/complaints/{reference}/labels/{scheme}",
        tag="handling",
        summary="Set a label by hand (complaintkit label)",
    )
    def set_label(
        reference: Ref,
        scheme: Annotated[str, Path(max_length=255)],
        body: LabelBody,
        token: Annotated[Token, Depends(may("label"))],
        if_match: IfMatch,
    ) -> Response:
        return change(
            token,
            reference,
            if_match,
            lambda desk: desk.label(reference, scheme, body.label, reason=body.reason),
        )

    @app.post(
        "/complaints/{reference}/remedies",
        tags=["handling"],
        summary="Offer a remedy within the role's approval limit (complaintkit remedy)",
        responses={
            200: {
                "description": "The complaint as changed; a V2 < V1 + C warning in "
                "the Complaintkit-Warning header",
                "content": COMPLAINT_CONTENT,
                "headers": ETAG_HEADER,
            },
            **CHANGE,
        },
        response_class=Response,
    )
    def offer_remedy(
        reference: Ref,
        body: RemedyBody,
        token: Annotated[Token, Depends(may("remedy"))],
        if_match: IfMatch,
    ) -> Response:
        warnings: list[str] = []

        def work(desk: Desk) -> Complaint:
            limits = desk.process.remedies.limits
            stored, found = desk.offer_remedy(
                reference,
                body.kind,
                amount=body.amount,
                currency=body.currency,
                description=body.description,
                customer_loss=body.customer_loss,
                complaint_cost=body.complaint_cost,
                role=token.role if token.role in limits else None,
            )
            warnings.extend(found)
            return stored

        response = change(token, reference, if_match, work)
        if warnings:
            response.headers["Complaintkit-Warning"] = urllib.parse.quote(warnings[0], safe=" ,")
        return response

    @changing(
        "POST",
        "/complaints/{reference}/remedies/{number}/acceptance",
        tag="handling",
        summary="Record that the customer accepted remedy NUMBER, 1 = first "
        "(complaintkit remedy --accept)",
    )
    def accept_remedy(
        reference: Ref,
        number: Annotated[int, Path(ge=1, le=10_000)],
        token: Annotated[Token, Depends(may("remedy"))],
        if_match: IfMatch,
    ) -> Response:
        return change(
            token, reference, if_match, lambda desk: desk.accept_remedy(reference, number - 1)
        )

    @changing(
        "PUT",
        "/complaints/{reference}/satisfaction",
        tag="handling",
        summary="Record satisfaction 1-5; closes a resolved complaint (complaintkit satisfaction)",
    )
    def satisfaction(
        reference: Ref,
        body: SatisfactionBody,
        token: Annotated[Token, Depends(may("satisfaction"))],
        if_match: IfMatch,
    ) -> Response:
        return change(
            token, reference, if_match, lambda desk: desk.record_satisfaction(reference, body.score)
        )

    # --- case work ----------------------------------------------------------------------

    @changing(
        "PATCH",
        "/complaints/{reference}",
        tag="case work",
        summary="Correct a complaint's fields; the history records old and new values "
        "(complaintkit edit)",
    )
    def edit(
        reference: Ref,
        body: EditBody,
        token: Annotated[Token, Depends(may("edit"))],
        if_match: IfMatch,
    ) -> Response:
        changes: dict[str, Any] = dict(body.set)
        both = [field for field in body.unset if field in changes]
        if both:
            problems = [f"field {field} is both set and unset" for field in both]
            raise ApiProblem(
                422,
                "validation",
                f"edit of complaint {reference}: " + "; ".join(problems),
                errors=problems,
            )
        for field in body.unset:
            changes[field] = None
        return change(
            token,
            reference,
            if_match,
            lambda desk: desk.edit(
                reference,
                changes,
                reason=body.reason,
                add_tags=body.add_tags,
                remove_tags=body.remove_tags,
            ),
        )

    @app.get(
        "/complaints/{reference}/notes",
        tags=["case work"],
        summary="The internal notes of a complaint, oldest first (never sent to the customer)",
        responses={
            200: {
                "description": "Its notes (note events of the history, personal data masked)",
                "content": {
                    "application/json": {"schema": {"type": "array", "items": NOTE_SCHEMA}}
                },
                "headers": ETAG_HEADER,
            },
            **ONE,
        },
        response_class=Response,
    )
    def list_notes(reference: Ref, token: Reader) -> Response:
        complaint = service.store().get(reference)
        converter = host.converter()
        notes = [converter.unstructure(e) for e in Desk.notes(host.mask(complaint))]
        return _json(notes, headers={"ETag": queries.etag(complaint)})

    @changing(
        "POST",
        "/complaints/{reference}/notes",
        tag="case work",
        summary="Add an internal note (complaintkit note)",
        status_code=201,
    )
    def add_note(
        reference: Ref,
        body: NoteBody,
        token: Annotated[Token, Depends(may("note"))],
        if_match: IfMatch,
    ) -> Response:
        return change(
            token, reference, if_match, lambda desk: desk.add_note(reference, body.text), 201
        )

    attachment_list = {"type": "array", "items": ATTACHMENT_SCHEMA}

    @app.get(
        "/complaints/{reference}/attachments",
        tags=["case work"],
        summary="The attachments of a complaint (complaintkit attachments --format json)",
        responses={
            200: {
                "description": "Its attachments, oldest first",
                "content": {"application/json": {"schema": attachment_list}},
            },
            **ONE,
        },
        response_class=Response,
    )
    def list_attachments(reference: Ref, token: Reader) -> Response:
        found = service.desk(token).attachments(reference)
        return _json([attachment_record(a) for a in found])

    @app.post(
        "/complaints/{reference}/attachments",
        status_code=201,
        tags=["case work"],
        summary="Attach a file: the body is its bytes, name the name to keep it under "
        "(complaintkit attach)",
        responses={
            201: {
                "description": "The attachment as stored (attach --format json); ETag: the "
                "complaint's new version",
                "content": {"application/json": {"schema": ATTACHMENT_SCHEMA}},
                "headers": {
                    **ETAG_HEADER,
                    "Location": {
                        "description": "Where to read the file",
                        "schema": {"type": "string"},
                    },
                },
            },
            **CHANGE,
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "description": "The file's bytes. The type is read from the content (the "
                "Content-Type sent is not trusted) and must be in [attachments] "
                "allowed_types (415); at most [attachments] max_size bytes (413).",
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            }
        },
        response_class=Response,
    )
    def attach(
        request: Request,
        reference: Ref,
        name: Annotated[
            str,
            Query(
                min_length=1,
                max_length=1000,
                description="The file's name; only its last part is kept, made safe "
                "(../../etc/passwd is kept as passwd)",
            ),
        ],
        token: Annotated[Token, Depends(may("attach"))],
        if_match: IfMatch,
    ) -> Response:
        expected = queries.expected_version(if_match, reference)
        content: bytes = getattr(request.state, "raw", b"")
        try:
            safe_name(name)
        except ValidationError as exc:
            raise problem_for(exc) from None  # a name that leaves nothing: 422
        try:
            check_attachment(name, content, attachment_limits, reference=reference)
        except ValidationError as exc:
            # The SDK's words; the status says which check refused it.
            if len(content) > attachment_limits.max_size:
                status, slug = 413, "too-large"
            elif not content:
                status, slug = 422, "validation"
            else:
                status, slug = 415, "type-not-allowed"
            raise ApiProblem(status, slug, str(exc), errors=exc.problems) from None
        desk = service.desk(token, guard=(reference, expected))
        complaint, stored = desk.attach(reference, name, content)
        where = (
            f"/complaints/{urllib.parse.quote(reference, safe='')}/attachments/"
            f"{urllib.parse.quote(stored.name, safe='')}"
        )
        return _json(
            {"reference": reference, **stored.as_data()},
            201,
            {"ETag": queries.etag(complaint), "Location": where},
        )

    AttachmentName = Annotated[str, Path(max_length=255, description="The attachment's name.")]

    @app.get(
        "/complaints/{reference}/attachments/{name}",
        tags=["case work"],
        summary="Read one attachment (complaintkit attachment get)",
        responses={
            200: {
                "description": "The file, as a download, in the type read from its content",
                "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            },
            **ONE,
        },
        response_class=Response,
    )
    def download(reference: Ref, name: AttachmentName, token: Reader) -> Response:
        found, content = service.desk(token).attachment(reference, name)
        media = found.media_type
        if media.startswith("text/"):
            media += "; charset=utf-8"
        fallback = "".join(
            ch if ch.isascii() and (ch.isalnum() or ch in "._- ") else "_" for ch in found.name
        )
        disposition = (
            f'attachment; filename="{fallback}"; '
            f"filename*=UTF-8''{urllib.parse.quote(found.name, safe='')}"
        )
        return Response(
            content,
            media_type=media,
            headers={
                "Content-Disposition": disposition,
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "sandbox",
            },
        )

    @changing(
        "DELETE",
        "/complaints/{reference}/attachments/{name}",
        tag="case work",
        summary="Remove an attachment; the history keeps what it was (complaintkit detach)",
    )
    def detach(
        reference: Ref,
        name: AttachmentName,
        token: Annotated[Token, Depends(may("detach"))],
        if_match: IfMatch,
        reason: Annotated[str | None, Query(max_length=1000)] = None,
    ) -> Response:
        return change(
            token, reference, if_match, lambda desk: desk.detach(reference, name, reason=reason)
        )

    @app.post(
        "/complaints/{reference}/merge",
        tags=["case work"],
        summary="Merge a duplicate into this complaint, which is kept (complaintkit merge)",
        responses={
            200: {
                "description": "The kept complaint as changed (the duplicate is rejected, "
                "its parent this one)",
                "content": COMPLAINT_CONTENT,
                "headers": ETAG_HEADER,
            },
            **CHANGE,
        },
        response_class=Response,
    )
    def merge(
        reference: Ref,
        body: MergeBody,
        token: Annotated[Token, Depends(may("merge"))],
        if_match: IfMatch,
    ) -> Response:
        return change(
            token,
            reference,
            if_match,
            lambda desk: desk.merge(reference, body.duplicate, reason=body.reason)[0],
        )

    # --- escalation, SLA clocks, responses, routing, classification ---------------------

    @changing(
        "POST",
        "/complaints/{reference}/escalation",
        tag="handling",
        summary="Raise a complaint to a higher level of management (complaintkit escalate)",
    )
    def escalate(
        reference: Ref,
        body: EscalateBody,
        token: Annotated[Token, Depends(may("escalate"))],
        if_match: IfMatch,
    ) -> Response:
        level = None
        if body.to is not None:
            try:
                level = parse_level(body.to)
            except ValueError as exc:
                raise ApiProblem(422, "validation", f"to: {exc}", errors=[f"to: {exc}"]) from exc
        return change(
            token,
            reference,
            if_match,
            lambda desk: desk.escalate(reference, to=level, reason=body.reason),
        )

    @changing(
        "POST",
        "/complaints/{reference}/pause",
        tag="handling",
        summary="Stop a complaint's SLA clocks while waiting on the customer (complaintkit pause)",
    )
    def pause(
        reference: Ref,
        body: PauseBody,
        token: Annotated[Token, Depends(may("pause"))],
        if_match: IfMatch,
    ) -> Response:
        return change(
            token, reference, if_match, lambda desk: desk.pause(reference, reason=body.reason)
        )

    @changing(
        "POST",
        "/complaints/{reference}/resume",
        tag="handling",
        summary="Restart a complaint's SLA clocks; the paused time moves its deadlines "
        "(complaintkit resume)",
    )
    def resume(
        reference: Ref,
        body: ResumeBody,
        token: Annotated[Token, Depends(may("pause"))],
        if_match: IfMatch,
    ) -> Response:
        return change(
            token, reference, if_match, lambda desk: desk.resume(reference, reason=body.reason)
        )

    @changing(
        "POST",
        "/complaints/{reference}/responses",
        tag="handling",
        summary="Record a response given to the complainant (complaintkit respond)",
    )
    def respond(
        reference: Ref,
        body: RespondBody,
        token: Annotated[Token, Depends(may("respond"))],
        if_match: IfMatch,
    ) -> Response:
        return change(
            token, reference, if_match, lambda desk: desk.respond(reference, body.message)
        )

    @changing(
        "POST",
        "/complaints/{reference}/routing",
        tag="handling",
        summary="Route a complaint by the routing rules (or a routing plugin) now "
        "(complaintkit route)",
    )
    def route(
        reference: Ref,
        token: Annotated[Token, Depends(may("route"))],
        if_match: IfMatch,
    ) -> Response:
        return change(token, reference, if_match, lambda desk: desk.route(reference)[0])

    @changing(
        "POST",
        "/complaints/{reference}/classification",
        tag="handling",
        summary="Classify one complaint again; a changed label keeps the old one in its "
        "history (complaintkit classify REF)",
    )
    def classify(
        reference: Ref,
        body: ClassifyBody,
        token: Annotated[Token, Depends(may("classify"))],
        if_match: IfMatch,
    ) -> Response:
        for name in body.schemes:
            host.scheme(name)
        chosen = list(body.schemes) or None
        return change(
            token,
            reference,
            if_match,
            lambda desk: desk.classify(reference, schemes=chosen, force=body.force),
        )

    @app.get(
        "/complaints/{reference}/clocks",
        tags=["handling"],
        summary="A complaint's SLA deadlines, time left and whether each target was met "
        "(complaintkit clocks --format json)",
        responses={
            200: {
                "description": "One record per SLA target",
                "content": {
                    "application/json": {"schema": {"type": "array", "items": CLOCK_SCHEMA}}
                },
                "headers": ETAG_HEADER,
            },
            **ONE,
        },
        response_class=Response,
    )
    def clocks(
        reference: Ref,
        token: Reader,
        now: Annotated[
            datetime | None,
            Query(description="Show the clocks as of this instant (with a zone; default: now)."),
        ] = None,
    ) -> Response:
        desk = service.desk(token)
        complaint = desk.get(reference)
        when = queries.in_zone(now or desk.clock(), tz, "now")
        found = desk.clocks(complaint, now=when)
        if found is None:
            raise ApiProblem(
                404,
                "no-sla-policy",
                f"complaint {reference} has no SLA policy; configure [sla] (see docs/process.md)",
            )
        return _json(
            clock_records(complaint.reference, found), headers={"ETag": queries.etag(complaint)}
        )

    # --- review of automatic labels (the review plugin, through its hooks) --------------

    no_review = ApiProblem(
        404,
        "no-review",
        "there is no review queue: the review plugin (complaintkit_review) is not enabled",
    )

    @app.get(
        "/review",
        tags=["review"],
        summary="Automatic labels due for review, least confident first "
        "(complaintkit review --format json)",
        responses={
            200: {
                "description": "The labels due for review",
                "content": {
                    "application/json": {"schema": {"type": "array", "items": REVIEW_SCHEMA}}
                },
            },
            **ONE,
        },
        response_class=Response,
    )
    def review_queue(
        token: Annotated[Token, Depends(may("read"))],
        scheme: Annotated[
            list[Annotated[str, Query(max_length=255)]],
            Query(description="Only this scheme, by key or name (repeatable; default: all)."),
        ] = [],  # noqa: B006 - FastAPI copies it
        below: Annotated[
            float | None,
            Query(
                ge=0, le=1, description="Review labels below this confidence instead of [review]."
            ),
        ] = None,
        open_only: Annotated[
            bool, Query(alias="open", description="Only complaints still open.")
        ] = False,
        limit: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
    ) -> Response:
        records = host.pm.hook.review_queue(
            desk=service.desk(token),
            schemes=list(scheme),
            below=below,
            open_only=open_only,
            limit=limit,
        )
        if records is None:
            raise no_review
        return _json(records)

    @app.post(
        "/review/decisions",
        tags=["review"],
        summary="Apply review decisions: accept or correct labels "
        "(complaintkit review --decisions FILE)",
        responses={
            200: {
                "description": "How many were accepted, corrected or unchanged, and each row "
                "that could not be applied (decisions.N: field F: why); the others were",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "applied": {
                                    "type": "object",
                                    "additionalProperties": {"type": "integer"},
                                },
                                "problems": {"type": "array", "items": {"type": "string"}},
                            },
                            "required": ["applied", "problems"],
                        }
                    }
                },
            },
            **ONE,
        },
        response_class=Response,
    )
    def review_decisions(
        body: ReviewDecisionsBody, token: Annotated[Token, Depends(may("review"))]
    ) -> Response:
        check_batch(len(body.decisions), "decisions")
        rows = [
            (f"decisions.{number}", row.model_dump()) for number, row in enumerate(body.decisions)
        ]
        result = host.pm.hook.apply_review_decisions(
            desk=service.desk(token), rows=rows, note=body.note
        )
        if result is None:
            raise no_review
        return _json(result)

    # --- process ------------------------------------------------------------------------

    @app.post(
        "/sweep",
        tags=["process"],
        summary="Record due SLA warnings and breaches, escalate (complaintkit sweep)",
        responses={
            200: {
                "description": "What the sweep did (sweep --format json)",
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            **COMMON,
        },
        response_class=Response,
    )
    def sweep(
        body: SweepBody,
        token: Annotated[Token, Depends(may("sweep"))],
        lang: Lang = None,
    ) -> Response:
        desk = service.desk(token)
        real_now = desk.clock()
        now = queries.in_zone(body.now or real_now, tz, "now")
        if now > real_now and not (body.dry_run or body.allow_future):
            raise ApiProblem(
                422,
                "future",
                f"now {now.isoformat()} is later than the real time: the sweep would store "
                "warnings, breaches and escalations dated in the future and notify people "
                "about deadlines that have not passed. Look with dry_run, or set allow_future "
                "to record them anyway (a test store)",
            )
        result = desk.sweep(now=now, dry_run=body.dry_run)
        return _json(sweep_record(result, lang or service.lang))

    # --- reports ------------------------------------------------------------------------

    @app.get(
        "/reports",
        tags=["reports"],
        summary="The reports (complaintkit report --list --format json)",
        responses={
            200: {
                "description": "Reports",
                "content": {
                    "application/json": {"schema": {"type": "array", "items": {"type": "object"}}}
                },
            },
            **COMMON,
        },
        response_class=Response,
    )
    def list_reports(token: Reader, lang: Lang = None) -> Response:
        return _json([reporter_record(r, lang or service.lang) for r in host.reporters().values()])

    report_content = {
        media: {"schema": {"type": "string"}}
        for media in REPORT_MEDIA_TYPES.values()
        if media != "application/json"
    }
    report_content["application/json"] = {"schema": {"type": "object"}}
    report_content["application/octet-stream"] = {"schema": {"type": "string"}}

    @app.get(
        "/reports/{name}",
        tags=["reports"],
        summary="Run a report in any format (complaintkit report NAME)",
        responses={
            200: {
                "description": "The report in the format asked for (format, else "
                "the Accept header, else JSON)",
                "content": report_content,
            },
            **ONE,
            **_problems(406),
        },
        response_class=Response,
    )
    def run_report(
        request: Request,
        name: Annotated[str, Path(max_length=255)],
        token: Reader,
        format: Annotated[
            str | None,
            Query(
                max_length=64, description="table, csv, json, markdown, xlsx, html, or a plugin's"
            ),
        ] = None,
        lang: Lang = None,
        option: Annotated[list[str], Query(description="KEY=VALUE")] = [],  # noqa: B006
        now: Annotated[str | None, Query(max_length=40)] = None,
        status: Annotated[list[Status], Query()] = [],  # noqa: B006
        channel: Annotated[list[Channel], Query()] = [],  # noqa: B006
        label: Annotated[list[str], Query(description="SCHEME=LABEL")] = [],  # noqa: B006
        department: Annotated[str | None, Query(max_length=255)] = None,
        product: Annotated[str | None, Query(max_length=255)] = None,
        since: Annotated[str | None, Query(max_length=40)] = None,
        until: Annotated[str | None, Query(max_length=40)] = None,
        open: Annotated[bool, Query()] = False,
        tag: Annotated[
            list[Annotated[str, Query(max_length=255)]],
            Query(description="Carrying this tag (repeatable: all of them)"),
        ] = [],  # noqa: B006
        custom: Annotated[
            list[Annotated[str, Query(max_length=2000)]],
            Query(description="KEY=VALUE: custom field KEY is VALUE (repeatable: all of them)"),
        ] = [],  # noqa: B006
    ) -> Response:
        reporters = host.reporters()
        if name not in reporters:
            raise ApiProblem(
                404, "not-found", f"unknown report {name!r}; reports: " + ", ".join(reporters)
            )
        fmt = format or _negotiate(request.headers.get("accept"))
        formats = host.report_formats()
        if fmt not in formats:
            raise ApiProblem(
                406 if format is None else 400,
                "bad-format",
                f"unknown report format {fmt!r}; formats: " + ", ".join(formats),
            )
        options: dict[str, str] = {}
        for item in option:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise ApiProblem(400, "bad-parameter", f"option: {item!r} is not KEY=VALUE")
            options[key.strip()] = value.strip()
        reporter = reporters[name]
        check_options(reporter, options)
        when = queries.parse_when(now, tz, "now") if now else None
        flt = queries.build_filter(
            host,
            tz,
            statuses=status,
            channels=channel,
            labels=label,
            department=department,
            product=product,
            since=since,
            until=until,
            open_only=open,
            tags=tag,
            custom=custom,
            now=datetime.now(tz),
        )
        desk = service.desk(token)
        language = lang or _language(request.headers.get("accept-language")) or service.lang
        context = desk.report_context(lang=language, options=options, now=when)
        report = reporter.run(service.store(), flt, context)
        renderer = formats[fmt]
        rendered = renderer.render(report, language)
        media = REPORT_MEDIA_TYPES.get(fmt) or (
            "application/octet-stream" if renderer.binary else "text/plain"
        )
        if isinstance(rendered, str):
            text_media = media if media.startswith("application/") else f"{media}; charset=utf-8"
            return Response(rendered.encode("utf-8"), media_type=text_media)
        return Response(rendered, media_type=media)

    # --- listings -----------------------------------------------------------------------

    @app.get(
        "/schemes",
        tags=["listings"],
        summary="Classification schemes and their labels (complaintkit schemes --format json)",
        responses={
            200: {
                "description": "Schemes",
                "content": {
                    "application/json": {"schema": {"type": "array", "items": {"type": "object"}}}
                },
            },
            **COMMON,
        },
        response_class=Response,
    )
    def schemes(token: Reader) -> Response:
        return _json(scheme_records(host))

    @app.get(
        "/plugins",
        tags=["listings"],
        summary="Installed plugins (complaintkit plugins --format json)",
        responses={
            200: {
                "description": "Plugins",
                "content": {
                    "application/json": {"schema": {"type": "array", "items": {"type": "object"}}}
                },
            },
            **COMMON,
        },
        response_class=Response,
    )
    def plugins(token: Annotated[Token, Depends(may("plugins"))]) -> Response:
        return _json(plugin_records(host, host.failures))

    # --- tokens -------------------------------------------------------------------------

    token_schema = {"type": "object", "required": ["name", "role", "created_at", "hash_prefix"]}

    @app.get(
        "/tokens",
        tags=["tokens"],
        summary="Tokens, without secrets (complaintkit token list --format json)",
        responses={
            200: {
                "description": "Tokens",
                "content": {
                    "application/json": {"schema": {"type": "array", "items": token_schema}}
                },
            },
            **COMMON,
        },
        response_class=Response,
    )
    def list_tokens(token: Annotated[Token, Depends(may("tokens"))]) -> Response:
        return _json([t.record() for t in service.tokens().list()])

    @app.post(
        "/tokens",
        status_code=201,
        tags=["tokens"],
        summary="Create a token; the answer holds its secret, shown only now",
        responses={
            201: {
                "description": "The token and its secret",
                "content": {
                    "application/json": {
                        "schema": {**token_schema, "properties": {"secret": {"type": "string"}}}
                    }
                },
            },
            **COMMON,
        },
        response_class=Response,
    )
    def create_token(body: TokenBody, token: Annotated[Token, Depends(may("tokens"))]) -> Response:
        created, secret = service.tokens().create(body.name, body.role)
        return _json({**created.record(), "secret": secret}, 201)

    @app.delete(
        "/tokens/{name}",
        tags=["tokens"],
        summary="Revoke a token (complaintkit token revoke)",
        responses={
            200: {
                "description": "The revoked token",
                "content": {"application/json": {"schema": token_schema}},
            },
            **ONE,
        },
        response_class=Response,
    )
    def revoke_token(
        name: Annotated[str, Path(max_length=64)],
        token: Annotated[Token, Depends(may("tokens"))],
    ) -> Response:
        try:
            revoked = service.tokens().revoke(name)
        except TokenError:  # revoke's only refusal: no token by that name
            raise ApiProblem(404, "not-found", f"no token named {name!r}") from None
        return _json(revoked.record())

    return app


_ACCEPTED = {media: name for name, media in REPORT_MEDIA_TYPES.items()}


def _negotiate(accept: str | None) -> str:
    """The report format an Accept header asks for (JSON when any or none)."""
    if not accept:
        return "json"
    choices = []
    for position, part in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        choices.append((-quality, position, media.lower()))
    for quality, _, media in sorted(choices):
        if quality == 0:
            break
        if media in _ACCEPTED:
            return _ACCEPTED[media]
        if media in ("*/*", "application/*"):
            return "json"
        if media == "text/*":
            return "table"
    return accept.split(",")[0].split(";")[0].strip() or "json"


def _language(accept_language: str | None) -> str | None:
    """``zh`` or ``en`` when Accept-Language starts with one of them."""
    if not accept_language:
        return None
    first = accept_language.split(",")[0].strip().lower()
    if first.startswith("zh"):
        return "zh"
    if first.startswith("en"):
        return "en"
    return None
