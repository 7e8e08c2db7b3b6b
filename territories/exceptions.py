"""Errors that services raise and that the API and pages turn into answers."""


class Conflict(Exception):
    """The record changed under the caller (already picked up, already cancelled...): HTTP 409."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
