"""The one settings object. Every value can be set with a `NEWSFLOW_*` environment variable."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

TranslatorName = Literal["auto", "none", "google", "mymemory", "libre", "deepl", "microsoft"]


class Settings(BaseSettings):
    """Runtime configuration; built lazily by `get_settings()`, never at import time."""

    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_", extra="ignore")

    data_dir: Path = Field(default=Path("newsflow-data"), description="Where the SQLite file and outputs go.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default is a SQLite file in data_dir."
    )
    output_dir: Path | None = Field(default=None, description="JSON output; default data_dir/output.")

    translator: TranslatorName = "auto"
    translation_target: str = "en"
    translation_timeout: float = Field(default=20.0, gt=0, description="Hard limit for one provider call, s.")
    translation_retries: int = Field(default=2, ge=0)
    libre_url: str | None = None
    libre_api_key: str = "none"
    deepl_api_key: str | None = None
    microsoft_api_key: str | None = None
    microsoft_region: str | None = None
    translation_endpoints: dict[str, str] = Field(
        default_factory=dict,
        description="Provider name -> base URL override (a mirror or proxy that speaks the provider's API).",
    )

    batch_size: int = Field(default=25, ge=1, description="Articles per Prefect task.")
    prefect_startup_timeout: int = Field(
        default=120, ge=1, description="Seconds the ephemeral Prefect server may take to start."
    )

    user_agent: str = "newsflow/0.1 (+https://github.com/newsflow; set NEWSFLOW_CONTACT)"
    contact: str | None = None
    http_timeout: float = Field(default=20.0, gt=0)
    max_body_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    max_redirects: int = Field(default=5, ge=0)
    fetch_allow_addresses: list[str] = Field(
        default_factory=list,
        description="IP addresses or networks (CIDR) that URL sources may reach although private/loopback.",
    )
    max_input_bytes: int = Field(default=50 * 1024 * 1024, gt=0, description="Largest file accepted.")

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'newsflow.db').resolve()}"

    @property
    def resolved_output_dir(self) -> Path:
        return self.output_dir if self.output_dir is not None else self.data_dir / "output"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()


def reset_settings() -> None:
    """Forget cached settings (tests and the CLI change the environment)."""
    get_settings.cache_clear()
