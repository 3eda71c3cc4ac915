"""Errors a user can cause; every interface shows the message as is (exit 1, or a 4xx page)."""


class DubanError(Exception):
    """A refused action or bad input. The message names the item, row or rule."""


class NotFound(DubanError):
    pass


class Forbidden(DubanError):
    pass


class InvalidTransition(DubanError):
    pass


class ConflictError(DubanError):
    """Someone else changed the item first; nothing of this action was applied."""


class InvalidInput(DubanError):
    pass
