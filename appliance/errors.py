"""The domain's errors, one hierarchy for every layer.

The docstring of each class is the message a person may read. `web/errors.py`
is the only place that turns them into HTTP statuses; `cli.py` is the only
place that turns them into exit codes.
"""

from __future__ import annotations


class OffenError(Exception):
    """Something went wrong."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())

    @property
    def message(self) -> str:
        return str(self)


class ConfigError(OffenError):
    """The configuration is not valid."""

    def __init__(self, problems: list[str] | str) -> None:
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


class StoreError(OffenError):
    """The database could not complete the operation."""


class MigrationError(StoreError):
    """A database migration failed; the backup taken before it is intact."""


class BadRequest(OffenError):
    """The request is malformed."""


class UnknownAccount(OffenError):
    """The account does not exist or has been retired."""


class UnknownSecret(OffenError):
    """No user secret is known for this visitor and account."""


class NotAuthenticated(OffenError):
    """You need to log in first."""


class BadCredentials(OffenError):
    """The email address or password is not correct."""


class Forbidden(OffenError):
    """You are not allowed to do this."""


class NotFound(OffenError):
    """Nothing was found here."""


class Conflict(OffenError):
    """This conflicts with data that already exists."""


class Throttled(OffenError):
    """Too many requests; try again later."""

    def __init__(self, retry_after: float, message: str | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class InvalidToken(OffenError):
    """The link is invalid or has expired."""


class MailError(OffenError):
    """The email could not be sent."""


class SecretStoreError(OffenError):
    """The secret could not be read from or written to the keyring."""


class CryptoError(OffenError):
    """A value could not be decrypted or verified."""
