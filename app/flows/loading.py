"""Loading scripts: each file parsed (``app.flows.parsing``), linted and matched to its approval,
and the registry of every script, read once at start."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.errors import NotFoundError
from app.flows.approval import Approval, find_approval, read_approvals
from app.flows.lint import lint_flow
from app.flows.parsing import (
    VOICES,
    FlowError,
    Problem,
    canonical_hash,
    flow_from_text,
    parse_flow,
    read_yaml,
    schema_problems,
    script_files,
    voice_for,
)
from app.flows.schema import FlowFile

# Re-exported: the names other rooms have always imported from here.
__all__ = [
    "VOICES",
    "FlowError",
    "LoadedScript",
    "Problem",
    "ScriptRegistry",
    "canonical_hash",
    "find_script",
    "flow_from_text",
    "load_registry",
    "load_script",
    "parse_flow",
    "read_yaml",
    "schema_problems",
    "script_files",
    "voice_for",
]


@dataclass(frozen=True, eq=False)
class LoadedScript:
    """A parsed, linted script file and whether its exact content is approved."""

    id: str
    version: int
    content_hash: str
    title: str
    language: str
    channels: frozenset[str]
    voice: str | None
    approved: bool
    approval: Approval | None
    flow: FlowFile
    content: str
    path: Path


def load_script(path: Path, *, flows_path: Path | None = None) -> LoadedScript:
    """Parse and lint one script; raise ``FlowError`` listing every problem."""
    flow, text, content_hash, problems = parse_flow(path)
    if flow is not None:
        problems = lint_flow(flow, name=str(path))
    if flow is None or problems:
        raise FlowError(problems)
    records = read_approvals(flows_path or path.parent)
    approval = find_approval(records, flow_id=flow.id, version=flow.version, sha256=content_hash)
    return LoadedScript(
        id=flow.id,
        version=flow.version,
        content_hash=content_hash,
        title=flow.title,
        language=flow.language,
        channels=frozenset(flow.channels),
        voice=voice_for(flow),
        approved=approval is not None,
        approval=approval,
        flow=flow,
        content=text,
        path=path,
    )


def find_script(flows_path: Path, flow_id: str) -> LoadedScript:
    """Load the one script with this id, whatever state the other files are in."""
    for path in script_files(flows_path):
        flow, _, _, _ = parse_flow(path)
        if flow is not None and flow.id == flow_id:
            return load_script(path, flows_path=flows_path)
    raise NotFoundError(f"No call script with id {flow_id!r} in {flows_path}")


class ScriptRegistry:
    """Every script in ``call_flows/``, loaded once at start (no file reads per request)."""

    def __init__(self, scripts: list[LoadedScript]) -> None:
        self._scripts = {script.id: script for script in scripts}

    def get(self, flow_id: str) -> LoadedScript:
        """The script with this id."""
        try:
            return self._scripts[flow_id]
        except KeyError:
            raise NotFoundError(f"No call script with id {flow_id!r}") from None

    def all(self) -> list[LoadedScript]:
        """Every script, by id."""
        return [self._scripts[key] for key in sorted(self._scripts)]


def load_registry(flows_path: Path) -> ScriptRegistry:
    """Load and lint every script in a directory; raise ``FlowError`` if any has a problem."""
    problems: list[Problem] = []
    scripts: list[LoadedScript] = []
    seen: dict[str, Path] = {}
    for path in script_files(flows_path):
        try:
            script = load_script(path, flows_path=flows_path)
        except FlowError as exc:
            problems.extend(exc.problems)
            continue
        if script.id in seen:
            problems.append(
                Problem(
                    str(path),
                    None,
                    f"uses the id {script.id!r} already used by {seen[script.id].name}",
                    "give each script its own id (a new version of a script replaces the file)",
                )
            )
            continue
        seen[script.id] = path
        scripts.append(script)
    if problems:
        raise FlowError(problems)
    return ScriptRegistry(scripts)
