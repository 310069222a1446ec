from __future__ import annotations

import re
from pathlib import Path

# include/journeyloop/fwd.hpp declares every public class, struct and enum of
# the public headers (include/journeyloop/*.hpp, not detail/ or impl/), with
# the same class-key, so that a header or a user can name any of them
# without including its definition.

INCLUDE = Path(__file__).resolve().parents[2] / "include" / "journeyloop"

# A definition or declaration at namespace scope: not indented, so that
# nested classes (journey_set::builder) are left out.
DEFINED = re.compile(r"^(struct|class|enum class)\s+([a-z_][a-z0-9_]*)\b(?!\s*;)", re.M)
DECLARED = re.compile(r"^(struct|class|enum class)\s+([a-z_][a-z0-9_]*)\s*;", re.M)


def _defined() -> dict[str, str]:
    out: dict[str, str] = {}
    for header in sorted(INCLUDE.glob("*.hpp")):
        if header.name == "fwd.hpp":
            continue
        for key, name in DEFINED.findall(header.read_text()):
            out[name] = key
    return out


def test_fwd_declares_every_public_type() -> None:
    defined = _defined()
    assert "event_report_field" in defined and "loop_model" in defined
    text = (INCLUDE / "fwd.hpp").read_text()
    declared = DECLARED.findall(text)
    names = [name for _, name in declared]
    assert sorted(set(names)) == sorted(names), "a type is declared twice"
    assert dict((name, key) for key, name in declared) == defined
