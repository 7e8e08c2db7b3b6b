// A report's status page follows its build without reloading itself: it asks the API for the
// report's progress and updates the bar, then reloads once its status changes (taken, done or
// failed), so that the page never shows a status the report has left.
// Served from our own origin (the Content-Security-Policy allows no inline script); without
// JavaScript, the page's "Actualiser" link does the same by hand.
(function () {
  "use strict";

  var box = document.querySelector("[data-report-status]");
  if (!box || !window.fetch) {
    return;
  }
  var url = box.getAttribute("data-report-status");
  var status = box.getAttribute("data-status");
  var bar = box.querySelector("progress");
  var label = box.querySelector("[data-report-progress]");
  var delay = 1500;

  function show(progress) {
    bar.value = progress;
    bar.textContent = progress + " %";
    label.textContent = label.getAttribute("data-template").replace("{progress}", progress);
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (report) {
        // A new status (taken by a worker, done, failed): the page says it, so show the page.
        if (report.status !== status) {
          window.location.reload();
          return;
        }
        show(report.progress);
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        window.setTimeout(poll, delay * 4);
      });
  }

  window.setTimeout(poll, delay);
})();
