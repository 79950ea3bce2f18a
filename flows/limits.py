"""The Prefect global concurrency limits newsflow takes, and the one scheme their names follow.

Names are `newsflow:<kind>:<key>`, lower case:

- `newsflow:site:<host>` (concurrency): a slot is held while a page of `<host>` is fetched, so
  `--limit 2` means at most two fetches from that site at once, across every run, worker and machine
  of one Prefect server;
- `newsflow:translate:<provider>` (concurrency): a slot is held while an article is translated with
  `<provider>` (one of `extractors.translate.PROVIDERS`);
- `newsflow:translate-rate:<provider>` (rate, a limit with slot decay): one slot is taken before every
  request to `<provider>` when NEWSFLOW_TRANSLATION_PREFECT_LIMITS=true, so
  `--limit 5 --slot-decay-per-second 1` means about one request a second.

Every limit is optional: one that does not exist is not enforced, so runs need no setup. newsflow asks the
server which limits exist before taking a slot (once per run and site, once per batch for translation), so a
missing limit costs no Prefect warning per source. Create them with `prefect gcl create <name> --limit N`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from schemas.models import Translation

PREFIX = "newsflow"
LimitKind = Literal["site", "translate", "translate-rate"]
KINDS: tuple[LimitKind, ...] = ("site", "translate", "translate-rate")


def limit_name(kind: LimitKind, key: str) -> str:
    """`newsflow:<kind>:<key>`; refuses a key Prefect cannot hold in a name or that would be ambiguous."""
    if kind not in KINDS:
        raise ValueError(f"unknown limit kind {kind!r}; use one of {', '.join(KINDS)}")
    key = key.strip().lower().rstrip(".")
    if not key or any(c in key for c in "/%&<>: \t\n"):
        raise ValueError(f"{key!r} cannot be part of a concurrency limit name")
    return f"{PREFIX}:{kind}:{key}"


def site_limit(host: str) -> str:
    """Name of the concurrency limit that bounds fetches from one site (host)."""
    return limit_name("site", host)


def translate_limit(provider: str) -> str:
    """Name of the concurrency limit that bounds translations by one provider."""
    return limit_name("translate", provider)


def translate_rate_limit(provider: str) -> str:
    """Name of the rate limit (slot decay) that spaces requests to one provider."""
    return limit_name("translate-rate", provider)


@contextmanager
def site_slot(host: str | None, known: dict[str, bool] | None = None) -> Iterator[None]:
    """Hold a slot of `host`'s site limit (no-op for a path, or when the limit does not exist).

    Whether the limit exists is asked once and kept in `known` (limit name -> exists), which the caller keeps
    for a run: Prefect's non-strict `concurrency` would log a warning for every source of a site without one.
    """
    if host is None:
        yield
        return
    name = site_limit(host)
    exists = known.get(name) if known is not None else None
    if exists is None:
        exists = bool(existing_limits([name]))
        if known is not None:
            known[name] = exists
    if not exists:
        yield
        return
    from prefect.concurrency.sync import concurrency

    with concurrency(name, occupy=1, strict=False):
        yield


def prefect_rate_limit(provider: str) -> None:
    """Take one slot of `provider`'s rate limit (blocks until one is free; no-op if it does not exist)."""
    from prefect.concurrency.sync import rate_limit

    rate_limit(translate_rate_limit(provider), strict=False)


def existing_limits(names: list[str]) -> list[str]:
    """The names among `names` that the Prefect server holds as global concurrency limits.

    If the server cannot say (unreachable, an error), every name is kept: Prefect's non-strict mode
    then decides per call, as it would without this lookup.
    """
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    found: list[str] = []
    try:
        with get_client(sync_client=True) as client:
            for name in names:
                try:
                    client.read_global_concurrency_limit_by_name(name)
                except ObjectNotFound:
                    continue
                found.append(name)
    except Exception:  # a lookup that fails must not cost the article its translation
        return list(names)
    return found


class LimitedTranslator:
    """A translator whose calls hold a slot of each of its providers' concurrency limits (if they exist).

    Everything else (and any argument of `translate`) goes to the wrapped translator unchanged.
    """

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        providers = tuple(getattr(engine, "providers", ()) or ())
        self.limits = [translate_limit(p) for p in providers]
        self._held: list[str] | None = None  # the limits that exist, looked up at the first translation

    def translate(self, *args: Any, **kwargs: Any) -> Translation:
        if self._held is None:
            # Once per translator (one batch), not per article: asking for a slot of a limit that does not
            # exist cost a server round trip per article, as long as the translation itself (measured with
            # Apertium). A limit created while a run goes on holds from its next batch.
            self._held = existing_limits(self.limits) if self.limits else []
        if not self._held:
            return self.engine.translate(*args, **kwargs)
        from prefect.concurrency.sync import concurrency

        with concurrency(self._held, occupy=1, strict=False):
            return self.engine.translate(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)
