"""The languages the toolkit words its findings in, in a module that imports nothing, so that the
evidence report reads them without loading the detectors."""

from __future__ import annotations

__all__ = ["LANGUAGES"]

#: English (the records' and the terminal's language) and Chinese (the regulator's report's default).
LANGUAGES: tuple[str, ...] = ("en", "zh")
