"""Label matchers, as a person types them into a silence or an inhibit rule."""

import pytest
from django.core.exceptions import ValidationError

from alerts.incidents.matchers import labels_match, parse_matchers


def test_the_string_form_and_the_list_form_mean_the_same():
    text = parse_matchers('{service="api", env=~"prod|staging", team!="web", path!~"/health.*"}')
    listed = parse_matchers(
        [
            {"name": "service", "op": "=", "value": "api"},
            {"name": "env", "op": "=~", "value": "prod|staging"},
            {"name": "team", "op": "!=", "value": "web"},
            {"name": "path", "op": "!~", "value": "/health.*"},
        ]
    )
    assert text == listed
    assert labels_match(text, {"service": "api", "env": "prod", "team": "db", "path": "/orders"})
    assert not labels_match(text, {"service": "api", "env": "prod", "team": "db", "path": "/healthz"})


def test_regular_expressions_match_the_whole_value():
    matchers = parse_matchers('{env=~"prod"}')
    assert labels_match(matchers, {"env": "prod"})
    assert not labels_match(matchers, {"env": "preprod"})
    assert not labels_match(matchers, {"env": "production"})


def test_a_missing_label_reads_as_empty():
    assert labels_match(parse_matchers('{team=""}'), {})
    assert labels_match(parse_matchers('{team!="web"}'), {})
    assert not labels_match(parse_matchers('{team=~".+"}'), {})


def test_quoted_values_may_hold_commas_braces_and_escaped_quotes():
    (matcher,) = parse_matchers(r'{summary="a, {b} \"c\""}')
    assert matcher.value == 'a, {b} "c"'
    assert str(matcher) == r'summary="a, {b} \"c\""'


def test_an_empty_list_matches_everything():
    assert parse_matchers("{}") == []
    assert labels_match([], {"anything": "x"})


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ('{service="api" env="prod"}', "matcher 1: expected a comma"),
        ('{service="api", 9env="prod"}', "matcher 2: cannot read '9env=\"prod\"'"),
        ('{env=~"(prod"}', "matcher 1: '(prod' is not a valid regular expression"),
        ('{env="prod"', "missing closing brace"),
        ([{"name": "env", "op": "<", "value": "x"}], "matcher 1: operator '<' is not one of"),
        ([{"name": "env", "op": "="}], "matcher 1: missing value"),
        ([{"name": "env", "value": "x"}, "env=x"], "matcher 2: must be an object"),
        ([{"name": "env", "value": 3}], "matcher 1: value must be a string"),
        ([{"name": "env", "value": "x", "regex": True}], "matcher 1: unknown keys regex"),
        (42, "Matchers must be a list"),
    ],
)
def test_bad_matchers_are_refused_naming_the_item_and_why(value, says):
    with pytest.raises(ValidationError) as caught:
        parse_matchers(value)
    assert says in caught.value.messages[0]
