"""The base of every MentorMatch form, and how a page shows a form's field errors.

Forms check the *shape* of what was posted (a number, a date, one of the offered choices, a
length); the services still decide the rules. A form that fails is shown again on its page
with 422 (the transaction layer rolls the request back, so nothing is half written), each
message beside its field and tied to it with ``aria-describedby``.

Pages with several small forms (a button row per pair, per session) name each form with
``form_id`` and, when it repeats, a ``key`` (the row's id): the page is rendered by its own
view and the ``field_errors`` / ``field_attrs`` template helpers pick the failed form's
messages out of the request.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from flask import Flask, request
from flask_babel import get_translations, lazy_ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import Field, SelectMultipleField
from wtforms.validators import ValidationError

from ...services.errors import ServiceError

INVALID = 422

#: WTForms' own messages we let users see, listed here so that `scripts/i18n.py` (which extracts
#: from our code only) keeps their Indonesian in our catalogue; tests check each is translated
WTFORMS_MESSAGES = (
    _l("This field is required."), _l("Not a valid integer value."),
    _l("Not a valid decimal value."), _l("Not a valid float value."),
    _l("Not a valid choice."), _l("Invalid Choice: could not coerce."),
    _l("Invalid choice(s): one or more data inputs could not be coerced."),
    _l("Not a valid date value."), _l("Not a valid datetime value."),
    _l("Not a valid time value."), _l("Number must be at least %(min)s."),
    _l("Number must be at most %(max)s."), _l("Number must be between %(min)s and %(max)s."),
    _l("Field must be between %(min)d and %(max)d characters long."),
    _l("Field must be equal to %(other_name)s."), _l("Invalid email address."),
    _l("Invalid input."),
    lazy_ngettext("'%(value)s' is not a valid choice for this field.",
                  "'%(value)s' are not valid choices for this field.", 1),
    lazy_ngettext("Field must be at least %(min)d character long.",
                  "Field must be at least %(min)d characters long.", 1),
    lazy_ngettext("Field cannot be longer than %(max)d character.",
                  "Field cannot be longer than %(max)d characters.", 1),
)


class _Catalogue:
    """WTForms' own messages (required, not a number, too long, ...) come from our catalogue:
    WTForms ships no Indonesian, and we say things our way."""

    def gettext(self, string: str) -> str:
        return str(get_translations().ugettext(string))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return str(get_translations().ungettext(singular, plural, n))


_CATALOGUE = _Catalogue()


class Form(FlaskForm):
    """A form of ours: CSRF-checked, messages in the reader's language."""

    #: names the form on a page that holds several (template helpers use it)
    form_id: ClassVar[str] = "form"

    class Meta(FlaskForm.Meta):
        def get_translations(self, form: Any) -> Any:
            return _CATALOGUE

    def show_refusal(self, exc: ServiceError, fields: Mapping[str, str] | None = None) -> bool:
        """Put a service's refusal beside the field it names (``fields`` maps the service's
        field names, or its codes, to the form's); False when none of this form's fields is
        concerned."""
        name = (fields or {}).get(exc.field or exc.code, exc.field)
        field = self._fields.get(name) if name else None
        if field is None:
            return False
        field.errors = [*field.errors, exc.user_message()]
        _remember(self, None)
        return True


