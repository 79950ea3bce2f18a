"""URL canonicalisation: one spelling per page, so a page is fetched, stored and counted once.

`canonicalize` lowercases the scheme and host, drops default ports, fragments, tracking parameters
(utm_*, fbclid, gclid, zarsrc, ...) and trailing slashes, sorts the remaining query parameters, and folds
mobile and AMP variants onto the desktop page:

* hosts `m.`, `mobile.`, `amp.` -> the bare host (`m.baoyenbai.vn` -> `baoyenbai.vn`; `www.` is kept, since
  `www.x.vn` and `x.vn` can be different sites);
* paths `/amp/...`, `.../amp`, `....amp.html` and the query `amp=1` / `outputType=amp` -> the plain path.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

TRACKING_PREFIXES = ("utm_", "mtm_", "pk_", "at_", "hsa_")
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "zarsrc",
        "_hsenc",
        "_hsmi",
        "ref",
        "ref_src",
        "cmpid",
        "ito",
        "icid",
        "spm",
        "share",
        "s_cid",
        "gidzl",
    }
)
AMP_PARAMS = {"amp": {"", "1", "true"}, "outputtype": {"amp"}}
_MOBILE_HOST = re.compile(r"^(?:m|mobile|amp)\.(?=[^.]+\.[^.]+)")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _path(path: str) -> str:
    # Normalise percent-encoding (upper-case escapes, unreserved characters decoded) without touching '/'.
    path = quote(unquote(path), safe="/:@!$&'()*+,;=-._~%")
    if path.startswith("/amp/"):
        path = path[4:]
    if path.endswith("/amp") or path.endswith("/amp/"):
        path = path[: path.rfind("/amp")]
    path = re.sub(r"\.amp\.html?$", ".html", path)
    path = re.sub(r"/{2,}", "/", path)
    return path.rstrip("/") or "/"


def _keep(key: str, value: str) -> bool:
    low = key.lower()
    if low in TRACKING_PARAMS or low.startswith(TRACKING_PREFIXES):
        return False
    return not (low in AMP_PARAMS and value.lower() in AMP_PARAMS[low])


def canonicalize(url: str) -> str:
    """The canonical spelling of an http(s) URL (other URLs are returned stripped, otherwise unchanged)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return url.strip()
    host = parts.hostname.lower().rstrip(".")
    host = _MOBILE_HOST.sub("", host)
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if parts.port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{parts.port}"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if _keep(k, v))
    return urlunsplit((scheme, netloc, _path(parts.path), urlencode(query), ""))


def host_of(url: str) -> str:
    """The lower-case host of a URL ('' when it has none)."""
    return (urlsplit(url).hostname or "").lower()
