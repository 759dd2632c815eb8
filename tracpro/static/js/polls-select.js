/* Administration > Polls > Select: narrow the list of flows as you type. */
(function () {
  "use strict";
  var input = document.querySelector(".js-flow-filter");
  if (!input) { return; }
  input.addEventListener("input", function () {
    var needle = input.value.trim().toLowerCase();
    document.querySelectorAll(".js-flow").forEach(function (row) {
      row.hidden = needle !== "" && row.dataset.name.indexOf(needle) === -1;
    });
  });
})();
