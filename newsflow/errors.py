"""Errors the CLI reports as one line (exit code 2) instead of a traceback."""


class UserError(Exception):
    """A mistake in what the user asked for: printed as one line, exit code 2, no traceback."""
