// The terminal's few client behaviours. External (CSP: no inline script), no framework.
(() => {
  const $ = (sel, root = document) => root.querySelector(sel);

  // Live: watch the open order; a nudge from another terminal refetches the panel.
  const panel = () => $('#order-panel[data-order-id]');
  if (window.io && (panel() || document.getElementById('product-grid'))) {
    const socket = window.io({ transports: ['websocket', 'polling'] });
    const watch = () => { const p = panel(); if (p) socket.emit('order:watch', { orderId: Number(p.dataset.orderId) }); };
    socket.on('connect', watch);
    socket.on('product:availability', () => {
      const g = document.getElementById('product-grid');
      if (g) window.htmx.trigger(g, 'catalog-changed');
    });
    socket.on('order:ready', (msg) => {
      const f = document.getElementById('flash');
      if (f) f.innerHTML = `<div class="flash flash-ok">Order #${Number(msg.number)} is ready.</div>`;
    });
    // A nudge for a change this page made itself arrives before the answer that shows it; a
    // refetch then would race that answer for the same element. So wait until this page's own
    // requests are done, then refetch only if the panel is still older than the news.
    let inflight = 0;
    let newest = 0;
    const maybeRefresh = () => {
      const p = panel();
      if (!p || inflight > 0) return;
      if (newest > Number(p.dataset.version)) window.htmx.trigger(p, 'order-changed');
    };
    document.addEventListener('htmx:before:request', () => { inflight++; });
    document.addEventListener('htmx:finally:request', () => { inflight = Math.max(0, inflight - 1); setTimeout(maybeRefresh, 0); });
    socket.on('order:updated', (msg) => {
      const p = panel();
      if (!p || Number(p.dataset.orderId) !== msg.orderId) return;
      newest = Math.max(newest, msg.version);
      maybeRefresh();
    });
  }

  // A new request clears the last error message.
  document.addEventListener('htmx:before:request', () => { const f = $('#flash'); if (f) f.innerHTML = ''; });

  document.addEventListener('click', (e) => {
    const t = e.target.closest('button, [data-close-modal]');
    if (!t) return;
    if (t.hasAttribute('data-close-modal')) { const m = $('#modal'); if (m) m.innerHTML = ''; return; }
    if (t.hasAttribute('data-print')) { window.print(); return; }
    if (t.dataset.fill !== undefined) {
      const input = t.closest('form').querySelector('[name=tendered]');
      input.value = t.dataset.fill;
      input.focus();
      return;
    }
    if (t.dataset.key !== undefined) {
      const form = t.closest('form, .modal-body');
      const input = (document.activeElement && document.activeElement.classList.contains('keypad-target') && form.contains(document.activeElement))
        ? document.activeElement : (form._lastKeypadTarget || form.querySelector('.keypad-target'));
      if (!input) return;
      if (t.dataset.key === '⌫') input.value = input.value.slice(0, -1);
      else input.value += t.dataset.key;
      form._lastKeypadTarget = input;
      input.focus();
    }
  });
  document.addEventListener('focusin', (e) => {
    if (e.target.classList && e.target.classList.contains('keypad-target')) {
      const form = e.target.closest('form, .modal-body');
      if (form) form._lastKeypadTarget = e.target;
    }
  });

  // Modifier picker: show min/max problems before the request (the server checks again).
  document.addEventListener('submit', (e) => {
    const form = e.target;
    if (form.id !== 'options-form') return;
    for (const fs of form.querySelectorAll('.modifier-group')) {
      const n = fs.querySelectorAll('input:checked').length;
      const min = Number(fs.dataset.min), max = Number(fs.dataset.max);
      if (n < min || n > max) {
        const msg = form.querySelector('.modifier-error');
        msg.textContent = `${fs.dataset.group}: choose ${min === max ? min : `${min}–${max}`}.`;
        msg.hidden = false;
        e.preventDefault();
        e.stopImmediatePropagation();
        return;
      }
    }
  }, true);
  document.addEventListener('change', (e) => {
    const fs = e.target.closest && e.target.closest('.modifier-group');
    if (!fs || Number(fs.dataset.max) !== 1 || !e.target.checked) return;
    for (const other of fs.querySelectorAll('input:checked')) if (other !== e.target) other.checked = false;
  });

  const colour = () => { for (const b of document.querySelectorAll('[data-colour]')) b.style.borderLeftColor = b.dataset.colour; };
  colour();
  document.addEventListener('htmx:after:swap', colour);
})();
