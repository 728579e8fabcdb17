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
from typing import Any, TextIO

from complaintkit import Config, ConfigError, DeliveryError, DeliveryResult
from complaintkit.display import terminal_safe
from complaintkit.outbox import OutboxMessage
from complaintkit.redact import redact_url, redact_urls

from .settings import _unknown_keys, secret

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


def _opt(
    where: str, table: Mapping[str, Any], key: str, kind: type | tuple[type, ...], default: Any
) -> Any:
    value = table.get(key, default)
    if value is None:
        return None
    if (
        isinstance(value, bool)
        and kind is not bool
        and bool not in (kind if isinstance(kind, tuple) else (kind,))
    ):
        raise ConfigError(f"{where} {key} has the wrong type: {value!r}")
    if not isinstance(value, kind):
        raise ConfigError(f"{where} {key} has the wrong type: {value!r}")
    return value


def _timeout(where: str, table: Mapping[str, Any]) -> float:
    value = _opt(where, table, "timeout", (int, float), 10.0)
    if value <= 0:
        raise ConfigError(f"{where} timeout must be a positive number of seconds")
    return float(value)


def _url(where: str, table: Mapping[str, Any]) -> str:
    url = table.get("url")
    if not isinstance(url, str) or urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        shown = repr(redact_url(url)) if isinstance(url, str) else repr(url)
        raise ConfigError(f"{where} url must be an http:// or https:// URL, got {shown}")
    return url


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
        _unknown_keys(
            where,
            table,
            (
                "type",
                "host",
                "port",
                "security",
                "username",
                "password",
                "password_env",
                "from",
                "reply_to",
                "timeout",
                "verify",
                "ca_file",
            ),
        )
        self.name = name
        self.host = _opt(where, table, "host", str, "localhost")
        self.security = _opt(where, table, "security", str, "none")
        if self.security not in ("none", "starttls", "ssl"):
            raise ConfigError(
                f"{where} security must be none, starttls or ssl, got {self.security!r}"
            )
        default_port = {"none": 25, "starttls": 587, "ssl": 465}[self.security]
        self.port = _opt(where, table, "port", int, default_port)
        self.username = _opt(where, table, "username", str, None)
        self.password = secret(where, table, "password", required=self.username is not None)
        sender = table.get("from")
        if not isinstance(sender, str) or "@" not in parseaddr(sender)[1]:
            raise ConfigError(
                f"{where} from must be an address such as 'Complaints <c@example.cn>'"
            )
        self.sender = sender
        self.reply_to = _opt(where, table, "reply_to", str, None)
        self.timeout = _timeout(where, table)
        self.verify = _opt(where, table, "verify", bool, True)
        self.ca_file = _opt(where, table, "ca_file", str, None)
        if self.ca_file is not None and not Path(self.ca_file).is_file():
            raise ConfigError(f"{where} ca_file: {self.ca_file} is not a file")
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
        _unknown_keys(where, table, ("type", "url", "secret", "secret_env", "timeout", "headers"))
        self.name = name
        self.url = _url(where, table)
        self.secret = secret(where, table, "secret")
        self.timeout = _timeout(where, table)
        headers = table.get("headers", {})
        if not isinstance(headers, Mapping) or not all(
            isinstance(v, str) for v in headers.values()
        ):
            raise ConfigError(f"{where} headers must be a table of strings")
        self.headers = dict(headers)
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
        _unknown_keys(
            where,
            table,
            (
                "type",
                "url",
                "method",
                "format",
                "params",
                "username",
                "password",
                "password_env",
                "token",
                "token_env",
                "token_header",
                "timeout",
                "success_field",
                "success_value",
            ),
        )
        self.name = name
        self.url = _url(where, table)
        self.method = str(_opt(where, table, "method", str, "POST")).upper()
        if self.method not in ("POST", "GET"):
            raise ConfigError(f"{where} method must be POST or GET")
        self.format = _opt(where, table, "format", str, "form")
        if self.format not in ("form", "json"):
            raise ConfigError(f"{where} format must be form or json")
        params = table.get("params", {"to": "{recipient}", "text": "{body}"})
        if not isinstance(params, Mapping) or not all(isinstance(v, str) for v in params.values()):
            raise ConfigError(f"{where} params must be a table of strings")
        for key, value in params.items():
            try:
                value.format_map(_SmsFields("", "", "", "", ""))
            except (KeyError, ValueError, IndexError) as exc:
                raise ConfigError(
                    f"{where} params.{key}: bad placeholder in {value!r}: {exc}"
                ) from None
        self.params = dict(params)
        self.username = _opt(where, table, "username", str, None)
        self.password = secret(where, table, "password", required=self.username is not None)
        self.token = secret(where, table, "token")
        self.token_header = _opt(where, table, "token_header", str, "Authorization")
        self.timeout = _timeout(where, table)
        self.success_field = _opt(where, table, "success_field", str, None)
        self.success_value = table.get("success_value")
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
        _unknown_keys(where, table, ("type", "url", "secret", "secret_env", "timeout"))
        self.name = name
        self.url = _url(where, table)
        self.secret = secret(where, table, "secret")
        self.timeout = _timeout(where, table)
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
    where = f"{config.where}: [notifications.channels.{name}]"
    kind = table["type"]
    if kind == "console":
        _unknown_keys(where, table, ("type",))
        return ConsoleChannel(name)
    if kind == "log":
        _unknown_keys(where, table, ("type", "path"))
        path = table.get("path")
        if path is not None and not isinstance(path, str):
            raise ConfigError(f"{where} path must be a file path")
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
