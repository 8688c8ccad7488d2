"""Authentication-Results (RFC 8601) as our MX writes it: only our authserv-id counts, only
the topmost such header, and only results aligned with the sender's domain."""

from __future__ import annotations

from mentormatch.mail.authres import aligned, parse, sender_verdict

MX = "mx.bkpsdm.go.id"


def test_parse_with_comments_versions_and_quotes():
    r = parse('MX.bkpsdm.go.id 1; dkim=pass (2048-bit key; "quoted") header.d=dinas.go.id '
              'header.i=@dinas.go.id header.b="abc;def"; spf = pass smtp.mailfrom=a@dinas.go.id;'
              " dmarc=pass header.from=dinas.go.id")
    assert r.authserv_id == MX
    assert [(x.method, x.result) for x in r.results] == [("dkim", "pass"), ("spf", "pass"),
                                                         ("dmarc", "pass")]
    assert r.results[0].props["header.d"] == "dinas.go.id"
    assert r.results[1].props["smtp.mailfrom"] == "a@dinas.go.id"
    assert parse(f"{MX}; none").results == ()


def test_alignment_is_relaxed_but_not_loose():
    assert aligned("dinas.go.id", "budi@dinas.go.id")
    assert aligned("mail.dinas.go.id", "dinas.go.id")
    assert not aligned("evil-dinas.go.id", "dinas.go.id")
    assert not aligned("", "dinas.go.id")


def test_verdicts():
    sender = "Budi@Dinas.go.id"
    assert sender_verdict([f"{MX}; dkim=pass header.d=dinas.go.id"], MX, sender) == "pass"
    assert sender_verdict([f"{MX}; spf=pass smtp.mailfrom=budi@dinas.go.id"], MX,
                          sender) == "pass"
    # signed, but by another domain: not the sender's
    assert sender_verdict([f"{MX}; dkim=pass header.d=gmail.com"], MX, sender) == "fail"
    assert sender_verdict([f"{MX}; dkim=fail header.d=dinas.go.id"], MX, sender) == "fail"
    # someone else's header claiming "pass" is ignored
    assert sender_verdict(["evil.example; dkim=pass header.d=dinas.go.id"], MX,
                          sender) == "none"
    # only the topmost header of our MX counts (a forged one further down is ignored)
    assert sender_verdict([f"{MX}; dkim=fail header.d=dinas.go.id",
                           f"{MX}; dkim=pass header.d=dinas.go.id"], MX, sender) == "fail"
    assert sender_verdict([f"{MX}; dkim=pass header.d=dinas.go.id"], "", sender) == "none"
