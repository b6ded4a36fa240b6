"""The dispatch cycle as a list of steps: each step's idle question, combined in one statement
whose bind names the combiner puts under each step's name."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.dialects import postgresql, sqlite

from reminders.cycle import STEPS, idle_question, steps_of
from server.services.steps.base import IdleQuestion
from server.services.steps.sending import Sending

NOW = dt.datetime(2026, 11, 25, 8, 0, 30, tzinfo=dt.UTC)


def test_every_step_has_a_name_of_its_own_and_the_sending_step_comes_last() -> None:
    names = [step.name for step in STEPS]
    assert len(set(names)) == len(names) and all(name.isidentifier() for name in names)
    assert isinstance(STEPS[-1], Sending)
    assert Sending not in {type(step) for step in steps_of(False)}


def test_the_question_asks_each_steps_values_under_its_own_names() -> None:
    question = idle_question(True)
    values = question.values(NOW)
    # several steps call a value `now`: each keeps its own
    assert {"time_rules_bowel_before", "doses_ahead_now", "sending_now"} <= set(values)
    for step in question.steps:
        for key in step.due_values(NOW):
            assert values[f"{step.name}_{key}"] == step.due_values(NOW)[key]
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        named = {
            name
            for name, bind in question.statement.compile(dialect=dialect).binds.items()
            if not bind.unique
        }
        assert named == set(values)


def test_the_question_is_built_once_and_the_steps_templates_are_left_as_they_were() -> None:
    assert idle_question(True) is idle_question(True)
    before = {step.name: [str(c) for c in step.due()] for step in STEPS}
    IdleQuestion(STEPS)
    assert {step.name: [str(c) for c in step.due()] for step in STEPS} == before
    assert "doses_ahead_now" not in str(STEPS[1].question(NOW))
