"""The dial plan: dialled number -> intent/queue or an IVR menu; menus map digits to
intents. Validated at load so no menu can lead back to itself (docs/architecture.md: what it does: the IVR
never loops; `0` or silence reaches the queue). Pure."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from shared.events import Slug

Digit = Annotated[str, StringConstraints(pattern=r"^[0-9*#A-D]$")]
OPERATOR = "0"  # always straight to the queue


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Choice(_Model):
    """Where a call ends up: an intent (the router picks its queue) or a queue."""

    intent: Slug = "general"
    queue: Slug | None = None


class Target(_Model):
    """A menu option: a final choice, or a deeper menu."""

    intent: Slug | None = None
    queue: Slug | None = None
    menu: str | None = None

    @model_validator(mode="after")
    def _one_kind(self):
        if self.menu and (self.intent or self.queue):
            raise ValueError("an option leads to a menu or to an intent/queue, not both")
        return self

    def choice(self) -> Choice:
        return Choice(intent=self.intent or "general", queue=self.queue)


class Menu(_Model):
    prompt: str | None = Field(default=None, description="Audio file played while waiting for a digit")
    timeout_s: float | None = Field(default=None, gt=0, description="Silence this long goes to `default`")
    default: Choice = Field(default_factory=Choice, description="Where 0, silence or an unknown digit goes")
    options: dict[Digit, Target] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _operator_reserved(self):
        if OPERATOR in self.options:
            raise ValueError("digit 0 is reserved: it always goes straight to the queue")
        return self


class Number(Target):
    """A dialled number (DNIS)."""

    answer_after_ms: int = Field(default=0, ge=0, le=120_000,
                                 description="Ring this long before answering (the contact waits meanwhile)")


class DialPlan(_Model):
    numbers: dict[str, Number] = Field(default_factory=dict)
    default: Number = Field(default_factory=Number, description="For numbers not listed")
    menus: dict[str, Menu] = Field(default_factory=dict)
    ivr_timeout_s: float = Field(default=5.0, gt=0)
    callback_digit: Digit = "9"

    @field_validator("numbers")
    @classmethod
    def _normalized_numbers(cls, numbers: dict[str, Number]) -> dict[str, Number]:
        return {normalize(k): v for k, v in numbers.items()}

    @model_validator(mode="after")
    def _menus_exist_and_never_loop(self):
        refs = [n.menu for n in [*self.numbers.values(), self.default] if n.menu]
        for name, menu in self.menus.items():
            refs += [t.menu for t in menu.options.values() if t.menu]
        for ref in refs:
            if ref not in self.menus:
                raise ValueError(f"menu {ref!r} is not defined")
        for name in self.menus:
            _check_acyclic(self.menus, name, ())
        return self

    def number(self, dialled: str) -> Number:
        return self.numbers.get(normalize(dialled), self.default)

    def timeout_s(self, menu: str) -> float:
        return self.menus[menu].timeout_s or self.ivr_timeout_s

    def press(self, menu: str, digit: str) -> Target:
        """Where a digit pressed in `menu` leads: 0 and unknown digits go to the queue."""
        m = self.menus[menu]
        if digit == OPERATOR or digit not in m.options:
            return Target(intent=m.default.intent, queue=m.default.queue)
        return m.options[digit]

    def silence(self, menu: str) -> Choice:
        return self.menus[menu].default


def _check_acyclic(menus: dict[str, Menu], name: str, path: tuple[str, ...]) -> None:
    if name in path:
        raise ValueError(f"menu loop: {' -> '.join((*path, name))}")
    for target in menus[name].options.values():
        if target.menu:
            _check_acyclic(menus, target.menu, (*path, name))


def normalize(number: str) -> str:
    """Dialled digits without visual separators: '+1 (555) 010-0' -> '+15550100'."""
    return re.sub(r"[\s().\-]", "", number or "")


ANONYMOUS = "anonymous"  # a caller without a number: nobody to call back


def customer_id(ani: str) -> str:
    """The caller's number as the CRM customer id (the router looks up the tier)."""
    cleaned = re.sub(r"[^A-Za-z0-9+._@:\-]", "", normalize(ani))[:128]
    return cleaned or ANONYMOUS
