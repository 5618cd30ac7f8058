"""GET /api/v1/sessions leaves each session's status history (`transitions`) out unless asked
for with `include=transitions`; a listed session is otherwise exactly what GET
/api/v1/sessions/{id} answers, which always carries its history."""

from __future__ import annotations

import pytest

from tests.sessions.helpers import (
    SESSIONS,
    act,
    assert_problem,
    bring_to,
    list_items,
    random_id,
    read,
    scheduled,
)

INCLUDE = {"include": "transitions"}


@pytest.fixture
def histories(client, world):
    """Four sessions of world.patient with histories of none, one and two moves."""
    made = [
        scheduled(client, world.clinician, world.patient.id, f"2026-12-0{day}T13:00:00Z")
        for day in (2, 3, 4)
    ]
    started = scheduled(client, world.clinician, world.patient.id)  # 13:00 today: may start
    bring_to(client, world.clinician, started["id"], "completed")
    assert act(client, world.clinician, made[0]["id"], "cancel").status_code == 200
    assert act(client, world.clinician, made[1]["id"], "no-show").status_code == 200
    return [started["id"]] + [each["id"] for each in made]


@pytest.mark.parametrize("who", ["clinician", "patient"])
def test_a_list_leaves_the_histories_out_by_default(client, world, histories, who):
    items = list_items(client, getattr(world, who))

    assert len(items) == len(histories)
    for item in items:
        assert "transitions" not in item


@pytest.mark.parametrize("who", ["clinician", "patient"])
def test_without_histories_a_listed_session_is_the_single_read_less_its_history(
    client, world, histories, who
):
    actor = getattr(world, who)

    for item in list_items(client, actor):
        single = read(client, actor, item["id"])
        del single["transitions"]
        assert item == single


@pytest.mark.parametrize("who", ["clinician", "patient"])
def test_with_include_each_listed_session_is_exactly_its_single_read(client, world, histories, who):
    actor = getattr(world, who)

    items = list_items(client, actor, **INCLUDE)

    assert [item["id"] for item in items] == histories
    for item in items:
        assert item == read(client, actor, item["id"])
    moves = [[t["to_status"] for t in item["transitions"]] for item in items]
    assert moves == [["in_progress", "completed"], ["cancelled"], ["no_show"], []]


def test_include_follows_the_cursor_through_every_page(client, world, histories):
    items, cursor = [], None
    while True:
        query = {"limit": 1, **INCLUDE, **({"cursor": cursor} if cursor else {})}
        response = client.get(SESSIONS, headers=world.clinician.headers, query_string=query)
        assert response.status_code == 200, response.get_json()
        items += response.get_json()["items"]
        cursor = response.get_json()["next_cursor"]
        if cursor is None:
            break

    assert items == list_items(client, world.clinician, **INCLUDE)


def test_include_composes_with_the_filters(client, world, histories):
    items = list_items(client, world.clinician, status="cancelled", **INCLUDE)

    assert [item["id"] for item in items] == [histories[1]]
    assert items[0]["transitions"][0]["reason"]


def test_include_on_an_empty_list_is_an_empty_page(client, world, histories):
    assert list_items(client, world.lone_clinician, **INCLUDE) == []
    assert list_items(client, world.other_patient, **INCLUDE) == []


@pytest.mark.parametrize(
    "value", ["notes", "Transitions", "TRANSITIONS", "", "transitions,notes", "transition"]
)
def test_an_unknown_include_is_422_naming_it(client, world, histories, value):
    response = client.get(
        SESSIONS, headers=world.clinician.headers, query_string={"include": value}
    )

    assert_problem(response, 422, "include")


def test_admins_may_not_list_sessions_with_histories(client, world, histories):
    response = client.get(SESSIONS, headers=world.admin.headers, query_string=INCLUDE)

    assert_problem(response, 403)


@pytest.mark.parametrize("who", ["clinician", "patient", "lone_clinician"])
def test_with_histories_a_foreign_patient_filter_is_the_same_404(client, world, histories, who):
    actor = getattr(world, who)

    foreign = client.get(
        SESSIONS,
        headers=actor.headers,
        query_string={"patient_id": world.other_patient.id, **INCLUDE},
    )
    missing = client.get(
        SESSIONS, headers=actor.headers, query_string={"patient_id": random_id(), **INCLUDE}
    )

    assert assert_problem(foreign, 404) == assert_problem(missing, 404)


def test_without_a_token_a_list_with_histories_is_401(client, histories):
    assert_problem(client.get(SESSIONS, query_string=INCLUDE), 401)
