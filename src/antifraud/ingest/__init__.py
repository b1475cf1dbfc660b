"""Export -> validated canonical tables.

>>> from antifraud.ingest import ingest, load_profile
>>> result = ingest(["orders.csv"], load_profile("generic"))  # doctest: +SKIP
"""

from antifraud.ingest.errors import InputError
from antifraud.ingest.pipeline import (
    QUARANTINE_COLUMNS,
    FileReport,
    IngestResult,
    ingest,
)
from antifraud.ingest.profiles import PROFILES, Profile, load_profile, resolve_columns
from antifraud.ingest.pseudonym import Pseudonymizer

__all__ = [
    "InputError",
    "ingest",
    "IngestResult",
    "FileReport",
    "QUARANTINE_COLUMNS",
    "PROFILES",
    "Profile",
    "load_profile",
    "resolve_columns",
    "Pseudonymizer",
]
