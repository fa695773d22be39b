// clientdock: the few behaviours htmx does not cover. No build step, no inline script (CSP).
(() => {
  "use strict";

  // Buttons with data-open-dialog="<id>" open that <dialog> as a modal (Esc closes it natively).
  document.addEventListener("click", (event) => {
    const opener = event.target.closest("[data-open-dialog]");
    if (opener) {
      const dialog = document.getElementById(opener.dataset.openDialog);
      if (dialog instanceof HTMLDialogElement && !dialog.open) {
        event.preventDefault();
        dialog.showModal();
      }
      return;
    }
    // A click on the backdrop lands on the <dialog> itself (its content sits in .dialog__inner).
    if (event.target instanceof HTMLDialogElement && event.target.open) {
      event.target.close();
    }
    // A click outside an open menu closes it.
    document.querySelectorAll("details.menu[open]").forEach((menu) => {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });

  // Esc closes an open menu and gives focus back to its button.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.menu[open]").forEach((menu) => {
      menu.removeAttribute("open");
      menu.querySelector("summary")?.focus();
    });
  });
})();
