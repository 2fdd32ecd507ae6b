"""A FHIR ``Questionnaire`` generated from an approved call script, its version and hash included.

The script is the clinically approved artefact; the Questionnaire is how another system reads
which questions were asked and which answers each could take. Identity checks are items that
say whether identity was confirmed, never the date of birth itself.
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.questionnaire import Questionnaire

from app.flows.schema import AskStep, FlowFile, VerifyStep

SYSTEM = "urn:waitlist-validation"
OUTCOME_LINK = "outcome"


def questionnaire_url(flow_id: str) -> str:
    """The canonical URL of a script's Questionnaire (versions share it)."""
    return f"{SYSTEM}:questionnaire:{flow_id}"


def answer_system(flow_id: str, step: str) -> str:
    """The code system of one question's answers."""
    return f"{SYSTEM}:flow:{flow_id}:{step}"


def outcome_system() -> str:
    """The code system of the service's conclusions (stay, leave, worsened, ...)."""
    return f"{SYSTEM}:outcome"


def questionnaire_for(
    flow: FlowFile, *, content_hash: str, status: str = "active"
) -> Questionnaire:
    """The Questionnaire of one exact script content (identified by its SHA-256)."""
    items: list[dict[str, Any]] = []
    for name, step in flow.steps.items():
        if isinstance(step, VerifyStep):
            items.append(
                {"linkId": name, "text": f"Identity confirmed ({step.verify})", "type": "boolean"}
            )
        elif isinstance(step, AskStep):
            items.append(
                {
                    "linkId": name,
                    "text": " ".join(step.ask.split()),
                    "type": "choice",
                    "answerOption": [
                        {
                            "valueCoding": {
                                "system": answer_system(flow.id, name),
                                "code": option.meaning,
                                "display": option.words[0],
                            }
                        }
                        for option in step.options
                    ],
                }
            )
    items.append(
        {
            "linkId": OUTCOME_LINK,
            "text": "What the service concluded from the conversation",
            "type": "choice",
            "readOnly": True,
        }
    )
    return Questionnaire.model_validate(
        {
            "resourceType": "Questionnaire",
            "id": f"{flow.id}-v{flow.version}-{content_hash[:12]}",
            "url": questionnaire_url(flow.id),
            "version": f"{flow.version}",
            "identifier": [{"system": f"{SYSTEM}:script-sha256", "value": content_hash}],
            "name": flow.id.replace("-", "_"),
            "title": flow.title,
            "status": status,
            "language": flow.language,
            "item": items,
        }
    )
