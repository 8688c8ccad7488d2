"""Forms of the coordinator's programme and round pages and the mentee's preference page."""

from __future__ import annotations

from datetime import date
from typing import Any

from wtforms import BooleanField, DecimalField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ...services import programmes, solver_bridge
from ...services.programmes import Filters, ProgrammeError
from ...services.rounds import KINDS
from .base import Form, IdListField

ROLES = ("mentor", "mentee")
#: the service's names for the programme form's fields, where they differ
PROGRAMME_FIELDS = {"minutes_per_jp": "jp_minutes_per_jp", "rounding": "jp_rounding",
                    "max_minutes_per_session": "jp_max_minutes_per_session"}


def _optional_int(lo: int, hi: int) -> IntegerField:
    return IntegerField(validators=[Optional(), NumberRange(min=lo, max=hi)])


class _Names(IdListField):
    """Rule names (checkboxes): unknown ones are dropped by the service, as a page from
    before a configuration change may send them."""

    def pre_validate(self, form: Any) -> None:
        pass


class _Ranking(IdListField):
    """Ranked choices from a row of selects: a choice left blank is skipped."""

    def pre_validate(self, form: Any) -> None:
        if any(v and not (v.isdigit() and len(v) < 12) for v in self.data or []):
            super().pre_validate(form)


class ProgrammeForm(Form):
    """The programme's settings. Ranges, dates and the period are the service's rules (its
    messages name the field); the form refuses what is not even a number or too long."""

    form_id = "programme"
    name = StringField(validators=[Length(max=200)])
    unit_id = IntegerField(validators=[Optional(), NumberRange(min=1)])
    start_date = StringField(validators=[Length(max=20)])
    end_date = StringField(validators=[Length(max=20)])
    session_minutes = IntegerField(validators=[Optional()])
    interval_weeks = IntegerField(validators=[Optional()])
    session_count = IntegerField(validators=[Optional()])
    mode_policy = StringField(default="either", validators=[Length(max=20)])
    default_capacity = IntegerField(validators=[Optional()])
    preferences_enabled = BooleanField()
    jp_minutes_per_jp = IntegerField(validators=[Optional()])
    jp_rounding = StringField(validators=[Length(max=20)])
    jp_max_minutes_per_session = IntegerField(validators=[Optional()])
    override_rule = _Names()
    capacity_override = BooleanField()

    def values(self) -> dict[str, Any]:
        """What the service takes (it checks the ranges, the period and the rounding)."""
        return {
            "name": self.name.data or "",
            "unit_id": self.unit_id.data or None,
            "start_date": self._date(self.start_date),
            "end_date": self._date(self.end_date),
            "session_minutes": self.session_minutes.data,
            "interval_weeks": self.interval_weeks.data,
            "session_count": self.session_count.data,
            "mode_policy": self.mode_policy.data or "",
            "default_capacity": self.default_capacity.data,
            "preferences_enabled": bool(self.preferences_enabled.data),
            "jp_rule": {"minutes_per_jp": self.jp_minutes_per_jp.data,
                        "rounding": self.jp_rounding.data or "",
                        "max_minutes_per_session": self.jp_max_minutes_per_session.data},
            "override_policy": {"overridable": list(self.override_rule.data or []),
                                "capacity_override": bool(self.capacity_override.data)},
        }

    @staticmethod
    def _date(field: StringField) -> date:
        try:
            return programmes.parse_date(field.data or "")
        except ProgrammeError as exc:
            exc.field = field.name
            raise

    def typed(self) -> dict[str, Any]:
        """The form as typed, to show it again after a refusal."""
        raw = {name: field.raw_data[0] if field.raw_data else ""
               for name, field in self._fields.items()}
        values: dict[str, Any] = {k: raw.get(k, "") for k in programmes.FIELDS}
        values["preferences_enabled"] = bool(self.preferences_enabled.data)
        values["jp_rule"] = {"minutes_per_jp": raw["jp_minutes_per_jp"],
                             "rounding": raw["jp_rounding"],
                             "max_minutes_per_session": raw["jp_max_minutes_per_session"]}
        values["override_policy"] = {"overridable": list(self.override_rule.data or []),
                                     "capacity_override": bool(self.capacity_override.data)}
        return values


