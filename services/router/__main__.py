"""`python -m services.router`: the routing service."""

import uvicorn

from .app import create_app
from .settings import RouterSettings


def main() -> None:
    settings = RouterSettings()
    uvicorn.run(create_app(settings), host=settings.router_host, port=settings.router_port,
                log_level="warning", log_config=None)  # uvicorn logs as JSON through ours


if __name__ == "__main__":
    main()
