"""axe-core (the axe-playwright-python package) on a page open in Chromium: WCAG 2.1 AA, the violations as lines."""

from __future__ import annotations

from typing import Any

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def violations(page: Any) -> list[str]:
    """Every WCAG 2.1 AA violation axe-core finds on `page` (one line each: rule, impact, help, where)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=WCAG_AA)
    assert results.response["passes"], "axe-core checked nothing"  # it really ran on this page
    return [f"{v['id']} ({v['impact']}): {v['help']} — " + "; ".join(n["target"][0] for n in v["nodes"][:5])
            for v in results.response["violations"]]
