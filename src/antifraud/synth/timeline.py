"""When orders happen: daily and weekly rhythms, festival rushes and lockstep waves.

Times are ``int64`` seconds since 1970-01-01 00:00 *local China time* (naive), the clock the
exports are written in, so the hour of day is simply ``t // 3600 % 24``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

__all__ = [
    "DAY",
    "HOUR",
    "MINUTE",
    "FESTIVAL_HOURS",
    "NIGHT_HOURS",
    "RHYTHM_HOURS",
    "epoch_seconds",
    "hourly_times",
    "wave_times",
]

MINUTE = 60
HOUR = 3_600
DAY = 86_400

# fmt: off
#: Relative order volume by hour of day: few orders at 3 am, peaks late morning and evening.
RHYTHM_HOURS = np.array([3.0, 1.6, 0.9, 0.5, 0.4, 0.5, 1.0, 2.0, 3.5, 5.0, 6.0, 6.2,
                         5.2, 5.0, 5.6, 5.8, 5.6, 5.2, 5.0, 6.0, 7.5, 8.5, 8.0, 5.5])
#: 双十一-style rush: the first minutes after midnight dwarf everything, then a second evening wave.
FESTIVAL_HOURS = np.array([40.0, 14.0, 4.0, 1.5, 0.8, 0.8, 1.2, 2.0, 3.0, 4.0, 4.5, 4.5,
                           4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.5, 5.0, 7.0, 9.0, 10.0, 8.0])
#: Script-driven activity between 1 and 5 am.
NIGHT_HOURS = np.array([0.0, 1.0, 2.0, 2.0, 2.0, 1.0] + [0.0] * 18)
#: Relative volume Monday..Sunday: more at weekends.
WEEKDAY = np.array([1.0, 0.96, 0.96, 0.98, 1.05, 1.3, 1.3])
# fmt: on


def epoch_seconds(day: dt.date) -> int:
    """Local midnight of ``day`` as seconds on the module's naive local clock.

    Examples
    --------
    >>> epoch_seconds(dt.date(1970, 1, 2))
    86400
    """
    return (day - dt.date(1970, 1, 1)).days * DAY


def hourly_times(
    rng: np.random.Generator,
    n: int,
    start: int,
    end: int,
    hours: np.ndarray = RHYTHM_HOURS,
    weekdays: np.ndarray = WEEKDAY,
) -> np.ndarray:
    """Draw ``n`` times in ``[start, end)`` following an hour-of-day and weekday profile.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    n : int
        Number of times to draw.
    start, end : int
        Window in local seconds; ``end > start``.
    hours : numpy.ndarray
        24 relative weights by hour of day.
    weekdays : numpy.ndarray
        7 relative weights, Monday first.

    Returns
    -------
    numpy.ndarray
        ``int64`` times, unsorted.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = hourly_times(rng, 1000, 0, 7 * DAY)
    >>> bool(((t >= 0) & (t < 7 * DAY)).all())
    True
    """
    first, last = start // HOUR, -(-end // HOUR)
    bins = np.arange(first, last, dtype=np.int64)
    weight = hours[bins % 24] * weekdays[(bins // 24 + 3) % 7]
    if weight.sum() <= 0:  # a profile with no weight in this window: fall back to uniform
        weight = np.ones(len(bins))
    chosen = bins[rng.choice(len(bins), size=n, p=weight / weight.sum())]
    times = chosen * HOUR + rng.integers(0, HOUR, size=n)
    return np.clip(times, start, end - 1)


def wave_times(
    rng: np.random.Generator,
    n: int,
    start: int,
    end: int,
    n_waves: int,
    wave_length: int,
    hours: np.ndarray = RHYTHM_HOURS,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` times packed into ``n_waves`` short waves (lockstep ordering).

    An organiser posts a task and the ring's accounts order within ``wave_length`` seconds of
    it; the wave starts themselves follow ``hours``.

    Returns
    -------
    times : numpy.ndarray
        ``int64`` order times in ``[start, end)``.
    wave : numpy.ndarray
        Wave index of every time.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t, w = wave_times(rng, 50, 0, 3 * DAY, n_waves=2, wave_length=HOUR)
    >>> sorted(set(w.tolist()))
    [0, 1]
    """
    starts = np.sort(hourly_times(rng, n_waves, start, max(start + 1, end - wave_length), hours))
    # every wave gets at least one order, the rest fall into waves at random
    wave = rng.permutation(
        np.concatenate(
            [np.arange(min(n, n_waves)), rng.integers(0, n_waves, size=max(0, n - n_waves))]
        )
    )
    times = starts[wave] + rng.integers(0, wave_length, size=n)
    return np.clip(times, start, end - 1), wave
