/* Market page: "Buy from this offer" / "Sell to this bid" in a modal <dialog>. The link goes to the confirmation
   page (/market/offer/<id>), which works without JavaScript; with it, the same server-rendered form opens in the
   dialog: focus moves to the amount, Escape or Cancel closes it, and focus returns to the link that opened it. */
(function () {
  "use strict";
  /* Browser wallets (EIP-1193): the server prepares the taker order (the same price, amount and expiry rule as for
     custodial accounts), the wallet signs it, /api/v1/tx/raw relays it; the server reads the result from the receipt
     and, if part of the order is still open, prepares its cancel, which the wallet signs as a second transaction. */
  const ss = window.solarshare || { notify: (m) => window.alert(m) };
  const _ = ss._ || ((m, vars) => m.replace(/%\((\w+)\)s/g, (all, k) => (vars && k in vars ? String(vars[k]) : all)));
  const { postJson, signAndWait } = ss; // shared with the market's order flow (app.js)

  async function walletTake(form) {
    const done = (message, kind) => {
      const dlg = form.closest("dialog");
      if (dlg && dlg.open) dlg.close();
      ss.notify(message, kind);
      form.removeAttribute("aria-busy");
      form.querySelectorAll("button").forEach((b) => { b.disabled = false; });
    };
    if (!window.ethereum) { done(_("No browser wallet found (EIP-1193)."), "error"); return; }
    form.setAttribute("aria-busy", "true");
    form.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    try {
      const prepared = await postJson(form.dataset.walletTake, { amount: form.querySelector("[name=amount]").value });
      const hash = await signAndWait(prepared.tx);
      const result = await postJson(form.dataset.walletTaken, { tx_hash: hash });
      if (!result.cancel_tx) { done(result.message, result.filled_wh ? "success" : "info"); return; }
      ss.notify(result.message, "info");
      try {
        await signAndWait(result.cancel_tx);
        done(result.cancelled_message, "success");
      } catch (err) { done(err.message, "error"); }
    } catch (err) { done(err.message, "error"); }
  }
  document.addEventListener("submit", (e) => {
    const form = e.target.closest("form[data-wallet-take]");
    if (!form) return;
    e.preventDefault();
    if (form.getAttribute("aria-busy") === "true") return;
    walletTake(form);
  }, true);

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
    if (form && !form.dataset.walletTake) {
      form.addEventListener("submit", () => {
        form.setAttribute("aria-busy", "true");
        setTimeout(() => body.querySelectorAll("button").forEach((b) => { b.disabled = true; }), 0);
      });
    }
    const first = body.querySelector("#offer-amount") || body.querySelector("a, button");
    if (first) { first.focus(); if (first.select) first.select(); }
  });
})();
