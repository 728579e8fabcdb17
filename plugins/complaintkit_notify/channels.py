"""The shipped channels: console, log, e-mail (SMTP), webhook, SMS gateway, DingTalk robot.

Each is built from its ``[notifications.channels.NAME]`` table, checking every option when the
configuration is loaded, and delivers one :class:`~complaintkit.outbox.OutboxMessage` per call,
raising :class:`~complaintkit.DeliveryError` with ``permanent`` set when retrying cannot help.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import smtplib
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr
from pathlib import Path
from typing import Any, Literal, TextIO, TypeVar

import attrs

from complaintkit import (
    Config,
    ConfigError,
    DeliveryError,
    DeliveryResult,
    InvalidSetting,
    structure_settings,
)
from complaintkit.display import terminal_safe
from complaintkit.outbox import OutboxMessage
from complaintkit.redact import redact_url, redact_urls

__all__ = [
    "ConsoleChannel",
    "DingTalkChannel",
    "EmailChannel",
    "LogChannel",
    "SmsChannel",
    "WebhookChannel",
    "build_channel",
    "message_id",
    "sign_webhook",
    "webhook_body",
]

PAYLOAD_VERSION = 1
log = logging.getLogger("complaintkit.notify")


def _http_url(_: object, __: object, value: str) -> None:
    if urllib.parse.urlsplit(value).scheme not in ("http", "https"):
        shown = repr(redact_url(value))
        raise InvalidSetting(f"must be an http:// or https:// URL, got {shown}", "url")


def _positive(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value <= 0:
        raise InvalidSetting(f"must be a positive number of seconds, got {value!r}", attribute.name)


def _address(_: object, __: object, value: str | None) -> None:
    if value is None or "@" not in parseaddr(value)[1]:
        raise InvalidSetting("must be an address such as 'Complaints <c@example.cn>'", "from")


def _a_file(_: object, __: object, value: str | None) -> None:
    if value is not None and not Path(value).is_file():
        raise InvalidSetting(f"{value} is not a file", "ca_file")


def _method(_: object, __: object, value: str) -> None:
    if value.upper() not in ("POST", "GET"):
        raise InvalidSetting(f"must be POST or GET, got {value!r}", "method")


def _placeholders(_: object, __: object, value: Mapping[str, str]) -> None:
    for key, template in value.items():
        try:
            template.format_map(_SmsFields("", "", "", "", ""))
        except (KeyError, ValueError, IndexError) as exc:
            raise InvalidSetting(
                f"bad placeholder in {template!r}: {exc}", ("params", key)
            ) from None


@attrs.frozen
class _ConsoleOptions:
    kind: str = attrs.field(metadata={"key": "type"})


@attrs.frozen
class _LogOptions(_ConsoleOptions):
    path: str | None = None


@attrs.frozen
class _EmailOptions:
    kind: str = attrs.field(metadata={"key": "type"})
    sender: str | None = attrs.field(default=None, validator=_address, metadata={"key": "from"})
    host: str = "localhost"
    port: int | None = None
    security: Literal["none", "starttls", "ssl"] = "none"
    username: str | None = None
    password: str | None = None
    password_env: str | None = None
    reply_to: str | None = None
    timeout: float = attrs.field(default=10.0, validator=_positive)
    verify: bool = True
    ca_file: str | None = attrs.field(default=None, validator=_a_file)


@attrs.frozen
class _RobotOptions:
    kind: str = attrs.field(metadata={"key": "type"})
    url: str = attrs.field(validator=_http_url)
    secret: str | None = None
    secret_env: str | None = None
    timeout: float = attrs.field(default=10.0, validator=_positive)


@attrs.frozen
class _WebhookOptions(_RobotOptions):
    headers: dict[str, str] = attrs.field(factory=dict)


@attrs.frozen
class _SmsOptions:
    kind: str = attrs.field(metadata={"key": "type"})
    url: str = attrs.field(validator=_http_url)
    method: str = attrs.field(default="POST", validator=_method)
    format: Literal["form", "json"] = "form"
    params: dict[str, str] = attrs.field(
        factory=lambda: {"to": "{recipient}", "text": "{body}"}, validator=_placeholders
    )
    username: str | None = None
    password: str | None = None
    password_env: str | None = None
    token: str | None = None
    token_env: str | None = None
    token_header: str = "Authorization"
    timeout: float = attrs.field(default=10.0, validator=_positive)
    success_field: str | None = None
    success_value: Any = None


_O = TypeVar("_O")


def _options(name: str, where: str, table: Mapping[str, Any], cls: type[_O]) -> _O:
    """The options of channel ``name`` (``where``: the configuration file) as a ``cls``."""
    return structure_settings(table, cls, where=where, path=f"notifications.channels.{name}")


def _secret(
    name: str, where: str, options: object, key: str, *, required: bool = False
) -> str | None:
    """A secret given inline (``key``) or through an environment variable (``key_env``)."""
    at = f"{where}: notifications.channels.{name}"
    value, variable = getattr(options, key), getattr(options, f"{key}_env")
    if value is not None and variable is not None:
        raise ConfigError(f"{at}: give {key} or {key}_env, not both")
    if variable is not None:
        value = os.environ.get(variable)
        if value is None:
            raise ConfigError(f"{at}.{key}_env: environment variable {variable} is not set")
    if value is None and required:
        raise ConfigError(f"{at}: {key} (or {key}_env) is missing")
    return value  # type: ignore[no-any-return]


class ConsoleChannel:
    """Prints each message (for trying rules out, and for cron logs)."""

    address_kind = "name"

    def __init__(self, name: str, stream: TextIO | None = None) -> None:
        self.name = name
        self.description = "prints messages on standard output"
        self.stream = stream

    def send(self, message: OutboxMessage) -> DeliveryResult:
        stream = self.stream or sys.stdout
        head = f"[{message.channel}] to {message.recipient}"
        if message.subject:
            head += f": {message.subject}"
        # The message quotes the complaint: printed without anything a terminal would act on.
        stream.write(terminal_safe(f"{head}\n{message.body}\n"))
        stream.flush()
        return DeliveryResult("printed")


class LogChannel:
    """Appends each message as one JSON line to a file, or logs it (logger complaintkit.notify)."""

    address_kind = "name"

    def __init__(self, name: str, path: Path | None) -> None:
        self.name = name
        self.path = path
        self.description = f"appends JSON lines to {path}" if path else "logs messages"

    def send(self, message: OutboxMessage) -> DeliveryResult:
        line = json.dumps(
            {
                "key": message.key,
                "event": message.event,
                "reference": message.reference,
                "recipient": message.recipient,
                "subject": message.subject,
                "body": message.body,
            },
            ensure_ascii=False,
        )
        if self.path is None:
            log.info("%s", line)
            return DeliveryResult("logged")
        try:
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        except OSError as exc:
            raise DeliveryError(f"cannot write {self.path}: {exc}", permanent=False) from None
        return DeliveryResult(f"appended to {self.path}")


def message_id(key: str, sender: str) -> str:
    """A stable Message-ID from the outbox key: a retried mail carries the same one."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    domain = parseaddr(sender)[1].rpartition("@")[2] or "complaintkit.invalid"
    return f"<{digest}@{domain}>"


