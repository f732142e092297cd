"""Text read from JSON that cannot be kept: a lone surrogate escape.

JSON allows ``"\\ud800"``, half of a UTF-16 surrogate pair, with nothing after it; Python
decodes it to a string that no UTF-8 file or SQLite text column can hold, so storing it
fails later, far from the line that carried it. Readers of JSONL files check each line's
value with ``unpaired_surrogate`` and name the line instead.
"""

from __future__ import annotations

import json
from typing import Any

SURROGATE_PROBLEM = (
    'holds an escape such as "\\ud800" that is half of a surrogate pair, not a character: '
    "fix or remove it"
)


def unpaired_surrogate(value: Any) -> bool:
    """Whether ``value`` (as ``json.loads`` returns it) holds a string that is not valid
    Unicode text (a lone surrogate) anywhere, keys included."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
