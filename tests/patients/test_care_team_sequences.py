"""No sequence of calls leaves a patient without an active clinician.

Every route that changes a care team or an account's standing is driven in random sequences
(a Hypothesis state machine, seeded) over three clinicians and two patients: PUT and DELETE
care-team members (by an admin, or by a clinician on the team, who may remove themself),
POST /users/{id}/deactivate, and POST /patients (by an admin naming a clinician, or by a
clinician). Each answer is checked against a model of the rule, and after every step the
database itself is asked whether any patient lacks an active clinician. The other routes
that touch accounts change nothing here: POST /clinicians makes a clinician on no team, and
POST /auth/activate only sets a password (of an account that is still active)."""

from __future__ import annotations

import uuid
from contextlib import ExitStack

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import select

from telehealth.accounts.models import Role, User
from telehealth.extensions import db
from telehealth.patients.models import CareTeamMember, Patient
from tests.factories import make_patient, make_user, sign_in
from tests.patients.helpers import API, care_team_url, patient_body
from tests.record_rights.test_phi_routes_audited import rolled_back

CLINICIANS = ("A", "B", "C")


def unwatched_patients(app) -> list[str]:
    """Straight from the tables: patients with no active clinician on their care team."""
    with app.app_context():
        active = {
            (patient_id, clinician_id)
            for patient_id, clinician_id in db.session.execute(
                select(CareTeamMember.patient_id, CareTeamMember.clinician_id)
                .join(User, User.id == CareTeamMember.clinician_id)
                .where(User.is_active.is_(True), User.role == Role.CLINICIAN)
            )
        }
        watched = {patient_id for patient_id, _ in active}
        return sorted(str(p) for p in db.session.scalars(select(Patient.id)) if p not in watched)


def stored_teams(app) -> dict[str, set[str]]:
    with app.app_context():
        teams: dict[str, set[str]] = {}
        for patient_id, clinician_id in db.session.execute(
            select(CareTeamMember.patient_id, CareTeamMember.clinician_id)
        ):
            teams.setdefault(str(patient_id), set()).add(str(clinician_id))
        return teams


def test_no_sequence_of_changes_leaves_a_patient_without_an_active_clinician(app, client):
    admin = sign_in(app, make_user(app, Role.ADMIN))
    people = {
        name: sign_in(app, make_user(app, Role.CLINICIAN, name=f"Dr. {name}"))
        for name in CLINICIANS
    }
    first = make_patient(app, people["A"].user, name="First Patient")
    second = make_patient(app, people["A"].user, name="Second Patient")
    with app.app_context(), db.begin() as session:
        session.add(CareTeamMember(patient_id=second.id, clinician_id=people["B"].user.id))
    start = {str(first.id): {"A"}, str(second.id): {"A", "B"}}
    ids = {name: actor.id for name, actor in people.items()}
    names = {actor_id: name for name, actor_id in ids.items()}
    steps = {"answers": 0, "refused": 0}

    class CareTeams(RuleBasedStateMachine):
        """The model: each patient's team (clinician names) and who is still active."""

        def __init__(self) -> None:
            super().__init__()
            self.stack = ExitStack()
            self.stack.enter_context(rolled_back(app))
            self.teams = {patient: set(team) for patient, team in start.items()}
            self.active = set(CLINICIANS)

        def teardown(self) -> None:
            self.stack.close()

        def left_unwatched(self, patient: str, leaving: str) -> bool:
            return not (self.teams[patient] - {leaving}) & self.active

        def answered(self, response, expected: int) -> None:
            steps["answers"] += 1
            steps["refused"] += response.status_code == 409
            assert response.status_code == expected, (expected, response.get_data(as_text=True))

        def patients(self) -> list[str]:
            return sorted(self.teams)

        @rule(data=st.data(), clinician=st.sampled_from(CLINICIANS))
        def add(self, data: st.DataObject, clinician: str) -> None:
            patient = data.draw(st.sampled_from(self.patients()))
            response = client.put(care_team_url(patient, ids[clinician]), headers=admin.headers)
            if clinician not in self.active:
                self.answered(response, 404)
                return
            self.answered(response, 200)
            self.teams[patient].add(clinician)

        @rule(
            data=st.data(),
            clinician=st.sampled_from(CLINICIANS),
            by=st.sampled_from(("admin", *CLINICIANS)),
        )
        def remove(self, data: st.DataObject, clinician: str, by: str) -> None:
            patient = data.draw(st.sampled_from(self.patients()))
            caller = admin if by == "admin" else people[by]
            response = client.delete(care_team_url(patient, ids[clinician]), headers=caller.headers)
            if by != "admin" and by not in self.active:
                self.answered(response, 401)
            elif {by, clinician} - {"admin"} - self.teams[patient]:
                # A caller off the team does not reach the record; a clinician off it is not
                # found there.
                self.answered(response, 404)
            elif self.left_unwatched(patient, clinician):
                self.answered(response, 409)
                assert response.get_json()["patient_ids"] == [patient]
            else:
                self.answered(response, 204)
                self.teams[patient].discard(clinician)

        @rule(clinician=st.sampled_from(CLINICIANS))
        def deactivate(self, clinician: str) -> None:
            response = client.post(
                f"{API}/users/{ids[clinician]}/deactivate", headers=admin.headers
            )
            unwatched = sorted(
                patient
                for patient in self.teams
                if clinician in self.teams[patient] and self.left_unwatched(patient, clinician)
            )
            if clinician in self.active and unwatched:
                self.answered(response, 409)
                assert response.get_json()["patient_ids"] == unwatched
            else:
                self.answered(response, 200)
                self.active.discard(clinician)

        @rule(clinician=st.sampled_from(CLINICIANS), by_admin=st.booleans())
        def create(self, clinician: str, by_admin: bool) -> None:
            if len(self.teams) >= 4:
                return
            if by_admin:
                body = patient_body(clinician_id=ids[clinician])
                response = client.post(f"{API}/patients", json=body, headers=admin.headers)
                expected = 201 if clinician in self.active else 422
            else:
                headers = people[clinician].headers
                response = client.post(f"{API}/patients", json=patient_body(), headers=headers)
                expected = 201 if clinician in self.active else 401
            self.answered(response, expected)
            if expected == 201:
                self.teams[response.get_json()["id"]] = {clinician}

        @invariant()
        def every_patient_has_an_active_clinician(self) -> None:
            assert unwatched_patients(app) == []

        @invariant()
        def the_stored_teams_are_the_model_s(self) -> None:
            stored = stored_teams(app)
            assert {p: {names[c] for c in team} for p, team in stored.items()} == self.teams
            with app.app_context():
                statement = select(User.id).where(
                    User.id.in_([uuid.UUID(i) for i in ids.values()]), User.is_active.is_(True)
                )
                assert {names[str(i)] for i in db.session.scalars(statement)} == self.active

    run_state_machine_as_test(
        CareTeams,
        settings=settings(
            max_examples=40,
            stateful_step_count=12,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        ),
    )

    # The sequences did reach the refusals, not only the easy answers.
    assert steps["answers"] > 200
    assert steps["refused"] > 10
