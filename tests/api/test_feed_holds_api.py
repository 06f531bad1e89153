"""Feed holds through the API: who may confirm, the names held, and the names' feed state."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.runtime import Runtime
from blocklist.models import User
from tests.api.conftest import bearer
from tests.isp_feed.test_holds import held_change


def test_the_api_tells_who_may_confirm(rt: Runtime, client: TestClient, tokens: dict[str, str],
                                       people: dict[str, User]) -> None:
    strict = rt.settings.model_copy(update={"feed_gate_min_changes": 2, "feed_gate_share": 0.10})
    hold_id = held_change(rt.database, strict, people)
    mine = client.get(f"/api/v1/feed/holds/{hold_id}", headers=bearer(tokens["magistrate"]))
    assert mine.status_code == 200
    assert mine.json()["may_confirm"] is False and "four eyes" in mine.json()["refusal"]
    assert [o["magistrate"] for o in mine.json()["orders"]] == ["magistrate", "magistrate", "magistrate2"]
    refused = client.post(f"/api/v1/feed/holds/{hold_id}/confirm", headers=bearer(tokens["magistrate"]))
    assert refused.status_code == 403 and "another magistrate" in refused.json()["reason"]
    names = client.get(f"/api/v1/feed/holds/{hold_id}/names", headers=bearer(tokens["officer"])).json()
    assert names["total"] == 4 and names["names"][0]["domain"] == "a3.test"
    state = client.get("/api/v1/feed/names?state=held", headers=bearer(tokens["auditor"])).json()
    assert state["counts"]["held"] == 3 and state["total"] == 3 and state["counts"]["published_count"] == 3
    assert [n["domain"] for n in state["names"]] == ["b1.test", "b2.test", "b3.test"]
    assert client.get(f"/api/v1/feed/holds/{hold_id + 99}", headers=bearer(tokens["admin"])).status_code == 404