class EmailChannel:
    """E-mail over SMTP: plain, STARTTLS or SSL, with optional login.

    Options: ``host``, ``port`` (25/587/465 by security), ``security`` (none, starttls, ssl),
    ``username``, ``password``/``password_env``, ``from``, ``reply_to``, ``timeout``,
    ``verify`` (check the server certificate, default true), ``ca_file`` (trust this CA or
    self-signed certificate in addition to the system's).
    """

    address_kind = "email"

    def __init__(self, name: str, where: str, table: Mapping[str, Any]) -> None:
        options = _options(name, where, table, _EmailOptions)
        self.name = name
        self.host = options.host
        self.security = options.security
        self.port = options.port or {"none": 25, "starttls": 587, "ssl": 465}[self.security]
        self.username = options.username
        self.password = _secret(
            name, where, options, "password", required=self.username is not None
        )
        self.sender = str(options.sender)
        self.reply_to = options.reply_to
        self.timeout = options.timeout
        self.verify = options.verify
        self.ca_file = options.ca_file
        self.description = f"e-mail through {self.host}:{self.port} ({self.security})"

    def _context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.ca_file is not None:
            context.load_verify_locations(self.ca_file)
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def build(self, message: OutboxMessage) -> EmailMessage:
        """The MIME message for ``message`` (UTF-8; HTML alternative when rendered)."""
        mail = EmailMessage()
        name, address = parseaddr(self.sender)
        mail["From"] = formataddr((name, address)) if name else address
        mail["To"] = message.recipient
        mail["Subject"] = message.subject or message.event
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = message_id(message.key, self.sender)
        mail["X-Complaintkit-Key"] = message.key
        if message.reference:
            mail["X-Complaintkit-Reference"] = message.reference
        if self.reply_to:
            mail["Reply-To"] = self.reply_to
        mail.set_content(message.body, charset="utf-8")
        html = message.payload.get("html")
        if isinstance(html, str):
            mail.add_alternative(html, subtype="html", charset="utf-8")
        return mail

    def send(self, message: OutboxMessage) -> DeliveryResult:
        mail = self.build(message)
        try:
            client: smtplib.SMTP
            if self.security == "ssl":
                client = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=self._context()
                )
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with client:
                if self.security == "starttls":
                    client.starttls(context=self._context())
                if self.username is not None:
                    client.login(self.username, self.password or "")
                refused = client.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            detail = "; ".join(
                f"{r}: {c} {m.decode(errors='replace')}" for r, (c, m) in exc.recipients.items()
            )
            raise DeliveryError(
                f"recipient refused: {detail}", permanent=all(c >= 500 for c in codes)
            ) from None
        except smtplib.SMTPResponseException as exc:
            text = (
                exc.smtp_error.decode(errors="replace")
                if isinstance(exc.smtp_error, bytes)
                else str(exc.smtp_error)
            )
            raise DeliveryError(
                f"SMTP {exc.smtp_code} {text}", permanent=exc.smtp_code >= 500
            ) from None
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            raise DeliveryError(
                f"SMTP {self.host}:{self.port}: {type(exc).__name__}: {exc}", permanent=False
            ) from None
        if refused:
            raise DeliveryError(f"recipient refused: {refused}", permanent=True)
        return DeliveryResult(f"accepted by {self.host}:{self.port} as {mail['Message-ID']}")


