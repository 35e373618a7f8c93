"""scrub_text's shortcuts (short text, no bearer or secret word, too few digits, no URL
credentials or IBAN shape) and the remembered verdicts on keys never change what is filtered;
and what each pattern filters, and leaves alone."""

from hypothesis import example, given, settings
from hypothesis import strategies as st

from monitoring.common.scrubbing import (
    _ASSIGNMENT,
    _BEARER,
    _CARD,
    _HEX_ID,
    _IBAN,
    _KNOWN_TOKEN,
    _PHRASE,
    _URL_CREDENTIALS,
    FILTERED,
    _Denylist,
    _mask_assignment,
    _mask_bearer,
    _mask_card,
    _mask_iban,
    _mask_phrase,
    _mask_private_keys,
    _mask_url_credentials,
    scrub,
    scrub_text,
)

CARD = "4111 1111 1111 1111"  # passes the Luhn sum
IBAN = "DE89370400440532013000"  # passes the mod-97 check


def _always_every_regex(text: str) -> str:
    text = _URL_CREDENTIALS.sub(_mask_url_credentials, text)
    text = _BEARER.sub(_mask_bearer, text)
    text = _ASSIGNMENT.sub(_mask_assignment, text)
    text = _PHRASE.sub(_mask_phrase, text)
    text = _KNOWN_TOKEN.sub(FILTERED, text)
    text = _mask_private_keys(text)
    text = _CARD.sub(_mask_card, text)
    return text if _HEX_ID.fullmatch(text) else _IBAN.sub(_mask_iban, text)


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
        "pwd",
        "Password",
        "api-KEY",
        "_x",
        "=",
        ":",
        '"',
        "'",
        "==",
        "postgres://",
        "app",
        "@",
        "/",
        "DE89",
        " 3704",
        "370400440532013000",
        "0044",
        IBAN,
        "GB82 WEST 1234 5698 7654 32",
        "de89 3704 0044 0532 0130 00",
        " is ",
        " was ",
        "hunter2",
        "eyJhbGciOiJIUzI1NiJ9",
        ".",
        "AKIA",
        "IOSFODNN7EXAMPLE",
        "ghp_",
        "-----BEGIN RSA PRIVATE KEY-----",
        "-----END RSA PRIVATE KEY-----",
    ]
)
texts = st.lists(pieces, max_size=30).map("".join) | st.text(max_size=80)


@settings(max_examples=500)
@given(texts)
@example("TOKEN abcdEFGH12")
@example("card: 4222222222222")  # exactly 13 digits
@example(f"Basic\tabcdEFGH12 and {CARD}")
@example("pwd=x")  # the shortest secret
@example("paſſword=x")  # matches case-insensitively, though not ASCII
@example(f"a://b:c@d {IBAN}")
def test_the_shortcuts_agree_with_running_every_regex(text):
    assert scrub_text(text) == _always_every_regex(text)


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


def test_secret_assignments_are_masked_as_code_config_and_logs_write_them():
    cases = {
        'password = "hunter2"': f'password = "{FILTERED}"',
        "    api_key: 'sk-live-1'": f"    api_key: '{FILTERED}'",
        "SECRET=abc123": f"SECRET={FILTERED}",
        "DB_PASSWORD=p4ss # dev only": f"DB_PASSWORD={FILTERED} # dev only",
        "client_secret => 'x'": f"client_secret => '{FILTERED}'",
        '{"password": "hunter2", "user": "ada"}': f'{{"password": "{FILTERED}", "user": "ada"}}',
        "login failed: password=hunter2 for ada": f"login failed: password={FILTERED} for ada",
        "https://api.example/v1?token=abc.def.ghi&page=2": f"https://api.example/v1?token={FILTERED}&page=2",
        'password = "hunter2': f'password = "{FILTERED}',  # a context line cut mid-string
    }
    for text, scrubbed in cases.items():
        assert scrub_text(text) == scrubbed, text


def test_words_that_only_contain_a_secret_word_or_compare_it_are_left_alone():
    for text in ("tokenizer: loaded", "secretary: Ada", "if token == expected:", "password reset sent", "pwd"):
        assert scrub_text(text) == text


def test_bearer_after_a_secret_name_masks_the_token_not_just_the_word():
    assert scrub_text("token: Bearer abcdefghijkl") == f"token: Bearer {FILTERED}"


def test_credentials_in_any_url_are_masked_and_the_user_kept():
    assert scrub_text("db_url='postgres://app:s3cr3tpw@db/app'") == f"db_url='postgres://app:{FILTERED}@db/app'"
    assert scrub_text("redis://:hunter2@cache:6379/0 refused") == f"redis://:{FILTERED}@cache:6379/0 refused"
    assert scrub_text("amqp://u:p@ss@mq/") == f"amqp://u:{FILTERED}@mq/"  # an unescaped @ in the password
    assert scrub_text("https://example.com/@ada and mailto:ada@example.com") == (
        "https://example.com/@ada and mailto:ada@example.com"
    )


def test_ibans_are_masked_compact_or_grouped_and_look_alikes_kept():
    assert scrub_text(f"pay to {IBAN}.") == f"pay to {FILTERED}."
    assert scrub_text("IBAN: GB82 WEST 1234 5698 7654 32") == f"IBAN: {FILTERED}"
    assert scrub_text("BE68 5390 0754 7034 EURO") == f"{FILTERED} EURO"  # the next word is not the IBAN's
    assert scrub_text("payee de89 3704 0044 0532 0130 00") == f"payee {FILTERED}"  # lower case too
    for text in ("DE89370400440532013001", "DE8937040044053201300", "be68539007547034", "ZZ89370400440532013000"):
        assert scrub_text(text) == text  # bad check digits, wrong length, a whole span id, no such country


def test_scrubbing_stays_linear_on_hostile_text():
    import time

    for text in (
        "a://:" * 4_000 + "@",
        "x" * 20_000 + "://a:" + "b" * 20_000 + "@",
        "password=" * 5_000,
        "password is " * 5_000,
        "-----BEGIN PRIVATE KEY-----" * 5_000,
        "eyJaaaaaaaaa." * 5_000,
    ):
        started = time.perf_counter()
        scrub_text(text)
        assert time.perf_counter() - started < 0.5, text[:20]


def test_two_lines_of_text_are_not_taken_for_a_header_pair():
    assert scrub(["SECRET=abc123", "connect()"]) == [f"SECRET={FILTERED}", "connect()"]
    assert scrub([["X-Api-Key", "k-2"], ["x-auth-token", "t"]]) == [["X-Api-Key", FILTERED], ["x-auth-token", FILTERED]]
