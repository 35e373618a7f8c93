"""The one place credentials are made, hashed, checked and read from a header."""

import hashlib

import pytest

from monitoring.common.credentials import MalformedCredential, bearer_token, digest, matches, new_token


def test_a_new_token_names_its_kind_and_keeps_only_a_short_prefix_in_clear():
    made = new_token("lkt_")
    assert made.token.startswith("lkt_") and len(made.token) > 40
    assert made.prefix == made.token[:10]
    assert made.hash == hashlib.sha256(made.token.encode()).hexdigest()
    assert new_token("lkt_").token != made.token


def test_a_secret_matches_only_its_own_hash():
    assert matches("s3cret", digest("s3cret"))
    assert not matches("s3cret", digest("s3cret "))


def test_a_string_utf8_cannot_encode_hashes_rather_than_fails():
    assert not matches("lki_\ud800", digest("lki_"))


@pytest.mark.parametrize(
    "authorization",
    ["Bearer abc", "bearer abc", "BEARER abc", "Bearer\tabc", "  Bearer   abc  "],
)
def test_the_bearer_scheme_is_read_in_any_case_and_spacing(authorization):
    assert bearer_token(authorization) == "abc"


@pytest.mark.parametrize("authorization", [None, "", "Basic YTpi", "Token abc", "abc", "Bearerabc", "Bearer\xa0abc"])
def test_no_bearer_scheme_means_no_bearer_token(authorization):
    assert bearer_token(authorization) is None


@pytest.mark.parametrize("authorization", ["Bearer", "Bearer ", "bearer a b"])
def test_a_bearer_scheme_without_exactly_one_token_is_malformed(authorization):
    with pytest.raises(MalformedCredential, match="expected 'Bearer <token>'"):
        bearer_token(authorization)
