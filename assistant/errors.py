"""Named errors with user-facing messages.

Every error the CLI or the app shows to a person is a ``ShioriError``: one line of
cause, an optional hint saying what to do, and the process exit code.
"""

from __future__ import annotations


class ShioriError(Exception):
    """Base error: ``message`` is shown to the user, ``hint`` says what to do next."""

    exit_code: int = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class UsageError(ShioriError):
    """Bad input or usage: exit code 2."""

    exit_code = 2


class CorpusError(ShioriError):
    """A document cannot be read or added, or the corpus manifest is inconsistent."""


class DocumentRejectedError(UsageError):
    """A file offered to ``shiori add`` is empty, unreadable, corrupt or a duplicate."""


class GoldFormatError(UsageError):
    """A gold Q&A file has a line that does not follow the schema."""


class IndexMissingError(ShioriError):
    """No index exists and building one is disabled."""


class IndexStaleError(ShioriError):
    """The index does not match the corpus or the settings."""


class IndexCorruptError(ShioriError):
    """An index file cannot be read."""


class EmbedderUnavailableError(ShioriError):
    """The configured embedding model cannot be loaded."""


class BackendUnavailableError(ShioriError):
    """An optional scale-out backend (Milvus, Ray) is not installed or cannot be reached."""
