"""12-factor settings shared by every service (prefix OMNIROUTE_)."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OMNIROUTE_", extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:9092"
    redis_url: str = "redis://127.0.0.1:6379/0"
    topic_partitions: int = 3
    topic_replication: int = 1
    log_level: str = "INFO"
