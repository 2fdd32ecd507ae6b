"""The step graph of a script: edges, reachability, loop bounds and the turn bound."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from app.flows.schema import (
    IDENTITY_TRIGGERS,
    TRIGGERS,
    AskStep,
    EndStep,
    FlowFile,
    SayStep,
    Step,
    VerifyStep,
)


@dataclass(frozen=True)
class Edge:
    """One way from a step to another; ``bounded`` marks the ``on_max_visits`` way out."""

    source: str
    target: str
    label: str
    verified: bool = False
    bounded: bool = False


def step_edges(name: str, step: Step) -> Iterator[Edge]:
    """Every way out of one step."""
    if isinstance(step, SayStep):
        yield Edge(name, step.next, "next")
    elif isinstance(step, AskStep):
        for option in step.options:
            yield Edge(name, option.next, f"option {option.key}")
        yield Edge(name, step.on_no_answer, "on_no_answer")
    elif isinstance(step, VerifyStep):
        yield Edge(name, step.on_success, "on_success", verified=True)
        yield Edge(name, step.on_failure, "on_failure")
        if step.on_no_answer:
            yield Edge(name, step.on_no_answer, "on_no_answer")
    if step.on_max_visits:
        yield Edge(name, step.on_max_visits, "on_max_visits", bounded=True)


def trigger_edges(flow: FlowFile, name: str, step: Step) -> Iterator[Edge]:
    """The ways out of a question that script-level ``understanding`` words open."""
    if not isinstance(step, (AskStep, VerifyStep)):
        return
    for kind in TRIGGERS:
        trigger = getattr(flow.understanding, kind)
        if trigger is None:
            continue
        if isinstance(step, VerifyStep) and kind not in IDENTITY_TRIGGERS:
            continue
        yield Edge(name, trigger.next, f"understanding.{kind}")


def edges(flow: FlowFile) -> list[Edge]:
    """Every edge of the script whose target exists."""
    return [
        edge
        for name, step in flow.steps.items()
        for edge in (*step_edges(name, step), *trigger_edges(flow, name, step))
        if edge.target in flow.steps
    ]


def reachable(flow: FlowFile) -> set[str]:
    """Steps a conversation can reach from ``start``."""
    if flow.start not in flow.steps:
        return set()
    outgoing: dict[str, list[str]] = {}
    for edge in edges(flow):
        outgoing.setdefault(edge.source, []).append(edge.target)
    seen = {flow.start}
    todo = [flow.start]
    while todo:
        for target in outgoing.get(todo.pop(), []):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def can_end(flow: FlowFile) -> set[str]:
    """Steps from which some path reaches an ``end``."""
    incoming: dict[str, list[str]] = {}
    for edge in edges(flow):
        incoming.setdefault(edge.target, []).append(edge.source)
    ends = {name for name, step in flow.steps.items() if isinstance(step, EndStep)}
    seen = set(ends)
    todo = list(ends)
    while todo:
        for source in incoming.get(todo.pop(), []):
            if source not in seen:
                seen.add(source)
                todo.append(source)
    return seen


def unbounded_cycles(flow: FlowFile) -> list[list[str]]:
    """Loops no ``max_visits`` bounds: cycles left once bounded steps' normal exits are cut.

    A loop is bounded when it leaves some step with ``max_visits`` by that step's normal way out,
    which happens at most ``max_visits`` times; the ``on_max_visits`` way out is not a bound.
    """
    outgoing: dict[str, list[str]] = {}
    for edge in edges(flow):
        step = flow.steps[edge.source]
        if step.max_visits is not None and not edge.bounded:
            continue
        outgoing.setdefault(edge.source, []).append(edge.target)
    cycles: list[list[str]] = []
    colour: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> None:
        colour[node] = 1
        path.append(node)
        for target in outgoing.get(node, []):
            if colour.get(target, 0) == 0:
                visit(target)
            elif colour[target] == 1:
                cycles.append(path[path.index(target) :])
        path.pop()
        colour[node] = 2

    for name in flow.steps:
        if colour.get(name, 0) == 0:
            visit(name)
    return cycles


def must_hold(
    flow: FlowFile,
    *,
    gives: Callable[[str], bool],
    through: Callable[[Edge], bool] = lambda edge: False,
) -> dict[str, bool]:
    """For each reachable step, whether a fact holds on arrival by every path from ``start``.

    The fact is established by a step that ``gives`` it (after that step) or by an edge that
    passes ``through`` (e.g. the success exit of ``verify``). A classic must-analysis: start from
    "holds everywhere" and remove it until nothing changes.
    """
    nodes = reachable(flow)
    incoming: dict[str, list[Edge]] = {}
    for edge in edges(flow):
        if edge.source in nodes:
            incoming.setdefault(edge.target, []).append(edge)
    holds = {name: name != flow.start for name in nodes}
    changed = True
    while changed:
        changed = False
        for name in nodes:
            if name == flow.start:
                continue
            value = all(
                holds[edge.source] or gives(edge.source) or through(edge)
                for edge in incoming.get(name, [])
            )
            if holds[name] and not value:
                holds[name] = False
                changed = True
    return holds


def inputs_per_visit(step: Step) -> int:
    """The most inputs one visit of a question can take before it moves on."""
    if isinstance(step, AskStep):
        return 2 * (
            step.retries + 1
        )  # each attempt may be a low-confidence answer + a confirmation
    if isinstance(step, VerifyStep):
        return step.tries + step.retries
    return 0


def turn_bound(flow: FlowFile) -> int:
    """The most inputs any conversation with this script can take (finite when lint passes)."""
    bounded_exits = sum(step.max_visits or 0 for step in flow.steps.values())
    per_pass = sum(inputs_per_visit(step) for step in flow.steps.values())
    return (bounded_exits + 1) * per_pass