class ListField(SelectMultipleField):
    """A value repeated under one name (checkboxes, rows of inputs), kept as typed, in order:
    the page's input names stay as they are (no ``name-0`` numbering)."""

    def __init__(self, label: Any = None, validators: Any = None, *, message: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(label, validators, coerce=str, validate_choice=False, **kwargs)
        self.message = message

    def pre_validate(self, form: Any) -> None:
        pass


class IdListField(ListField):
    """Several ids (checkboxes, an ordered ranking): each must be a whole number; the order
    and duplicates are kept for the service to judge."""

    def pre_validate(self, form: Any) -> None:
        for value in self.data or []:
            if not (value.isdigit() and len(value) < 12):
                raise ValidationError(self.message or _l("Choose from the list."))

    @property
    def ids(self) -> list[int]:
        return [int(v) for v in self.data or [] if v.isdigit() and len(v) < 12]


def invalid(form: Form, page: Callable[[], Any], *, key: Any = None,
            status: int = INVALID) -> tuple[Any, int]:
    """Show ``page`` again (rendered by its own view) with ``form``'s field errors."""
    _remember(form, key)
    body = page()
    if isinstance(body, tuple):
        body = body[0]
    return body, status


FAILED = "mentormatch.failed_form"


def _remember(form: Form, key: Any) -> None:
    # per request, not in g: tests keep one app context (and so one g) over many requests
    request.environ[FAILED] = (form, key)


def _failed(form_id: str, key: Any) -> Form | None:
    form, its_key = request.environ.get(FAILED, (None, None))
    return form if form is not None and form.form_id == form_id and its_key == key else None


def _errors_of(form_id: str, field: str, key: Any) -> list[str]:
    form = _failed(form_id, key)
    if form is None:
        return []
    found: Field | None = form._fields.get(field)
    if found is None:
        return []
    return [str(e) for e in _flat(found.errors)]


def _flat(errors: Any) -> Iterable[Any]:
    if isinstance(errors, dict):
        for value in errors.values():
            yield from _flat(value)
    elif isinstance(errors, list | tuple):
        for value in errors:
            yield from _flat(value)
    else:
        yield errors


def error_id(form_id: str, field: str, key: Any = None) -> str:
    raw = f"{form_id}-{key}-{field}-error" if key is not None else f"{form_id}-{field}-error"
    return re.sub(r"[^A-Za-z0-9_-]", "_", raw)


def field_errors(form_id: str, field: str, key: Any = None) -> Markup:
    """The failed form's first message for one field (a word where a number belongs also
    fails the range check: one message is enough), with the id its input points to."""
    errors = _errors_of(form_id, field, key)
    if not errors:
        return Markup("")
    text = escape(errors[0])
    return Markup(f'<span class="error field-error" id="{error_id(form_id, field, key)}">'
                  f"{text}</span>")


def field_attrs(form_id: str, field: str, key: Any = None) -> Markup:
    """``aria-invalid`` and ``aria-describedby`` for an input whose value was refused."""
    if not _errors_of(form_id, field, key):
        return Markup("")
    return Markup(f'aria-invalid="true" aria-describedby="{error_id(form_id, field, key)}"')


def form_errors(form_id: str, key: Any = None, exclude: Iterable[str] = ()) -> Markup:
    """The failed form's messages at once (but those shown beside a field: ``exclude``), for
    a form of hidden inputs and selects."""
    form = _failed(form_id, key)
    if form is None:
        return Markup("")
    text = " ".join(str(escape(next(iter(_flat(f.errors))))) for f in form
                    if f.name not in exclude and f.errors)
    if not text:
        return Markup("")
    return Markup(f'<span class="error field-error" id="{error_id(form_id, "all", key)}" '
                  f'role="alert">{text}</span>')


def form_attrs(form_id: str, key: Any = None) -> Markup:
    """``aria-describedby`` pointing at :func:`form_errors`' messages, for the inputs of a
    failed form that have no message of their own."""
    if not has_errors(form_id, key):
        return Markup("")
    return Markup(f'aria-invalid="true" aria-describedby="{error_id(form_id, "all", key)}"')


def has_errors(form_id: str, key: Any = None) -> bool:
    return _failed(form_id, key) is not None


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(field_errors=field_errors, field_attrs=field_attrs,
                                 form_errors=form_errors, form_attrs=form_attrs,
                                 form_failed=has_errors)


class SearchForm(Form):
    """A GET form of filters (a list page): no CSRF token (it changes nothing, and its URL
    may be bookmarked or shared); a value that cannot be read is ignored, as if not given."""

    class Meta(Form.Meta):
        csrf = False

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(formdata=request.args, **kwargs)
        self.validate()

    def value(self, name: str) -> Any:
        field = self._fields[name]
        return None if field.errors else field.data
