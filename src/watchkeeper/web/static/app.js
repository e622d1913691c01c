// Draws the page's figures and keeps the page live: polls /ui/changes and, when anything moved,
// fetches this page again and swaps in its [data-live] parts (figures via Plotly.react).
(function () {
  "use strict";
  var POLL_MS = 3000;
  var config = { displaylogo: false, responsive: true };

  function figure(doc, name) {
    var node = doc.getElementById("fig-" + name);
    return node ? JSON.parse(node.textContent) : null;
  }

  function draw(doc, el, fresh) {
    var fig = figure(doc, el.dataset.figure);
    if (!fig || !window.Plotly) return;
    (fresh ? Plotly.newPlot : Plotly.react)(el, fig.data, fig.layout, config);
  }

  document.querySelectorAll("[data-figure]").forEach(function (el) { draw(document, el, true); });

  var badge = document.getElementById("live");
  // The markers this page was rendered with: anything newer triggers a refresh.
  var last = document.body.dataset.changes
    ? JSON.stringify(JSON.parse(document.body.dataset.changes)) : null;

  function refresh() {
    return fetch(location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live]").forEach(function (el) {
          var next = el.id && doc.getElementById(el.id);
          if (!next) return;
          if (el.dataset.figure) {
            var holder = doc.getElementById("fig-" + el.dataset.figure);
            var mine = document.getElementById("fig-" + el.dataset.figure);
            if (holder && mine) mine.textContent = holder.textContent;
            draw(document, el, false);
          } else if (!el.contains(document.activeElement)) {  // never under someone's cursor
            el.innerHTML = next.innerHTML;
          }
        });
      });
  }

  function poll() {
    fetch("/ui/changes", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (marks) {
        var key = JSON.stringify(marks);
        if (badge) badge.className = "live on";
        if (last !== null && key !== last) return refresh().then(function () { last = key; });
        last = key;
      })
      .catch(function () { if (badge) badge.className = "live off"; })
      .then(function () { setTimeout(poll, POLL_MS); });
  }
  setTimeout(poll, 200);
})();
