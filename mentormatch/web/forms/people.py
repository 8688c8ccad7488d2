"""Forms of the people pages: a mentor or mentee keeps their own profile."""

from __future__ import annotations

from typing import Any

from wtforms import StringField
from wtforms.validators import Length

from .base import Form


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
