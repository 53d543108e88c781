"""The most common passwords (offline list, French ones included), seen through their decorations.

"Password123!", "Azerty123456!" or "M0tdepasse1!" follow the length and character rules
but are among the first guesses of any attacker: digits, punctuation and leetspeak are
stripped and the letters left compared with the list (guichet/data/common_passwords.txt).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from pathlib import Path

_LIST = Path(__file__).resolve().parent.parent / "data" / "common_passwords.txt"
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})


@functools.cache
def _words() -> frozenset[str]:
    lines = _LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(_letters(line) for line in lines if line.strip() and not line.startswith("#"))


def _letters(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", plain)


def is_common_password(password: str) -> bool:
    """True when the password is mostly a common one, decorated with digits, symbols or leetspeak."""
    for core in {_letters(password), _letters(password.lower().translate(_LEET))}:
        if len(core) < 3 or core in _words():  # nothing but digits and symbols, or a listed word
            return True
        # a listed word (5 letters or more) that makes at least half of the letters
        if any(len(w) >= 5 and len(w) * 2 >= len(core) and w in core for w in _words()):
            return True
    return False
