// The terminal's own behaviours. External (CSP: no inline script), no framework. Dialogs, the
// keypad, closing and busy buttons are the UI kit's (ui.js), not repeated here.
(() => {
  const $ = (sel, root = document) => root.querySelector(sel);

  // Live: watch the open order; a nudge from another terminal refetches the panel.
  const panel = () => $('#order-panel[data-order-id]');
  if (window.io && (panel() || document.getElementById('product-grid'))) {
    const socket = window.io({ transports: ['websocket', 'polling'] });
    const watch = () => { const p = panel(); if (p) socket.emit('order:watch', { orderId: Number(p.dataset.orderId) }); };
    socket.on('connect', watch);
    const regrid = () => {
      const g = document.getElementById('product-grid');
      if (g) window.htmx.trigger(g, 'catalog-changed');
    };
    socket.on('product:availability', regrid);
    // the back office changed products, prices or stock (issue 24): the grid reads them again
    socket.on('catalog:changed', regrid);
    socket.on('stock:alert', (a) => {
      const message = a.level === 'out' ? `${a.name} is out of stock.` : `${a.name} is running low: ${Number(a.stock)} left.`;
      document.body.dispatchEvent(new CustomEvent('toast', { detail: { message } }));
      regrid();
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

  // ---- the phone's order bar: count and total under the grid; a tap opens the order over it ----
  // The state is the body's, so it survives the panel being drawn again after every change.
  const syncExpanded = () => {
    const open = document.body.classList.contains('order-expanded');
    for (const t of document.querySelectorAll('.order-bar-toggle')) t.setAttribute('aria-expanded', String(open));
  };
  const expand = (open) => {
    document.body.classList.toggle('order-expanded', open);
    syncExpanded();
    const to = open ? $('#order-panel .order-close') : $('#order-panel .order-bar-toggle');
    if (to && to.getClientRects().length) to.focus();
  };
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && document.body.classList.contains('order-expanded') && !document.body.classList.contains('has-dialog')) expand(false);
  });

  document.addEventListener('click', (e) => {
    // an open menu closes once one of its actions is chosen, or on a tap anywhere else
    for (const menu of document.querySelectorAll('details.menu[open]')) {
      if (!menu.contains(e.target) || e.target.closest('.menu-items .btn')) menu.open = false;
    }
    const t = e.target.closest && e.target.closest('button, [data-order-toggle], tr.line');
    if (!t) return;
    if (t.hasAttribute('data-order-toggle')) { expand(!document.body.classList.contains('order-expanded')); return; }
    if (t.matches('tr.line')) {
      // a tap anywhere on a line opens its editor
      const edit = t.querySelector('.edit-line');
      if (edit && !e.target.closest('a, input, select, textarea')) edit.click();
      return;
    }
    if (t.hasAttribute('data-print')) { window.print(); return; }
    if (t.dataset.fill !== undefined) {
      const input = t.closest('form').querySelector('[name=tendered]');
      input.value = t.dataset.fill;
      input.dispatchEvent(new Event('input', { bubbles: true }));
      return;
    }
    if (t.dataset.step !== undefined) {
      const input = t.closest('.stepper').querySelector('input');
      input.value = String(Math.max(1, Math.min(999, (parseInt(input.value, 10) || 0) + Number(t.dataset.step))));
      input.dispatchEvent(new Event('input', { bubbles: true }));
      return;
    }
    if (t.matches('.category')) {
      for (const c of document.querySelectorAll('.categories .category')) c.setAttribute('aria-pressed', String(c === t));
    }
  });

  // ---- the options dialog: what it adds comes to, and min/max said before the request ----------
  const money = (form, minor) => {
    const fmt = new Intl.NumberFormat('en', { style: 'currency', currency: form.dataset.currency });
    return fmt.format(minor / 10 ** fmt.resolvedOptions().maximumFractionDigits);
  };
  const showTotal = (form) => {
    const out = form.querySelector('[data-options-total]');
    if (!out || form.querySelector('[name=open_price]')) return;
    let unit = Number(form.dataset.price);
    for (const c of form.querySelectorAll('input[data-delta]:checked')) unit += Number(c.dataset.delta);
    const qty = parseInt(form.elements.quantity.value, 10);
    out.textContent = qty >= 1 ? ` · ${money(form, Math.max(0, unit) * qty)}` : '';
  };
  const optionsForm = (el) => el && el.closest && el.closest('#options-form');
  document.addEventListener('submit', (e) => {
    const form = e.target;
    if (form.id !== 'options-form') return;
    for (const fs of form.querySelectorAll('.modifier-group')) {
      const n = fs.querySelectorAll('input:checked').length;
      const min = Number(fs.dataset.min), max = Number(fs.dataset.max);
      const wrong = n < min || n > max;
      fs.classList.toggle('unmet', wrong);
      if (wrong) {
        const msg = form.querySelector('.modifier-error');
        msg.textContent = `${fs.dataset.group}: choose ${min === max ? min : `${min}–${max}`}.`;
        msg.hidden = false;
        fs.scrollIntoView({ block: 'nearest' });
        e.preventDefault();
        e.stopImmediatePropagation();
        return;
      }
    }
  }, true);
  document.addEventListener('change', (e) => {
    const form = optionsForm(e.target);
    const fs = e.target.closest && e.target.closest('.modifier-group');
    if (fs) {
      // a group of one choice behaves as radio buttons; more than its maximum cannot be ticked
      const max = Number(fs.dataset.max);
      if (e.target.checked && max === 1) for (const other of fs.querySelectorAll('input:checked')) if (other !== e.target) other.checked = false;
      if (e.target.checked && max > 1 && fs.querySelectorAll('input:checked').length > max) e.target.checked = false;
      if (fs.classList.contains('unmet')) {
        const n = fs.querySelectorAll('input:checked').length;
        if (n >= Number(fs.dataset.min) && n <= max) fs.classList.remove('unmet');
      }
    }
    if (form) showTotal(form);
  });
  document.addEventListener('input', (e) => { const form = optionsForm(e.target); if (form) showTotal(form); });

  const draw = () => {
    for (const b of document.querySelectorAll('[data-colour]')) b.style.borderLeftColor = b.dataset.colour;
    const form = $('#options-form');
    if (form) showTotal(form);
    syncExpanded();
  };
  draw();
  document.addEventListener('htmx:after:swap', draw);
})();
