// Barcode scanners on the terminal (issue 21). External (CSP: no inline script), no framework.
//
// 1. A keyboard-wedge scanner plugged into this device types a code as keys, much faster than a
//    person, and ends it with Enter. Such a burst outside a text field (at least MIN_LENGTH
//    characters, MAX_GAP_MS apart or less on average, no pause longer than MAX_PAUSE_MS, so that
//    one late key from a busy tablet does not split a scan) is a scan: POST /terminal/scan adds
//    the product to the order on screen (the panel comes back), or starts a sale with it (the
//    answer leads there). In a text field (the search box…) keys stay keys.
// 2. A USB scanner plugged into the store server and bound to this terminal: its scans arrive
//    over socket.io. A scan that started a sale leads there; a refused one (unknown code, bad
//    check digit) is said in #flash. The server sends a scan to the order this page watches, so
//    this socket watches the page's order too (terminal.js has its own socket).
(() => {
  const MIN_LENGTH = 6;
  const MAX_GAP_MS = 35;
  const MAX_PAUSE_MS = 100;
  const PENDING = 'wedge:pending'; // scans typed while the page was leaving for the sale the first one started
  const $ = (sel) => document.querySelector(sel);
  const panel = () => $('#order-panel[data-order-id]');
  const newKey = () => [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');

  const NOT_TEXT = new Set(['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'color', 'file', 'image']);
  const isTextField = (el) => !!el && (el.isContentEditable || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || (el.tagName === 'INPUT' && !NOT_TEXT.has(el.type)));

  // ---- the queue: one scan at a time, so a second lands on the sale the first one started ----
  let queue = [];
  try { queue = JSON.parse(sessionStorage.getItem(PENDING) || '[]').filter((c) => typeof c === 'string'); } catch { queue = []; }
  const keep = () => { try { if (queue.length) sessionStorage.setItem(PENDING, JSON.stringify(queue)); else sessionStorage.removeItem(PENDING); } catch { /* private mode: nothing kept */ } };
  keep();
  let sending = false;
  let leaving = false; // an answer led to another page: the rest wait for it, in sessionStorage
  document.addEventListener('htmx:after:request', (e) => {
    const ctx = e.detail.ctx;
    if (ctx.wedgeScan && ctx.hx && ctx.hx.redirect) leaving = true;
  });
  const send = async () => {
    if (sending || leaving || !queue.length || !window.htmx) return;
    sending = true;
    const code = queue.shift();
    keep(); // what is left, should this answer lead to another page
    const p = panel();
    const values = { code, idempotency_key: newKey() };
    if (p) values.order_id = p.dataset.orderId;
    else {
      // the idle screen's sale key and order type (views/orders/terminal.html), as a tapped tile sends them
      const saleKey = $('input[name=sale_key]');
      if (saleKey && saleKey.value) values.sale_key = saleKey.value;
      const type = $('#sale-start input[name=type]:checked');
      if (type) values.type = type.value;
    }
    try {
      await window.htmx.ajax('POST', '/terminal/scan', { source: document.body, target: p || undefined, swap: p ? 'outerHTML' : 'none', values, wedgeScan: true });
    } catch {
      // no answer: ui.js shows the connection bar and sends the scan again (it has its key)
    } finally {
      sending = false;
      send();
    }
  };
  const scanned = (code) => {
    queue.push(code);
    keep();
    send();
  };

  // ---- the burst ----
  let typed = '';
  let first = 0; // when its first key came
  let last = 0;
  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.altKey || e.metaKey || isTextField(e.target)) { typed = ''; return; }
    const now = e.timeStamp;
    const paused = now - last > MAX_PAUSE_MS;
    if (e.key === 'Enter') {
      const code = typed;
      typed = '';
      // n characters and the Enter: n gaps
      if (code.length >= MIN_LENGTH && !paused && (now - first) / code.length < MAX_GAP_MS) {
        e.preventDefault(); // not a click on the focused button
        e.stopImmediatePropagation();
        scanned(code);
      }
      return;
    }
    if (e.key.length !== 1) return; // Shift before a capital, and the like
    if (paused || !typed) { typed = e.key; first = now; } else typed += e.key;
    last = now;
  }, true);

  send(); // scans left over from the page before

  // ---- the server's scanners ----
  if (!window.io) return;
  const socket = window.io({ transports: ['websocket', 'polling'] });
  socket.on('connect', () => { const p = panel(); if (p) socket.emit('order:watch', { orderId: Number(p.dataset.orderId) }); });
  socket.on('scan:opened', (msg) => {
    const id = Number(msg.orderId);
    const p = panel();
    if (Number.isSafeInteger(id) && (!p || Number(p.dataset.orderId) !== id)) window.location.assign(`/orders/${id}`);
  });
  socket.on('scan:refused', (msg) => {
    const f = $('#flash');
    if (!f) return;
    const box = window.posUI.errorBox(String(msg.message || `Barcode ${msg.code} was not added.`));
    box.dataset.errorId = 'scan-refused';
    f.replaceChildren(box);
  });
})();
