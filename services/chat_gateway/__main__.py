"""`python -m services.chat_gateway`: the customer chat gateway and widget."""

import uvicorn

from .app import create_app
from .settings import ChatSettings


def main() -> None:
    settings = ChatSettings()
    uvicorn.run(create_app(settings), host=settings.chat_host, port=settings.chat_port,
                log_level="warning", log_config=None)  # uvicorn logs as JSON through ours


if __name__ == "__main__":
    main()
