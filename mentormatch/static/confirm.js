/* Ask before an irreversible action. A submit button (or its form) carrying
   data-confirm-text opens the page's <dialog id="confirm-dialog"> with that text (written by
   the server, with the names and counts concerned); "Yes" submits with the same button,
   "Cancel" or Escape returns to the page. No framework; CSP script-src 'self'. */
(function () {
  "use strict";
  var dlg = document.getElementById("confirm-dialog");
  if (!dlg || typeof dlg.showModal !== "function") { return; }
  var title = document.getElementById("confirm-title");
  var text = document.getElementById("confirm-text");
  var yes = document.getElementById("confirm-yes");
  var no = document.getElementById("confirm-no");
  var defaultYes = yes.textContent;
  var pending = null;
  var submitter = null;

  function source(form, button) {
    if (button && button.dataset.confirmText) { return button; }
    return form.dataset.confirmText ? form : null;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter || null;
    var src = source(form, button);
    if (!src || form.dataset.confirmed === "1") { return; }
    event.preventDefault();
    pending = form;
    submitter = button;
    title.textContent = src.dataset.confirmTitle || "";
    text.textContent = src.dataset.confirmText;
    yes.textContent = src.dataset.confirmYes || defaultYes;
    dlg.showModal();
    no.focus();
  }, true);

  yes.addEventListener("click", function () {
    var form = pending;
    dlg.close();
    if (!form) { return; }
    form.dataset.confirmed = "1";
    if (submitter && form.requestSubmit) { form.requestSubmit(submitter); }
    else if (form.requestSubmit) { form.requestSubmit(); }
    else { form.submit(); }
    form.dataset.confirmed = "";
  });
  no.addEventListener("click", function () { dlg.close(); });
  dlg.addEventListener("close", function () {
    if (submitter) { submitter.focus(); }
  });
})();
