"""The one input-error type of the study: every bad file, line or value raises it."""

from __future__ import annotations

from pathlib import Path


class DataError(ValueError):
    """A problem with input data that the user can fix.

    The message always names the file (when there is one), the 1-based line number (when the problem
    is on a line) and what was expected, so that the CLI can print it without a traceback.
    """

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None) -> None:
        self.path = None if path is None else str(path)
        self.line = line
        where = ""
        if self.path is not None:
            where = self.path + (f", line {line}" if line is not None else "") + ": "
        super().__init__(where + message)
