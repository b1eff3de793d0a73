"""Domain errors: raised by services, shown to people as the Chinese message they carry."""


class DomainError(Exception):
    """A rule of the domain was broken; ``message`` is a specific, actionable Chinese sentence."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class TransitionNotAllowed(DomainError):
    """The action is not allowed from the case's current state."""


class PermissionDenied(DomainError):
    """The user may see the case but may not perform this action (role or unit)."""


class ConcurrentChange(DomainError):
    """Another user changed the case first; the conditional UPDATE matched no row."""


class IdempotencyConflict(DomainError):
    """The submission key belongs to another registration (another clerk or office)."""
