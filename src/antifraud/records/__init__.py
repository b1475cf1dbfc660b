"""Alliance credit records (``acr/1``): schema and validation, hash chains, lifecycle, and the
records a detection run issues.

See ``docs/credit-records.md`` for the format and the decisions taken where the specification
is silent.
"""

from antifraud.records.chain import canonical_bytes, record_hash, successor_problems
from antifraud.records.model import Record
from antifraud.records.validation import SCHEMA_VERSION, Problem, RecordError, record_problems, validate_record

__all__ = [
    "SCHEMA_VERSION",
    "Problem",
    "Record",
    "RecordError",
    "canonical_bytes",
    "record_hash",
    "record_problems",
    "successor_problems",
    "validate_record",
]