def _host(url: str) -> str:
    """The host (and port) of ``url``, without the user name and password it may carry."""
    return urllib.parse.urlsplit(url).netloc.rpartition("@")[2]


def _http(request: urllib.request.Request, timeout: float, what: str) -> tuple[int, bytes]:
    """Send; 4xx (but 408/429) is permanent, 5xx, timeouts and refused connections are not."""
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        body = exc.read()[:200].decode(errors="replace")
        permanent = 400 <= exc.code < 500 and exc.code not in (408, 425, 429)
        # A gateway may echo the request URL, token and all: the stored reason must not keep it.
        raise DeliveryError(
            f"{what} answered HTTP {exc.code}: {redact_urls(body)}", permanent=permanent
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        reason_text = redact_urls(str(reason))
        raise DeliveryError(
            f"{what}: {type(reason).__name__}: {reason_text}", permanent=False
        ) from None


def header_key(key: str) -> str:
    """The outbox key as an HTTP header value: percent-encoded UTF-8 when it is not ASCII."""
    return urllib.parse.quote(key, safe=":@.<>+-_~!$&'()*,;=/")


def webhook_body(message: OutboxMessage) -> bytes:
    """The versioned JSON body: the stored payload plus the rendered message and its key."""
    body = {
        "version": PAYLOAD_VERSION,
        **{k: v for k, v in message.payload.items() if k not in ("version", "html")},
        "key": message.key,
        "message": {
            "recipient": message.recipient,
            "subject": message.subject,
            "text": message.body,
            "lang": message.lang,
        },
    }
    return json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8")


def sign_webhook(secret_value: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 over ``timestamp + "." + body`` with the shared secret."""
    mac = hmac.new(
        secret_value.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256
    )
    return "sha256=" + mac.hexdigest()


class WebhookChannel:
    """HTTP POST of the versioned JSON payload, signed with HMAC-SHA256.

    Headers: ``X-Complaintkit-Event``, ``Idempotency-Key`` (the outbox key; the same on
    every retry), ``X-Complaintkit-Timestamp`` (Unix seconds) and, with a ``secret``,
    ``X-Complaintkit-Signature: sha256=HEX`` over ``timestamp + "." + body``.
    Options: ``url``, ``secret``/``secret_env``, ``timeout``, ``headers``.
    """

    address_kind = "name"

    def __init__(
        self,
        name: str,
        where: str,
        table: Mapping[str, Any],
        clock: Callable[[], float] = time.time,
    ) -> None:
        options = _options(name, where, table, _WebhookOptions)
        self.name = name
        self.url = options.url
        self.secret = _secret(name, where, options, "secret")
        self.timeout = options.timeout
        self.headers = options.headers
        self.clock = clock
        self.description = f"signed JSON POST to {_host(self.url)}"

    def send(self, message: OutboxMessage) -> DeliveryResult:
        body = webhook_body(message)
        timestamp = str(int(self.clock()))
        headers = {
            **self.headers,
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "complaintkit-notify/1",
            "X-Complaintkit-Event": message.event,
            "Idempotency-Key": header_key(message.key),
            "X-Complaintkit-Timestamp": timestamp,
        }
        if self.secret is not None:
            headers["X-Complaintkit-Signature"] = sign_webhook(self.secret, timestamp, body)
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        status, _ = _http(request, self.timeout, f"webhook {self.name}")
        return DeliveryResult(f"HTTP {status}")


class SmsChannel:
    """An SMS gateway over HTTP with a configurable request.

    ``params`` maps the gateway's parameter names to values in which ``{recipient}``,
    ``{body}``, ``{subject}``, ``{key}`` and ``{reference}`` are replaced. ``format`` is
    ``form`` (URL-encoded) or ``json``; ``method`` POST or GET (parameters in the query).
    Authentication: ``username`` + ``password``/``password_env`` (HTTP Basic), or
    ``token``/``token_env`` sent as ``token_header`` (default ``Authorization: Bearer …``).
    ``success_field``/``success_value``: a JSON field the gateway's answer must carry.
    """

    address_kind = "phone"

    def __init__(self, name: str, where: str, table: Mapping[str, Any]) -> None:
        options = _options(name, where, table, _SmsOptions)
        self.name = name
        self.url = options.url
        self.method = options.method.upper()
        self.format = options.format
        self.params = options.params
        self.username = options.username
        self.password = _secret(
            name, where, options, "password", required=self.username is not None
        )
        self.token = _secret(name, where, options, "token")
        self.token_header = options.token_header
        self.timeout = options.timeout
        self.success_field = options.success_field
        self.success_value = options.success_value
        self.description = f"SMS gateway {_host(self.url)}"

    def send(self, message: OutboxMessage) -> DeliveryResult:
        fields = _SmsFields(
            message.recipient,
            message.body.strip(),
            message.subject or "",
            message.key,
            message.reference or "",
        )
        values = {key: value.format_map(fields) for key, value in self.params.items()}
        headers = {
            "User-Agent": "complaintkit-notify/1",
            "Idempotency-Key": header_key(message.key),
        }
        if self.username is not None:
            raw = f"{self.username}:{self.password or ''}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode("ascii")
        if self.token is not None:
            scheme = "Bearer " if self.token_header == "Authorization" else ""
            headers[self.token_header] = scheme + self.token
        url, data = self.url, None
        if self.method == "GET":
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(values)
        elif self.format == "json":
            data = json.dumps(values, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json; charset=utf-8"
        else:
            data = urllib.parse.urlencode(values).encode("ascii")
            headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
        request = urllib.request.Request(url, data=data, headers=headers, method=self.method)
        status, answer = _http(request, self.timeout, f"SMS gateway {self.name}")
        if self.success_field is not None:
            try:
                found = json.loads(answer).get(self.success_field)
            except (ValueError, AttributeError):
                found = None
            if found != self.success_value:
                text = answer[:200].decode(errors="replace")
                raise DeliveryError(
                    f"SMS gateway {self.name} refused the message: {text}",
                    permanent=True,
                )
        return DeliveryResult(f"HTTP {status}")


class _SmsFields(dict[str, str]):
    def __init__(self, recipient: str, body: str, subject: str, key: str, reference: str) -> None:
        super().__init__(
            recipient=recipient, body=body, subject=subject, key=key, reference=reference
        )

    def __missing__(self, key: str) -> str:
        raise KeyError(
            f"unknown placeholder {{{key}}}; use recipient, body, subject, key, reference"
        )


def dingtalk_sign(secret_value: str, timestamp_ms: int) -> str:
    """DingTalk's robot signature: base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}"))."""
    to_sign = f"{timestamp_ms}\n{secret_value}".encode()
    digest = hmac.new(secret_value.encode("utf-8"), to_sign, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


class DingTalkChannel:
    """A DingTalk group robot (钉钉群机器人): a markdown message, signed when ``secret`` is set.

    Options: ``url`` (the robot's webhook with ``access_token``), ``secret``/``secret_env``
    (the robot's 加签 secret), ``timeout``. Recipients that look like phone numbers are
    @-mentioned. DingTalk answers HTTP 200 with ``errcode``; 0 is success.
    """

    address_kind = "phone"

    def __init__(
        self,
        name: str,
        where: str,
        table: Mapping[str, Any],
        clock: Callable[[], float] = time.time,
    ) -> None:
        options = _options(name, where, table, _RobotOptions)
        self.name = name
        self.url = options.url
        self.secret = _secret(name, where, options, "secret")
        self.timeout = options.timeout
        self.clock = clock
        self.description = "DingTalk robot (markdown)"

    def signed_url(self) -> str:
        """The webhook URL with ``timestamp`` and ``sign`` added (when there is a secret)."""
        if self.secret is None:
            return self.url
        timestamp = int(self.clock() * 1000)
        sign = urllib.parse.quote_plus(dingtalk_sign(self.secret, timestamp))
        return f"{self.url}{'&' if '?' in self.url else '?'}timestamp={timestamp}&sign={sign}"

    def send(self, message: OutboxMessage) -> DeliveryResult:
        mobiles = [message.recipient] if message.recipient.lstrip("+").isdigit() else []
        text = message.body
        if mobiles:
            text += "\n\n" + " ".join(f"@{m}" for m in mobiles)
        body = {
            "msgtype": "markdown",
            "markdown": {"title": message.subject or message.event, "text": text},
            "at": {"atMobiles": mobiles, "isAtAll": False},
        }
        request = urllib.request.Request(
            self.signed_url(),
            data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
            headers={"Content-Type": "application/json; charset=utf-8"},
            method="POST",
        )
        _, answer = _http(request, self.timeout, f"DingTalk robot {self.name}")
        try:
            result = json.loads(answer)
        except ValueError:
            raise DeliveryError(
                f"DingTalk robot {self.name} answered {answer[:200]!r}", permanent=False
            ) from None
        code = result.get("errcode", 0)
        if code != 0:
            # 130101: sending too fast; anything else (bad token, bad signature) will not heal
            raise DeliveryError(
                f"DingTalk robot {self.name}: errcode {code} {result.get('errmsg', '')}",
                permanent=code != 130101,
            )
        return DeliveryResult("errcode 0")


def build_channel(name: str, table: Mapping[str, Any], config: Config) -> Any:
    """The channel a ``[notifications.channels.NAME]`` table describes."""
    where = config.where
    kind = table["type"]
    if kind == "console":
        _options(name, where, table, _ConsoleOptions)
        return ConsoleChannel(name)
    if kind == "log":
        path = _options(name, where, table, _LogOptions).path
        return LogChannel(name, config.resolve_path(path) if path else None)
    if kind == "email":
        return EmailChannel(name, where, table)
    if kind == "webhook":
        return WebhookChannel(name, where, table)
    if kind == "sms":
        return SmsChannel(name, where, table)
    if kind == "dingtalk":
        return DingTalkChannel(name, where, table)
    raise AssertionError(kind)  # pragma: no cover - types are checked by load_settings
