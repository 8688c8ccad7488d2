// The by-hand form of a round's page: once a mentee is chosen, each mentor option says whether
// setting the pair would be accepted, and if not why (the refusal's own words, from the same
// decision as the form's POST); the mentors who fit come first. Without it the form works as is.
(function () {
  var form = document.getElementById('by-hand');
  if (!form || !form.dataset.verdicts || !window.fetch) return;
  var mentee = form.querySelector('select[name=mentee_id]');
  var mentor = form.querySelector('select[name=mentor_id]');
  var note = document.getElementById('by-hand-note');
  if (!mentee || !mentor) return;
  var names = {}, home = {};  // the options' own names and (name) order, before any mark
  Array.prototype.forEach.call(mentor.options, function (o) {
    names[o.value] = o.textContent; home[o.value] = o.index;
  });
  var asked = 0;
  function mark(data) {
    var byId = {}, rank = {fits: 0, needs_override: 1};
    data.mentors.forEach(function (m) { byId[String(m.id)] = m; });
    var opts = Array.prototype.slice.call(mentor.options);
    opts.forEach(function (o) {
      var m = byId[o.value];
      o.textContent = names[o.value] + (m ? ' — ' + m.text : '');
      o.dataset.verdict = m ? m.verdict : '';
    });
    // the mentors who fit first, then those needing a reason, then the refused; each group in
    // the page's own (name) order
    function group(o) { var m = byId[o.value]; return !m ? 3 : (m.verdict in rank ? rank[m.verdict] : 2); }
    opts.sort(function (a, b) { return group(a) - group(b) || home[a.value] - home[b.value]; });
    var keep = mentor.value;
    opts.forEach(function (o) { mentor.appendChild(o); });
    var first = opts[0];
    // a fitting mentor is preselected unless the coordinator already chose one
    if (!mentor.dataset.touched && first && first.dataset.verdict === 'fits') mentor.value = first.value;
    else mentor.value = keep;
    if (note) note.hidden = false;
    form.dataset.marked = mentee.value;
  }
  function ask() {
    var id = mentee.value, n = ++asked;
    if (!id) return;
    form.dataset.marked = '';
    var url = form.dataset.verdicts + '?mentee_id=' + encodeURIComponent(id);
    fetch(url, {credentials: 'same-origin', headers: {'Accept': 'application/json'}})
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (d) { if (n === asked) mark(d); })
      .catch(function () { /* the form still works: the POST says why */ });
  }
  mentor.addEventListener('change', function () { mentor.dataset.touched = '1'; });
  mentee.addEventListener('change', function () { delete mentor.dataset.touched; ask(); });
  ask();
})();
