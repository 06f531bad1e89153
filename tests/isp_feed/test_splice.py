"""Splicing a delta into a format file gives exactly the bytes of rendering the new list whole, in every format."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isp_feed_client import delta, formats, splice

T0 = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
NAMES = [f"{label}.test" for label in ("a", "a-b", "b", "csam-gallery", "m", "m0", "x", "xn--bcher-kva", "z")]
ENTRY = st.builds(lambda n, s: formats.FeedEntry(n, "bücher.test" if n.startswith("xn--") else n, s),
                  st.sampled_from(NAMES), st.sampled_from(formats.SCOPES))
LISTS = st.lists(ENTRY, unique_by=lambda e: e.name, max_size=len(NAMES)).map(
    lambda es: tuple(sorted(es, key=lambda e: e.name)))


@pytest.fixture(autouse=True, params=["in memory", "through the maps"])
def search(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test twice: a small file searched as one bytes object (what the server does below 16 MiB), and searched
    through the stored file's maps (a large one)."""
    if request.param == "through the maps":
        monkeypatch.setattr(splice, "SEARCH_IN_MEMORY", -1)


def version(serial: int, entries: tuple[formats.FeedEntry, ...],
            v6: str | None = "2001:db8::80") -> formats.FeedVersion:
    return formats.FeedVersion(serial, T0 + dt.timedelta(minutes=serial), entries, "stop.blocklist.example",
                               "192.0.2.80", v6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(old=LISTS, new=LISTS, ext=st.sampled_from(formats.EXTENSIONS), v6=st.sampled_from([None, "2001:db8::80"]))
def test_splice_equals_whole_render(tmp_path: Path, old: tuple[formats.FeedEntry, ...],
                                    new: tuple[formats.FeedEntry, ...], ext: str, v6: str | None) -> None:
    before, after = version(1, old, v6), version(2, new, v6)
    splice.render_file(tmp_path / "old", before, ext)
    step = delta.between(old, new, from_serial=1, to_serial=2)
    written = splice.splice_file(tmp_path / "old", tmp_path / "new", after, ext, len(new), step)
    expected = formats.render_all(after, only=ext)[ext]
    assert (tmp_path / "new").read_bytes() == expected
    assert written.size == len(expected)
    assert delta.apply(old, step) == new


def test_a_delta_that_does_not_fit_is_refused(tmp_path: Path) -> None:
    entry = formats.FeedEntry("csam-gallery.test", "csam-gallery.test", "exact")
    splice.render_file(tmp_path / "old", version(1, (entry,)), "rpz")
    with pytest.raises(delta.DeltaMismatch):
        splice.splice_file(tmp_path / "old", tmp_path / "new", version(2, ()), "rpz", 1,
                           delta.Delta(1, 2, (entry,), ()))
    with pytest.raises(delta.DeltaMismatch):
        splice.splice_file(tmp_path / "old", tmp_path / "new", version(2, ()), "rpz", 0,
                           delta.Delta(1, 2, (), (formats.FeedEntry("m.test", "m.test", "exact"),)))
    assert not (tmp_path / "new").exists()


@given(steps=st.lists(LISTS, min_size=2, max_size=5))
def test_composed_deltas_equal_the_direct_one(steps: list[tuple[formats.FeedEntry, ...]]) -> None:
    runs = [delta.between(a, b, from_serial=i, to_serial=i + 1) for i, (a, b) in enumerate(itertools.pairwise(steps))]
    composed = delta.compose(runs)
    assert delta.apply(steps[0], composed) == steps[-1]
    assert composed == delta.between(steps[0], steps[-1], from_serial=0, to_serial=len(steps) - 1)
    assert delta.parse_delta(delta.delta_bytes(composed)) == composed
