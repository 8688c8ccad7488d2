"""Shared browser helpers for the journey tests and the screenshot tour.

A `Journey` drives one person's day in Chromium and only uses what that person can see: every
control it clicks or fills must be visible, enabled and have text contrast of at least 4.5:1
(WCAG AA, from the computed colours, backgrounds composited up the tree). `seen(name)` marks
a page of the journey: axe-core checks it at desktop width and at 390 px (no serious or
critical violation), and when MENTORMATCH_SCREENS names a folder, full-page PNGs of both
widths are written there (scripts/screens)."""

from __future__ import annotations

import email
import email.policy
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
AA = 4.5
FITS = "() => document.documentElement.scrollWidth <= window.innerWidth + 1"

# Contrast of an element's text against what is behind it: the text colour over the first
# opaque background up the tree (semi-transparent layers composited on the way, white page
# at the end). Checkboxes, radios and file inputs are judged by their label's text.
CONTRAST_JS = """(el) => {
  const t = (el.type || '').toLowerCase();
  if (el.tagName === 'INPUT' && ['checkbox', 'radio', 'file'].includes(t)) {
    el = el.closest('label') || (el.labels && el.labels[0]) || el;
  }
  const parse = (s) => {
    const m = s.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return [0, 0, 0, 0];
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, under) => {
    const a = top[3];
    return [0, 1, 2].map(i => top[i] * a + under[i] * (1 - a)).concat([1]);
  };
  const layers = [];
  for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
    const bg = parse(getComputedStyle(n).backgroundColor);
    if (bg[3] > 0) layers.push(bg);
    if (bg[3] >= 1) break;
  }
  let bg = [255, 255, 255, 1];
  for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
  const fg = over(parse(getComputedStyle(el).color), bg);
  const lum = (c) => {
    const [r, g, b] = c.slice(0, 3).map(v => {
      v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const a = lum(fg), b = lum(bg);
  return {ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05),
          fg: getComputedStyle(el).color, text: (el.innerText || el.value || '').slice(0, 60)};
}"""

_AXE_SOURCE: str | None = None

# Only what the test needs crosses back from the page (the full result is large and slow).
_AXE_RUN = """() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations
  .filter(v => v.impact === 'serious' || v.impact === 'critical')
  .map(v => `${v.id} (${v.impact}): ${v.help} — ` +
       v.nodes.slice(0, 4).map(n => n.target.join(' ')).join(', ')))"""


def _axe_source() -> str:
    """axe-core as shipped in the axe-playwright-python package (pyproject test extra)."""
    global _AXE_SOURCE
    if _AXE_SOURCE is None:
        import axe_playwright_python

        _AXE_SOURCE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
    return _AXE_SOURCE


def serious_violations(page) -> list[str]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source())
    return page.evaluate(_AXE_RUN)


def assert_usable(locator, what: str = "") -> None:
    """A person can see and use it: visible, enabled, text contrast >= 4.5:1."""
    locator.wait_for(state="visible")
    label = what or locator.evaluate("e => (e.innerText || e.value || e.name || '').trim()")
    assert locator.is_visible(), f"control not visible: {label}"
    assert locator.is_enabled(), f"control disabled: {label}"
    c = locator.evaluate(CONTRAST_JS)
    assert c["ratio"] >= AA, f"control {label!r} contrast {c['ratio']:.2f}:1 < {AA} ({c['fg']})"


