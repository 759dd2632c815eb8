/* Forms that send something (Start…, Send message…, Restart…, a reply):
   - a second click does not submit again (the server also ignores a second
     submission of the same form, by its one-time key);
   - a text area with data-max-length counts its characters as you type. */
(function () {
  "use strict";
  document.querySelectorAll("form.js-once").forEach(function (form) {
    form.addEventListener("submit", function () {
      window.setTimeout(function () {
        form.querySelectorAll("button[type=submit]").forEach(function (button) {
          button.disabled = true;
        });
      }, 0);
    });
  });
  document.querySelectorAll("textarea[data-max-length]").forEach(function (area) {
    var max = parseInt(area.dataset.maxLength, 10);
    var counter = document.createElement("div");
    counter.className = "form-text text-end";
    counter.setAttribute("aria-live", "polite");
    area.insertAdjacentElement("afterend", counter);
    function update() {
      counter.textContent = area.value.length + " / " + max;
      counter.classList.toggle("text-danger", area.value.length > max);
    }
    area.addEventListener("input", update);
    update();
  });
})();
