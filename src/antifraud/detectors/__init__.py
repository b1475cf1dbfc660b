"""Detectors: estimators with scikit-learn conventions that score accounts and merchants.

Every detector follows one contract (:class:`Detector`, ``docs/detectors.md``): ``fit`` takes a
:class:`~antifraud.features.data.DetectionData` and returns ``self``; ``required_columns`` says
what the export must hold; ``groups_`` and ``account_scores_`` (and ``merchant_scores_`` or
``order_scores_`` where meaningful) are its findings.

- :class:`PromotedShopDetector`: shops bought together, or by suspicious accounts, far more
  than chance allows, and the rings of accounts behind them.
- :class:`DenseBlockDetector`: dense account x merchant blocks (FRAUDAR greedy peeling), the
  signature of brushing rings, robust to camouflage orders at popular shops.
- :class:`LockstepDetector`: accounts ordering from the same shops in the same short windows
  (hijacked accounts acting together); :class:`ReviewBurstDetector` the same on bad reviews.
- :class:`AccountTakeoverDetector`: long-lived accounts whose devices, networks and shops change
  at once, to new ones they share with other taken-over accounts.
- :class:`IdentityCommunityDetector`: communities of accounts sharing devices, IPs, phones or
  addresses that behave like one operator (account farms).
- :class:`ReviewScorer`: per-review scores from account newness and rating deviation, and
  merchant campaign scores (excess orders from throwaway accounts or co-buying accounts).
- :class:`BrushingEnsemble`: runs them (:data:`DETECTORS` by default), merges their rings and
  scores and flags every account, merchant and order; :func:`configure` and
  :func:`load_config` set its steps and parameters from a mapping or a TOML file.
"""

from antifraud.detectors.account_takeover import AccountTakeoverDetector
from antifraud.detectors.base import Detector
from antifraud.detectors.config import configure, load_config
from antifraud.detectors.dense_block import DenseBlock, DenseBlockDetector
from antifraud.detectors.ensemble import DETECTORS, BrushingEnsemble, Ring
from antifraud.detectors.groups import AccountGroup
from antifraud.detectors.identity_communities import IdentityCommunityDetector
from antifraud.detectors.lockstep import LockstepDetector, ReviewBurstDetector
from antifraud.detectors.promoted_shops import PromotedShopDetector
from antifraud.detectors.review_scores import ReviewScorer
from antifraud.schema import missing_columns

__all__ = [
    "DETECTORS",
    "AccountGroup",
    "AccountTakeoverDetector",
    "BrushingEnsemble",
    "DenseBlock",
    "DenseBlockDetector",
    "Detector",
    "IdentityCommunityDetector",
    "LockstepDetector",
    "PromotedShopDetector",
    "ReviewBurstDetector",
    "ReviewScorer",
    "Ring",
    "configure",
    "load_config",
    "missing_columns",
]
