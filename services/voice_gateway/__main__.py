"""`python -m services.voice_gateway`: SIP on OMNIROUTE_SIP_PORT (UDP and TCP), HTTP
health and metrics on OMNIROUTE_VOICE_HTTP_PORT."""

import uvicorn

from .app import create_app
from .settings import VoiceSettings


def main() -> None:
    settings = VoiceSettings()
    uvicorn.run(create_app(settings), host=settings.voice_http_host, port=settings.voice_http_port,
                log_level="warning", log_config=None)  # uvicorn logs as JSON through ours


if __name__ == "__main__":
    main()
