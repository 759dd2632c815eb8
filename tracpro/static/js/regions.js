// Region list: drag a region onto another region (or onto "Top level") to move it.
// The server checks the move (no cycles) and the page reloads to show the new tree.
(function () {
  "use strict";
  const tree = document.getElementById("region-tree");
  if (!tree) return;
  const errorBox = document.getElementById("region-move-error");
  const csrfToken = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];
  let draggedId = null;

  function dropTarget(event) {
    const target = event.target.closest("[data-drop-parent]");
    if (!target || draggedId === null || target.dataset.dropParent === draggedId) return null;
    return target;
  }

  function clearHighlight() {
    tree.querySelectorAll(".table-primary, .bg-primary-subtle").forEach(function (el) {
      el.classList.remove("table-primary", "bg-primary-subtle");
    });
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.classList.remove("d-none");
  }

  tree.addEventListener("dragstart", function (event) {
    const row = event.target.closest("[data-region-id]");
    if (!row) return;
    draggedId = row.dataset.regionId;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", draggedId);
    row.classList.add("opacity-50");
  });

  tree.addEventListener("dragend", function (event) {
    const row = event.target.closest("[data-region-id]");
    if (row) row.classList.remove("opacity-50");
    draggedId = null;
    clearHighlight();
  });

  tree.addEventListener("dragover", function (event) {
    const target = dropTarget(event);
    if (!target) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    clearHighlight();
    target.classList.add(target.tagName === "TR" ? "table-primary" : "bg-primary-subtle");
  });

  tree.addEventListener("drop", function (event) {
    const target = dropTarget(event);
    if (!target) return;
    event.preventDefault();
    const body = new URLSearchParams({ region: draggedId, parent: target.dataset.dropParent });
    clearHighlight();
    fetch(tree.dataset.moveUrl, {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken },
      body: body,
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.json().then(function (data) {
          if (response.ok) {
            window.location.reload();
          } else {
            showError(data.error);
          }
        });
      })
      .catch(function () {
        showError(errorBox.dataset.networkError || "The change could not be saved. Try again.");
      });
  });
})();
