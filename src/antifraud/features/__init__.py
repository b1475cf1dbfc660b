"""Graphs -> features: per-account and per-merchant behaviour, computed by numba kernels."""

from antifraud.features.tables import account_features, merchant_features

__all__ = ["account_features", "merchant_features"]
