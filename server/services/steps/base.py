"""What a step of the dispatch cycle is, and the idle question the cycle asks of its steps.

Each step owns its SQL. It says whether it has work as a few conditions (`due`: EXISTS over
its own index ranges, built once, with bind names of its own and their values from
`due_values`), and does the work in `run`. Most minutes nothing is due: the cycle then asks
every step's conditions in one statement (`IdleQuestion`: one round trip), each step's bind
names put under the step's name, so that two steps may both call theirs `now`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy import BindParameter, ColumnElement, Select, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.visitors import replacement_traverse

from server.services.content import Content


@dataclass
class CycleRun:
    """One cycle in hand, as its steps see it."""

    session: Session
    now: dt.datetime
    # the latest instant the cycle may record as done (reminders.cycle.run_cycle)
    settled: dt.datetime
    content: Content
    # sends what the outbox has due (None: the cycle only queues); returns its counts
    send: Callable[[Session, dt.datetime], Mapping[str, int]] | None = None
    # diary prompts the time rules asked for, sent by the prompts step
    prompts: list[tuple[int, str]] = field(default_factory=list)
    # who runs the cycle (a worker's identity): what it holds is held in its name
    worker: str = "cycle"


class Step:
    """One job of the dispatch cycle."""

    # a name for the timing report and the question's bind names (an identifier)
    name: ClassVar[str]
    # the counts `run` reports: zero in an idle cycle
    counts: ClassVar[tuple[str, ...]] = ()

    def due(self) -> Sequence[ColumnElement[bool]]:
        """Conditions, any of them true when the step may have work at the values of
        `due_values`: built once (the values are parameters). None: the step's work comes from
        another step's (it runs when the cycle runs)."""
        return ()

    def due_values(self, now: dt.datetime) -> dict[str, Any]:
        return {}

    def run(self, cycle: CycleRun) -> dict[str, int]:
        """Do the step's work in transactions of its own; its counts."""
        raise NotImplementedError

    def question(self, now: dt.datetime) -> Select[Any]:
        """This step's part of the idle question alone, with its values (to look at its plan)."""
        return select(or_(*self.due())).params(self.due_values(now))


class IdleQuestion:
    """ "Has any of these steps work at `now`?" in one statement, built once: each step's
    conditions, their bind names put under the step's name (`doses_ahead_now`)."""

    def __init__(self, steps: Sequence[Step]) -> None:
        self.steps = tuple(step for step in steps if step.due())
        self.statement: Select[Any] = select(
            or_(*(_own_names(c, step.name) for step in self.steps for c in step.due()))
        )

    def values(self, now: dt.datetime) -> dict[str, Any]:
        return {
            f"{step.name}_{key}": value
            for step in self.steps
            for key, value in step.due_values(now).items()
        }

    def ask(self, session: Session, now: dt.datetime) -> bool:
        """True when some step has work at `now`."""
        return bool(session.execute(self.statement, self.values(now)).scalar_one())

    def with_values(self, now: dt.datetime) -> Select[Any]:
        """The statement with its values (to look at its plan)."""
        return self.statement.params(self.values(now))


def _own_names(condition: ColumnElement[bool], prefix: str) -> ColumnElement[bool]:
    """`condition` with each named parameter `key` renamed `{prefix}_{key}` (the anonymous
    ones, a literal's, keep theirs: they are unique already)."""

    def rename(element: Any, **_kw: Any) -> Any:
        if isinstance(element, BindParameter) and not element.unique:
            return BindParameter(
                f"{prefix}_{element.key}", type_=element.type, required=element.required
            )
        return None

    return replacement_traverse(condition, {}, rename)
