"""Issue 19: the documentation ships with the code. Nothing under docs/ or in the README points
outside the repository, every link between the pages leads somewhere, the docs index names
every page, the API guide's route table is the app's URL map with the authorization policy's
roles, and the clinical page's numbers are the code's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.routing import Rule

from config import Config
from telehealth.accounts.models import Role
from telehealth.checkins.outcomes import DETERIORATION_POINTS
from telehealth.instruments.definitions import INSTRUMENTS
from telehealth.monitoring.models import SIDE_EFFECTS, VITAL_RANGES
from tests.authz.test_authz_matrix import POLICY

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
README = ROOT / "README.md"
ALL_PAGES = [README, *PAGES]

# [text](target), not images' sources alone; a target ends at whitespace or ")".
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
# A repository path written as code: `docs/worker.md`, `bench/README.md`.
CODE_PATH = re.compile(r"`((?:[\w.-]+/)+[\w.-]+\.md)`")


def _name(page: Path) -> str:
    return str(page.relative_to(ROOT))


def slug(heading: str) -> str:
    """The anchor a Markdown renderer (GitHub's) gives a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {slug(m) for m in re.findall(r"^#+ (.+)$", page.read_text(), flags=re.MULTILINE)}


def test_the_docs_folder_holds_the_guides_this_issue_asks_for():
    names = {page.name for page in PAGES}

    assert {"README.md", "api.md", "clinical-rules.md"} <= names


@pytest.mark.parametrize("page", ALL_PAGES, ids=_name)
def test_no_page_points_outside_the_repository(page):
    text = page.read_text()

    assert "shared/" not in text
    assert "../" not in text


@pytest.mark.parametrize("page", ALL_PAGES, ids=_name)
def test_every_relative_link_leads_to_a_file_and_a_heading_that_exist(page):
    broken = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"^[a-z][a-z+.-]*:", target):
            continue  # https:, mailto: and the like: not a file of the repository
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.is_file() or (anchor and anchor not in anchors(linked)):
            broken.append(target)

    assert broken == [], f"{_name(page)} links to what does not exist"


@pytest.mark.parametrize("page", ALL_PAGES, ids=_name)
def test_every_page_named_as_a_repository_path_exists(page):
    missing = [path for path in CODE_PATH.findall(page.read_text()) if not (ROOT / path).is_file()]

    assert missing == [], f"{_name(page)} names pages that do not exist"


def test_the_docs_index_links_every_page_under_docs():
    linked = {target.partition("#")[0] for target in LINK.findall((DOCS / "README.md").read_text())}
    pages = {page.name for page in PAGES if page.name != "README.md"}

    assert pages - linked == set(), "add a line for each new page to docs/README.md"


# --- the API guide's route table ---------------------------------------------------------------

ROUTE_ROW = re.compile(r"^\| `([A-Z]+) (/[^`]*)` \| ([^|]+) \|", re.MULTILINE)
#: Flask's own static route: the app serves no files through it.
NOT_A_ROUTE = {("GET", "/static/<path:filename>")}


def documented_routes() -> dict[tuple[str, str], str]:
    text = (DOCS / "api.md").read_text()
    return {(method, path): who.strip() for method, path, who in ROUTE_ROW.findall(text)}


def app_routes(app: Flask) -> dict[tuple[str, str], Rule]:
    found = {}
    for rule in app.url_map.iter_rules():
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            if (method, rule.rule) not in NOT_A_ROUTE:
                path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
                found[(method, path)] = rule
    return found


def test_the_route_table_lists_every_route_of_the_app_and_no_other(app):
    documented, served = set(documented_routes()), set(app_routes(app))

    assert served - documented == set(), "add each new route to the table in docs/api.md"
    assert documented - served == set(), "docs/api.md lists routes the app does not have"


ROLE_WORDS = {"admin": Role.ADMIN, "clinician": Role.CLINICIAN, "patient": Role.PATIENT}


def read_who(who: str) -> tuple[frozenset[Role] | None, bool]:
    """A "who" cell as (roles, scoped): None for anyone; scoped when the cell says whose record
    ("care team", "own", "any patient"), in parentheses after the role."""
    if who.startswith("anyone"):
        return None, False
    if who.startswith("any signed-in user"):
        return frozenset(Role), "(" in who
    outside = re.sub(r"\([^)]*\)", "", who)
    roles = frozenset(ROLE_WORDS[word] for word in re.findall(r"[a-z]+", outside))
    return roles, "(" in who


def test_the_route_table_names_the_roles_the_authorization_policy_allows(app):
    rules = app_routes(app)
    disagree = []
    for (method, path), who in documented_routes().items():
        rule = rules.get((method, path))
        access = POLICY.get((method, rule.rule)) if rule is not None else None
        if access is None:
            continue  # not a route, or outside the matrix (tested elsewhere)
        if read_who(who) != (access.roles, access.scoped):
            disagree.append(f"{method} {path}: the guide says {who!r}")

    assert disagree == [], "docs/api.md and tests/authz/test_authz_matrix.py POLICY disagree"


