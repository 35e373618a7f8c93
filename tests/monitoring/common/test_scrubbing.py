"""scrub_text's shortcuts (short text, no bearer word, too few digits) and the remembered
verdicts on keys never change what is filtered."""

from hypothesis import example, given, settings
from hypothesis import strategies as st

from monitoring.common.scrubbing import _BEARER, _CARD, FILTERED, _Denylist, _mask_card, scrub, scrub_text

CARD = "4111 1111 1111 1111"  # passes the Luhn sum


def _always_both_regexes(text: str) -> str:
    text = _BEARER.sub(lambda m: f"{m.group(1)} {FILTERED}", text)
    return _CARD.sub(_mask_card, text)


# Text made of the pieces the patterns look for, so matches are common, not luck.
pieces = st.sampled_from(
    [
        "Bearer ",
        "TOKEN ",
        "basic\t",
        "bearer",
        " ",
        "-",
        "4111",
        "1111",
        "0",
        "7",
        "abcdEFGH12",
        "é",
        "ſ",
        "\u212a",
        "x" * 20,
        "\n",
        "token=",
        CARD,
    ]
)
texts = st.lists(pieces, max_size=30).map("".join) | st.text(max_size=80)


@settings(max_examples=500)
@given(texts)
@example("TOKEN abcdEFGH12")
@example("card: 4222222222222")  # exactly 13 digits
@example(f"Basic\tabcdEFGH12 and {CARD}")
def test_the_shortcuts_agree_with_running_both_regexes(text):
    assert scrub_text(text) == _always_both_regexes(text)


def test_secrets_in_long_text_are_still_found():
    padding = "x" * 5_000
    assert scrub_text(f"{padding} Authorization: Bearer abcdefgh12345 {padding}") == (
        f"{padding} Authorization: Bearer {FILTERED} {padding}"
    )
    assert scrub_text(f"{padding} card {CARD} {padding}") == f"{padding} card {FILTERED} {padding}"
    assert scrub_text("naïve bearer abcdefgh12345") == f"naïve bearer {FILTERED}"  # non-ASCII takes the regex


def test_text_that_cannot_hold_a_secret_comes_back_unchanged():
    for text in ("short 4111", "2026-12-02T21:21:14.663703Z", "x" * 10_000, "order 1234567890123"):
        assert scrub_text(text) == text


def test_keys_are_judged_the_same_once_many_other_keys_were_seen():
    seen = {f"local_{n}": n for n in range(_Denylist.MAX_KEYS + 50)}  # more keys than are remembered
    assert scrub(seen) == seen
    event = {"vars": {"api_key": "k-1", "Password": "p", "page": "2"}, "headers": [["X-Api-Key", "k-2"]]}
    for _ in range(2):  # judged afresh, then from memory
        assert scrub(event, extra_keys=["Page"]) == {
            "vars": {"api_key": FILTERED, "Password": FILTERED, "page": FILTERED},
            "headers": [["X-Api-Key", FILTERED]],
        }
    assert scrub(event)["vars"]["page"] == "2"  # another project's extra keys are its own
