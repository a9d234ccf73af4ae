"""Threading: which case a mail belongs to, and the headers that keep replies threaded.

A case is the customer's thread (`C-1042`); each time it is (re)opened it yields a
contact `C-1042.1`, `C-1042.2`... whose `conversation_id` is the case id, so the router's
preferred-agent rule offers a follow-up on a closed case to the agent who served it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .parsing import ParsedEmail

CASE_REF = re.compile(r"\[#(C-\d{1,12})\]")
MAX_REFERENCES = 20  # RFC 5322 allows trimming the middle of a long chain


def case_refs(subject: str) -> list[str]:
    return CASE_REF.findall(subject or "")


def tag_subject(subject: str, case_id: str, prefix: str = "Re:") -> str:
    """`Re: <subject> [#C-1042]`, keeping one tag and one Re: however long the thread."""
    base = CASE_REF.sub("", subject or "").strip()
    base = re.sub(r"^((re|aw|sv|fwd?)\s*:\s*)+", "", base, flags=re.I).strip() or "Your request"
    return f"{prefix} {base} [#{case_id}]".lstrip()


def thread_ids(mail: ParsedEmail) -> list[str]:
    """Message ids this mail answers, most specific first (In-Reply-To, then References
    from newest to oldest)."""
    seen, out = set(), []
    for mid in [*mail.in_reply_to, *reversed(mail.references)]:
        if mid not in seen:
            seen.add(mid)
            out.append(mid)
    return out


@dataclass(frozen=True)
class CaseMatch:
    case_id: str
    via: str  # "headers" | "subject"


def match_case(mail: ParsedEmail, case_for_msgid: dict[str, str], owner_of: dict[str, str]) -> CaseMatch | None:
    """Headers win (message ids are unguessable); a subject tag only counts when the
    sender is the case's customer, so nobody joins a stranger's case by typing its number.

    `case_for_msgid`: known message id -> case; `owner_of`: case -> customer address.
    """
    for mid in thread_ids(mail):
        if mid in case_for_msgid:
            return CaseMatch(case_for_msgid[mid], "headers")
    for ref in case_refs(mail.subject):
        if owner_of.get(ref) and owner_of[ref] == mail.from_addr:
            return CaseMatch(ref, "subject")
    return None


def references_for_reply(chain: list[str], answering: str | None) -> tuple[str | None, list[str]]:
    """In-Reply-To and References for our next mail on a case whose known message ids
    are `chain` (oldest first)."""
    refs = [m for m in chain if m != answering] + ([answering] if answering else [])
    if len(refs) > MAX_REFERENCES:
        refs = refs[:1] + refs[-(MAX_REFERENCES - 1):]
    return answering, refs
