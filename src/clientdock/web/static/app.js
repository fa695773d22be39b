// clientdock: the few behaviours htmx does not cover. No build step, no inline script (CSP).
(() => {
  "use strict";

  // While a modal dialog is open the rest of the page is inert and under its backdrop, so the
  // toasts (#toasts, an aria-live region) move into the dialog and back out when it closes.
  // In the dialog they go first and in the flow (app.css "Toasts in a dialog"): they push the
  // dialog's content down and never lie over its buttons.
  const openModal = (dialog) => {
    dialog.showModal();
    // The Import dialog starts on its file picker (or whatever its current step marks).
    dialog.querySelector("[data-step-focus]")?.focus();
    const toasts = document.getElementById("toasts");
    if (toasts) dialog.prepend(toasts);
    dialog.addEventListener("close", () => {
      const region = document.getElementById("toasts");
      if (region && dialog.contains(region)) document.body.append(region);
    }, { once: true });
  };

  // Buttons with data-open-dialog="<id>" open that <dialog> as a modal (Esc closes it natively).
  document.addEventListener("click", (event) => {
    const opener = event.target.closest("[data-open-dialog]");
    if (opener) {
      const dialog = document.getElementById(opener.dataset.openDialog);
      if (dialog instanceof HTMLDialogElement && !dialog.open) {
        event.preventDefault();
        openModal(dialog);
      }
      return;
    }
    // A toast's close button.
    const dismiss = event.target.closest("[data-dismiss]");
    if (dismiss) {
      dismiss.closest("[data-toast]")?.remove();
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

  // Drag and drop onto a .dropzone hands the file to its <input type=file>, whose change
  // event submits the form (hx-trigger="change"). A file dropped anywhere else in an open
  // dialog is ignored rather than opened by the browser in place of the page.
  const zoneOf = (event) => (event.target instanceof Element ? event.target.closest(".dropzone") : null);
  const carriesFiles = (event) => Array.from(event.dataTransfer?.types || []).includes("Files");
  document.addEventListener("dragover", (event) => {
    if (!carriesFiles(event)) return;
    const zone = zoneOf(event);
    if (zone || document.querySelector("dialog[open]")) event.preventDefault();
    if (zone) {
      event.dataTransfer.dropEffect = "copy";
      zone.classList.add("is-dragover");
    } else if (event.dataTransfer) {
      event.dataTransfer.dropEffect = "none";
    }
  });
  document.addEventListener("dragleave", (event) => {
    const zone = zoneOf(event);
    if (zone && !zone.contains(event.relatedTarget)) zone.classList.remove("is-dragover");
  });
  document.addEventListener("drop", (event) => {
    if (!carriesFiles(event)) return;
    const zone = zoneOf(event);
    if (!zone && !document.querySelector("dialog[open]")) return;
    event.preventDefault();
    if (!zone) return;
    zone.classList.remove("is-dragover");
    const input = zone.querySelector("input[type=file]");
    const file = event.dataTransfer.files[0];
    if (!input || !file) return;
    const one = new DataTransfer();
    one.items.add(file);
    input.files = one.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  });

  // After htmx swaps in a new step (of the Import dialog, an undo), focus what it marks.
  document.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail?.target;
    if (!(target instanceof Element) || !target.isConnected) return;
    target.querySelector("[data-step-focus]")?.focus();
  });

  // --- Import dialog: the column table (owned by the dialog; keep it in this block) ---
  // A change of the column table is checked again (a dry run) only once it is meant: a pick
  // with the mouse or a radio at once, but arrow keys through a dropdown only when the
  // dropdown is left or Enter is pressed - not one check per key press.
  const MAPPING = "#import-mapping";
  const BROWSE_KEYS = new Set(["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Home", "End", "PageUp", "PageDown"]);
  let browsing = null;  // the dropdown being browsed with the keyboard, changed but not yet checked
  const commitMapping = (form) => {
    browsing = null;
    form.dispatchEvent(new CustomEvent("mapping-commit", { bubbles: false }));
  };
  document.addEventListener("keydown", (event) => {
    const select = event.target instanceof HTMLSelectElement ? event.target : null;
    const form = select?.closest(MAPPING);
    if (!select || !form) return;
    if (BROWSE_KEYS.has(event.key) || event.key.length === 1) select.dataset.browsing = "1";
    if (event.key === "Enter" && browsing === select) {
      event.preventDefault();
      commitMapping(form);
    }
  });
  document.addEventListener("change", (event) => {
    const control = event.target;
    const form = control instanceof Element ? control.closest(MAPPING) : null;
    if (!form) return;
    if (control instanceof HTMLSelectElement && control.dataset.browsing) {
      delete control.dataset.browsing;
      browsing = control;
      return;
    }
    commitMapping(form);
  });
  document.addEventListener("focusout", (event) => {
    if (event.target !== browsing) return;
    const form = browsing.closest(MAPPING);
    if (form) commitMapping(form);
  });
  document.addEventListener("mousedown", (event) => {
    if (event.target instanceof HTMLSelectElement) delete event.target.dataset.browsing;
  });
  // A row of the review grid checked again: its form is gone with the old check, so focus
  // moves to the check's title, whose status says what happened.
  document.addEventListener("htmx:afterSettle", (event) => {
    const source = event.detail?.elt;
    if (source instanceof Element && source.matches(".review__row")) document.getElementById("dry-run-title")?.focus();
  });

  // Toasts leave after a while, unless the pointer or the focus is on them.
  const TOAST_SECONDS = 12;
  const ageToasts = () => {
    document.querySelectorAll("[data-toast]").forEach((toast) => {
      if (toast.matches(":hover, :focus-within")) return;
      const age = Number(toast.dataset.age || 0) + 1;
      toast.dataset.age = String(age);
      if (age >= TOAST_SECONDS) toast.remove();
    });
  };
  setInterval(ageToasts, 1000);

  // A request htmx could not complete (an expired form, a lost connection) says so in a toast.
  const sayFailed = (text) => {
    const region = document.getElementById("toasts");
    if (!region) return;
    const same = Array.from(region.querySelectorAll(".toast__title")).some((el) => el.textContent === text);
    if (same) return;
    const toast = document.createElement("div");
    toast.className = "toast toast--error";
    toast.dataset.toast = "";
    const body = document.createElement("div");
    body.className = "toast__body";
    const title = document.createElement("p");
    title.className = "toast__title";
    title.textContent = text;
    body.append(title);
    const close = document.createElement("button");
    close.type = "button";
    close.className = "icon-button toast__close";
    close.dataset.dismiss = "";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    toast.append(body, close);
    region.append(toast);
  };
  document.addEventListener("htmx:responseError", (event) => {
    const status = event.detail?.xhr?.status;
    if (status === 403) sayFailed("This page has expired. Reload it and try again.");
    else if (status === 409) sayFailed("That can't be done any more: the page was out of date. Reload it to see where things stand.");
    else if (status === 404) sayFailed("That is no longer here. Reload the page.");
    else sayFailed("Something went wrong on our side. Please try again in a moment.");
  });
  let offline = false;
  document.addEventListener("htmx:sendError", () => {
    if (offline) return;
    offline = true;
    sayFailed("We can't reach clientdock. Check your connection; the page keeps trying.");
    setTimeout(() => { offline = false; }, 30000);
  });
})();
