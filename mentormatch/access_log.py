"""Gunicorn access log without secrets: activation, reset, one-click RSVP and calendar-feed
URLs carry bearer tokens in their path; the log shows the route with the token replaced."""

from __future__ import annotations

import re

from gunicorn.glogging import Logger

# /activate/<token>, /reset/<token>, /rsvp/<token>, /feed/<token>.ics
_TOKEN_PATH = re.compile(r"(/(?:activate|reset|rsvp|feed)/)[^/?\s]+?(\.ics)?(?=[/?\s]|$)")
_TOKEN_QUERY = re.compile(r"((?:^|&)(?:token|t|key)=)[^&\s]*", re.IGNORECASE)


def redact(text: str | None) -> str | None:
    if not text:
        return text
    text = _TOKEN_PATH.sub(lambda m: m.group(1) + "[redacted]" + (m.group(2) or ""), text)
    if "?" in text:
        path, _, rest = text.partition("?")
        query, sep, tail = rest.partition(" ")
        text = path + "?" + _TOKEN_QUERY.sub(r"\1[redacted]", query) + sep + tail
    return text


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):  # noqa: D102 (gunicorn hook)
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "f", "{raw_uri}e", "{path_info}e", "{request_uri}e"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        if isinstance(atoms.get("q"), str):
            atoms["q"] = _TOKEN_QUERY.sub(r"\1[redacted]", atoms["q"])
        return atoms


def _werkzeug_handler():
    from werkzeug.serving import WSGIRequestHandler

    class RedactingRequestHandler(WSGIRequestHandler):
        """The demo's (werkzeug) request log, with the same redaction as `serve`."""

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            self.requestline = redact(self.requestline) or ""
            if hasattr(self, "path"):
                self.path = redact(self.path) or ""
            super().log_request(code, size)

    return RedactingRequestHandler
