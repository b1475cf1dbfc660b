"""Carriers, tracking numbers and parcel weights."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["CARRIERS", "carrier_shares", "format_tracking", "tracking_serials"]

#: (name, tracking-number prefix, digits after the prefix, market share).
CARRIERS: tuple[tuple[str, str, int, float], ...] = (
    ("中通快递", "7", 13, 0.22),
    ("圆通速递", "YT", 13, 0.18),
    ("韵达快递", "43", 11, 0.17),
    ("申通快递", "77", 12, 0.12),
    ("极兔速递", "JT", 13, 0.12),
    ("顺丰速运", "SF", 13, 0.08),
    ("邮政快递包裹", "98", 11, 0.06),
    ("京东物流", "JDV", 12, 0.05),
)


def carrier_shares() -> np.ndarray:
    """Market shares of :data:`CARRIERS`, summing to 1.

    Examples
    --------
    >>> float(round(carrier_shares().sum(), 6))
    1.0
    """
    shares = np.array([c[3] for c in CARRIERS])
    return shares / shares.sum()


def tracking_serials(rng: np.random.Generator, carrier: np.ndarray) -> np.ndarray:
    """Random tracking serials with exactly the carrier's number of digits (no leading zero).

    Examples
    --------
    >>> s = tracking_serials(np.random.default_rng(0), np.array([0, 2]))
    >>> [len(str(int(v))) for v in s]
    [13, 11]
    """
    digits = np.array([c[2] for c in CARRIERS])[carrier]
    low = 10 ** (digits - 1)
    return low + (rng.random(len(carrier)) * (9 * low)).astype(np.int64)


def format_tracking(carrier: np.ndarray, serial: np.ndarray, valid: np.ndarray) -> pa.Array:
    """Tracking numbers (carrier prefix + serial); null where ``valid`` is false.

    Examples
    --------
    >>> carrier, serial = np.array([1, 0]), np.array([1234567890123, 5])
    >>> format_tracking(carrier, serial, np.array([True, False])).to_pylist()
    ['YT1234567890123', None]
    """
    prefix = pa.array([c[1] for c in CARRIERS]).take(pa.array(np.where(valid, carrier, 0)))
    number = pa.array(serial, mask=~valid).cast(pa.string())
    return pc.binary_join_element_wise(prefix, number, "")
