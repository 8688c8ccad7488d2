(function () {
  var box = document.getElementById('progress');
  if (box.hidden) return;
  function tick() {
    fetch(box.dataset.url, {credentials: 'same-origin'}).then(function (r) { return r.json(); }).then(function (d) {
      var p = d.progress || {};
      document.getElementById('p-phase').textContent = p.phase || '';
      document.getElementById('p-elapsed').textContent = p.elapsed || 0;
      document.getElementById('p-objective').textContent = p.best_objective == null ? '-' : p.best_objective;
      document.getElementById('p-matched').textContent = d.matched || 0;
      if (d.status === 'queued' || d.status === 'solving') { setTimeout(tick, 1000); }
      else { window.location.reload(); }
    }).catch(function () { setTimeout(tick, 2000); });
  }
  setTimeout(tick, 500);
})();
