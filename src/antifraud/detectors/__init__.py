"""Detectors: estimators with scikit-learn conventions that score accounts and merchants.

- :class:`DenseBlockDetector`: dense account x merchant blocks (FRAUDAR greedy peeling), the
  signature of brushing rings, robust to camouflage orders at popular shops.
"""

from antifraud.detectors.dense_block import DenseBlock, DenseBlockDetector

__all__ = ["DenseBlock", "DenseBlockDetector"]
