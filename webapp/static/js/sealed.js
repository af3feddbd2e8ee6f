/* Auction page, sealed rounds, browser wallets (EIP-1193): the server stores each commitment and its salt and
   prepares the transactions; the wallet signs them. The salt is also kept in this browser (localStorage), so a
   commitment can be opened even if the server's copy were lost. Custodial accounts need none of this: their forms
   post to the server, which signs. */
(function () {
  "use strict";
  if (document.body.dataset.wallet !== "browser") return;
  const eth = window.ethereum;
  const ss = window.solarshare || { notify: (m) => window.alert(m), parseDecimal: (t) => ({ text: t }) };
  const _ = ss._ || ((m, vars) => m.replace(/%\((\w+)\)s/g, (all, k) => (vars && k in vars ? String(vars[k]) : all)));
  const storeKey = "solarshare.sealed." + (document.body.dataset.address || "").toLowerCase();

  function remember(entry) {
    let all = {};
    try { all = JSON.parse(localStorage.getItem(storeKey) || "{}"); } catch (e) { all = {}; }
    all[entry.id] = Object.assign(all[entry.id] || {}, entry);
    try { localStorage.setItem(storeKey, JSON.stringify(all)); } catch (e) { /* storage full or off: the server has it */ }
  }
  document.querySelectorAll("tr[data-commitment][data-salt]").forEach((tr) => {
    const d = tr.dataset;
    remember({ id: d.commitment, salt: d.salt, round: d.round, side: d.side, price: d.price, amount_wh: d.amount, order: d.order });
  });

  const { postJson, signAndWait } = ss; // shared with the market's order flow (app.js)

  async function commit(form) {
    const side = (form.querySelector("input[name=side]:checked") || {}).value;
    const price = ss.parseDecimal(form.querySelector("[name=price]").value).text;
    const amount = ss.parseDecimal(form.querySelector("[name=amount]").value).text;
    const prepared = await postJson(form.action.replace(/\/commit$/, "/prepare"), { side, price, amount });
    remember({ id: String(prepared.id), salt: prepared.salt, round: prepared.round_id, side, price: prepared.price, amount_wh: prepared.amount_wh });
    const hash = await signAndWait(prepared.tx);
    await postJson("/auction/sealed/" + prepared.id + "/mined", { tx_hash: hash });
  }
  async function reveal(id) {
    const prepared = await postJson("/auction/sealed/" + id + "/prepare-reveal");
    await signAndWait(prepared.tx);
  }

  // Capture phase: runs before the page's generic confirmation handler, which would post to the server to sign.
  document.addEventListener("submit", async (e) => {
    const form = e.target;
    const isCommit = form.id === "sealed-form", revealId = form.dataset.sealedReveal;
    const all = form.dataset.sealedRevealAll !== undefined;
    if (!isCommit && !revealId && !all) return;
    e.preventDefault(); e.stopPropagation();
    if (!eth) { ss.notify(_("No browser wallet found (EIP-1193)."), "error"); return; }
    form.setAttribute("aria-busy", "true");
    try {
      if (isCommit) await commit(form);
      else if (revealId) await reveal(revealId);
      else for (const f of document.querySelectorAll("form[data-sealed-reveal]")) await reveal(f.dataset.sealedReveal);
      location.reload();
    } catch (err) { ss.notify(err.message, "error"); form.removeAttribute("aria-busy"); }
  }, true);
})();
