"""`python -m services.email_gateway`: SMTP (and IMAP polling) in, replies out."""

import uvicorn

from .app import create_app
from .settings import EmailSettings


def main() -> None:
    settings = EmailSettings()
    uvicorn.run(create_app(settings), host=settings.email_http_host, port=settings.email_http_port,
                log_level="warning", log_config=None)  # uvicorn logs as JSON through ours


if __name__ == "__main__":
    main()
