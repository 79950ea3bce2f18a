"""Generate the published JSON Schema of `ArticleRecord` (`python -m schemas.generate`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from schemas.models import SCHEMA_VERSION, ArticleRecord

SCHEMA_FILE = Path(__file__).with_name("article_record.schema.json")


def record_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one record, as downstream systems consume it."""
    schema = ArticleRecord.model_json_schema(mode="serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://newsflow.example/schemas/article_record/{SCHEMA_VERSION}.json",
        **schema,
    }


def render() -> str:
    return json.dumps(record_schema(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> int:
    SCHEMA_FILE.write_text(render(), encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