class FiltersForm(Form):
    """Who a round (or an "add participants") takes: the same filters as the GET form."""

    form_id = "filters"
    unit_id = _optional_int(1, 10**9)
    city = StringField(validators=[Length(max=100)])
    grade_min = _optional_int(1, 17)
    grade_max = _optional_int(1, 17)
    kind = StringField(validators=[Length(max=20)])  # employment; unknown = all
    gap_in = StringField(validators=[Length(max=20)])
    not_matched = BooleanField()

    def filters(self) -> Filters:
        return Filters.from_dict(self.data)


class AddParticipantsForm(FiltersForm):
    form_id = "add-participants"
    role = SelectField(choices=ROLES, validators=[InputRequired()])


class CreateRoundForm(FiltersForm):
    form_id = "new-round"
    name = StringField(validators=[InputRequired(), Length(max=200)])
    # the round's own kind; ``kind`` (inherited) is the employment filter, so the names differ
    round_kind = SelectField(choices=KINDS, default="initial")


class WithdrawForm(Form):
    form_id = "withdraw"
    reason = StringField(validators=[Length(max=500)])


class PreferencesForm(Form):
    """A coordinator records a mentee's ranking (up to three mentors, blanks skipped)."""

    form_id = "preferences"
    mentee_id = IntegerField(validators=[InputRequired(), NumberRange(min=1)])
    mentor_id = _Ranking()


class MyPreferencesForm(Form):
    form_id = "my-preferences"
    mentor_id = _Ranking()


class PairForm(Form):
    """Lock, forbid or set by hand: one mentee and one mentor."""

    form_id = "pair"
    mentee_id = IntegerField(validators=[InputRequired(), NumberRange(min=1)])
    mentor_id = IntegerField(validators=[InputRequired(), NumberRange(min=1)])


class ByHandForm(PairForm):
    form_id = "by-hand"
    override_reason = StringField(validators=[Length(max=500)])


class ClearForm(Form):
    form_id = "clear"
    constraint_id = IntegerField(validators=[InputRequired(), NumberRange(min=1)])


def _weight() -> DecimalField:
    return DecimalField(validators=[Optional(), NumberRange(min=-100, max=100)], places=None)


class CriteriaForm(Form):
    """The solver's criteria: hard rules, weights, minimum grade gap and time limit. A field
    left out keeps its value (the preset buttons send only some)."""

    form_id = "criteria"
    min_grade_steps = IntegerField(validators=[Optional(), NumberRange(min=0, max=16)])
    time_limit_seconds = DecimalField(validators=[Optional(), NumberRange(min=1, max=600)],
                                      places=None)

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, field in self._fields.items():
            if name == "csrf_token" or field.data is None:
                continue
            out[name] = (bool(field.data) if isinstance(field, BooleanField)
                         else float(field.data) if isinstance(field, DecimalField)
                         else field.data)
        return out


for _rule in solver_bridge.RULE_KEYS:
    setattr(CriteriaForm, _rule, BooleanField())
for _key in solver_bridge.WEIGHT_KEYS:
    setattr(CriteriaForm, f"w_{_key}", _weight())


class EndPairForm(Form):
    """A coordinator ends a pair (both people are told the reason)."""

    form_id = "end-pair"
    reason = StringField(validators=[Length(max=1000)])


class AddOneForm(Form):
    """One person, by NIP or e-mail, into the programme."""

    form_id = "add-one"
    person = StringField(validators=[Length(max=254)])
    role = StringField(validators=[Length(max=20)])  # the service says "choose mentors or..."
