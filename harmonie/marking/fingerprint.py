"""The fingerprint of a script's marking: what an import brought (R-TRUST-2).

Pure and dependency-free: the import and the migration that filled
`Script.imported_fingerprint` for existing rows both use it, so they agree.
"""

import hashlib
import json
from typing import Any


def marking_fingerprint(*, marks: Any, special_mark: Any, annotations: Any) -> str:
    """A short hash of (leaf marks, special mark, annotations).

    Leaf marks compare by value (4 and 4.0 are the same mark); annotations as JSON,
    key order ignored. Changing this function changes every stored fingerprint.
    """
    canonical = [
        {str(code): float(value) for code, value in (marks or {}).items()},
        special_mark or None,
        annotations or [],
    ]
    text = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
