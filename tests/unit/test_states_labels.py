"""One status vocabulary: each state machine is a StrEnum whose values are the stored strings,
every state has one UI label (translated once), and `Pair.live()` is the live-pair query."""

import pytest
from sqlalchemy import select

from mentormatch.models import (
    GoalStatus,
    LogStatus,
    OutboxStatus,
    Pair,
    PairStatus,
    ProgrammeStatus,
    RoundStatus,
    SessionStatus,
)
from mentormatch.models.matching import ROUND_STATES
from mentormatch.models.pair import PAIR_STATES


def test_values_are_the_stored_strings():
    assert PAIR_STATES == ("invited", "active", "declined", "ended", "completed")
    assert ROUND_STATES == ("draft", "queued", "solving", "solved", "stale", "failed", "approved")
    assert [s.value for s in LogStatus] == ["submitted", "confirmed", "disputed"]
    assert [s.value for s in SessionStatus] == ["scheduled", "held", "not_held", "missed",
                                                 "cancelled"]
    assert PairStatus.ACTIVE == "active" and f"{PairStatus.ACTIVE}" == "active"
    assert Pair.LIVE_STATES == ("invited", "active")


@pytest.mark.parametrize("group,enum", [("pair", PairStatus), ("goal", GoalStatus),
                                        ("outbox", OutboxStatus), ("status", RoundStatus),
                                        ("programme", ProgrammeStatus)])
def test_every_state_has_one_label(app, group, enum):
    from mentormatch.web import rounds
    from mentormatch.web.labels import label, labels

    assert rounds.labels is labels  # the old import place still works
    assert set(labels()[group]) == set(enum)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        shown = [label(group, state.value) for state in enum]
    assert "Other" not in shown


def test_pair_ended_label_agrees_everywhere(app):
    """The coordinator's round page and the participant's pair page say the same thing."""
    from mentormatch.web.labels import label

    with app.test_request_context():
        assert label("pair", "ended") == "Diakhiri lebih awal"


def test_live_query(app, db):
    from datetime import date

    from mentormatch.models import Programme
    from tests import factories as f

    prog = Programme(name="P", start_date=date(2027, 1, 1), end_date=date(2027, 12, 31))
    db.session.add(prog)
    mentor = f.person("Budi", grade=12)
    pairs = {}
    for status in ("invited", "active", "ended"):
        pairs[status] = Pair(programme=prog, mentor_id=mentor.id,
                             mentee_id=f.person(f"Mentee {status}").id, status=status)
        db.session.add(pairs[status])
    db.session.flush()
    live = set(db.session.scalars(select(Pair.id).where(Pair.live())))
    assert live == {pairs["invited"].id, pairs["active"].id}
    assert pairs["invited"].is_live and not pairs["ended"].is_live
