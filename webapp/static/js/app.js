/* SolarShare dashboard behaviour: validation cues, confirmations, live totals, notifications, countdowns,
   live order book, and browser-wallet (EIP-1193 / EIP-4361) sign-in and order signing. No dependencies. */
(function () {
  "use strict";
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const csrf = () => ($('meta[name="csrf-token"]') || {}).content || "";
  const fmtKwh = (wh) => (wh / 1000).toLocaleString(undefined, { minimumFractionDigits: 3, maximumFractionDigits: 3 }) + " kWh";
  const fmtPrice = (u) => (u / 10000).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 }) + " sen/kWh";
  /* ---------- the page's language: base.html puts the translations of the msgids this script passes to _() in #messages
     (none in English); %(name)s placeholders are filled as on the server (webapp.i18n.script_messages) */
  const MESSAGES = (() => { try { return JSON.parse(($("#messages") || {}).textContent || "{}"); } catch (e) { return {}; } })();
  function _(msgid, vars) {
    let text = MESSAGES[msgid] || msgid;
    Object.keys(vars || {}).forEach((k) => { text = text.split("%(" + k + ")s").join(String(vars[k])); });
    return text;
  }

  /* ---------- notifications: form results at the top of the page; live ones as toasts that stay in view */
  function notify(message, kind, live) {
    const box = live ? ($("#toasts") || $("#flashes")) : $("#flashes");
    if (!box) return;
    const div = document.createElement("div");
    div.className = "flash flash-" + (kind || "info");
    div.setAttribute("role", kind === "error" ? "alert" : "status");
    const span = document.createElement("span");
    span.textContent = message;
    const close = document.createElement("button");
    close.type = "button"; close.className = "flash-close"; close.textContent = "×"; close.setAttribute("aria-label", _("Dismiss"));
    div.append(span, close);
    box.prepend(div);
    if (live) setTimeout(() => div.remove(), 20000);
  }
  document.addEventListener("click", (e) => {
    if (e.target.classList.contains("flash-close")) e.target.closest(".flash").remove();
  });
  $$(".flash-success").forEach((el) => setTimeout(() => el.remove(), 20000));

  /* ---------- menu (phones): a real button, so it opens from the keyboard and a screen reader says its state */
  const navToggle = $("#nav-toggle");
  if (navToggle) {
    const nav = document.getElementById(navToggle.getAttribute("aria-controls"));
    const setOpen = (open) => { navToggle.setAttribute("aria-expanded", String(open)); nav.classList.toggle("open", open); };
    navToggle.addEventListener("click", () => setOpen(navToggle.getAttribute("aria-expanded") !== "true"));
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && navToggle.getAttribute("aria-expanded") === "true") { setOpen(false); navToggle.focus(); }
    });
  }

  /* ---------- tables become cards on phones (CSS): every cell gets its column's name */
  $$("table.table").forEach((table) => {
    if (table.closest(".book")) return; // two short columns: fine as they are
    const heads = $$("thead th", table).map((th) => th.textContent.trim());
    table.classList.add("cards");
    $$("tbody tr", table).forEach((tr) => Array.from(tr.cells).forEach((td, i) => {
      if (td.colSpan === 1) td.dataset.label = heads[i] || "";
    }));
  });

  /* ---------- numbers people type: the server's rule (webapp.units.parse_decimal), so the dialog shows what it reads */
  function parseDecimal(text) {
    const t = String(text == null ? "" : text).trim();
    if (!t) return { error: _("Enter a number.") };
    if (/^[1-9]\d{0,2},\d{3}$/.test(t)) return { error: _("“%(text)s” is ambiguous: write %(point)s or %(whole)s.", { text: t, point: t.replace(",", "."), whole: t.replace(",", "") }) };
    if (!/^[-+]?(\d+[.,]?\d*|[.,]\d+)$/.test(t)) {
      return { error: (t.split(/[.,]/).length > 2) ? _("Use one decimal separator and no thousands separators (e.g. 1500.5).") : _("Enter a number such as 1.5 or 1,5.") };
    }
    const norm = t.replace(",", ".").replace(/^\+/, "");
    return { value: Number(norm), text: norm.replace(/^\./, "0.").replace(/\.$/, "") };
  }
  function checkDecimal(input) {
    const r = parseDecimal(input.value);
    let msg = r.error || "";
    if (!msg) {
      const min = parseFloat(input.dataset.min), max = parseFloat(input.dataset.max), step = input.dataset.step || input.dataset.min;
      const decimals = step && step.includes(".") ? step.split(".")[1].length : 0;
      const frac = r.text.includes(".") ? r.text.split(".")[1].length : 0;
      if (!(r.value > 0)) msg = _("Must be greater than zero.");
      else if (isFinite(min) && r.value < min) msg = _("At least %(min)s.", { min: input.dataset.min });
      else if (isFinite(max) && r.value > max) msg = _("At most %(max)s.", { max: input.dataset.max });
      else if (frac > decimals) msg = _("At most %(n)s decimals.", { n: decimals });
    }
    input.setCustomValidity(input.value.trim() === "" ? "" : msg);
    return r;
  }
  $$("input[data-decimal]").forEach((input) => {
    input.addEventListener("input", () => checkDecimal(input));
    checkDecimal(input);
  });

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
    const check = () => confirm.setCustomValidity(confirm.value && pw.value !== confirm.value ? _("The passwords do not match") : "");
    confirm.addEventListener("input", check); pw.addEventListener("input", check);
  });

  /* ---------- order totals */
  function orderSummary(form) {
    const side = (form.querySelector("input[name=side]:checked") || form.querySelector("[name=side]")).value;
    const price = parseDecimal(form.querySelector("[name=price]").value);
    const amount = parseDecimal(form.querySelector("[name=amount]").value);
    const p = price.error ? NaN : price.value, a = amount.error ? NaN : amount.value;
    return { side, price: p, amount: a, priceText: price.text, amountText: amount.text, total: p * a / 100 };
  }
  function unusualPrice(form, side, priceSen) {  /* webapp.services.price_band.unusual_price */
    const d = form.dataset, units = Math.round(priceSen * 10000);
    if (!d.high || !isFinite(units)) return "";
    if (side === "buy" && units > Number(d.high)) {
      return _("%(price)s is %(times)s the grid retail price (%(retail)s): buying from the grid would cost less.",
        { price: fmtPrice(units), times: (units / Number(d.retail)).toFixed(1) + "×", retail: fmtPrice(Number(d.retail)) });
    }
    if (side === "sell" && units < Number(d.low)) {
      return _("%(price)s is far below the grid feed-in tariff (%(feed_in)s): the grid pays more for the same energy.",
        { price: fmtPrice(units), feed_in: fmtPrice(Number(d.feedIn)) });
    }
    return "";
  }
  $$("form.order-form").forEach((form) => {
    const out = form.querySelector("[data-total]");
    const update = () => {
      const s = orderSummary(form);
      const total = "RM " + (isFinite(s.total) ? s.total.toFixed(4) : "");
      out.textContent = isFinite(s.total) ? (s.side === "buy" ? _("%(total)s at most", { total }) : _("%(total)s at least", { total })) : "–";
      const btn = form.querySelector("#place-order");
      if (btn) btn.textContent = s.side === "sell" ? _("Place sell order") : _("Place buy order");
    };
    form.addEventListener("input", update); form.addEventListener("change", update); update();
  });

  /* ---------- confirmation dialogs */
  const dialog = $("#confirm-dialog");
  function confirmThen(title, html, onOk, needsTick) {
    if (!dialog || typeof dialog.showModal !== "function") { if (window.confirm(title)) onOk(); return; }
    $("#confirm-title").textContent = title;
    $("#confirm-body").innerHTML = html;
    const ok = $("#confirm-ok"), tick = $("#confirm-unusual");
    ok.disabled = Boolean(needsTick && tick);
    if (tick) tick.addEventListener("change", () => { ok.disabled = !tick.checked; });
    dialog.returnValue = "";
    dialog.showModal();
    dialog.addEventListener("close", function handler() {
      dialog.removeEventListener("close", handler);
      ok.disabled = false;
      if (dialog.returnValue === "ok") onOk();
    });
  }
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
  function busy(form) {
    form.setAttribute("aria-busy", "true");
    $$("button", form).forEach((b) => { b.disabled = true; });
  }
  $$("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (e) => {
      if (form.dataset.confirmed === "1") return;
      e.preventDefault();
      const inputs = $$("input", form).filter((i) => i.type !== "hidden");
      inputs.forEach((i) => { if (i.dataset.decimal !== undefined) checkDecimal(i); });
      inputs.forEach(markTouched);
      if (!form.checkValidity()) { notify(_("Please correct the highlighted fields."), "error"); return; }
      const kind = form.dataset.confirm;
      let title = _("Please confirm"), body = "", unusual = "";
      if (kind === "order" || kind === "auction") {
        const s = orderSummary(form), buy = s.side === "buy";
        unusual = unusualPrice(form, s.side, s.price);
        const v = { amount: esc(s.amountText), price: esc(s.priceText), total: "RM " + s.total.toFixed(4) };
        title = buy ? _("Buy %(amount)s kWh?", v) : _("Sell %(amount)s kWh?", v);
        body = buy
          ? _("<p>Buy <strong>%(amount)s kWh</strong> at up to <strong>%(price)s sen/kWh</strong>.</p><p>Total at most <strong>%(total)s</strong> (reserved from your balance until filled or cancelled).</p>", v)
          : _("<p>Sell <strong>%(amount)s kWh</strong> at no less than <strong>%(price)s sen/kWh</strong>.</p><p>Total at least <strong>%(total)s</strong> (your tokens are held until filled or cancelled).</p>", v);
        if (unusual) {
          body += '<p class="flash flash-warn" role="alert" id="unusual-price">' + esc(unusual) + "</p>" +
            '<p><label class="tick"><input type="checkbox" id="confirm-unusual"> ' + esc(_("This price is what I mean")) + "</label></p>";
        }
      } else if (kind === "cancel") {
        title = _("Cancel order #%(id)s?", { id: form.dataset.order });
        body = "<p>" + esc(_("The unfilled part is removed from the book and its escrow returns to your wallet.")) + "</p>";
      } else if (kind === "topup") {
        const r = parseDecimal(form.querySelector("[name=amount]").value);
        title = (form.dataset.title || _("Top up")) + " RM " + esc(r.error ? form.querySelector("[name=amount]").value : Number(r.value).toFixed(2)) + "?";
        body = "<p>" + esc(form.dataset.message || _("The operator issues settlement tokens to your wallet.")) + "</p>";
      } else {
        body = "<p>" + esc(form.dataset.message || _("Continue?")) + "</p>";
      }
      confirmThen(title, body, () => {
        form.dataset.confirmed = "1";
        const confirmed = form.querySelector("input[name=price_confirmed]");
        if (confirmed) confirmed.value = unusual ? "1" : "";
        if (document.body.dataset.wallet === "browser" && kind === "order") { browserOrder(form); return; }
        busy(form);
        form.submit();
      }, Boolean(unusual));
    });
  });
  /* sign-up and log-in take a few seconds (the wallet key is encrypted or decrypted): say so */
  $$("#signup-form, #login-form").forEach((form) => {
    form.addEventListener("submit", (e) => {
      if (!form.checkValidity()) return;
      if (form.getAttribute("aria-busy") === "true") { e.preventDefault(); return; }
      const btn = form.querySelector("button");
      form.setAttribute("aria-busy", "true");
      btn.dataset.label = btn.textContent;
      btn.textContent = form.id === "signup-form" ? _("Creating your wallet… (a few seconds)") : _("Unlocking your wallet…");
      btn.classList.add("busy");
      setTimeout(() => { btn.disabled = true; }, 0); // after the submit has started, so the form still sends
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
        fillBook($("#bids-table tbody"), b.bids, "bid", _("No bids"));
        fillBook($("#asks-table tbody"), b.asks, "ask", _("No asks"));
      }).catch(() => {});
    }, 5000);
  }

  /* ---------- notification when one of my orders trades (any page, while visible), once per trade */
  if (document.body.dataset.wallet) {
    const me = (document.body.dataset.address || "").toLowerCase();
    const keyOf = (t) => t.tx_hash + ":" + t.block + ":" + t.amount_wh;
    let last = document.body.dataset.lastTrade || ""; // the newest trade the page already shows ("": none)
    const poll = () => {
      if (document.hidden) return;
      fetch("/api/v1/market/trades?mine=1&limit=10", { credentials: "same-origin" }).then((r) => r.ok ? r.json() : null).then((b) => {
        if (!b || !b.trades.length) return;
        const fresh = [];
        for (const t of b.trades) { if (keyOf(t) === last) break; fresh.push(t); }
        last = keyOf(b.trades[0]);
        fresh.reverse().forEach((t) => {
          const bought = (t.buyer || "").toLowerCase() === me;
          const v = { amount: fmtKwh(t.amount_wh), price: fmtPrice(t.price), venue: _(t.venue), cost: "RM " + (t.cost / 1e6).toFixed(4) };
          notify(bought ? _("Trade: you bought %(amount)s at %(price)s (%(venue)s, %(cost)s).", v)
            : _("Trade: you sold %(amount)s at %(price)s (%(venue)s, %(cost)s).", v), "success", true);
        });
      }).catch(() => {});
    };
    setInterval(poll, 10000);
  }

  /* ---------- browser wallets: EIP-4361 sign-in and orders signed in the wallet */
  const eth = window.ethereum;
  async function postJson(url, body) {
    const r = await fetch(url, { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() }, body: JSON.stringify(body || {}) });
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
      } catch (err) { notify(_("Wallet sign-in failed: %(reason)s", { reason: err.message }), "error"); }
    });
  }
  async function browserOrder(form) {
    if (!eth) { notify(_("No browser wallet found (EIP-1193)."), "error"); form.dataset.confirmed = ""; return; }
    try {
      const s = orderSummary(form);
      // the confirmation dialog set price_confirmed=1 after showing the unusual-price warning: the API needs it too
      const confirmed = form.querySelector("input[name=price_confirmed]");
      const tx = await postJson("/api/v1/orders/prepare", { side: s.side, price_sen: s.priceText, amount_kwh: s.amountText,
        confirm_unusual_price: Boolean(confirmed && confirmed.value === "1") });
      await signAndWait(tx, (hash) => notify(_("Order sent: %(hash)s. Waiting for the chain…", { hash }), "info"));
      location.reload();
      return;
    } catch (err) { notify(err.message, "error"); }
    form.dataset.confirmed = "";
  }
  // Sign `tx` in the wallet (or let it send), relay it, wait until mined; `onSent(hash)` once it is on its way.
  async function signAndWait(tx, onSent) {
    let hash;
    try {
      const raw = await eth.request({ method: "eth_signTransaction", params: [tx] });
      hash = (await postJson("/api/v1/tx/raw", { raw: typeof raw === "string" ? raw : raw.raw })).tx_hash;
    } catch (signErr) {
      hash = await eth.request({ method: "eth_sendTransaction", params: [tx] }); // wallets without signTransaction
    }
    if (onSent) onSent(hash);
    for (let i = 0; i < 60; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      const st = await (await fetch("/api/v1/tx/" + hash, { credentials: "same-origin" })).json();
      if (st.status === "success") return hash;
      if (st.status === "failed") throw new Error(st.message || _("The transaction was rejected."));
    }
    throw new Error(_("The transaction %(hash)s is not mined yet; reload the page later.", { hash }));
  }
  window.solarshare = { notify, parseDecimal, _, postJson, signAndWait };
})();