def test_the_401_descriptions_the_guide_explains_are_the_ones_the_service_sends(client, world):
    guide = (DOCS / "api.md").read_text()
    clinician = world.clinician
    refresh_as_access = client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {clinician.refresh_token}"}
    )
    assert client.post("/api/v1/auth/logout", headers=clinician.headers).status_code == 204
    signed_out = client.get("/api/v1/me", headers=clinician.headers)

    for response in (refresh_as_access, signed_out):
        assert response.status_code == 401
        described = re.search(r'error_description="([^"]+)"', response.headers["WWW-Authenticate"])
        assert described is not None
        assert f'error_description="{described.group(1)}"' in guide


def test_the_guide_states_the_default_settings():
    guide = " ".join((DOCS / "api.md").read_text().split())
    access_minutes = int(Config.JWT_ACCESS_TOKEN_EXPIRES.total_seconds() // 60)

    assert f"**Access tokens** last {access_minutes} minutes" in guide
    assert f"({Config.REFRESH_REUSE_GRACE_SECONDS} seconds by default)" in guide
    assert f"`REFRESH_TOKEN_DAYS` ({Config.JWT_REFRESH_TOKEN_EXPIRES.days} by default)" in guide
    assert f"`IDEMPOTENCY_TTL_HOURS` ({Config.IDEMPOTENCY_TTL_HOURS} by default)" in guide
    assert f"({Config.MAX_CONTENT_LENGTH // 1024} KiB by default;" in guide


def test_the_guide_states_the_default_sign_in_limits():
    guide = " ".join((DOCS / "api.md").read_text().split())

    def words(limits: str) -> str:
        per = {"minute": "a minute", "hour": "an hour"}
        parts = [f"{n} {per[unit]}" for n, unit in (x.split("/") for x in limits.split(";"))]
        return " and ".join(parts)

    for name in (
        "LOGIN_RATE_LIMIT_PER_ADDRESS",
        "LOGIN_RATE_LIMIT_PER_ACCOUNT",
        "LOGIN_RATE_LIMIT_PER_ACCOUNT_ALL_ADDRESSES",
    ):
        assert f"(`{name}`, {words(getattr(Config, name))})" in guide


# --- the clinical page's numbers ---------------------------------------------------------------


def clinical() -> str:
    return " ".join((DOCS / "clinical-rules.md").read_text().split())


@pytest.mark.parametrize("code", list(INSTRUMENTS))
def test_the_clinical_page_gives_each_questionnaire_its_items_range_and_bands(code):
    instrument = INSTRUMENTS[code]
    bands = ", ".join(f"{band.low}-{band.high} {band.label}" for band in instrument.bands)
    row = (
        f"| {len(instrument.items)} | {instrument.item_min}-{instrument.item_max} | "
        f"{instrument.recall} | sum, 0-{instrument.total_max} |"
    )

    assert row in clinical()
    assert bands in clinical()


def test_the_clinical_page_gives_the_pcl5_cutoff_and_the_deterioration_rule():
    assert f"`PCL5_CUTOFF`, {Config.PCL5_CUTOFF} by default" in clinical()
    assert f"rose by {DETERIORATION_POINTS} points or more" in clinical()
    remission = {i.remission_below for i in INSTRUMENTS.values() if i.remission_below}
    assert remission == {5}
    assert "total is under 5" in clinical()


@pytest.mark.parametrize("name", [name for name in VITAL_RANGES if name != "sedation"])
def test_the_clinical_page_gives_each_vital_signs_accepted_range(name):
    low, high = VITAL_RANGES[name]

    assert re.search(rf"\| `vitals\.{name}` \| [^|]+ \| {low}-{high}\b", clinical()), name


def test_the_clinical_page_lists_every_side_effect_and_the_sedation_scale():
    low, high = VITAL_RANGES["sedation"]

    assert ", ".join(f"`{effect}`" for effect in SIDE_EFFECTS) in clinical()
    assert f"| MOAA/S score | {low}-{high}:" in clinical()


def test_the_clinical_page_gives_the_review_flags_the_service_applies():
    flags = Config.REVIEW_FLAGS
    text = clinical()

    assert f"| systolic blood pressure | {flags['systolic_at_least']} mmHg or more |" in text
    assert f"| diastolic blood pressure | {flags['diastolic_at_least']} mmHg or more |" in text
    heart = f"{flags['heart_rate_at_least']} a minute or more, or under {flags['heart_rate_below']}"
    assert f"| heart rate | {heart} |" in text
    assert f"| SpO2 | under {flags['spo2_below']} % |" in text
    assert f"| respiratory rate | under {flags['respiratory_rate_below']} a minute |" in text
    assert f"| sedation (MOAA/S) | {flags['sedation_at_most']} or less |" in text
    assert set(flags) == {
        "systolic_at_least",
        "diastolic_at_least",
        "heart_rate_at_least",
        "heart_rate_below",
        "spo2_below",
        "respiratory_rate_below",
        "sedation_at_most",
    }, "a new review flag: add it to docs/clinical-rules.md"
