"""Web passwords (issue 10, item 14): the shipped common-password list, the username, patterns; enforced by
create_user and set_password on both databases."""

from __future__ import annotations

import pytest

from blocklist import passwords, users
from blocklist.db import Database
from blocklist.errors import InvalidInput
from blocklist.models import User

WEAK = {
    "password12": "common",  # the finding: on the list once its digits are dropped
    "1234567890": "neighbouring",
    " " * 10: "only spaces",
    "\t \u00a0 \t \u3000 \n \t": "only spaces",
    "aaaaaaaaaaaa": "repeated",
    "abababababab": "repeated",
    "P@ssw0rd2026": "common",
    "!!iloveyou!!": "common",
    "passwordpassword": "common",
    "5unshine!2026": "common",
    "azertyuiop": "neighbouring",
    "0987654321": "neighbouring",
    "short": "at least 10",
    "x" * 199 + "yz": "at most 200",
}
GOOD = ("correct horse battery", "Tram 81 naar Heizel, perron drie", "long enough pw", "demo-password")


@pytest.mark.parametrize(("password", "reason"), WEAK.items(), ids=repr)
def test_weak_passwords_are_refused_with_a_reason(password: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason) as refused:
        passwords.check_password_strength(password, username="magistrate")
    assert refused.value.field == "password"


@pytest.mark.parametrize("password", GOOD)
def test_good_passwords_are_accepted(password: str) -> None:
    passwords.check_password_strength(password, username="magistrate")


@pytest.mark.parametrize("password", ["magistrate", "MAGISTRATE2026", "my Magistrate pw", "an.peeters-2026",
                                      "hello peeters here"])
def test_a_password_must_not_contain_the_username(password: str) -> None:
    username = "magistrate" if "agistrate" in password.lower() else "an.peeters"
    with pytest.raises(InvalidInput, match="username"):
        passwords.check_password_strength(password, username=username)


def test_a_short_username_part_does_not_refuse_every_passphrase() -> None:
    passwords.check_password_strength("an anagram of antelopes", username="an.peeters")


def test_the_list_is_shipped_with_the_package() -> None:
    listed = passwords.common_passwords()
    assert len(listed) == 10_000 and {"password", "123456", "iloveyou", "1234567890"} <= listed


def test_create_user_and_set_password_check_strength(database: Database, people: dict[str, User]) -> None:
    for weak in ("password12", "1234567890", " " * 10, "officer-2026-x"):
        with database.transaction() as s, pytest.raises(InvalidInput) as refused:
            users.create_user(s, actor="test", username="officer-2026", role="officer", password=weak)
        assert refused.value.field == "password", weak
    for weak in ("password12", "1234567890", " " * 10, "the officer's own"):
        with database.transaction() as s, pytest.raises(InvalidInput) as refused:
            users.set_password(s, actor="test", user=users.get_user(s, "officer"), password=weak)
        assert refused.value.field == "password", weak
    with database.transaction() as s:
        users.create_user(s, actor="test", username="officer-2026", role="officer", password="correct horse battery")
        users.set_password(s, actor="test", user=users.get_user(s, "officer"), password="Tram 81 naar Heizel")
    with database.transaction() as s:
        assert users.check_password(s, "officer-2026", "correct horse battery").username == "officer-2026"
        assert users.check_password(s, "officer", "Tram 81 naar Heizel").username == "officer"
