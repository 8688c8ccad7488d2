"""Read ``Authentication-Results`` headers (RFC 8601) written by our own mail exchanger.

Pure: no database, no Flask. Anyone can write an Authentication-Results header into a mail, so
only the topmost one carrying *our* authserv-id counts (the MX prepends its own and should strip
forged ones with its id). A sender is authenticated when that header reports ``dkim=pass`` for a
signing domain aligned with the From domain, ``spf=pass`` for an aligned envelope sender, or
``dmarc=pass`` for the From domain.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ResultInfo:
    method: str
    result: str
    props: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AuthResults:
    authserv_id: str
    results: tuple[ResultInfo, ...]


def _strip_comments(text: str) -> str:
    """Remove (nested) comments outside quoted strings."""
    out, depth, quoted, escaped = [], 0, False, False
    for ch in text:
        if escaped:
            escaped = False
            if depth == 0:
                out.append(ch)
            continue
        if ch == "\\":
            escaped = True
            if depth == 0:
                out.append(ch)
            continue
        if quoted:
            out.append(ch)
            if ch == '"':
                quoted = False
            continue
        if ch == "(":
            depth += 1
            continue
        if ch == ")" and depth:
            depth -= 1
            continue
        if depth == 0:
            if ch == '"':
                quoted = True
            out.append(ch)
    return "".join(out)


def _split(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    cur: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == sep and not quoted:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def parse(value: str) -> AuthResults | None:
    """One header value; None when it cannot be read at all."""
    text = " ".join(_strip_comments(str(value)).split())
    chunks = _split(text, ";")
    head = chunks[0].split()
    if not head:
        return None
    results = []
    for chunk in chunks[1:]:
        # "dkim = pass header.d=x" -> "dkim=pass header.d=x"
        tokens = " ".join(chunk.replace(" =", "=").replace("= ", "=").split()).split(" ")
        if not tokens or "=" not in tokens[0]:
            continue  # "none" or garbage
        method, _, result = tokens[0].partition("=")
        props: dict[str, str] = {}
        for tok in tokens[1:]:
            key, eq, val = tok.partition("=")
            if eq and "." in key:
                props.setdefault(key.lower(), val.strip('"'))
        results.append(ResultInfo(method.split("/")[0].lower(), result.lower(), props))
    return AuthResults(head[0].lower(), tuple(results))


def _domain(value: str) -> str:
    return value.rpartition("@")[2].strip().strip(".").lower()


def aligned(a: str, b: str) -> bool:
    """Relaxed alignment: the same domain, or one a subdomain of the other."""
    a, b = _domain(a), _domain(b)
    return bool(a and b) and (a == b or a.endswith("." + b) or b.endswith("." + a))


def sender_verdict(headers: Iterable[str], authserv_id: str, sender: str) -> str:
    """``pass``, ``fail`` (our MX judged the mail and nothing passed for the sender's domain)
    or ``none`` (no header from our MX: ``authserv_id`` empty, or the mail did not pass it)."""
    wanted = authserv_id.strip().lower()
    if not wanted:
        return "none"
    domain = _domain(sender)
    for value in headers:
        parsed = parse(value)
        if parsed is None or parsed.authserv_id != wanted:
            continue
        for r in parsed.results:
            if r.result != "pass":
                continue
            if r.method == "dkim" and any(
                aligned(r.props.get(k, ""), domain) for k in ("header.d", "header.i")
            ):
                return "pass"
            if r.method == "spf" and aligned(r.props.get("smtp.mailfrom", ""), domain):
                return "pass"
            if r.method == "dmarc" and aligned(r.props.get("header.from", ""), domain):
                return "pass"
        return "fail"  # only the topmost header of our MX counts
    return "none"


__all__ = ["AuthResults", "ResultInfo", "aligned", "parse", "sender_verdict"]
