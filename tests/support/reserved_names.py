"""Reserved stand-ins for the real names the safeguards refuse, so that tests never name a real site.

- PROTECTED: a protected name every test's settings and factories.POLICY add to the shipped list; names under it
  (`www.protected.example`) are refused exactly as names under a shipped protected name are.
- reserved_suffixes(): the shipped Public Suffix List with reserved entries added, an ICANN one (`co.example`) and
  platform ones from its private section (`sites.example`, `pages.example`), for the public-suffix refusals;
  `use_reserved_suffixes` puts them in place for a test (blocklist.names reads them through `public_suffix_lists`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import publicsuffixlist
import pytest
from publicsuffixlist import PublicSuffixList

from blocklist import names

PROTECTED = "protected.example"
ICANN_SUFFIX = "co.example"
PLATFORM_SUFFIXES = ("sites.example", "pages.example")


@lru_cache(maxsize=1)
def reserved_suffixes() -> tuple[PublicSuffixList, PublicSuffixList]:
    """The full list and its ICANN section, as names.public_suffix_lists gives them, with the reserved entries."""
    text = (Path(publicsuffixlist.__file__).parent / "public_suffix_list.dat").read_text(encoding="utf-8")
    text = text.replace("// ===END ICANN DOMAINS===", f"{ICANN_SUFFIX}\n// ===END ICANN DOMAINS===")
    text = text.replace("// ===END PRIVATE DOMAINS===", "\n".join([*PLATFORM_SUFFIXES, "// ===END PRIVATE DOMAINS==="]))
    return PublicSuffixList(text), PublicSuffixList(text, only_icann=True)


def use_reserved_suffixes(monkeypatch: pytest.MonkeyPatch) -> None:
    """For the rest of the test, the name checks of this process read the list with the reserved entries."""
    monkeypatch.setattr(names, "public_suffix_lists", reserved_suffixes)
