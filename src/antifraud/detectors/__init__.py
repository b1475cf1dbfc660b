"""Detectors: estimators with scikit-learn conventions that score accounts and merchants.

- :class:`PromotedShopDetector`: shops bought together, or by suspicious accounts, far more
  than chance allows, and the rings of accounts behind them.
- :class:`DenseBlockDetector`: dense account x merchant blocks (FRAUDAR greedy peeling), the
  signature of brushing rings, robust to camouflage orders at popular shops.
- :class:`LockstepDetector`: accounts ordering from the same shops in the same short windows
  (hijacked accounts acting together).
- :class:`IdentityCommunityDetector`: communities of accounts sharing devices, IPs, phones or
  addresses that behave like one operator (account farms).
- :class:`ReviewScorer`: per-review scores from account newness and rating deviation, and
  merchant campaign scores (excess orders from throwaway accounts or co-buying accounts).
- :class:`BrushingEnsemble`: runs them, merges their rings and scores every account, merchant
  and order.
"""

from antifraud.detectors.dense_block import DenseBlock, DenseBlockDetector
from antifraud.detectors.ensemble import BrushingEnsemble, Ring
from antifraud.detectors.groups import AccountGroup
from antifraud.detectors.identity_communities import IdentityCommunityDetector
from antifraud.detectors.lockstep import LockstepDetector
from antifraud.detectors.promoted_shops import PromotedShopDetector
from antifraud.detectors.review_scores import ReviewScorer

__all__ = [
    "AccountGroup",
    "BrushingEnsemble",
    "DenseBlock",
    "DenseBlockDetector",
    "IdentityCommunityDetector",
    "LockstepDetector",
    "PromotedShopDetector",
    "ReviewScorer",
    "Ring",
]
