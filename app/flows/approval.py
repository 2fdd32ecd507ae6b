"""Approval: a named person bound to the exact content of one script version.

``call_flows/approvals.yaml`` keeps every approval ever given (a list, newest last). A script is
approved when an entry has its id, version and content hash; change one word and the hash changes,
so the script is a draft again until someone approves the new text.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

from app.errors import InvalidInputError

APPROVALS_FILE = "approvals.yaml"


class ScriptVersion(Protocol):
    """What an approval is about: one version of a script and its exact content (a
    ``LoadedScript``; named by shape, so that loading scripts may build on this module)."""

    @property
    def id(self) -> str:
        """The script's id."""
        ...

    @property
    def version(self) -> int:
        """The script's version."""
        ...

    @property
    def content_hash(self) -> str:
        """The SHA-256 of its canonical content."""
        ...

    @property
    def approved(self) -> bool:
        """Whether an approval binds to this exact content."""
        ...


class UnapprovedScriptError(InvalidInputError):
    """A draft script was chosen where only an approved one may run."""


@dataclass(frozen=True)
class Approval:
    """Who approved a script's exact content, and when."""

    by: str
    at: dt.datetime


@dataclass(frozen=True)
class ApprovalRecord:
    """One entry of ``approvals.yaml``."""

    flow_id: str
    version: int
    sha256: str
    approval: Approval

    def as_yaml(self) -> dict[str, Any]:
        """The entry as written to the file."""
        return {
            "flow_id": self.flow_id,
            "version": self.version,
            "sha256": self.sha256,
            "approved_by": self.approval.by,
            "approved_at": self.approval.at.astimezone(dt.UTC).isoformat(timespec="seconds"),
        }


def read_approvals(flows_path: Path) -> list[ApprovalRecord]:
    """Every approval recorded beside the scripts (none when there is no file yet)."""
    path = flows_path / APPROVALS_FILE
    if not path.exists():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = data.get("approvals") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise InvalidInputError(f"{path}: expected a mapping with a list under 'approvals'")
    records: list[ApprovalRecord] = []
    for index, entry in enumerate(entries, start=1):
        try:
            at = entry["approved_at"]
            at = at if isinstance(at, dt.datetime) else dt.datetime.fromisoformat(str(at))
            if at.tzinfo is None:
                raise ValueError("approved_at needs a time zone (write it in UTC with Z)")
            records.append(
                ApprovalRecord(
                    flow_id=str(entry["flow_id"]),
                    version=int(entry["version"]),
                    sha256=str(entry["sha256"]),
                    approval=Approval(by=str(entry["approved_by"]), at=at.astimezone(dt.UTC)),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(
                f"{path}: approval number {index} is incomplete or malformed ({exc}); each needs "
                "flow_id, version, sha256, approved_by and approved_at"
            ) from exc
    return records


def find_approval(
    records: list[ApprovalRecord], *, flow_id: str, version: int, sha256: str
) -> Approval | None:
    """The newest approval of exactly this content, if any."""
    for record in reversed(records):
        if (record.flow_id, record.version, record.sha256) == (flow_id, version, sha256):
            return record.approval
    return None


def write_approval(flows_path: Path, record: ApprovalRecord) -> None:
    """Append an approval to ``approvals.yaml`` (earlier approvals are kept as history)."""
    path = flows_path / APPROVALS_FILE
    entries = [existing.as_yaml() for existing in read_approvals(flows_path)]
    entries.append(record.as_yaml())
    header = (
        "# Who approved which exact script content. Written by `waitlist flow approve`;\n"
        "# sha256 is of the script's canonical content (see docs/call-flows.md).\n"
    )
    body = yaml.safe_dump({"approvals": entries}, sort_keys=False, allow_unicode=True)
    path.write_text(header + body, encoding="utf-8")


def require_approved(script: ScriptVersion) -> None:
    """Refuse a draft script where real patients would hear it (the Twilio provider)."""
    if not script.approved:
        raise UnapprovedScriptError(
            f"Call script {script.id!r} version {script.version} (content sha256 "
            f"{script.content_hash[:12]}...) is not approved. A clinician responsible for the "
            f"script must review this exact text and run `waitlist flow approve {script.id} "
            "--by NAME` before it is used with real patients; the simulator may run drafts."
        )


def approve_script(
    script: ScriptVersion, *, by: str, at: dt.datetime, flows_path: Path
) -> ApprovalRecord:
    """Record that ``by`` approved this exact script content at ``at``."""
    name = " ".join(by.split())
    if len(name) < 3:
        raise InvalidInputError("Give the approver's full name and role, e.g. 'Dr A Example (CSO)'")
    if at.tzinfo is None:
        raise InvalidInputError("The approval time must be timezone-aware")
    record = ApprovalRecord(
        flow_id=script.id,
        version=script.version,
        sha256=script.content_hash,
        approval=Approval(by=name, at=at.astimezone(dt.UTC)),
    )
    write_approval(flows_path, record)
    return record
