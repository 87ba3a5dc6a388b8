// A confirmation dialog for changes that take effect at once (roles, permissions, limits): a
// modal <dialog> saying what will change, with Confirm and Cancel. Resolves true only on Confirm;
// Escape, Cancel or closing the dialog leave everything as it was.

import { h } from "./dom.js";

export function confirmChange(title: string, detail: string, action = "Confirm"): Promise<boolean> {
  return new Promise((resolve) => {
    const ok = h("button", { type: "button", "data-testid": "confirm-ok" }, action);
    const cancel = h("button", { type: "button", class: "secondary" }, "Cancel");
    const heading = h("h2", { id: "confirm-title" }, title);
    const dialog = h("dialog", { class: "confirm-dialog", "aria-labelledby": "confirm-title" }, heading, h("p", {}, detail), h("div", { class: "actions" }, ok, cancel));
    let answered = false;
    const done = (yes: boolean): void => {
      if (answered) return;
      answered = true;
      dialog.close();
      dialog.remove();
      resolve(yes);
    };
    ok.addEventListener("click", () => done(true));
    cancel.addEventListener("click", () => done(false));
    dialog.addEventListener("close", () => done(false));
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}
