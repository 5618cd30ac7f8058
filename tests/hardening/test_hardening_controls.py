"""Controls: every write route's valid body, as the abuse tests send it, is accepted. So when
an abused copy is refused, the abuse is the reason, not a broken base request."""

from __future__ import annotations

import pytest

from tests.hardening.hardening_helpers import ROUTE_NAMES, send


@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_the_valid_body_of_every_write_route_is_accepted(client, scene, name):
    response = send(client, scene, name)

    assert response.status_code in (200, 201), response.get_json()