class Journey:
    """One person's day in the browser; see the module docstring."""

    def __init__(self, browser, base: str, name: str) -> None:
        self.base = base
        self.name = name
        self.context = browser.new_context(viewport=DESKTOP, locale="id-ID")
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.pages_seen: list[str] = []
        self.problems: list[str] = []
        shots = os.environ.get("MENTORMATCH_SCREENS", "")
        self.shots = Path(shots) if shots else None
        if self.shots:
            self.shots.mkdir(parents=True, exist_ok=True)

    def close(self) -> None:
        self.context.close()

    # -- getting somewhere without clicking: only what arrives from outside the app ----------
    def open(self, url: str) -> None:
        """Open a link a person got by e-mail (its path on the live server) or types in."""
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        resp = self.page.goto(self.base + path)
        assert resp is not None and resp.status < 400, f"{path}: HTTP {resp and resp.status}"

    # -- using visible controls -------------------------------------------------------------
    def _loc(self, target):
        return self.page.locator(target) if isinstance(target, str) else target

    def click(self, target, what: str = "") -> None:
        loc = self._loc(target)
        assert_usable(loc, what)
        loc.click()

    def fill(self, target, value: str) -> None:
        loc = self._loc(target)
        assert_usable(loc)
        loc.fill(value)

    def check(self, target, on: bool = True) -> None:
        loc = self._loc(target)
        assert_usable(loc)
        loc.set_checked(on)

    def select(self, target, value: str) -> None:
        loc = self._loc(target)
        assert_usable(loc)
        loc.select_option(value)

    def upload(self, target, name: str, data: bytes, mime: str) -> None:
        loc = self._loc(target)
        assert_usable(loc)
        loc.set_input_files({"name": name, "mimeType": mime, "buffer": data})

    def confirm(self, expect: tuple[str, ...] = ()) -> str:
        """The confirmation dialog is open and says what will happen; answer yes."""
        dialog = self.page.locator("#confirm-dialog")
        dialog.wait_for(state="visible")
        text = dialog.inner_text()
        for part in expect:
            assert part in text, f"{part!r} not in the confirmation: {text!r}"
        self.seen("confirm")
        self.click("#confirm-yes")
        return text

    def login(self, email: str, password: str) -> None:
        self.open("/login")
        self.seen("login")
        self.fill("input[name=email]", email)
        self.fill("input[name=password]", password)
        self.click("#login")
        self.page.wait_for_url(f"{self.base}/")

    def logout(self) -> None:
        self.click("#logout")
        self.page.wait_for_url(re.compile(r".*/login.*|.*/$"))

    # -- a page of the journey: accessibility at both widths, screenshots -------------------
    SHARED = frozenset({"login", "activate"})  # the same page in every journey: check once
    checked: set[str] = set()

    def seen(self, name: str) -> None:
        n = len(self.pages_seen) + 1
        self.pages_seen.append(name)
        key = name if name in self.SHARED else f"{self.name}/{name}"
        if key in Journey.checked and not self.shots:
            return
        Journey.checked.add(key)
        for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
            self.page.set_viewport_size(size)
            for v in serious_violations(self.page):
                self.problems.append(f"{self.name}/{name} @ {label}: {v}")
            if not self.page.evaluate(FITS):
                self.problems.append(f"{self.name}/{name} @ {label}: wider than the screen")
            if self.shots:
                shot = self.shots / f"{self.name}-{n:02d}-{name}-{label}.png"
                self.page.screenshot(path=str(shot), full_page=True)
        self.page.set_viewport_size(DESKTOP)

    def assert_accessible(self) -> None:
        assert not self.problems, "axe (serious/critical):\n" + "\n".join(self.problems)


def mail_to(app, recipient: str, kind: str | None = None):
    """The newest e-mail queued for `recipient` (optionally of one kind), parsed."""
    from mentormatch.extensions import db
    from mentormatch.models import OutboxMessage

    with app.app_context():
        q = select(OutboxMessage).where(OutboxMessage.recipient == recipient)
        if kind:
            q = q.where(OutboxMessage.kind == kind)
        row = db.session.scalars(q.order_by(OutboxMessage.id.desc())).first()
        assert row is not None, f"no mail{' of kind ' + kind if kind else ''} to {recipient}"
        raw = row.raw
        db.session.remove()
    return email.message_from_bytes(raw, policy=email.policy.default)


def mails_to(app, recipient: str, kind: str | None = None) -> list:
    """Every e-mail queued for `recipient` (optionally of one kind), oldest first, parsed."""
    from mentormatch.extensions import db
    from mentormatch.models import OutboxMessage

    with app.app_context():
        q = select(OutboxMessage.raw).where(OutboxMessage.recipient == recipient)
        if kind:
            q = q.where(OutboxMessage.kind == kind)
        raws = list(db.session.scalars(q.order_by(OutboxMessage.id)))
        db.session.remove()
    return [email.message_from_bytes(r, policy=email.policy.default) for r in raws]


def link_in(msg, pattern: str) -> str:
    """The first link in the mail's text body whose path matches `pattern`."""
    text = msg.get_body(("plain",)).get_content()
    m = re.search(r"https?://\S*" + pattern + r"\S*", text)
    assert m, f"no link matching {pattern!r} in:\n{text}"
    return m.group(0).rstrip(").,>")
