"""What receiving yields: a `RawArticle`, or an `InputError` naming the input and the reason."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import PrivateAttr

from schemas.models import DuplicateOf, RawArticle


@dataclass(frozen=True)
class InputError:
    """An input that could not be read: `source` names it (file, file:line, URL), `reason` says why."""

    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


Item = RawArticle | InputError


class LinkedRaw(RawArticle):
    """A received page the fetch log linked to an earlier one as the same story.

    The link is not a field of the raw input (the store keeps the page exactly as received); the pipeline
    copies it to `ArticleRecord.duplicate_of` (see `duplicate_link`).
    """

    _duplicate_of: DuplicateOf | None = PrivateAttr(default=None)

    @classmethod
    def linked(cls, raw: RawArticle, duplicate_of: DuplicateOf) -> LinkedRaw:
        linked = cls.model_validate(raw.model_dump())
        linked._duplicate_of = duplicate_of
        return linked


def duplicate_link(raw: RawArticle) -> DuplicateOf | None:
    """The story `raw` repeats, when acquisition linked it (None for every other input)."""
    return raw._duplicate_of if isinstance(raw, LinkedRaw) else None
