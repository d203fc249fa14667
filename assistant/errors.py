"""The core's exception: a French message for users, an HTTP status for the web layer."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["OrientiaError", "NotFound", "BadRequest", "NotReady", "StorageFull", "DatabaseUnavailable", "storage_error", "storage_errors_said"]


class OrientiaError(Exception):
    """An error a user may see: ``message`` is French, ``log_message`` English."""

    status_code = 400

    def __init__(self, message: str, *, log_message: str | None = None) -> None:
        super().__init__(log_message or message)
        self.message = message


class NotFound(OrientiaError):
    status_code = 404


class BadRequest(OrientiaError):
    status_code = 422


class NotReady(OrientiaError):
    status_code = 503


class StorageFull(NotReady):
    """The data folder's disk (or the database's) is full: nothing was changed by the failed write."""

    retry_after = 60

    def __init__(self) -> None:
        super().__init__(
            "Espace disque insuffisant pour enregistrer : l'opération n'a pas eu lieu et rien n'a "
            "été perdu (un import laisse la version précédente de l'index en service). Libérez de "
            "la place dans le dossier de données, puis réessayez.",
            log_message="no space left for the data folder or the database",
        )


class DatabaseUnavailable(NotReady):
    """The database server cannot be reached (stopped, restarting, network).

    At start, after the retries, ``message`` names the host (never the password); while serving,
    the default message is the one users see.
    """

    retry_after = 5

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message or "La base de données est momentanément indisponible. Réessayez dans quelques secondes.",
            log_message="database unreachable",
        )


_DISK_FULL_WORDS = ("database or disk is full", "no space left on device", "could not extend file")


@contextlib.contextmanager
def storage_errors_said() -> Iterator[None]:
    """Re-raise a storage failure (full disk, database down) as its French error; others pass."""
    try:
        yield
    except OrientiaError:
        raise
    except Exception as exc:
        said = storage_error(exc)
        if said is None:
            raise
        raise said from exc


def storage_error(exc: BaseException) -> OrientiaError | None:
    """The user-facing error for a storage failure anywhere in ``exc``'s chain, or None.

    A full disk (``ENOSPC``, SQLite's "database or disk is full", PostgreSQL's ``DiskFull``) and a
    database connection lost or refused are said in French; any other error is not ours to name.
    """
    import errno

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OrientiaError):
            return seen
        text = str(seen).lower()
        if (isinstance(seen, OSError) and seen.errno == errno.ENOSPC) or type(seen).__name__ == "DiskFull":
            return StorageFull()
        if any(words in text for words in _DISK_FULL_WORDS):
            return StorageFull()
        if getattr(seen, "connection_invalidated", False) or (
            type(seen).__name__ == "OperationalError"
            and type(seen).__module__.startswith(("psycopg", "sqlalchemy"))
            and "sqlite" not in text
            and any(w in text for w in ("connection", "connect", "server closed", "terminating"))
        ):
            return DatabaseUnavailable()
        seen = seen.__cause__ or seen.__context__
    return None
