// Progressive enhancement of the surname menu: a <details> that opens without JavaScript.
// Esc closes it and, if focus was inside, puts focus back on its button.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") {
      return;
    }
    document.querySelectorAll("details.account-menu[open]").forEach(function (menu) {
      var hadFocus = menu.contains(document.activeElement);
      menu.open = false;
      var summary = menu.querySelector("summary");
      if (hadFocus && summary) {
        summary.focus();
      }
    });
  });
})();
