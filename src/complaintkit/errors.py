"""One hierarchy of errors; the CLI turns each into a clean message and an exit code."""

from __future__ import annotations

__all__ = [
    "CalendarRangeError",
    "ComplaintkitError",
    "ConfigError",
    "ConflictError",
    "DuplicateComplaintError",
    "DuplicateNameError",
    "MigrationError",
    "NotFoundError",
    "NotificationFailed",
    "PluginLoadError",
    "StorageError",
    "StoreLockedError",
    "StoreNotFoundError",
    "TransitionRejected",
    "UnknownSchemeError",
    "ValidationError",
]


class ComplaintkitError(Exception):
    """Base of every error complaintkit raises on purpose."""

    exit_code = 1


class ConfigError(ComplaintkitError):
    """The configuration (a file, an option, a URL) is wrong; the message says where."""

    exit_code = 2


class PluginLoadError(ComplaintkitError):
    """A plugin could not be imported or registered."""

    def __init__(self, plugin: str, reason: str) -> None:
        super().__init__(f"plugin {plugin!r} failed to load: {reason}")
        self.plugin = plugin
        self.reason = reason


class DuplicateNameError(ComplaintkitError):
    """Two plugins registered the same name for the same kind of thing."""

    def __init__(self, kind: str, name: str, first: str, second: str) -> None:
        super().__init__(
            f"{kind} {name!r} is registered twice: by plugin {first!r} and by plugin {second!r}; "
            f"disable one of them (COMPLAINTKIT_DISABLE_PLUGINS={second})"
        )
        self.kind = kind
        self.name = name
        self.plugins = (first, second)


class UnknownSchemeError(ComplaintkitError):
    """A classification scheme, storage URL scheme, reporter or channel name is not registered."""

    exit_code = 2


class StorageError(ComplaintkitError):
    """The store could not be read or written."""


class StoreLockedError(StorageError):
    """Another process holds the store's write lock for longer than we are willing to wait."""


class StoreNotFoundError(StorageError):
    """The store a URL names has not been created; nothing was created either.

    ``url`` is the store's URL with its path made absolute; ``how`` (may be empty) says how to
    create it, e.g. the ``complaintkit init`` command line.
    """

    exit_code = 2

    def __init__(self, url: str, how: str = "") -> None:
        super().__init__(f"store {url} does not exist" + (f"; {how}" if how else ""))
        self.url = url
        self.how = how


class ConflictError(StorageError):
    """An update was based on a stale version of a complaint; nothing was written.

    Raised by a store for one write; raised by :class:`~complaintkit.desk.Desk` only when its
    retries (see :class:`~complaintkit.retry.RetryPolicy`) are spent, with ``tries`` and
    ``seconds`` saying how many and how long.
    """

    def __init__(
        self,
        reference: str,
        expected: int,
        found: int,
        *,
        tries: int | None = None,
        seconds: float | None = None,
    ) -> None:
        if tries is None:
            message = (
                f"complaint {reference} was changed by someone else (you had version "
                f"{expected}, the store has version {found}); reload and try again"
            )
        else:
            which = "the one try" if tries == 1 else f"all {tries} tries"
            message = (
                f"complaint {reference} was changed by someone else first, on {which} over "
                f"{seconds or 0:.1f} s (the store has version {found} now); gave up. Many "
                "processes are changing it at once: try again when they have finished"
            )
        super().__init__(message)
        self.reference = reference
        self.expected = expected
        self.found = found
        self.tries = tries
        self.seconds = seconds


class NotFoundError(ComplaintkitError):
    """No complaint has the given reference."""

    def __init__(self, reference: str) -> None:
        super().__init__(f"no complaint with reference {reference!r}")
        self.reference = reference


class TransitionRejected(ComplaintkitError):
    """A lifecycle transition is not allowed from the complaint's current state; nothing changed."""


class ValidationError(ComplaintkitError):
    """Input data does not fit the model; ``problems`` lists one readable line per field."""

    def __init__(self, where: str, problems: list[str]) -> None:
        self.where = where
        self.problems = problems
        super().__init__(f"{where}: " + "; ".join(problems))


class NotificationFailed(ComplaintkitError):
    """A notification channel could not deliver a message."""


class DuplicateComplaintError(StorageError):
    """A complaint with this reference is already stored."""

    def __init__(self, reference: str) -> None:
        super().__init__(f"a complaint with reference {reference!r} is already stored")
        self.reference = reference


class CalendarRangeError(ComplaintkitError):
    """A business calendar was asked about a date outside the years it knows."""

    def __init__(self, calendar: str, day: object, first_year: int, last_year: int) -> None:
        super().__init__(
            f"calendar {calendar!r} covers only {first_year}–{last_year}; it cannot say whether "
            f"{day} is a working day (update the package behind it, or use a calendar that "
            f"covers that year)"
        )
        self.calendar = calendar
        self.day = day
        self.years = (first_year, last_year)


class ApprovalError(ComplaintkitError):
    """A remedy is worth more than the offering role may approve; nothing was recorded."""


class MigrationError(StorageError):
    """A migration between stores was refused or did not verify; the message says which records."""
