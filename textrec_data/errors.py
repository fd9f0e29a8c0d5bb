"""Errors a user can cause. The CLI turns them into one-line messages and exit code 2."""


class InputError(ValueError):
    """Bad user input (a path, a file's content, an option): the message names the file."""
