/* Mentor / mentee pages (served from 'self': the CSP allows no inline script).
   - a log form is sent once: the button is disabled after the first submit (the server's
     idempotency token covers what slips through: a retry returns the same log);
   - choosing a session in a log form sets the date to that session's local date (the server
     does the same: what the person sees is what is saved);
   - a refused log form puts the cursor in the first field whose value was refused;
   - [data-print] buttons print the page (the certificate). */
(function () {
  var form = document.getElementById('log-form');
  if (form) {
    var session = document.getElementById('log-session');
    var day = document.getElementById('log-held-on');
    if (session && day) {
      session.addEventListener('change', function () {
        var chosen = session.options[session.selectedIndex];
        if (chosen && chosen.getAttribute('data-day')) { day.value = chosen.getAttribute('data-day'); }
      });
    }
    var wrong = form.querySelector('[aria-invalid="true"]');
    if (wrong && wrong.focus && !document.getElementById('form-error')) { wrong.focus(); }
    form.addEventListener('submit', function (e) {
      var b = document.getElementById('save-log');
      if (b.disabled) { e.preventDefault(); }
      b.disabled = true;
    });
  }
  document.querySelectorAll('[data-print]').forEach(function (b) {
    b.addEventListener('click', function () { window.print(); });
  });
})();
