"""A Dutch officer reads every refusal in Dutch, next to what it refuses (issue 14, finding 3): each name of a bulk
submission, a reused form token, a page out of range in the API, a feed hold's reasons."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Runtime
from api.stored_text import hold_reasons
from blocklist import users
from blocklist.errors import InvalidInput
from blocklist.models import User
from blocklist.queries import page_offset
from tests.support.browser import ARTIFACTS, chromium
from tests.support.factories import submitted
from tests.support.reserved_names import PLATFORM_SUFFIXES, use_reserved_suffixes
from tests.support.web import csrf, give_passwords, log_in_page, login, settle_batches

BULK = "form[action='/officer/bulk']"

PLATFORM = PLATFORM_SUFFIXES[0]


@pytest.fixture
def dutch(rt: Runtime, people: dict[str, User]) -> Runtime:
    with rt.database.transaction() as s:
        users.update_profile(s, actor="test", user=users.get_user(s, "officer"), language="nl")
        submitted(s, people["officer2"], "al-ingediend.test")
    give_passwords(rt, "officer")
    return rt


def _fill_case(page: Any) -> None:
    page.fill(f"{BULK} input[name=case_number]", "FCCU-2026-0300")
    page.fill(f"{BULK} input[name=evidence_ref]", "EVD-0300")
    page.select_option(f"{BULK} select[name=hosting_country]", "NL")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_dutch_officer_reads_each_bulk_refusal_in_dutch(dutch: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    use_reserved_suffixes(monkeypatch)  # a platform suffix of the reserved namespace
    with chromium(dutch) as (browser, port):
        page = browser.new_context(locale="nl-BE").new_page()
        log_in_page(page, f"http://127.0.0.1:{port}", "officer")
        page.fill(f"{BULK} textarea[name=names]",
                  f"nieuw.test\n192.0.2.1\nal-ingediend.test\nnieuw.test\nbe\n{PLATFORM}\nexample..test")
        _fill_case(page)
        page.click(f"{BULK} button[type=submit]")
        settle_batches(dutch)
        page.reload()
        rows = {row.split("\t")[1]: row for row in page.inner_text("table.results").splitlines()[1:]}
        expected = {"192.0.2.1": "een IP-adres: blokkeer namen, nooit adressen",
                    "al-ingediend.test": "al in behandeling of geblokkeerd",
                    "be": "een kaal topleveldomein, geen site",
                    PLATFORM: "een publiek achtervoegsel: veel niet-verwante sites vallen eronder",
                    "example..test": "heeft een leeg label"}
        for typed, words in expected.items():
            assert words in rows[typed], rows[typed]  # on the name's own row
        assert sum("komt twee keer voor in deze batch" in row for row in rows.values()) == 1
        assert "refused" not in page.inner_text("table.results")
        page.screenshot(path=str(ARTIFACTS / "batch-refusals-nl.png"), full_page=True)


def test_a_reused_form_token_and_a_page_out_of_range_are_refused_in_dutch(dutch: Runtime) -> None:
    client = TestClient(create_app(dutch))
    home = login(client, "officer").text
    token = re.search(r'name="form_token" value="([^"]+)"', home)
    assert token
    case = {"csrf": csrf(home), "form_token": token.group(1), "legal_basis": "art39bis", "case_number": "C-0301",
            "evidence_ref": "EVD-0301", "verified_on": "2026-11-01", "hosting_country": "NL"}
    assert client.post("/officer/bulk", data={**case, "names": "een.test"}).status_code == 200
    other = client.post("/officer/bulk", data={**case, "names": "twee.test"})
    assert other.status_code == 409
    assert "dit formuliertoken werd al gebruikt voor batch nr. 1" in other.text
    assert 'id="bulk-names-error"' in other.text or "error-summary" in other.text  # next to the field, summarised
    with pytest.raises(InvalidInput) as out_of_range:
        page_offset(0, 25)
    assert out_of_range.value.translated("nl") == "pagina's beginnen bij 1, en een pagina bevat 1 tot 200 rijen"


def test_hold_reasons_read_in_each_language() -> None:
    stored = "changes 15 names (+15 -0) of 8: more than 15% of the list; adds protected name(s): gov.example"
    assert hold_reasons(stored, "nl") == ("wijzigt 15 namen (+15 -0) van 8: meer dan 15% van de lijst; "
                                          "voegt beschermde naam/namen toe: gov.example")
    assert hold_reasons(stored, "en") == stored
    assert hold_reasons("something newer", "fr") == "something newer"  # words it does not know stay as stored
