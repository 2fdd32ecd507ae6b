"""Reading one script file: YAML without duplicate keys, the schema, the canonical hash, and the
problems found, each naming file, step and fix.

The canonical content of a script is its parsed YAML written back as JSON with sorted keys, no
insignificant whitespace and UTF-8 text. Comments, key order, quoting style and line folding do
not change it; any change to what is said or where an answer leads does. Its SHA-256 is what an
approval binds to. The lint and the loader both build on this module, which imports neither.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from app.errors import InvalidInputError
from app.flows.approval import APPROVALS_FILE
from app.flows.schema import (
    SPEC_VERSION,
    AskStep,
    EndStep,
    FlowFile,
    Option,
    Phrases,
    SayStep,
    SmsSettings,
    SpeechSettings,
    VerifyStep,
)

VOICES: dict[str, tuple[str, ...]] = {
    "en-GB": (
        "Polly.Amy-Neural",
        "Polly.Emma-Neural",
        "Polly.Brian-Neural",
        "Polly.Arthur-Neural",
        "Polly.Amy",
        "Polly.Emma",
        "Polly.Brian",
    ),
    "cy-GB": ("Polly.Gwyneth",),
    "en-US": ("Polly.Joanna-Neural", "Polly.Matthew-Neural"),
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a script: where, what, and how to fix it."""

    file: str
    step: str | None
    message: str
    fix: str

    def __str__(self) -> str:
        where = f"{self.file}: step {self.step!r}" if self.step else self.file
        return f"{where}: {self.message}. Fix: {self.fix}"


class FlowError(InvalidInputError):
    """A script (or the set of them) cannot be used; every problem names file, step and fix."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader with YAML 1.2 booleans that refuses a key given twice in one mapping.

    PyYAML follows YAML 1.1, where an unquoted yes, no, on or off is a boolean: a clinician's
    ``words: [yes, no]`` would silently become ``[true, false]``. Only true and false are booleans
    here. A repeated key would otherwise keep the last value without a word.
    """


_UniqueKeyLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_UniqueKeyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} is given twice", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def canonical_hash(data: Any) -> str:
    """SHA-256 of the canonical content (parsed YAML as sorted-key compact JSON, UTF-8)."""
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def read_yaml(path: Path) -> tuple[Any, list[Problem]]:
    """The parsed file, or the problem that stopped it parsing."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(name, None, f"cannot be read ({exc})", "save it as UTF-8 text")]
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader), []  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        detail = getattr(exc, "problem", None) or str(exc)
        fix = (
            "give each key once (two steps cannot share a name; merge or rename one)"
            if "given twice" in str(detail)
            else "correct the YAML syntax (indentation, colons, quotes)"
        )
        return None, [Problem(name, None, f"is not valid YAML{line}: {detail}", fix)]


_MODELS_BY_TAG: dict[str, type[BaseModel]] = {
    "say": SayStep,
    "ask": AskStep,
    "verify": VerifyStep,
    "end": EndStep,
}
_NESTED: dict[str, type[BaseModel]] = {
    "options": Option,
    "speech": SpeechSettings,
    "sms": SmsSettings,
    "phrases": Phrases,
}


def _allowed_keys(loc: tuple[int | str, ...]) -> list[str]:
    """The keys allowed where an unknown key was found (for the fix in the message)."""
    model: type[BaseModel] = FlowFile
    parts = list(loc[:-1])
    if parts[:1] == ["steps"] and len(parts) >= 3:
        model = _MODELS_BY_TAG.get(str(parts[2]), FlowFile)
        parts = parts[3:]
    for part in parts:
        if isinstance(part, str) and part in _NESTED:
            model = _NESTED[part]
    return sorted(model.model_fields)


def schema_problems(name: str, error: ValidationError) -> list[Problem]:
    """Pydantic's errors as problems naming the step and the fix."""
    problems: list[Problem] = []
    for item in error.errors():
        loc = tuple(item["loc"])
        step: str | None = None
        field_path = loc
        if loc[:1] == ("steps",) and len(loc) >= 2:
            step = str(loc[1])
            field_path = loc[3:] if len(loc) >= 3 and loc[2] in _MODELS_BY_TAG else loc[2:]
        where = ".".join(str(part) for part in field_path) or ("the step" if step else "the file")
        kind = item["type"]
        if kind == "extra_forbidden":
            message = f"unknown key {where!r}"
            fix = f"remove it or correct its spelling (allowed: {', '.join(_allowed_keys(loc))})"
        elif kind == "missing":
            message = f"{where!r} is missing"
            fix = f"add `{field_path[-1] if field_path else where}:`"
        elif kind == "string_type":
            message = f"{where}: expected text, found {item['input']!r}"
            fix = "put the value in quotes"
        elif kind in ("int_type", "int_parsing", "int_from_float"):
            message = f"{where}: expected a whole number, found {item['input']!r}"
            fix = "write a whole number, e.g. 2"
        elif loc == ("spec",):
            message = f"spec {item['input']!r} is not a schema version this service reads"
            fix = f"write the script for spec {SPEC_VERSION} (see docs/call-flows.md)"
        elif kind == "literal_error":
            message = f"{where}: {item['msg']}"
            fix = "use one of the values listed"
        elif kind == "step_kind":
            message = "has no say, ask, verify or end key"
            fix = "give the step exactly one of say (with next), ask, verify or end"
        else:
            message = f"{where}: {item['msg']}"
            fix = "correct the value as the message says (see docs/call-flows.md)"
        problems.append(Problem(name, step, message, fix))
    return problems


def parse_flow(path: Path) -> tuple[FlowFile | None, str, str, list[Problem]]:
    """The script in a file, its raw text and canonical hash, and any problems reading it."""
    data, problems = read_yaml(path)
    if problems:
        return None, "", "", problems
    if not isinstance(data, dict):
        return (
            None,
            "",
            "",
            [Problem(str(path), None, "is not a mapping", "start from the example")],
        )
    text = path.read_text(encoding="utf-8")
    try:
        return FlowFile.model_validate(data), text, canonical_hash(data), []
    except ValidationError as exc:
        return None, text, canonical_hash(data), schema_problems(str(path), exc)


def voice_for(flow: FlowFile) -> str | None:
    """The voice the script asks for, or the default voice for its language."""
    if flow.voice:
        return flow.voice
    voices = VOICES.get(flow.language)
    return voices[0] if voices else None


def script_files(flows_path: Path) -> list[Path]:
    """The script files in a directory (everything YAML but the approvals)."""
    return sorted(
        path
        for pattern in ("*.yaml", "*.yml")
        for path in flows_path.glob(pattern)
        if path.name != APPROVALS_FILE
    )


def flow_from_text(text: str) -> FlowFile:
    """A script from its stored text (``call_script.content``), read as its file is read."""
    return FlowFile.model_validate(yaml.load(text, Loader=_UniqueKeyLoader))  # noqa: S506 - safe loader
