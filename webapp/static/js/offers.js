/* Market page: "Buy from this offer" / "Sell to this bid" in a modal <dialog>. The link goes to the confirmation
   page (/market/offer/<id>), which works without JavaScript; with it, the same server-rendered form opens in the
   dialog: focus moves to the amount, Escape or Cancel closes it, and focus returns to the link that opened it. */
(function () {
  "use strict";
  const dialog = document.getElementById("offer-dialog");
  const body = document.getElementById("offer-dialog-body");
  if (!dialog || !body || typeof dialog.showModal !== "function") return; // no <dialog>: the links open the page
  let opener = null;

  function close() { if (dialog.open) dialog.close(); }
  dialog.addEventListener("close", () => {
    body.replaceChildren();
    if (opener && document.contains(opener)) opener.focus();
    opener = null;
  });
  dialog.addEventListener("click", (e) => {
    if (e.target === dialog) { close(); return; } // a click on the backdrop
    const cancel = e.target.closest("[data-offer-close]");
    if (cancel) { e.preventDefault(); close(); }
  });

  document.addEventListener("click", async (e) => {
    const link = e.target.closest("a.offer-take");
    if (!link || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
    e.preventDefault();
    opener = link;
    let html;
    try {
      const r = await fetch(link.href + (link.href.includes("?") ? "&" : "?") + "partial=1", { credentials: "same-origin" });
      if (!r.ok) { location.href = link.href; return; } // the page says why (e.g. the order is gone)
      html = await r.text();
    } catch (err) { location.href = link.href; return; }
    const doc = new DOMParser().parseFromString(html, "text/html");
    body.replaceChildren(...Array.from(doc.body.childNodes));
    dialog.showModal();
    const form = body.querySelector("form");
    if (form) {
      form.addEventListener("submit", () => {
        form.setAttribute("aria-busy", "true");
        setTimeout(() => body.querySelectorAll("button").forEach((b) => { b.disabled = true; }), 0);
      });
    }
    const first = body.querySelector("#offer-amount") || body.querySelector("a, button");
    if (first) { first.focus(); if (first.select) first.select(); }
  });
})();
