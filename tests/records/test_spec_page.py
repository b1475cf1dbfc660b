"""The acr/1 specification users read (docs/acr-1.md) holds an example the toolkit accepts."""

import base64
import json
import re
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from antifraud.records.validation import record_problems
from antifraud.signing import signed_bytes

PAGE = Path(__file__).resolve().parents[2] / "docs" / "acr-1.md"


def test_the_example_record_of_the_specification_is_valid_and_signed_with_the_demonstration_key():
    example = PAGE.read_text(encoding="utf-8").split("## 10. Example", 1)[1]
    record = json.loads(re.search(r"```json\n(.*?)```", example, re.S).group(1))
    assert record_problems(record) == []
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32))).public_key()  # the page's throwaway key
    value = record["signature"]["value"]
    key.verify(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), signed_bytes(record))  # raises if not
