"""What a waiting caller hears about their wait (pure): the prompts to say for their
place in the router's order and the wait it estimated (contact.queued), and later the
wait that is left of it."""

from __future__ import annotations

MOST_SAID = 10  # places and minutes are said up to ten; beyond, "more than ten minutes"


def phrases(position: int | None, wait_s: float | None) -> list[str]:
    """Prompt names, e.g. you_are_number n2 in_line wait_about n3 minutes."""
    said: list[str] = []
    if position and position <= MOST_SAID:
        said += ["you_are_number", f"n{position}", "in_line"]
    if wait_s is None:
        return said  # nobody staffed: no estimate to give
    minutes = round(wait_s / 60)
    if minutes < 1:
        said.append("wait_under_minute")
    elif minutes > MOST_SAID:
        said.append("wait_over")
    else:
        said += ["wait_about", f"n{minutes}", "minute" if minutes == 1 else "minutes"]
    return said


def left(wait_s: float, waited_s: float) -> float:
    """What is left of the estimate after waiting `waited_s`."""
    return max(0.0, wait_s - waited_s)
