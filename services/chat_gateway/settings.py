"""Chat gateway settings (env prefix OMNIROUTE_)."""

from pathlib import Path

from pydantic import model_validator

from shared.policy import DEFAULT_POLICY_FILE
from shared.settings import DEV_CHAT_SECRET, GatewaySettings, secret


class ChatSettings(GatewaySettings):
    chat_host: str = "127.0.0.1"
    chat_port: int = 8081
    # Signs conversation tokens; whoever knows it can open any conversation.
    chat_secret: secret(DEV_CHAT_SECRET) = DEV_CHAT_SECRET
    chat_token_max_age_s: int = 86_400
    # Public endpoints: chats started/resumed and transcripts read per client IP per minute.
    chat_connect_rate_per_min: int = 30
    # Messages one conversation may send per minute.
    chat_message_rate_per_min: int = 60
    # A dropped socket may come back (token resume) this long before the contact ends.
    chat_abandon_grace_s: float = 20.0
    # Estimated wait per queue position until the queue has answered a chat.
    chat_default_wait_s: float = 60.0
    # The routing policy (its domain's file), read-only: the widget shows each topic's hours.
    policy_file: Path = DEFAULT_POLICY_FILE

    @model_validator(mode="after")
    def _own_secrets_outside_dev(self):
        self.require_secret("chat_secret", self.chat_secret, DEV_CHAT_SECRET)
        return self
