/* Automatic-trading page, browser wallets: the bounds are signed in the wallet as EIP-712 typed data
   (eth_signTypedData_v4) and relayed by the server (grantBySig); turning off signs the revoke transaction in the
   wallet and relays it like an order. Custodial accounts post the forms (the server signs with the session key). */
(function () {
  "use strict";
  if (document.body.dataset.wallet !== "browser") return;
  const $ = (sel) => document.querySelector(sel);
  const notify = (m, k) => window.solarshare.notify(m, k);
  const csrf = () => ($('meta[name="csrf-token"]') || {}).content || "";
  const eth = window.ethereum;

  async function api(method, url, body) {
    const r = await fetch(url, { method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() }, body: body ? JSON.stringify(body) : undefined });
    const data = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error((data.error && data.error.message) || ("HTTP " + r.status));
    return { status: r.status, data };
  }

  function bounds(form) {
    const v = (name) => form.querySelector("[name=" + name + "]").value.trim();
    const body = { min_sell_price_sen: v("min_sell_price_sen"), max_buy_price_sen: v("max_buy_price_sen"),
      reserve_kwh: v("reserve_kwh") || "0", daily_cap_myr: v("daily_cap_myr"), weights: {},
      venues: Array.from(form.querySelectorAll("input[name=venues]:checked")).map((i) => i.value) };
    form.querySelectorAll("input[name^=weight_]").forEach((i) => {
      body.weights[i.name.slice(7)] = /^\d+$/.test(i.value.trim()) ? Number(i.value.trim()) : i.value.trim();
    });
    const days = v("valid_days");
    if (days) body.valid_days = /^\d+$/.test(days) ? Number(days) : -1;
    return body;
  }

  const form = $("#autotrade-form");
  if (form) {
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (!eth) { notify("No browser wallet found (EIP-1193).", "error"); return; }
      const button = $("#autotrade-save");
      button.disabled = true;
      try {
        const [address] = await eth.request({ method: "eth_requestAccounts" });
        const body = bounds(form);
        const prepared = (await api("PUT", "/api/v1/autotrade", body)).data; // checked by the server, not yet signed
        const signature = await eth.request({ method: "eth_signTypedData_v4",
          params: [address, JSON.stringify(prepared.typed_data)] });
        delete body.valid_days; // the exact end the wallet signed
        body.valid_until = prepared.terms.valid_until || 0;
        await api("PUT", "/api/v1/autotrade", Object.assign(body, { deadline: prepared.deadline, signature }));
        location.reload();
      } catch (err) {
        notify(err.message, "error");
        button.disabled = false;
      }
    });
  }

  const off = $("[data-wallet-revoke]");
  if (off) {
    off.addEventListener("click", async () => {
      if (!eth) { notify("No browser wallet found (EIP-1193).", "error"); return; }
      off.disabled = true;
      try {
        const answer = await api("DELETE", "/api/v1/autotrade");
        if (answer.status === 202) {
          await window.solarshare.signAndWait(answer.data.tx); // sign, relay, wait (app.js)
        }
        location.reload();
      } catch (err) {
        notify(err.message, "error");
        off.disabled = false;
      }
    });
  }
})();
