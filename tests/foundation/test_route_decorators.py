"""Every route stacks its decorators in the one documented order (see `audited`), because the
order decides what runs first: the audit before authentication, authentication before rate
limits, replays and body parsing."""

from __future__ import annotations

import ast
from pathlib import Path

import telehealth

#: Each decorator's name (the last part of its dotted name), in the order routes list them.
ORDER = (
    "route",
    "audited",
    "authenticated",
    "limit",
    "idempotent",
    "arguments",
    "response",
    "alt_response",
    "doc",
)
ROUTE_METHODS = {"get", "post", "put", "patch", "delete", "route"}
PACKAGE = Path(telehealth.__file__).parent


def decorator_name(decorator: ast.expr) -> str:
    """`route` for a blueprint's route decorator, else the last part of the dotted name."""
    called = decorator.func if isinstance(decorator, ast.Call) else decorator
    owner, _, name = ast.unparse(called).rpartition(".")
    return "route" if name in ROUTE_METHODS and owner and owner != "app" else name


def decorator_names(source: str) -> list[tuple[str, list[str]]]:
    """(line and name, decorator names) of every function in `source` with a route decorator."""
    routes = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef):
            names = [decorator_name(decorator) for decorator in node.decorator_list]
            if "route" in names:
                routes.append((f"{node.lineno} {node.name}", names))
    return routes


def api_routes() -> list[tuple[str, list[str]]]:
    """(where, decorator names) of every view function registered on a blueprint."""
    return [
        (f"{path.relative_to(PACKAGE.parent)}:{where}", names)
        for path in sorted(PACKAGE.rglob("*.py"))
        for where, names in decorator_names(path.read_text())
    ]


def out_of_order(routes: list[tuple[str, list[str]]]) -> list[str]:
    return [
        f"{where}: {' > '.join(names)}"
        for where, names in routes
        if [ORDER.index(name) for name in names if name in ORDER]
        != sorted(ORDER.index(name) for name in names if name in ORDER)
    ]


def test_the_api_routes_are_found():
    assert len(api_routes()) > 50


def test_every_route_lists_its_decorators_in_the_documented_order():
    misplaced = out_of_order(api_routes())
    assert not misplaced, "decorators out of order:\n" + "\n".join(misplaced)


def test_every_decorator_of_a_route_has_a_documented_place():
    unknown = sorted(
        f"{where}: {name}" for where, names in api_routes() for name in names if name not in ORDER
    )
    assert not unknown, "give these a place in ORDER and in audited's docstring:\n" + "\n".join(
        unknown
    )


def test_a_decorator_out_of_place_is_caught():
    source = (
        "@audited('x', 'y')\n@blp.get('/x')\ndef late_route(): ...\n\n"
        "@blp.post('/y')\n@blp.arguments(In)\n@authenticated()\ndef late_auth(): ...\n\n"
        "@blp.get('/z')\n@audited('x', 'y')\n@authenticated()\ndef in_order(): ...\n"
    )
    assert out_of_order(decorator_names(source)) == [
        "3 late_route: audited > route",
        "8 late_auth: route > arguments > authenticated",
    ]
