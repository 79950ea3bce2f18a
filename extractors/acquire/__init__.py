"""The acquisition layer: polite fetching, discovery (feeds, sitemaps, listings), canonical URLs, de-duplication.

* `urls.canonicalize` - one spelling per page;
* `encoding.decode_body` - bytes to text (declared, sniffed, wrong-declared charsets; mojibake repair);
* `discover` - feeds, sitemaps and listing pages -> article URLs;
* `dedupe` - content hashes and SimHash near-duplicates;
* `session.Acquirer` - a run's acquisition: URLs in, `RawArticle`s or `InputError`s out, every attempt in
  the fetch log (`newsflow/storage/fetchlog.py`).

`extractors.fetch` holds the HTTP client itself (SSRF guard, limits, robots.txt, rate limits, retries).
"""
