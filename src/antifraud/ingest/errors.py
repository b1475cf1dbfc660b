"""The error raised for input a user must fix: it names the file, line and column."""

from __future__ import annotations

from pathlib import Path

__all__ = ["InputError"]


class InputError(Exception):
    """An input file cannot be used as given.

    The message is one line a person can act on: ``FILE:LINE: column 'C': problem``, with the
    parts that are known.

    Examples
    --------
    >>> str(InputError("orders.csv", "the file is empty"))
    'orders.csv: the file is empty'
    >>> str(InputError("o.csv", "unterminated quoted field", line=7, column="review_text"))
    "o.csv:7: column 'review_text': unterminated quoted field"
    """

    def __init__(
        self,
        path: str | Path,
        problem: str,
        *,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        self.path = str(path)
        self.problem = problem
        self.line = line
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        col = "" if self.column is None else f"column '{self.column}': "
        return f"{where}: {col}{self.problem}"
