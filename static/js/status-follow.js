// An import's status page follows the work without a timed refresh: it reads its own page
// again every few seconds and reloads once the status shown there has changed (taken by a
// worker, done, refused or failed), so that it never shows a status the import has left.
// Served from our own origin (the Content-Security-Policy allows no inline script); without
// JavaScript, the page's "Actualiser la page" link does the same by hand.
(function () {
  "use strict";

  var box = document.querySelector("[data-follow-status]");
  if (!box || !window.fetch || !window.DOMParser) {
    return;
  }
  var status = box.getAttribute("data-follow-status");
  var delay = 2000;

  function poll() {
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.text();
      })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var now = page.querySelector("[data-follow-status]");
        if (!now || now.getAttribute("data-follow-status") !== status) {
          window.location.reload();
          return;
        }
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        window.setTimeout(poll, delay * 4);
      });
  }

  window.setTimeout(poll, delay);
})();
