// Independent check with Mozilla ical.js (the parser Thunderbird uses).
// Usage: node expand.cjs FILE.ics  -> JSON on stdout: one entry per VEVENT with the
// occurrence start instants in UTC (RRULE expanded, EXDATE applied) as ical.js sees them.
'use strict';
const fs = require('fs');
const ICAL = require('ical.js');

const text = fs.readFileSync(process.argv[2] || 0, 'utf8');
const root = new ICAL.Component(ICAL.parse(text));
const iso = (t) => t.toJSDate().toISOString().replace('.000Z', 'Z');

function checkZone(prop) {
  if (!prop) return null;
  const tzid = prop.getParameter('tzid');
  const value = prop.getFirstValue();
  if (tzid && (!value.zone || value.zone.tzid !== tzid)) {
    throw new Error(`TZID ${tzid} not resolved from the file's VTIMEZONE`);
  }
  return tzid || null;
}

const out = {
  method: root.getFirstPropertyValue('method') || null,
  timezones: root.getAllSubcomponents('vtimezone').map((z) => z.getFirstPropertyValue('tzid')),
  events: [],
};
for (const vevent of root.getAllSubcomponents('vevent')) {
  const ev = new ICAL.Event(vevent);
  const tzid = checkZone(vevent.getFirstProperty('dtstart'));
  checkZone(vevent.getFirstProperty('recurrence-id'));
  const occurrences = [];
  if (ev.isRecurring() && !ev.isRecurrenceException()) {
    const it = ev.iterator();
    let next;
    while ((next = it.next()) && occurrences.length < 1000) occurrences.push(iso(next));
  } else if (ev.startDate) {
    occurrences.push(iso(ev.startDate));
  }
  out.events.push({
    uid: ev.uid,
    sequence: ev.sequence,
    status: vevent.getFirstPropertyValue('status') || null,
    tzid,
    recurrence_id: ev.recurrenceId ? iso(ev.recurrenceId) : null,
    start: ev.startDate ? iso(ev.startDate) : null,
    end: ev.endDate ? iso(ev.endDate) : null,
    attendees: vevent.getAllProperties('attendee').map((p) => ({
      email: String(p.getFirstValue()).replace(/^mailto:/i, '').toLowerCase(),
      partstat: p.getParameter('partstat') || null,
      cn: p.getParameter('cn') || null,
    })),
    occurrences,
  });
}
process.stdout.write(JSON.stringify(out));
