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
- :class:`EmptyParcelDetector`: batches of orders at a shop whose parcels are light, confirmed
  at once or tracked outside the shop's own label batches (空包裹).
- :class:`MutualBrushingDetector`: shops whose buyers are one person's linked accounts and whose
  credit codes or names show one operator (互刷).
- :class:`RatingAnomalyDetector`: shops whose ratings over a few days shift away from their
  own history, and the accounts behind the shift (a promotion, or a one-star attack on the shop).
- :class:`ReturningBuyerDetector`: small shops whose new customers of a few weeks keep coming
  back far more than the shop's history and shops like it explain (careful one-shop rings).
- :class:`ReviewTextDetector`: near-duplicate review texts posted by many accounts at the
  shops they promote, far beyond what the export's language and the shops' shares explain.
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
from antifraud.detectors.empty_parcels import EmptyParcelDetector
from antifraud.detectors.ensemble import DETECTORS, BrushingEnsemble, Ring
from antifraud.detectors.groups import AccountGroup
from antifraud.detectors.identity_communities import IdentityCommunityDetector
from antifraud.detectors.lockstep import LockstepDetector, ReviewBurstDetector
from antifraud.detectors.mutual_brushing import MutualBrushingDetector
from antifraud.detectors.promoted_shops import PromotedShopDetector
from antifraud.detectors.rating_anomalies import RatingAnomalyDetector
from antifraud.detectors.returning_buyers import ReturningBuyerDetector
from antifraud.detectors.review_scores import ReviewScorer
from antifraud.detectors.review_texts import ReviewTextDetector
from antifraud.schema import missing_columns

__all__ = [
    "DETECTORS",
    "AccountGroup",
    "AccountTakeoverDetector",
    "BrushingEnsemble",
    "DenseBlock",
    "DenseBlockDetector",
    "Detector",
    "EmptyParcelDetector",
    "IdentityCommunityDetector",
    "LockstepDetector",
    "MutualBrushingDetector",
    "PromotedShopDetector",
    "RatingAnomalyDetector",
    "ReturningBuyerDetector",
    "ReviewBurstDetector",
    "ReviewScorer",
    "ReviewTextDetector",
    "Ring",
    "configure",
    "load_config",
    "missing_columns",
]
