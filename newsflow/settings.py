"""The one settings object. Every value can be set with a `NEWSFLOW_*` environment variable."""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError

from extractors.config import MAX_TEXT_CHARS, Detector, Limits
from extractors.translate.providers import TRANSLATOR_CHOICES, default_rate_limits
from newsflow.errors import UserError

# "auto", "none" and every provider of the table: a Literal, so pydantic refuses any other name with the list of
# choices, and the JSON schemas (the deployment forms) show a dropdown. mypy cannot read a Literal built at run time.
if TYPE_CHECKING:
    TranslatorName = str
else:
    TranslatorName = Literal[TRANSLATOR_CHOICES]


def _env_list(value: Any, separator: str) -> Any:
    """A list setting written in the environment: a JSON list, or items joined by `separator`."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ValueError(f"not a valid JSON list ({exc})") from None
    return [item.strip() for item in text.split(separator) if item.strip()]


class Settings(BaseSettings):
    """Runtime configuration; built lazily by `get_settings()`, never at import time."""

    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_", extra="ignore")

    data_dir: Path = Field(default=Path("newsflow-data"), description="Where the SQLite file and outputs go.")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default is a SQLite file in data_dir.")
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
    translation_cache: bool = Field(
        default=True, description="Keep every translation in the database; a re-run costs no provider call."
    )
    translation_rate_limits: dict[str, float] = Field(
        default_factory=default_rate_limits,
        description="Provider name -> most requests per second, shared by all workers of a process.",
    )
    translation_prefect_limits: bool = Field(
        default=False,
        description="Also take a slot of the Prefect rate limit 'newsflow-translate-rate-<provider>' per request.",
    )
    language_detector: Detector = "langdetect"
    translation_endpoints: dict[str, str] = Field(
        default_factory=dict,
        description="Provider name -> base URL override (a mirror or proxy that speaks the provider's API).",
    )

    # 100: fewer task runs, whose orchestration costs CPU in the flow's process and in Prefect's server (issue 7
    # benchmark, 10,000 articles on 2 cores: flow 7-9% over the plain loop at 50, 4-7% at 100).
    batch_size: int = Field(default=100, ge=1, description="Articles per Prefect task.")
    prefect_startup_timeout: int = Field(
        default=120, ge=1, description="Seconds the ephemeral Prefect server may take to start."
    )

    # --- orchestration (flows/, `newsflow serve`, prefect.yaml) ---
    task_runner: Literal["thread", "dask"] = Field(
        default="thread", description="Where tasks run: a thread pool in the flow's process, or Dask."
    )
    # 1: batches are processed one at a time whatever the pool (each batch's storing waits for it), so a second
    # thread only stores one batch while the next is processed. Both are CPU-bound Python sharing the GIL, and
    # every system call of the storing thread handed the GIL over and back: 2 threads were 6% slower than 1
    # (issue 7 benchmark, 10,000 articles, 2 cores), Prefect's default pool 19%. Raise it for online translation
    # or a remote database, where threads wait on the network.
    thread_workers: int = Field(default=1, ge=1, description="Threads of the thread pool runner.")
    dask_address: str | None = Field(
        default=None, description="Scheduler of a running Dask cluster (tcp://host:8786); unset: a temporary one."
    )
    dask_workers: int = Field(default=2, ge=1, description="Workers of the temporary local Dask cluster.")
    task_cache_hours: float = Field(
        default=0.0, ge=0, description="Reuse a processed batch with the same content hashes for this long (0: off)."
    )
    schedule_timezone: str = Field(default="Asia/Ho_Chi_Minh", description="Time zone of the deployments' crons.")
    site_cron: str = Field(default="0 6,12,18 * * *", description="When the ingest-site deployment runs.")
    site_name: str | None = Field(default=None, description="Host name the scheduled ingest-site run reads.")
    site_urls: list[str] = Field(
        default_factory=list, description="Pages the scheduled ingest-site run reads (JSON list)."
    )
    retranslate_cron: str = Field(default="30 * * * *", description="When pending translations are retried.")
    output_url: str | None = Field(
        default=None, description="URL where output_dir is served; artifacts link there instead of file://."
    )
    input_roots: Annotated[list[Path] | None, NoDecode] = Field(
        default=None,
        description="Directories whose files the deployments (ingest-sources) may read: a JSON list, or paths "
        "separated by ':'. Unset: samples/ (in the working directory) and <data dir>/inbox. The CLI is not "
        "restricted.",
    )

    user_agent: str = "newsflow/0.1 (+https://github.com/newsflow; set NEWSFLOW_CONTACT)"
    contact: str | None = None
    http_timeout: float = Field(default=20.0, gt=0)
    max_body_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    max_redirects: int = Field(default=5, ge=0)
    fetch_allow_addresses: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="IP addresses or networks (CIDR) that URL sources may reach although private/loopback "
        "(a JSON list or comma-separated).",
    )
    follow_symlinks: bool = Field(
        default=False, description="Read files a symbolic link in a source directory leads to outside that directory."
    )
    max_input_bytes: int = Field(default=50 * 1024 * 1024, gt=0, description="Largest file accepted.")
    max_text_chars: int = Field(
        default=MAX_TEXT_CHARS,
        ge=1,
        description="Longest main text of one article, in characters; a longer one fails alone, naming the limit.",
    )

    # --- documents (extractors/documents.py: PDF, scanned PDF via OCR, DOCX) ---
    document_max_pages: int = Field(default=Limits.max_pages, ge=1, description="Most pages of one PDF/DOCX.")
    document_max_bytes: int = Field(default=Limits.max_bytes, gt=0, description="Largest PDF/DOCX, bytes.")
    document_max_unzipped_bytes: int = Field(
        default=Limits.max_unzipped, gt=0, description="Most bytes a DOCX may unpack to (zip-bomb guard)."
    )
    document_ocr_timeout: float = Field(
        default=Limits.ocr_timeout, gt=0, description="Seconds one scanned page may take to render, and again to OCR."
    )
    document_ocr_cache: bool = Field(
        default=True, description="Keep OCR text per page in data_dir/ocr-cache; reprocessing reuses it."
    )
    document_time_budget: float = Field(
        default=Limits.time_budget, gt=0, description="Seconds reading one PDF/DOCX may take (OCR excluded: own limit)."
    )

    # --- acquisition (extractors/fetch.py, extractors/acquire/, newsflow/storage/fetchlog.py) ---
    http_connect_timeout: float = Field(default=10.0, gt=0, description="Connect timeout for URL sources, s.")
    fetch_min_interval: float = Field(
        default=1.0, ge=0, description="Seconds between two requests to one host (robots.txt Crawl-delay wins)."
    )
    fetch_host_concurrency: int = Field(default=2, ge=1, description="Requests in flight to one host at once.")
    fetch_workers: int = Field(default=4, ge=1, description="Pages of one feed/sitemap fetched in parallel.")
    fetch_retries: int = Field(default=3, ge=0, description="Retries on 429, 5xx, timeouts and connect errors.")
    fetch_backoff: float = Field(default=1.0, ge=0, description="First retry delay, s; doubles each retry.")
    fetch_max_retry_after: float = Field(
        default=120.0, ge=0, description="Longest Retry-After honoured, s; a longer one fails the fetch."
    )
    fetch_max_decompression_ratio: float = Field(
        default=200.0, gt=1, description="Decompressed/compressed size above which a body is a decompression bomb."
    )
    fetch_ignore_robots: list[str] = Field(
        default_factory=list,
        description="Hosts (fnmatch patterns) whose robots.txt is not consulted: sites the operator owns.",
    )
    fetch_log: bool = Field(
        default=True, description="Record fetch attempts and HTTP validators in the database (conditional GET)."
    )
    discovery_max_urls: int = Field(default=500, ge=1, description="Most article URLs taken from one feed/sitemap.")
    sitemap_max_depth: int = Field(default=2, ge=0, description="Sitemap-index levels followed.")
    near_duplicate_bits: int = Field(
        default=6, ge=0, le=7, description="SimHash distance (bits of 64) at or below which two texts are one story."
    )

    @field_validator("fetch_allow_addresses", mode="before")
    @classmethod
    def _address_list(cls, value: Any) -> Any:
        # From the environment: a JSON list, or the plainer "127.0.0.1/32,10.0.0.0/8".
        return _env_list(value, ",")

    @field_validator("input_roots", mode="before")
    @classmethod
    def _path_list(cls, value: Any) -> Any:
        # From the environment: a JSON list, or directories separated by ':' as in PATH.
        return _env_list(value, os.pathsep)

    @field_validator("fetch_allow_addresses")
    @classmethod
    def _addresses_parse(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network (e.g. 10.0.0.0/8)") from None
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'newsflow.db').resolve()}"

    @property
    def resolved_output_dir(self) -> Path:
        return self.output_dir if self.output_dir is not None else self.data_dir / "output"

    @property
    def resolved_input_roots(self) -> list[Path]:
        """The directories the deployments may read files under, absolute with links resolved."""
        roots = self.input_roots if self.input_roots is not None else [Path("samples"), self.data_dir / "inbox"]
        return [root.expanduser().resolve() for root in roots]


class InvalidSettingsError(UserError, ValueError):
    """A NEWSFLOW_* value that does not parse; the message names the variable and why, in one line."""


_SECRET_HINTS = ("key", "password", "secret", "token", "database_url")
_PREFIX = str(Settings.model_config.get("env_prefix", "NEWSFLOW_"))


def _env_value(field: str) -> str:
    """`NAME='value'` for the variable of `field` (value shortened; hidden for secrets and URLs)."""
    name = _PREFIX + field.upper()
    value = os.environ.get(name)
    if value is None:
        return name
    if any(hint in field for hint in _SECRET_HINTS):
        return f"{name} (value hidden)"
    shown = value if len(value) <= 60 else value[:57] + "..."
    return f"{name}={shown!r}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def describe_settings_error(exc: Exception) -> str:
    """One line naming each bad variable (and its field) with the reason it was refused."""
    if isinstance(exc, ValidationError):
        parts = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            reason = _one_line(error["msg"]).removeprefix("Value error, ")
            parts.append(f"{_env_value(field)} ({field}): {reason}")
        return "; ".join(parts)
    message = str(exc)
    field = message.split('field "', 1)[1].split('"', 1)[0] if 'field "' in message else "?"
    cause = exc.__cause__
    if isinstance(cause, json.JSONDecodeError):
        reason = f"not valid JSON ({cause.msg} at character {cause.pos + 1}); this setting takes a JSON value"
    else:
        reason = _one_line(str(cause or message))
    return f"{_env_value(field)} ({field}): {reason}"


# Settings a task was handed by its flow (`settings_in_force`). A task may run in another process (a Dask
# worker) whose environment has no NEWSFLOW_* variables: it must still use the flow's store and options.
_handed: ContextVar[Settings | None] = ContextVar("newsflow_settings", default=None)


def get_settings() -> Settings:
    """The settings in force: those handed to the running task, else the process-wide ones.

    The process-wide settings are read from the environment on first use. A bad NEWSFLOW_* value raises
    InvalidSettingsError naming the variable and the reason.
    """
    handed = _handed.get()
    return handed if handed is not None else _from_environment()


def portable(settings: Settings) -> Settings:
    """A copy to hand to tasks in other processes: relative directories made absolute, here."""
    data_dir = settings.data_dir.absolute()
    output_dir = settings.output_dir.absolute() if settings.output_dir is not None else None
    return settings.model_copy(update={"data_dir": data_dir, "output_dir": output_dir})


@contextmanager
def settings_in_force(settings: Settings) -> Iterator[Settings]:
    """Within the block (this thread or task), `get_settings()` returns `settings`."""
    token = _handed.set(settings)
    try:
        yield settings
    finally:
        _handed.reset(token)


@lru_cache(maxsize=1)
def _from_environment() -> Settings:
    try:
        return Settings()
    except (ValidationError, SettingsError) as exc:
        raise InvalidSettingsError(f"invalid settings: {describe_settings_error(exc)}") from None


def configure(data_dir: Path | None = None, database_url: str | None = None) -> Settings:
    """Apply the CLI's --data-dir/--database-url over the environment and build the settings again.

    A bad NEWSFLOW_* value becomes a one-line InvalidSettingsError (a UserError) naming it.
    """
    if data_dir is not None:
        os.environ["NEWSFLOW_DATA_DIR"] = str(data_dir)
    if database_url is not None:
        os.environ["NEWSFLOW_DATABASE_URL"] = database_url
    reset_settings()
    return get_settings()


def reset_settings() -> None:
    """Forget cached settings (tests and the CLI change the environment)."""
    _from_environment.cache_clear()
