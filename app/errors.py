"""Domain errors. Domain code raises these; app/web maps each kind to one HTTP status."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a user can act on; the message is safe to show them.

    ``field`` names the input to blame when there is one (a form shows the message beside it).
    """

    def __init__(self, message: str = "", *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFoundError(DomainError):
    """The thing asked for does not exist (or the caller may not know it exists)."""


class ConflictError(DomainError):
    """The request lost a race or contradicts the current state (e.g. an item already decided)."""


class PermissionDeniedError(DomainError):
    """The caller is known but their role does not allow this."""


class InvalidInputError(DomainError):
    """The input is understood but not acceptable; the message says what to change."""
