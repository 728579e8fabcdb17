"""Message templates: per event, channel type and language; shipped in zh and en.

A template is found, for rule template ``T``, channel type ``C`` and language ``L``, as the
first of ``L/T.C.txt`` and ``L/T.txt`` in the configured ``[notifications] templates`` folder,
then in the templates shipped with this plugin. A template may start with a ``Subject:`` line
followed by a blank line. An e-mail template may have an HTML twin ``L/T.email.html``, rendered
with HTML escaping of every variable (complaint text included).

Templates run in Jinja2's :class:`~jinja2.sandbox.SandboxedEnvironment` with
:class:`~jinja2.StrictUndefined`. When the configuration is loaded every template a rule can
use is parsed and every variable it reads is checked against what its event provides, so a
misspelt ``{{ complaint.titel }}`` is an error naming the file and line, never a missing mail.
A template is one self-contained file: ``{% include %}``, ``{% extends %}`` and ``{% import %}``
are refused at load time. Anything that still fails while rendering (a huge ``range``, a
``format_map`` on a missing key, a loop that runs past :data:`TIME_LIMIT` or writes past
:data:`MAX_CHARS`) is a :class:`~complaintkit.ConfigError` naming the file, which the notifier
turns into a dead message with that reason.
"""

from __future__ import annotations

import contextvars
import signal
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import jinja2
from jinja2 import nodes
from jinja2.sandbox import SandboxedEnvironment, safe_range

from complaintkit import ConfigError

__all__ = [
    "MAX_CHARS",
    "SHIPPED",
    "TIME_LIMIT",
    "RenderLimitError",
    "Rendered",
    "Template",
    "TemplateSet",
    "event_schema",
]

SHIPPED = Path(__file__).parent / "templates"

#: A schema maps variable names to their fields (a nested schema) or to None (any value).
Schema = Mapping[str, Any]

_PARTY = {"name": None, "phone": None, "email": None, "customer_id": None}
_LEVEL = {"slug": None, "name": None}
COMPLAINT: Schema = {
    "reference": None,
    "title": None,
    "text": None,
    "summary": None,
    "status": None,
    "status_name": None,
    "channel": None,
    "channel_name": None,
    "complainant": _PARTY,
    "product": None,
    "order": None,
    "department": None,
    "assignee": None,
    "level": None,
    "level_name": None,
    "labels": None,
    "received_at": None,
    "due_at": None,
    "solution": None,
    "satisfaction": None,
    "parent": None,
    "recomplaint_count": None,
}
_LABEL = {"scheme": None, "label": None, "name": None, "confidence": None}
_COMMON: Schema = {
    "complaint": COMPLAINT,
    "event": None,
    "event_name": None,
    "recipient": {"kind": None, "name": None, "address": None},
    "lang": None,
}
_TRANSITION = {"action": None, "reason": None, "actor": None, "at": None}
_SLA = {"target": None, "target_name": None, "deadline": None}
_EXTRA: dict[str, Schema] = {
    "received": {},
    "acknowledged": _TRANSITION,
    "classified": {"label": _LABEL, "previous": _LABEL},
    "escalated": {"from_level": _LEVEL, "to_level": _LEVEL, "reason": None, "at": None},
    "sla_warning": _SLA,
    "sla_breach": _SLA,
    "resolved": _TRANSITION,
    "closed": {"satisfaction": None, "at": None},
    "recomplaint": {"previous": COMPLAINT},
}


#: What a ``spike`` template knows: the warning (see ``SpikeWarning.as_data``).
WARNING: Schema = {
    "id": None,
    "dimension": None,
    "dimension_name": None,
    "value": None,
    "value_name": None,
    "period": None,
    "period_start": None,
    "observed": None,
    "expected": None,
    "upper": None,
    "method": None,
    "method_name": None,
}


def event_schema(event: str) -> Schema:
    """The variables a template for ``event`` may use."""
    if event == "spike":
        return {**{k: v for k, v in _COMMON.items() if k != "complaint"}, "warning": WARNING}
    return {**_COMMON, **_EXTRA[event]}


@attrs.frozen
class Rendered:
    """A rendered message: subject (if the template has one), text, and HTML (if any)."""

    subject: str | None
    body: str
    html: str | None = None


def _split_subject(source: str) -> tuple[str | None, str, int]:
    """(subject source, body source, line offset of the body)."""
    if source.startswith("Subject:"):
        head, sep, body = source.partition("\n\n")
        if sep:
            return head[len("Subject:") :].strip(), body, head.count("\n") + 2
        return head[len("Subject:") :].strip(), "", 1
    return None, source, 0


