/* Mentor / mentee pages (served from 'self': the CSP allows no inline script).
   - a log form is sent once: the button is disabled after the first submit (the server's
     idempotency token covers what slips through: a retry returns the same log);
   - [data-print] buttons print the page (the certificate). */
(function () {
  var form = document.getElementById('log-form');
  if (form) {
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
