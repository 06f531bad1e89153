"""Domain-name normalisation and the overblocking safeguards, by example and by property."""

from __future__ import annotations

import contextlib
import ipaddress

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from publicsuffixlist import PublicSuffixList

from blocklist.errors import NameRefused
from blocklist.names import NamePolicy, normalize
from tests.support.reserved_names import ICANN_SUFFIX, PLATFORM_SUFFIXES, PROTECTED, use_reserved_suffixes

POLICY = NamePolicy.build(extra_protected=["isp-one.example", "portal.gov.example", PROTECTED],
                          extra_platforms=["hosting.example"])
PSL = PublicSuffixList()


@pytest.mark.parametrize(
    ("typed", "a_label", "u_label"),
    [
        ("blocked.test", "blocked.test", "blocked.test"),
        ("Blocked.TEST.", "blocked.test", "blocked.test"),
        ("  bad.example  ", "bad.example", "bad.example"),
        ("https://user@bad.example:8443/path?q=1#x", "bad.example", "bad.example"),
        ("bad.example:8080", "bad.example", "bad.example"),
        ("bad.example/some/path", "bad.example", "bad.example"),
        ("//bad.example/x", "bad.example", "bad.example"),
        ("Bücher.Example", "xn--bcher-kva.example", "bücher.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example", "bücher.example"),
        ("ＢＡＤ．ｅｘａｍｐｌｅ", "bad.example", "bad.example"),
        ("bad。example", "bad.example", "bad.example"),
        ("faß.example", "xn--fa-hia.example", "faß.example"),
    ],
)
def test_normalisation_keeps_typed_and_records_host(typed: str, a_label: str, u_label: str) -> None:
    name = normalize(typed)
    assert (name.typed, name.a_label, name.u_label) == (typed, a_label, u_label)


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("a..b.test", "empty_label"),
        (".a.test", "empty_label"),
        ("x" * 64 + ".test", "too_long"),
        (".".join(["abcdefghi"] * 26) + ".test", "too_long"),
        ("bad_name.test", "bad_characters"),
        ("-bad.test", "bad_characters"),
        ("bad site.test", "bad_characters"),
        ("bad.test:99999", "bad_characters"),
        ("xn--zz.test", "bad_characters"),
        ("127.0.0.1", "ip_literal"),
        ("192.0.2.1.", "ip_literal"),
        ("http://192.0.2.1/", "ip_literal"),
        ("[2001:db8::1]", "ip_literal"),
        ("2001:db8::1", "ip_literal"),
        ("http://[::1]:8080/", "ip_literal"),
        ("0x7f.1", "ip_literal"),
        ("2130706433", "ip_literal"),
        ("１２７.０.０.１", "ip_literal"),
        ("com", "tld"),
        ("test.", "tld"),
        ("be", "tld"),
        (ICANN_SUFFIX, "public_suffix"),
        (PLATFORM_SUFFIXES[0], "public_suffix"),
        (PLATFORM_SUFFIXES[1], "public_suffix"),
        ("google.com", "protected"),
        ("www.protected.example", "protected"),
        ("GOOGLE.com.", "protected"),
        ("https://mail.protected.example/wiki/X", "protected"),
        ("gov.be", "protected"),
        ("a.b.protected.example", "protected"),
        ("isp-one.example", "protected"),
        ("noc.isp-one.example", "protected"),
    ],
)
def test_refusals_say_why(typed: str, code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    use_reserved_suffixes(monkeypatch)
    with pytest.raises(NameRefused) as info:
        POLICY.check(typed)
    assert info.value.code == code
    assert info.value.reason
    assert repr(typed)[:20] in str(info.value) or typed[:20] in str(info.value)


def test_ancestor_of_protected_refused_only_when_subdomains_in_scope() -> None:
    policy = NamePolicy.build(extra_protected=["portal.agency.example"])
    with pytest.raises(NameRefused) as info:
        policy.check("agency.example", scope="domain_and_subdomains")
    assert info.value.code == "protected"
    assert policy.check("agency.example", scope="exact").name.a_label == "agency.example"


def test_override_allows_exactly_that_name() -> None:
    checked = POLICY.check("portal.gov.example", overrides=["portal.gov.example"])
    assert checked.flags[0] == "protected_override"
    assert checked.override_for == "portal.gov.example"
    with pytest.raises(NameRefused):
        POLICY.check("mail.portal.gov.example", overrides=["portal.gov.example"])


@pytest.mark.parametrize(
    ("typed", "flag"),
    [
        ("someone.hosting.example", "platform_host"),
        ("a.shop.hosting.example", "platform_host"),
        ("раypal.example", "homograph"),
        ("bücher.example", "idn"),
    ],
)
def test_flags_warn_without_refusing(typed: str, flag: str) -> None:
    assert flag in POLICY.check(typed).flags


def test_plain_name_has_no_flags() -> None:
    assert POLICY.check("csam-gallery.test").flags == ()


def test_bad_scope_refused() -> None:
    with pytest.raises(NameRefused) as info:
        POLICY.check("bad.test", scope="everything")
    assert info.value.code == "bad_scope"


# --- properties --------------------------------------------------------------------------------

LABEL = st.text(alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-äöüßéçñжπ中"), min_size=1, max_size=20)
NAMEISH = st.lists(LABEL, min_size=1, max_size=5).map(".".join)
DECORATED = st.builds(
    lambda scheme, name, port, dot, upper: (
        f"{scheme}{name.upper() if upper else name}{'.' if dot else ''}{port}"
    ),
    st.sampled_from(["", "http://", "https://", "//"]),
    NAMEISH,
    st.sampled_from(["", ":80", ":8443"]),
    st.booleans(),
    st.booleans(),
)
ANY_INPUT = st.one_of(st.text(max_size=300), NAMEISH, DECORATED)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(ANY_INPUT)
def test_only_the_projects_own_error_escapes(typed: str) -> None:
    with contextlib.suppress(NameRefused):
        POLICY.check(typed)


@settings(max_examples=400)
@given(ANY_INPUT)
def test_normalisation_is_idempotent(typed: str) -> None:
    try:
        name = normalize(typed)
    except NameRefused:
        return
    assert normalize(name.a_label).a_label == name.a_label
    assert normalize(name.u_label).a_label == name.a_label
    assert normalize(name.a_label).u_label == name.u_label


@settings(max_examples=400)
@given(ANY_INPUT)
def test_no_accepted_name_is_an_ip_a_tld_or_a_public_suffix(typed: str) -> None:
    try:
        a_label = POLICY.check(typed).name.a_label
    except NameRefused:
        return
    assert "." in a_label
    with pytest.raises(ValueError):
        ipaddress.ip_address(a_label)
    assert not PSL.is_public(a_label)
    assert not a_label.rsplit(".", 1)[-1].isdigit()


PROTECTED_SAMPLE = ["google.com", "facebook.com", "wikipedia.org", "youtube.com", "fgov.be", "belgium.be"]


def _spellings(domain: str) -> list[str]:
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if c.isalnum() and c.isascii() else c for c in domain)
    return [
        domain, domain.upper(), domain.title(), domain + ".", " " + domain + " ", fullwidth,
        domain.replace(".", "。"), f"https://{domain}/", f"http://{domain.upper()}:8080/x?y=1",
        f"//{domain}", f"{domain}/path", f"{domain}:443", f"www.{domain}", f"https://www.{domain}./",
        f"deep.sub.{domain}",
    ]


@pytest.mark.parametrize("domain", PROTECTED_SAMPLE)
def test_protected_refused_in_every_spelling(domain: str) -> None:
    for typed in _spellings(domain):
        for scope in ("domain_and_subdomains", "exact"):
            with pytest.raises(NameRefused) as info:
                POLICY.check(typed, scope=scope)
            assert info.value.code == "protected", typed


@settings(max_examples=200)
@given(st.sampled_from(PROTECTED_SAMPLE), st.lists(LABEL, max_size=3), st.booleans(), st.booleans())
def test_protected_property(domain: str, prefix: list[str], upper: bool, dot: bool) -> None:
    typed = ".".join([*prefix, domain])
    typed = (typed.upper() if upper else typed) + ("." if dot else "")
    try:
        normalize(typed)
    except NameRefused:
        return  # not a host name at all: refused anyway
    with pytest.raises(NameRefused) as info:
        POLICY.check(typed)
    assert info.value.code == "protected"