@attrs.frozen
class Template:
    """One compiled template file (subject and body), checked against its event."""

    path: Path
    subject: jinja2.Template | None
    body: jinja2.Template
    html: jinja2.Template | None

    def render(self, variables: Mapping[str, Any]) -> Rendered:
        """Render within :data:`TIME_LIMIT` and :data:`MAX_CHARS` (a runaway loop is this
        template's failure, not a hung notifier); an error names the template file."""
        try:
            with _budget():
                subject = _render(self.subject, variables).strip() if self.subject else None
                body = _render(self.body, variables)
                html = _render(self.html, variables) if self.html else None
        except Exception as exc:  # noqa: BLE001 - a template is user code: any failure is its own
            # The sandbox raises plain Python errors too (OverflowError for a huge range,
            # KeyError from str.format_map, ZeroDivisionError, ...); each one is this template's
            # failure, reported with its file so the message is queued dead with the reason.
            raise ConfigError(f"{self.path}: {type(exc).__name__}: {exc}") from None
        return Rendered(subject, body.strip() + "\n", html)


#: The longest a message may be: anything longer is a template's mistake (a runaway loop).
MAX_CHARS = 200_000
#: The longest rendering one message may take, in seconds.
TIME_LIMIT = 2.0


class RenderLimitError(RuntimeError):
    """A template went over :data:`TIME_LIMIT` or :data:`MAX_CHARS` while rendering."""


_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "complaintkit_render_deadline", default=None
)


def _over_time() -> RenderLimitError:
    return RenderLimitError(f"rendering took longer than {TIME_LIMIT:g} s (a runaway loop?)")


def _check_time() -> None:
    deadline = _deadline.get()
    if deadline is not None and time.monotonic() > deadline:
        raise _over_time()


@contextmanager
def _budget() -> Iterator[None]:
    """Render inside a deadline of :data:`TIME_LIMIT`: checked at every piece of output and
    every 1,024 steps of a ``range``, and, in the main thread, by a timer signal too, so that
    even a loop that writes nothing over a long text is stopped."""
    token = _deadline.set(time.monotonic() + TIME_LIMIT)
    alarm = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    previous: Any = None
    if alarm:

        def on_alarm(_signum: int, _frame: Any) -> None:
            raise _over_time()

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT)
    try:
        yield
    finally:
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        _deadline.reset(token)


def _render(template: jinja2.Template, variables: Mapping[str, Any]) -> str:
    """The template's output, piece by piece, stopped at :data:`MAX_CHARS` or the deadline."""
    parts: list[str] = []
    size = 0
    for piece in template.generate(variables):
        size += len(piece)
        if size > MAX_CHARS:
            raise RenderLimitError(
                f"the message would be longer than {MAX_CHARS:,} characters (a runaway loop?)"
            )
        _check_time()
        parts.append(piece)
    return "".join(parts)


class _TimedRange:
    """The sandbox's ``range`` (at most 100,000 numbers, refused at once when bigger), minding
    the render deadline as it is walked: nested loops over ranges that write nothing are
    stopped too. It has a length, like the ``range`` it stands for."""

    def __init__(self, *args: int) -> None:
        self.numbers = safe_range(*args)

    def __len__(self) -> int:
        return len(self.numbers)

    def __contains__(self, value: object) -> bool:
        return value in self.numbers

    def __iter__(self) -> Iterator[int]:
        for step, number in enumerate(self.numbers):
            if not step & 1023:
                _check_time()
            yield number


def when(value: str | None) -> str:
    """The ``when`` filter: an ISO instant as ``2025-10-09 17:30 (UTC+08:00)``, in the offset
    the instant carries (the configured time zone's, for deadlines the desk computed)."""
    if not value:
        return "-"
    try:
        instant = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return str(value)
    offset = instant.utcoffset()
    if offset is None or not offset:
        zone = "UTC"
    else:
        minutes = int(offset.total_seconds()) // 60
        sign = "+" if minutes >= 0 else "-"
        zone = f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return f"{instant:%Y-%m-%d %H:%M} ({zone})"


def _environment(*, html: bool) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        undefined=jinja2.StrictUndefined,
        autoescape=html,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = when
    env.globals["range"] = _TimedRange
    return env


