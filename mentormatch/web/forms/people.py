"""Forms of the people pages: the list's filters; a mentor or mentee keeps their own
profile."""

from __future__ import annotations

from typing import Any

from wtforms import IntegerField, StringField
from wtforms.validators import Length, NumberRange, Optional

from ...services.people import PeopleFilter
from .base import Form, SearchForm


class _ProfileForm(Form):
    form_id = "profile"
    availability = StringField(validators=[Length(max=2000)])
    mode = StringField(validators=[Length(max=20)])
    capacity = StringField(validators=[Length(max=3)])

    competency_ids: list[int] = []

    def levels(self, prefix: str) -> dict[int, str]:
        return {cid: self[f"{prefix}_{cid}"].data or "" for cid in self.competency_ids}


def profile_form(competency_ids: list[int]) -> Any:
    """One level (and target) select per competency on the person's profile; the service
    reads the week's windows and checks the levels (its messages name the field)."""

    class ProfileForm(_ProfileForm):
        pass

    ProfileForm.competency_ids = competency_ids
    for cid in competency_ids:
        for prefix in ("level", "target"):
            setattr(ProfileForm, f"{prefix}_{cid}", StringField(validators=[Length(max=2)]))
    return ProfileForm()


class PeopleSearchForm(SearchForm):
    """The people list's filters."""

    form_id = "people-search"
    q = StringField(filters=[lambda v: (v or "")[:100]])
    unit = IntegerField(validators=[Optional()])
    city = StringField(filters=[lambda v: (v or "")[:100]])
    grade_min = IntegerField(validators=[Optional()])
    grade_max = IntegerField(validators=[Optional()])
    role = StringField(filters=[lambda v: (v or "")[:20]])
    gap = StringField(filters=[lambda v: (v or "")[:20]])
    page = IntegerField(validators=[Optional(), NumberRange(min=1)])

    def people_filter(self) -> PeopleFilter:
        return PeopleFilter(
            q=self.value("q") or "", unit_id=self.value("unit"), city=self.value("city") or "",
            grade_min=self.value("grade_min"), grade_max=self.value("grade_max"),
            role=self.value("role") or "", gap_in=self.value("gap") or "",
            page=self.value("page") or 1)
