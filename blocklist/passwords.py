"""Which web passwords are too easy to guess: length, a shipped list of common passwords, the username.

The list (`data/common-passwords.txt`) is SecLists' `Passwords/Common-Credentials/10k-most-common.txt`
(MIT licence), reproduced unchanged with Unix line endings. It is read from the package, never downloaded:
servers of this system may have no route to the internet.

Only 51 of those 10,000 entries have the 10 characters we require, so the list alone would let `password12`
through: a password is also refused when what is left of it after dropping the digits and symbols around it,
or after undoing the usual letter-for-digit swaps (`p@ssw0rd`), is on the list. That is how people lengthen a
listed password to pass a length rule, and the first thing a guessing tool tries.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from blocklist.errors import InvalidInput

MIN_LENGTH = 10
# The login form accepts at most this many characters: a longer password could be set but never typed in.
MAX_LENGTH = 200
# Shorter parts of a username (the "an" of "an.peeters") occur inside too many good passphrases to refuse them.
MIN_USERNAME_PART = 4
# A unit this short repeated ("abababababab", "1212121212") is as weak as one character repeated.
MAX_REPEATED_UNIT = 4

_AROUND = (re.compile(r"^[\d\W_]+"), re.compile(r"[\d\W_]+$"))  # digits and symbols before, after
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g", "@": "a",
                       "$": "s", "!": "i", "+": "t"})
_REPEATED = re.compile(r"(.+?)\1+", re.DOTALL)
# Runs of neighbouring keys; AZERTY is the layout of most Belgian keyboards.
_RUNS = ("01234567890123456789", "abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjklzxcvbnm",
         "azertyuiopqsdfghjklmwxcvbn", "qwertzuiopasdfghjklyxcvbnm")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (lower case), read once."""
    text = (Path(__file__).parent / "data" / "common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().casefold() for line in text.splitlines() if line.strip())


def _refuse(reason: str) -> InvalidInput:
    return InvalidInput(reason, field="password")


def _dropped(form: str) -> set[str]:
    """The form without the digits and symbols before it, after it, and both."""
    before, after = (pattern.sub("", form) for pattern in _AROUND)
    return {before, after, _AROUND[1].sub("", before)}


def _variants(folded: str) -> set[str]:
    """The password as typed and the listed forms a guesser would derive it from (drop, then swap, then drop)."""
    forms = {folded, "".join(folded.split())}
    forms |= {dropped for form in forms for dropped in _dropped(form)}
    forms |= {form.translate(_LEET) for form in forms}
    forms |= {dropped for form in forms for dropped in _dropped(form)}
    return {form for form in forms if form}


def _is_common(folded: str) -> bool:
    listed = common_passwords()
    for variant in _variants(folded):
        if variant in listed:
            return True
        repeated = _REPEATED.fullmatch(variant)
        if repeated and repeated.group(1) in listed:  # "passwordpassword"
            return True
    return False


def _is_run(folded: str) -> bool:
    compact = "".join(folded.split())
    return any(compact in run or compact in run[::-1] for run in _RUNS)


def check_password_strength(password: str, *, username: str) -> None:
    """Refuse (InvalidInput, field "password") a password that is short, common, a pattern or the username's."""
    if len(password) < MIN_LENGTH:
        raise _refuse(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise _refuse(f"a password can have at most {MAX_LENGTH} characters")
    if not password.strip():
        raise _refuse("a password cannot be only spaces")
    folded = password.casefold()
    repeated = _REPEATED.fullmatch(folded)
    if repeated and len(repeated.group(1)) <= MAX_REPEATED_UNIT:
        raise _refuse("a password cannot be one character or a short group of characters repeated")
    name = username.strip().casefold()
    if name and (folded == name or name in folded or name in "".join(folded.split())):
        raise _refuse("a password must not contain the username")
    for part in re.split(r"[._-]+", name):
        if len(part) >= MIN_USERNAME_PART and part in folded:
            raise _refuse("a password must not contain the username or a part of it")
    if _is_run(folded):
        raise _refuse("a password cannot be a run of neighbouring keys or characters (like 1234567890 or azertyuiop)")
    if _is_common(folded):
        raise _refuse("this password is on a list of commonly used passwords (or is one with digits or symbols "
                      "added); choose a phrase of several unrelated words")