class TemplateSet:
    """Finds, checks and caches templates (user folder first, then the shipped ones)."""

    def __init__(self, user_dir: Path | None) -> None:
        self.dirs = [d for d in (user_dir, SHIPPED) if d is not None]
        self.text_env = _environment(html=False)
        self.html_env = _environment(html=True)
        self._cache: dict[tuple[str, str, str, str], Template] = {}

    def find(self, name: str, channel_type: str, lang: str) -> Path | None:
        """The file for template ``name`` on ``channel_type`` in ``lang``, or None."""
        for folder in self.dirs:
            for candidate in (f"{name}.{channel_type}.txt", f"{name}.txt"):
                path = folder / lang / candidate
                if path.is_file():
                    return path
        return None

    def _find_html(self, name: str, lang: str) -> Path | None:
        for folder in self.dirs:
            path = folder / lang / f"{name}.email.html"
            if path.is_file():
                return path
        return None

    def get(self, name: str, event: str, channel_type: str, lang: str) -> Template:
        """The checked template (a missing or broken one is a ConfigError naming it)."""
        key = (name, event, channel_type, lang)
        found = self._cache.get(key)
        if found is not None:
            return found
        path = self.find(name, channel_type, lang)
        if path is None:
            looked = ", ".join(
                str(folder / lang / f"{name}[.{channel_type}].txt") for folder in self.dirs
            )
            raise ConfigError(
                f"no template {name!r} for {channel_type} in {lang}; looked for {looked}"
            )
        schema = event_schema(event)
        subject_src, body_src, offset = _split_subject(self._read(path))
        subject = (
            self._compile(self.text_env, subject_src, path, 0, schema) if subject_src else None
        )
        body = self._compile(self.text_env, body_src, path, offset, schema)
        html = None
        if channel_type == "email":
            html_path = self._find_html(name, lang)
            if html_path is not None:
                html = self._compile(self.html_env, self._read(html_path), html_path, 0, schema)
        template = self._cache[key] = Template(path, subject, body, html)
        return template

    @staticmethod
    def _read(path: Path) -> str:
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read the template: {exc}") from None

    @staticmethod
    def _compile(
        env: SandboxedEnvironment, source: str, path: Path, offset: int, schema: Schema
    ) -> jinja2.Template:
        try:
            tree = env.parse(source)
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigError(f"{path}:{(exc.lineno or 0) + offset}: {exc.message}") from None
        _check_self_contained(tree, path, offset)
        _check_variables(tree, path, offset, schema)
        try:
            return env.from_string(tree)
        except jinja2.TemplateError as exc:
            line = getattr(exc, "lineno", None)
            where = f"{path}:{line + offset}" if line else str(path)
            raise ConfigError(f"{where}: {exc}") from None


#: Tags that load another template. Templates are compiled from their own text, with no loader,
#: so these could only fail when a message is rendered; they are refused when loading instead.
_LOADING_TAGS: dict[type[nodes.Node], str] = {
    nodes.Extends: "extends",
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "from … import",
}


def _check_self_contained(tree: nodes.Template, path: Path, offset: int) -> None:
    for kind, tag in _LOADING_TAGS.items():
        for node in tree.find_all(kind):
            raise ConfigError(
                f"{path}:{node.lineno + offset}: {{% {tag} %}} is not supported: a notification "
                "template is one self-contained file; copy the text in, or define a "
                "{% macro %} in this file"
            )


def _check_variables(tree: nodes.Template, path: Path, offset: int, schema: Schema) -> None:
    assigned = {node.name for node in tree.find_all(nodes.Name) if node.ctx in ("store", "param")}
    allowed = set(schema) | assigned
    for node in tree.find_all(nodes.Name):
        if node.ctx == "load" and node.name not in allowed and node.name not in ("loop", "range"):
            close = _close(node.name, allowed)
            raise ConfigError(
                f"{path}:{node.lineno + offset}: unknown variable {node.name!r}{close}; "
                f"this event provides {', '.join(sorted(schema))}"
            )
    for getattr_node in tree.find_all(nodes.Getattr):
        chain: list[str] = []
        current: nodes.Node = getattr_node
        while isinstance(current, nodes.Getattr):
            chain.append(current.attr)
            current = current.node
        if not isinstance(current, nodes.Name) or current.name in assigned:
            continue
        fields: Any = schema.get(current.name)
        dotted = current.name
        for attr in reversed(chain):
            if not isinstance(fields, Mapping):
                break
            if attr not in fields:
                close = _close(attr, set(fields))
                raise ConfigError(
                    f"{path}:{getattr_node.lineno + offset}: {dotted} has no field {attr!r}"
                    f"{close}; "
                    f"fields: {', '.join(sorted(fields))}"
                )
            fields = fields[attr]
            dotted += f".{attr}"


def _close(name: str, options: set[str]) -> str:
    import difflib

    found = difflib.get_close_matches(name, sorted(options), n=1)
    return f" (did you mean {found[0]!r}?)" if found else ""
