"""Errors the CLI reports as one line (exit code 2) instead of a traceback.

Standard library only: the CLI names them before it has loaded anything else (`newsflow.cli.main`)."""


class UserError(Exception):
    """A mistake in what the user asked for: printed as one line, exit code 2, no traceback."""


class StorageError(Exception):
    """The database cannot be opened or used; the message names the (password-masked) URL and why.

    Raised by `newsflow.storage` (which exports it too)."""
