"""No object of the service reads as another through `__getattr__`: an answer is written from
a read model that names its fields (a dataclass, or the record itself), so what a schema reads
is plain to see and to type-check."""

from __future__ import annotations

from pathlib import Path

import telehealth


def test_no_module_of_the_service_defines_getattr():
    root = Path(telehealth.__file__).parent
    found = [
        str(path.relative_to(root))
        for path in sorted(root.rglob("*.py"))
        if "def __getattr__" in path.read_text(encoding="utf-8")
    ]
    assert found == []
