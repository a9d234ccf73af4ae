"""A plain page for people (the survey, a refused sign-in): a title and a body, styled
alike and with nothing from elsewhere."""

from __future__ import annotations

import html
from pathlib import Path
from string import Template

from fastapi.responses import HTMLResponse

PAGE = Template(Path(__file__).with_name("page.html").read_text())  # read once, filled per request


def message_page(title: str, body: str, code: int = 200) -> HTMLResponse:
    """`body` is HTML: callers escape what they put in it."""
    return HTMLResponse(PAGE.substitute(title=html.escape(title), body=body), status_code=code)
