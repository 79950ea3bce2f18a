"""What receiving yields: a `RawArticle`, or an `InputError` naming the input and the reason."""

from __future__ import annotations

from dataclasses import dataclass

from schemas.models import RawArticle


@dataclass(frozen=True)
class InputError:
    """An input that could not be read: `source` names it (file, file:line, URL), `reason` says why."""

    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


Item = RawArticle | InputError
