"""GET /instruments serves PHQ-9, GAD-7 and PCL-5 as the clinical reference defines them, to
every signed-in role and to nobody else."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import World
from tests.instruments.scoring_helpers import INSTRUMENTS_URL, REFERENCES, Reference
from tests.problems import assert_problem

ROLES = ["admin", "clinician", "patient"]


def served(client: FlaskClient, world: World, role: str) -> dict[str, dict[str, Any]]:
    response = client.get(INSTRUMENTS_URL, headers=getattr(world, role).headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    items = response.get_json()["items"]
    by_code = {item["code"]: item for item in items}
    assert len(by_code) == len(items), "an instrument is served twice"
    return by_code


@pytest.mark.parametrize("role", ROLES)
def test_every_role_gets_the_three_instruments(
    client: FlaskClient, world: World, role: str
) -> None:
    assert set(served(client, world, role)) == {"PHQ-9", "GAD-7", "PCL-5"}


@pytest.mark.parametrize("code", sorted(REFERENCES))
@pytest.mark.parametrize("role", ROLES)
def test_definition_matches_the_reference(
    client: FlaskClient, world: World, role: str, code: str
) -> None:
    ref: Reference = REFERENCES[code]
    item = served(client, world, role)[code]

    assert len(item["items"]) == ref.items
    assert all(isinstance(text, str) and text.strip() for text in item["items"])
    assert (item["item_min"], item["item_max"]) == (0, ref.item_max)
    assert item["total_max"] == ref.total_max
    # Answer i scores i points: one option per possible answer.
    assert len(item["options"]) == ref.item_max + 1
    assert item["recall"] == ref.recall
    assert item["bands"] == [
        {"low": low, "high": high, "label": label} for low, high, label in ref.bands
    ]
    assert item["version"]
    assert item["name"]


@pytest.mark.parametrize("role", ROLES)
def test_bands_cover_every_total_once(client: FlaskClient, world: World, role: str) -> None:
    for code in ("PHQ-9", "GAD-7"):
        item = served(client, world, role)[code]
        covered = [t for band in item["bands"] for t in range(band["low"], band["high"] + 1)]
        assert covered == list(range(item["total_max"] + 1)), code


@pytest.mark.parametrize("role", ROLES)
def test_phq9_wording(client: FlaskClient, world: World, role: str) -> None:
    phq9 = served(client, world, role)["PHQ-9"]
    item9 = phq9["items"][8].lower()
    assert "better off dead" in item9
    assert "hurting yourself" in item9
    assert "2 weeks" in phq9["stem"]
    # The difficulty question is offered, as an optional, unscored 10th answer.
    assert len(phq9["optional_items"]) == 1
    assert "difficult" in phq9["optional_items"][0].lower()


@pytest.mark.parametrize("role", ROLES)
def test_phq9_and_gad7_carry_the_unscored_difficulty_question(
    client: FlaskClient, world: World, role: str
) -> None:
    instruments = served(client, world, role)
    for code in ("PHQ-9", "GAD-7"):
        [difficulty] = instruments[code]["optional_items"]
        assert "how difficult" in difficulty
    assert instruments["PCL-5"]["optional_items"] == []
    assert "2 weeks" in instruments["GAD-7"]["stem"]
    assert "month" in instruments["PCL-5"]["stem"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic YWRtaW46YWRtaW4="}],
    ids=["no token", "garbage token", "basic auth"],
)
def test_without_a_valid_token_is_401(client: FlaskClient, headers: dict[str, str]) -> None:
    assert_problem(client.get(INSTRUMENTS_URL, headers=headers), 401)
