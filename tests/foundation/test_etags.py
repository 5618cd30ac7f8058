"""The If-Match rule as a pure function: the route passes the header's value in (None when the
client sent none), the service compares it with the version it holds locked."""

from __future__ import annotations

import pytest

from telehealth.errors import PreconditionFailed, PreconditionRequired
from telehealth.etags import check_if_match_if_sent, etag_of, require_if_match


def test_the_etag_names_the_version():
    assert etag_of(7) == '"v7"'


@pytest.mark.parametrize("sent", ['"v3"', '"v2", "v3"', 'W/"v9", "v3"'])
def test_an_if_match_naming_the_current_version_passes(sent):
    require_if_match(3, sent)
    check_if_match_if_sent(3, sent)


@pytest.mark.parametrize("sent", [None, "", "*"])
def test_a_missing_empty_or_star_if_match_is_428(sent):
    with pytest.raises(PreconditionRequired):
        require_if_match(3, sent)


@pytest.mark.parametrize("sent", ['"v2"', 'W/"v3"', "v3-not-quoted-right", '"v2", "v4"'])
def test_an_if_match_naming_another_version_is_412(sent):
    with pytest.raises(PreconditionFailed):
        require_if_match(3, sent)


def test_a_replace_without_if_match_passes_but_a_sent_one_is_checked():
    check_if_match_if_sent(3, None)
    with pytest.raises(PreconditionRequired):
        check_if_match_if_sent(3, "")
    with pytest.raises(PreconditionRequired):
        check_if_match_if_sent(3, "*")
    with pytest.raises(PreconditionFailed):
        check_if_match_if_sent(3, '"v2"')


def test_the_rule_needs_no_request():
    """Called outside any request context (a command, the demo builder), it still decides."""
    with pytest.raises(PreconditionFailed):
        require_if_match(1, '"v0"')
