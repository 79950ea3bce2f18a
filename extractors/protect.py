"""Keep names out of machine translation: placeholders in, the original names back out.

Machine translation renders Vietnamese names word by word (Apertium: "Son La" -> "Sound The",
"Nguyen Van Ba" -> "Nguyen Go Ba"; "Long An" -> "Mucho tiempo Un" the other way). Before a text is
translated each protected span is replaced by a token no engine translates, ``ZQ<n>X``; the same name
gets the same token. After translation the tokens are replaced by the names as the original wrote them.
The tokens survive case changes and a space that an engine may insert inside them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_TOKEN = re.compile(r"Z\s?Q\s?(\d{1,4})\s?X", re.IGNORECASE)


def token(n: int) -> str:
    return f"ZQ{n}X"


@dataclass
class Protector:
    """Numbers the names of one document, so every part of it uses the same tokens."""

    names: list[str] = field(default_factory=list)

    def protect(self, text: str, spans: Iterable[tuple[int, int]]) -> str:
        """`text` with every span (start, end offsets into `text`) replaced by its name's token.

        Overlapping spans are merged into the first; spans outside the text are an error naming them.
        """
        out: list[str] = []
        pos = 0
        for start, end in sorted(set(spans)):
            if not 0 <= start <= end <= len(text):
                raise ValueError(f"span ({start}, {end}) is outside a text of {len(text)} characters")
            if start < pos or start == end:
                continue
            name = text[start:end]
            if name not in self.names:
                self.names.append(name)
            out.append(text[pos:start] + token(self.names.index(name)))
            pos = end
        out.append(text[pos:])
        return "".join(out)

    def restore(self, text: str) -> tuple[str, list[str]]:
        """(`text` with the tokens replaced by their names, names whose token is missing from `text`)."""
        seen: set[int] = set()

        def back(match: re.Match[str]) -> str:
            n = int(match.group(1))
            if n >= len(self.names):
                return match.group()
            seen.add(n)
            return self.names[n]

        restored = _TOKEN.sub(back, text)
        return restored, [name for n, name in enumerate(self.names) if n not in seen]


def contains_token(text: str) -> bool:
    return _TOKEN.search(text) is not None
