"""One writer of the patient's stored summary: services/state.py (issue 13's design note; STYLE.md
"One writer per table of derived state"). A walk of the code that fails on any other module that
assigns a patient_state column or updates the table."""

from __future__ import annotations

import ast
from pathlib import Path

from server.models import PatientState

ROOT = Path(__file__).resolve().parents[2]
OWNER = ROOT / "server" / "services" / "state.py"
COLUMNS = {column.key for column in PatientState.__table__.columns}


def _writes(path: Path) -> list[str]:
    """`x.<summary column> = ...` (or +=), and update(PatientState)/update(STATES) calls."""
    tree = ast.parse(path.read_text("utf-8"))
    found: list[str] = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Attribute) and target.attr in COLUMNS:
                # other tables share a few names (patient_id, updated_at): only a receiver
                # named as a summary is counted
                receiver = ast.unparse(target.value)
                if "state" in receiver.lower():
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(target)}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "update"
            and node.args
            and ast.unparse(node.args[0]) in ("PatientState", "STATES", "PatientState.__table__")
        ):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} update(patient_state)")
    return found


def test_only_the_summary_service_writes_patient_state() -> None:
    writes = [
        write
        for folder in ("server", "reminders")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path != OWNER
        for write in _writes(path)
    ]
    assert writes == []


def test_the_walk_finds_a_write_where_there_is_one() -> None:
    assert any("state.tracking_since" in write for write in _writes(OWNER))
    assert any("update(patient_state)" in write for write in _writes(OWNER))
