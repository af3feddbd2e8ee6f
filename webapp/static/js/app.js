/* SolarShare dashboard behaviour: validation cues, confirmations, live totals, notifications, countdowns,
   live order book, and browser-wallet (EIP-1193 / EIP-4361) sign-in and order signing. No dependencies. */
(function () {
  "use strict";
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const csrf = () => ($('meta[name="csrf-token"]') || {}).content || "";
  const fmtKwh = (wh) => (wh / 1000).toLocaleString(undefined, { minimumFractionDigits: 3, maximumFractionDigits: 3 }) + " kWh";
  const fmtPrice = (u) => (u / 10000).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 }) + " sen/kWh";

  /* ---------- notifications */
  function notify(message, kind) {
    const box = $("#flashes");
    if (!box) return;
    const div = document.createElement("div");
    div.className = "flash flash-" + (kind || "info");
    div.setAttribute("role", kind === "error" ? "alert" : "status");
    const span = document.createElement("span");
    span.textContent = message;
    const close = document.createElement("button");
    close.className = "flash-close"; close.textContent = "×"; close.setAttribute("aria-label", "dismiss");
    div.append(span, close);
    box.prepend(div);
  }
  document.addEventListener("click", (e) => {
    if (e.target.classList.contains("flash-close")) e.target.closest(".flash").remove();
  });
  $$(".flash-success").forEach((el) => setTimeout(() => el.remove(), 12000));

  /* ---------- validation cues */
  function markTouched(input) { input.classList.add("touched"); showError(input); }
  function showError(input) {
    let p = input.parentElement.querySelector(".client-error");
    if (input.validity.valid) { if (p) p.remove(); return; }
    if (!p) { p = document.createElement("p"); p.className = "client-error"; input.insertAdjacentElement("afterend", p); }
    p.textContent = input.validationMessage;
  }
  $$("form input").forEach((input) => {
    input.addEventListener("blur", () => markTouched(input));
    input.addEventListener("input", () => { if (input.classList.contains("touched")) showError(input); });
  });
  $$("input[name=confirm]").forEach((confirm) => {
    const pw = confirm.form.querySelector("input[name=password]");
    const check = () => confirm.setCustomValidity(confirm.value && pw.value !== confirm.value ? "The passwords do not match" : "");
    confirm.addEventListener("input", check); pw.addEventListener("input", check);
  });

  /* ---------- order totals */
  function orderSummary(form) {
    const side = (form.querySelector("input[name=side]:checked") || form.querySelector("[name=side]")).value;
    const price = parseFloat(form.querySelector("[name=price]").value);
    const amount = parseFloat(form.querySelector("[name=amount]").value);
    return { side, price, amount, total: price * amount / 100 };
  }
  $$("form.order-form").forEach((form) => {
    const out = form.querySelector("[data-total]");
    const update = () => {
      const s = orderSummary(form);
      out.textContent = isFinite(s.total) ? "RM " + s.total.toFixed(4) + (s.side === "buy" ? " at most" : " at least") : "–";
      const btn = form.querySelector("#place-order");
      if (btn) btn.textContent = s.side === "sell" ? "Place sell order" : "Place buy order";
    };
    form.addEventListener("input", update); form.addEventListener("change", update); update();
  });

  /* ---------- confirmation dialogs */
  const dialog = $("#confirm-dialog");
  function confirmThen(title, html, onOk) {
    if (!dialog || typeof dialog.showModal !== "function") { if (window.confirm(title)) onOk(); return; }
    $("#confirm-title").textContent = title;
    $("#confirm-body").innerHTML = html;
    dialog.returnValue = "";
    dialog.showModal();
    dialog.addEventListener("close", function handler() {
      dialog.removeEventListener("close", handler);
      if (dialog.returnValue === "ok") onOk();
    });
  }
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
  $$("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (e) => {
      if (form.dataset.confirmed === "1") return;
      e.preventDefault();
      const inputs = $$("input", form).filter((i) => i.type !== "hidden");
      inputs.forEach(markTouched);
      if (!form.checkValidity()) { notify("Please correct the highlighted fields.", "error"); return; }
      const kind = form.dataset.confirm;
      let title = "Please confirm", body = "";
      if (kind === "order" || kind === "auction") {
        const s = orderSummary(form);
        title = (s.side === "buy" ? "Buy " : "Sell ") + s.amount + " kWh?";
        body = "<p>" + (s.side === "buy" ? "Buy" : "Sell") + " <strong>" + esc(s.amount) + " kWh</strong> at " +
          (s.side === "buy" ? "up to" : "at least") + " <strong>" + esc(s.price) + " sen/kWh</strong>.</p><p>Total " +
          (s.side === "buy" ? "at most" : "at least") + " <strong>RM " + s.total.toFixed(4) + "</strong>" +
          (s.side === "buy" ? " (reserved from your balance until filled or cancelled)." : " (your tokens are held until filled or cancelled).") + "</p>";
      } else if (kind === "cancel") {
        title = "Cancel order #" + form.dataset.order + "?";
        body = "<p>The unfilled part is removed from the book and its escrow returns to your wallet.</p>";
      } else if (kind === "topup") {
        title = (form.dataset.title || "Top up") + " RM " + esc(form.querySelector("[name=amount]").value) + "?";
        body = "<p>" + esc(form.dataset.message || "The operator issues settlement tokens to your wallet.") + "</p>";
      } else {
        body = "<p>" + esc(form.dataset.message || "Continue?") + "</p>";
      }
      confirmThen(title, body, () => {
        form.dataset.confirmed = "1";
        if (document.body.dataset.wallet === "browser" && kind === "order") { browserOrder(form); return; }
        $$("button", form).forEach((b) => { b.disabled = true; });
        form.submit();
      });
    });
  });
  $$("select[data-autosubmit]").forEach((s) => s.addEventListener("change", () => s.form.submit()));

  /* ---------- countdowns (auction) */
  $$("[data-countdown]").forEach((el) => {
    const end = parseInt(el.dataset.countdown, 10);
    const tick = () => {
      const left = Math.max(0, end - Math.floor(Date.now() / 1000));
      el.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
      if (left === 0 && !el.dataset.reloaded) { el.dataset.reloaded = "1"; setTimeout(() => location.reload(), 3000); }
    };
    tick(); setInterval(tick, 1000);
  });

  /* ---------- live order book */
  function fillBook(tbody, levels, css, empty) {
    if (!tbody) return;
    tbody.replaceChildren();
    if (!levels.length) { const tr = tbody.insertRow(); const td = tr.insertCell(); td.colSpan = 2; td.className = "muted"; td.textContent = empty; return; }
    levels.forEach((l) => {
      const tr = tbody.insertRow(); tr.className = css;
      const p = tr.insertCell(); p.className = "num"; p.textContent = fmtPrice(l.price);
      const a = tr.insertCell(); a.className = "num"; a.textContent = fmtKwh(l.amount_wh);
    });
  }
  if ($("#bids-table")) {
    setInterval(() => {
      if (document.hidden) return;
      fetch("/api/v1/market/book", { credentials: "same-origin" }).then((r) => r.ok ? r.json() : null).then((b) => {
        if (!b) return;
        fillBook($("#bids-table tbody"), b.bids, "bid", "No bids");
        fillBook($("#asks-table tbody"), b.asks, "ask", "No asks");
      }).catch(() => {});
    }, 5000);
  }

  /* ---------- notification when one of my orders trades (any page, while visible) */
  if (document.body.dataset.wallet) {
    const key = "solarshare-last-trade";
    const poll = () => {
      if (document.hidden) return;
      fetch("/api/v1/market/trades?mine=1&limit=1", { credentials: "same-origin" }).then((r) => r.ok ? r.json() : null).then((b) => {
        if (!b || !b.trades.length) return;
        const t = b.trades[0], id = t.tx_hash + ":" + t.block + ":" + t.amount_wh;
        const seen = sessionStorage.getItem(key);
        sessionStorage.setItem(key, id);
        if (seen && seen !== id) notify("Trade: " + fmtKwh(t.amount_wh) + " at " + fmtPrice(t.price) + " (" + t.venue + ").", "success");
      }).catch(() => {});
    };
    poll(); setInterval(poll, 10000);
  }

  /* ---------- browser wallets: EIP-4361 sign-in and orders signed in the wallet */
  const eth = window.ethereum;
  async function postJson(url, body) {
    const r = await fetch(url, { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() }, body: JSON.stringify(body) });
    const data = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error((data.error && data.error.message) || ("HTTP " + r.status));
    return data;
  }
  const siwe = $("#siwe-button");
  if (siwe && eth) {
    $("#wallet-login").hidden = false;
    siwe.addEventListener("click", async () => {
      try {
        const [address] = await eth.request({ method: "eth_requestAccounts" });
        // The server writes the EIP-4361 message (checksummed address, nonce, chain id); the wallet signs it.
        const r = await fetch(siwe.dataset.messageUrl + "?address=" + encodeURIComponent(address), { credentials: "same-origin" });
        const { message } = await r.json();
        const signature = await eth.request({ method: "personal_sign", params: [message, address] });
        const result = await postJson(siwe.dataset.verifyUrl, { message, signature });
        location.href = result.redirect;
      } catch (err) { notify("Wallet sign-in failed: " + err.message, "error"); }
    });
  }
  async function browserOrder(form) {
    if (!eth) { notify("No browser wallet found (EIP-1193).", "error"); form.dataset.confirmed = ""; return; }
    try {
      const s = orderSummary(form);
      const tx = await postJson("/api/v1/orders/prepare", { side: s.side, price_sen: String(s.price), amount_kwh: String(s.amount) });
      let hash;
      try {
        const raw = await eth.request({ method: "eth_signTransaction", params: [tx] });
        hash = (await postJson("/api/v1/tx/raw", { raw: typeof raw === "string" ? raw : raw.raw })).tx_hash;
      } catch (signErr) {
        hash = await eth.request({ method: "eth_sendTransaction", params: [tx] }); // wallets without signTransaction
      }
      notify("Order sent: " + hash + ". Waiting for the chain…", "info");
      for (let i = 0; i < 30; i++) {
        await new Promise((r) => setTimeout(r, 1000));
        const st = await (await fetch("/api/v1/tx/" + hash)).json();
        if (st.status === "success") { location.reload(); return; }
        if (st.status === "failed") { notify(st.message || "The order was rejected.", "error"); return; }
      }
    } catch (err) { notify(err.message, "error"); }
    form.dataset.confirmed = "";
  }
  window.solarshare = { notify };
})();
