(function () {
  var box = document.getElementById('progress');
  if (!box || box.hidden) return;
  function show(id, value) { var el = document.getElementById(id); if (el) el.textContent = value; }
  // numbers the way the page's language writes them (12,5 and 164.504 in Indonesian)
  function num(x) { return Number(x).toLocaleString(document.documentElement.lang || 'id'); }
  function tick() {
    fetch(box.dataset.url, {credentials: 'same-origin', headers: {'Accept': 'application/json'}})
      .then(function (r) { return r.json(); }).then(function (d) {
        var p = d.progress || {}, l = d.labels || {};
        box.dataset.phase = p.phase || '';
        show('p-phase', l.phase || '');
        show('p-elapsed', num(p.elapsed || 0));
        show('p-objective', p.objective == null ? '-' : num(p.objective));
        show('p-matched', num(d.matched || 0));
        var st = document.getElementById('round-status');
        if (st) { st.textContent = l.status || st.textContent; }
        if (d.status === 'queued' || d.status === 'solving') { setTimeout(tick, 1000); }
        else { window.location.reload(); }
      }).catch(function () { setTimeout(tick, 2000); });
  }
  setTimeout(tick, 1000);
})();
