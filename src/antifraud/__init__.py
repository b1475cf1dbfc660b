"""antifraud: find brushing (刷单炒信) in e-commerce exports and share findings with an alliance.

Data flows one way: export -> validated canonical tables (:mod:`antifraud.ingest`) -> graphs ->
features -> detectors -> findings -> records, feeds and evidence bundles. Synthetic exports with
ground truth come from :mod:`antifraud.synth`.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("antifraud")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
