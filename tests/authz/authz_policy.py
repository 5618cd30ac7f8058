"""The vocabulary of the authorization matrix (tests/authz/test_authz_matrix.py): who the actors
are, whose record each of them reaches, what a POLICY entry says, the answer it requires of
one call, how an answer is judged (passed, leaked, or wrong in a way that leaks nothing), and
the tally printed at the end of the run."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from telehealth.accounts.models import Role

ADMIN, CLINICIAN, PATIENT = Role.ADMIN, Role.CLINICIAN, Role.PATIENT

ANONYMOUS = "anonymous"
# The fixture world's people (tests/conftest.py `world`), and nobody signed in.
ACTORS = (
    ANONYMOUS,
    "admin",
    "clinician",
    "other_clinician",
    "lone_clinician",
    "patient",
    "other_patient",
)
ROLES: dict[str, Role] = {
    "admin": ADMIN,
    "clinician": CLINICIAN,
    "other_clinician": CLINICIAN,
    "lone_clinician": CLINICIAN,
    "patient": PATIENT,
    "other_patient": PATIENT,
}
# The two record owners and the clinician on each one's care team (the lone clinician is on
# none). Scoped routes are called on the records of both, so that every actor meets an own and
# a foreign record (the lone clinician two foreign ones).
OWNERS = ("patient", "other_patient")
CARE_TEAM = {"patient": "clinician", "other_patient": "other_clinician"}


def reaches(actor: str, owner: str) -> bool:
    """Whether `actor` may see `owner`'s record at all: admins every record, a clinician their
    care teams', a patient their own."""
    if actor == "admin":
        return True
    return actor in (owner, CARE_TEAM[owner])


@dataclass(frozen=True)
class Access:
    """One POLICY entry: the roles that may use a route (None: anyone, without a token) and
    whether it is scoped to records the caller reaches (`reaches`): the record the URL, or for
    POST /sessions the body, names."""

    roles: frozenset[Role] | None
    scoped: bool = False

    @property
    def public(self) -> bool:
        return self.roles is None


def allow(*roles: Role, scoped: bool = False) -> Access:
    return Access(frozenset(roles), scoped)


PUBLIC = Access(None)
# Any signed-in account, whatever its role.
ANY_USER = allow(ADMIN, CLINICIAN, PATIENT)


def required(access: Access, actor: str, owner: str) -> int | None:
    """The refusal a call must get (401, 403 or 404), or None when it must be let through."""
    if access.public:
        return None
    if actor == ANONYMOUS:
        return 401
    if ROLES[actor] not in access.roles:  # type: ignore[operator]
        return 403
    if access.scoped and not reaches(actor, owner):
        return 404
    return None


# --- judging one answer -----------------------------------------------------------------------

REFUSALS = (401, 403, 404)


@dataclass(frozen=True)
class Answer:
    status: int
    mimetype: str
    text: str

    @property
    def key(self) -> tuple[int, str, str]:
        """What must be the same as a random id's 404: status, media type, body."""
        return (self.status, self.mimetype, self.text)


def judge(must: int | None, answer: Answer, baseline: Answer | None) -> tuple[str, str | None]:
    """("leak" | "wrong" | "ok", why). A leak lets something through that was to be refused,
    or tells a hidden record from a missing one; a wrong answer refuses too much, or refuses
    with a different code that gives nothing away."""
    status = answer.status
    if must is None:
        if status in REFUSALS or status >= 500:
            return "wrong", f"allowed, got {status}"
        return "ok", None
    if status == must:
        if must == 404 and baseline is not None and answer.key != baseline.key:
            return "leak", f"404 differs from a random id's {baseline.status}: {answer.text!r}"
        return "ok", None
    if status < 400 or status not in REFUSALS:
        return "leak", f"required {must}, got {status}"
    if must == 404:
        return "leak", f"required 404, got {status} (tells the record exists)"
    return "wrong", f"required {must}, got {status}"


@dataclass
class Markers:
    """What gives one patient's record away in a body: their ids, name and email, and the ids
    of their session, note, check-in and alert."""

    owner: str
    ids: set[str]
    words: set[str]

    def pattern(self) -> re.Pattern[str]:
        values = sorted(self.ids | self.words, key=len, reverse=True)
        # Not inside a longer token: patient5@example.test must not match patient15@....
        return re.compile(
            r"(?<![\w.@+-])(?:" + "|".join(map(re.escape, values)) + r")(?![\w@-])", re.I
        )


def foreign_data(text: str, actor: str, markers: dict[str, re.Pattern[str]]) -> list[str]:
    """The owners whose data appears in `text` although `actor` does not reach them."""
    return [
        owner
        for owner, pattern in markers.items()
        if not reaches(actor, owner) and pattern.search(text)
    ]


# --- the tally --------------------------------------------------------------------------------


@dataclass
class Tally:
    routes: int = 0
    cells: int = 0
    baselines: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    leaks: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)

    def count(self, label: str, must: int | None, answer: Answer, verdict: str, why: str | None):
        self.cells += 1
        if must is not None:
            kind = f"refused {must}"
        elif 200 <= answer.status < 300:
            kind = "allowed 2xx"
        elif answer.status in REFUSALS or answer.status >= 500:
            kind = "allowed but not served"
        else:
            kind = "allowed, non-auth 4xx"
        self.outcomes[kind] += 1
        if verdict == "leak":
            self.leaks.append(f"{label}: {why}")
        elif verdict == "wrong":
            self.wrong.append(f"{label}: {why}")

    def lines(self) -> list[str]:
        head = (
            f"authz matrix: {self.routes} routes x {len(ACTORS)} actors -> {self.cells} cells "
            f"checked ({self.baselines} random-id 404 baselines besides)"
        )
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(self.outcomes.items()))
        return [head, f"  {kinds}", f"  leaked: {len(self.leaks)}, wrong: {len(self.wrong)}"]

    def report(self, limit: int = 60) -> str:
        problems = [f"LEAK {line}" for line in self.leaks] + [f"WRONG {w}" for w in self.wrong]
        extra = [f"... and {len(problems) - limit} more"] if len(problems) > limit else []
        return "\n".join([*self.lines(), *problems[:limit], *extra])


# Filled by the matrix test, printed by tests/authz/conftest.py at the end of the run.
SUMMARY: list[str] = []
