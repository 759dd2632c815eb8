/* Behaviour every page shares, kept out of the templates so that the
   Content-Security-Policy needs no 'unsafe-inline':
   - data-submit-on-change: a select or checkbox submits its form when changed;
   - data-width-percent / data-indent: sizes computed on the server (a progress
     bar, a region's depth), applied here because style="" attributes are refused. */
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.form && field.hasAttribute("data-submit-on-change")) {
      field.form.requestSubmit();
    }
  });

  function applySizes(root) {
    root.querySelectorAll("[data-width-percent]").forEach(function (element) {
      element.style.width = Number(element.dataset.widthPercent) + "%";
    });
    root.querySelectorAll("[data-indent]").forEach(function (element) {
      element.style.paddingInlineStart = Number(element.dataset.indent) * 1.5 + "rem";
    });
  }

  applySizes(document);
  // Parts of the page htmx swaps in (the sync table refreshes itself).
  document.addEventListener("htmx:load", function (event) { applySizes(event.detail.elt); });
})();
