"""The one family of refusals a user can cause.

A service raises a ``ServiceError`` subclass with a short stable ``code`` (for logs, tests and
the API) and never commits; the web layer shows ``exc.user_message()`` (in the reader's
language) and the request's writes are rolled back (mentormatch/web/transaction.py). Each
subclass keeps its codes' messages in its ``messages`` table; an unknown code shows a generic
sentence, never the code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from flask_babel import lazy_gettext as _l

GENERIC_MESSAGE = _l("This action could not be completed.")


class ServiceError(ValueError):
    """A refused action: ``code`` names why; ``user_message()`` says it to the user."""

    #: code -> message (a lazy string); subclasses fill it
    messages: ClassVar[Mapping[str, Any]] = {}
    #: shown for a code without a message
    fallback: ClassVar[Any] = GENERIC_MESSAGE

    def __init__(self, code: str, message: Any = None, *, field: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self._message = message
        #: the input the refusal is about, when there is one: a form shows the message there
        self.field = field

    def user_message(self) -> str:
        if self._message is not None:
            return str(self._message)
        return str(self.messages.get(self.code, self.fallback))
