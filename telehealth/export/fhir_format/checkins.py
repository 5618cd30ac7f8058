"""A check-in: the check-in itself as an observation, and each questionnaire answered with it
as a response and a total."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from telehealth.checkins.models import InstrumentScore, MoodCheckIn
from telehealth.export.fhir_format.codes import (
    LOINC,
    OBSERVATION_CATEGORY,
    OWN,
    code_system,
    coding,
    derived_id,
    extension,
    last_updated,
    quantity,
    ref,
    when,
)

#: A sleep duration in hours (LOINC 93832-4 "Sleep duration").
SLEEP_DURATION = ("93832-4", "Sleep duration")

#: Questionnaire totals with a LOINC code: (total, display, panel). PCL-5 has no LOINC code in
#: the clinical reference's table, so its total carries the service's own code.
TOTAL_CODES = {
    "PHQ-9": ("44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score", "44249-1"),
    "GAD-7": ("70274-6", "Generalized anxiety disorder 7 item (GAD-7) total score", "69737-5"),
}


def checkin_resource(checkin: MoodCheckIn) -> dict[str, Any]:
    """The check-in itself: mood, anxiety, sleep and context as components, the patient's own
    words as its note, the questionnaires answered with it as what it is derived from."""
    components: list[dict[str, Any]] = [
        {"code": coding(OWN, "mood", "Mood (0 worst, 10 best)"), "valueInteger": checkin.mood}
    ]
    if checkin.anxiety is not None:
        components.append(
            {
                "code": coding(OWN, "anxiety", "Anxiety (0 none, 10 worst)"),
                "valueInteger": checkin.anxiety,
            }
        )
    if checkin.sleep_hours is not None:
        components.append(
            {
                "code": coding(LOINC, *SLEEP_DURATION),
                "valueQuantity": quantity(checkin.sleep_hours, "h", "h"),
            }
        )
    components.append(
        {
            "code": coding(OWN, "checkin-context", "When the check-in was made"),
            "valueCodeableConcept": coding(code_system("checkin-context"), checkin.context.value),
        }
    )
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(checkin.id),
        **last_updated(checkin.updated_at),
        "status": "final",
        "category": [coding(OBSERVATION_CATEGORY, "survey", "Survey")],
        "code": coding(OWN, "daily-checkin", "Mood check-in"),
        "subject": ref(checkin.patient_id, "Patient"),
        "effectiveDateTime": when(checkin.recorded_at),
        "issued": when(checkin.received_at),
        "performer": [ref(checkin.patient_id, "Patient")],
        "component": components,
    }
    if checkin.session_id is not None:
        resource["extension"] = [
            {
                "url": extension("checkin-session"),
                "valueReference": ref(checkin.session_id, "Appointment"),
            }
        ]
    if checkin.note:
        resource["note"] = [{"text": checkin.note}]
    if checkin.scores:
        resource["derivedFrom"] = [
            ref(score.id, "QuestionnaireResponse") for score in checkin.scores
        ]
    return resource


def _result_component(name: str, value: Any) -> dict[str, Any]:
    """One of a score's further results (PCL-5's `probable_ptsd`...), under its own name."""
    kind = (
        "Boolean" if isinstance(value, bool) else "Integer" if isinstance(value, int) else "String"
    )
    return {
        "code": coding(OWN, name.replace("_", "-"), name.replace("_", " ").capitalize()),
        f"value{kind}": value,
    }


def questionnaire_resources(
    checkin: MoodCheckIn, score: InstrumentScore
) -> Iterator[dict[str, Any]]:
    yield {
        "resourceType": "QuestionnaireResponse",
        "id": str(score.id),
        "extension": [
            {
                "url": "urn:telehealth:instrument",
                "valueString": f"{score.instrument} {score.version}",
            }
        ],
        "partOf": [ref(checkin.id, "Observation")],
        "status": "completed",
        "subject": ref(checkin.patient_id, "Patient"),
        "authored": when(score.recorded_at),
        "author": ref(checkin.patient_id, "Patient"),
        "item": [
            {"linkId": str(index), "answer": [{"valueInteger": answer}]}
            for index, answer in enumerate(score.answers, start=1)
        ],
    }
    total: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(derived_id(score.id, "total")),
        "status": "final",
        "category": [coding(OBSERVATION_CATEGORY, "survey", "Survey")],
        "subject": ref(checkin.patient_id, "Patient"),
        "effectiveDateTime": when(score.recorded_at),
        "valueInteger": score.total,
        "derivedFrom": [ref(score.id, "QuestionnaireResponse")],
    }
    if score.instrument in TOTAL_CODES:
        code, display, panel = TOTAL_CODES[score.instrument]
        total["code"] = coding(LOINC, code, display)
        total["note"] = [{"text": f"Panel LOINC {panel}; band: {score.band}"}]
    else:
        slug = score.instrument.lower()
        total["code"] = coding(OWN, f"{slug}-total", f"{score.instrument} total score")
    if score.band is not None:
        total["interpretation"] = [coding(code_system("score-band"), score.band)]
    if score.extra:
        total["component"] = [_result_component(k, v) for k, v in score.extra.items()]
    yield total
