"""Synthetic patients for the simulator: how often they answer, what they say, how they say it."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Persona:
    """Rates that shape one kind of simulated patient (each a probability from 0 to 1).

    The defaults follow the Lancashire pilot: about three in four answer, one in seven no longer
    needs treatment and one in twenty has got worse.
    """

    name: str = "typical"
    answer_rate: float = 0.75
    busy_rate: float = 0.05
    unreachable_rate: float = 0.02
    voicemail_rate: float = 0.5  # of the calls not answered by a person
    hang_up_rate: float = 0.03
    leave_rate: float = 0.15
    worsened_rate: float = 0.05
    identity_failure_rate: float = 0.03
    speech_rate: float = 0.3
    speech_without_confidence_rate: float = 0.3
    silence_rate: float = 0.03
    sms_reply_rate: float = 0.7
    stop_rate: float = 0.02
    # Asks for a person ("call me"); a relative answers and says the patient has died.
    callback_rate: float = 0.02
    bereaved_rate: float = 0.003
    # Says "stop calling me" on a call (an opt-out by voice, as STOP is by text).
    voice_opt_out_rate: float = 0.003
    # Confirms who they are, then gives no answer the script can use ("erm, not sure").
    unsure_rate: float = 0.0


PERSONAS: dict[str, Persona] = {
    "typical": Persona(),
    "talker": Persona(name="talker", speech_rate=0.9, answer_rate=0.85),
    "hard-to-reach": Persona(
        name="hard-to-reach", answer_rate=0.3, busy_rate=0.15, voicemail_rate=0.7
    ),
    "forgetful": Persona(name="forgetful", identity_failure_rate=0.4, silence_rate=0.15),
    "recovered": Persona(name="recovered", leave_rate=0.6, worsened_rate=0.02),
    "unwell": Persona(name="unwell", worsened_rate=0.4, leave_rate=0.05),
    "texter": Persona(name="texter", answer_rate=0.4, sms_reply_rate=0.9, stop_rate=0.05),
}
# How often each persona is given to a patient (weights; "typical" dominates).
PERSONA_WEIGHTS: dict[str, int] = {
    "typical": 70,
    "talker": 8,
    "hard-to-reach": 8,
    "forgetful": 4,
    "recovered": 4,
    "unwell": 3,
    "texter": 3,
}


_CERTAIN: dict[str, float] = {
    "answer_rate": 1.0,
    "busy_rate": 0.0,
    "unreachable_rate": 0.0,
    "voicemail_rate": 0.0,
    "hang_up_rate": 0.0,
    "leave_rate": 0.0,
    "worsened_rate": 0.0,
    "identity_failure_rate": 0.0,
    "speech_rate": 0.0,
    "speech_without_confidence_rate": 0.0,
    "silence_rate": 0.0,
    "callback_rate": 0.0,
    "bereaved_rate": 0.0,
    "voice_opt_out_rate": 0.0,
}


def _certain(name: str, **rates: float) -> Persona:
    """A persona that always does one thing: answers every call and keys every answer."""
    return Persona(name=name, **(_CERTAIN | rates))


# People who always do one thing, whatever the dice say: the demo casts one patient as each, so
# every way a call can hand a patient to a person shows on every run (app/demo.py).
CAST: dict[str, Persona] = {
    persona.name: persona
    for persona in (
        _certain("opts-out", voice_opt_out_rate=1.0),
        _certain("bereaved", bereaved_rate=1.0),
        _certain("asks-for-a-person", callback_rate=1.0),
        _certain("unsure", unsure_rate=1.0),
        _certain("someone-else-answers", identity_failure_rate=1.0),
        _certain("never-answers", answer_rate=0.0),
        _certain("had-it-done", leave_rate=1.0),
        _certain("got-worse", worsened_rate=1.0),
    )
}


def persona_for(key: str, *, seed: int = 0) -> Persona:
    """A persona chosen deterministically from ``key`` (e.g. a patient id): same key, same one."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") % sum(PERSONA_WEIGHTS.values())
    for name, weight in PERSONA_WEIGHTS.items():
        if point < weight:
            return PERSONAS[name]
        point -= weight
    return PERSONAS["typical"]


@dataclass(frozen=True)
class SimulatedPerson:
    """Who answers a simulated number: what they know (date of birth) and how they behave."""

    date_of_birth: dt.date
    persona: Persona


Directory = Callable[[str], SimulatedPerson | None]
"""Looks up the simulated person at an E.164 number (None: nobody has that number)."""


@dataclass(frozen=True)
class Intent:
    """What one simulated patient means to say in one conversation."""

    leave: bool
    worsened: bool
    fail_identity: bool
    speech: bool
    callback: bool = False
    bereaved: bool = False
    opt_out: bool = False
    unsure: bool = False

    @property
    def spoken_only(self) -> bool:
        """What this patient means has no key: it can only be said."""
        return self.bereaved or self.opt_out


def choose_intent(persona: Persona, rng: random.Random) -> Intent:
    """Roll the patient's answers for this conversation (consistent across its questions)."""
    leave = rng.random() < persona.leave_rate
    return Intent(
        leave=leave,
        worsened=not leave
        and rng.random() < persona.worsened_rate / max(1e-9, 1 - persona.leave_rate),
        fail_identity=rng.random() < persona.identity_failure_rate,
        speech=rng.random() < persona.speech_rate,
        callback=rng.random() < persona.callback_rate,
        bereaved=rng.random() < persona.bereaved_rate,
        opt_out=rng.random() < persona.voice_opt_out_rate,
        # Rolled only for a persona that can be unsure, so everyone else's dice are as before.
        unsure=persona.unsure_rate > 0 and rng.random() < persona.unsure_rate,
    )


def answer_for(prompt: str, person: SimulatedPerson, intent: Intent) -> tuple[str, str]:
    """The keypad digits and the spoken words this patient gives to ``prompt``."""
    text = prompt.lower()
    if "is right" in text or "answer again" in text:
        return "1", "yes that's right"
    if intent.bereaved:
        return "0", "I'm sorry, she passed away last month"
    if "ateb eto" in text or "dyddiad geni" in text or "pwyswch" in text:
        return _answer_in_welsh(text, person, intent)
    if "date of birth" in text or "birth" in text:
        born = dt.date(1900, 1, 1) if intent.fail_identity else person.date_of_birth
        return born.strftime("%d%m%Y"), born.strftime("%d %B %Y")
    if intent.unsure:
        return "9", "erm, I'm not sure"
    if "worse" in text:
        return ("1", "it has got worse") if intent.worsened else ("2", "about the same")
    if "still need" in text or "still want" in text or "waiting" in text:
        if intent.opt_out:
            return "0", "please stop calling me"
        if intent.callback:
            return "3", "call me back"
        return ("2", "no I had it done") if intent.leave else ("1", "yes I still need it")
    return "1", "yes"


def _answer_in_welsh(text: str, person: SimulatedPerson, intent: Intent) -> tuple[str, str]:
    """The same patient answering the Welsh script (routed to it by their preferred language)."""
    if "ateb eto" in text:
        return "1", "ie"
    if "dyddiad geni" in text or "eich geni" in text:
        born = dt.date(1900, 1, 1) if intent.fail_identity else person.date_of_birth
        return born.strftime("%d%m%Y"), born.strftime("%d%m%Y")
    if "gwaethygu" in text:
        return ("1", "gwaeth") if intent.worsened else ("2", "yr un fath")
    if "angen y driniaeth" in text:
        return ("2", "nac ydw") if intent.leave else ("1", "ydw")
    return "1", "byddwn"
