// The UI kit's behaviours, on every page (docs/UI.md): dialogs, manager approval, forms busy
// until answered, toasts, the keypad, countdowns, form errors. External (the CSP allows no inline
// script), no framework.
//
// It loads in <head> before any page script, so its click listener runs first: the keypad and
// the dialogs' close buttons are handled here only, and stopImmediatePropagation keeps the older
// copies in terminal.js from seeing those clicks (they go with the order rewrite).
(() => {
  const $ = (sel, root = document) => root.querySelector(sel);
  const coarse = window.matchMedia('(pointer: coarse)').matches; // a touch screen: no keyboard pops up unasked

  // ---- dialogs: the layout's #modal; an approval lays itself over an open dialog (.modal-layer) ----
  // A page that still brings its own #modal keeps it, so ids stay unique (drop those with the order rewrite).
  const layoutModal = $('#modal[data-layout-host]');
  if (layoutModal && document.querySelectorAll('#modal').length > 1) layoutModal.remove();

  const hosts = () => [...document.querySelectorAll('.modal-host')];
  const topHost = () => hosts().filter((h) => h.childElementCount).pop();
  /** the dialog in front: the last layer laid over the host's dialog, or the host's own */
  const front = (host) => [...host.children].filter((c) => c.matches('.modal-layer')).pop() || host;
  /** closes one dialog: a layer, or the host's dialog (with any layers on it) */
  const close = (el) => {
    if (!el) return;
    const host = el.closest('.modal-host');
    if (el.matches('.modal-layer')) el.remove();
    if (host && (host === el || !host.childElementCount)) host.replaceChildren(); // no stray text keeps it shown
  };
  const focusable = (root) => [...root.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, [tabindex]:not([tabindex="-1"])')]
    .filter((el) => !el.disabled && el.getClientRects().length);
  const opened = []; // { dialog, opener }, the one in front last
  const onHostChange = (host) => {
    // a dialog closed: the focus goes back to what opened it
    let back;
    while (opened.length) {
      const { dialog, opener } = opened[opened.length - 1];
      if (dialog === host ? host.childElementCount : dialog.isConnected) break;
      opened.pop();
      back = opener;
    }
    if (back && back.isConnected) back.focus();
    // a dialog opened (or its content changed): the focus goes into it
    const dialog = host.childElementCount ? front(host) : null;
    if (dialog && !dialog.contains(document.activeElement)) {
      if (!opened.some((o) => o.dialog === dialog)) opened.push({ dialog, opener: document.activeElement });
      // the first field, unless that would pop a touch screen's keyboard over the dialog's own keypad
      let first = dialog.querySelector('[autofocus]') || focusable(dialog)[0];
      if (!first || (coarse && first.matches('input'))) {
        first = dialog.querySelector('[role=dialog]') || dialog;
        first.setAttribute('tabindex', '-1');
      }
      first.focus();
    }
    document.body.classList.toggle('has-dialog', !!topHost());
  };
  const watcher = new MutationObserver((records) => { for (const h of new Set(records.map((r) => r.target))) onHostChange(h); });
  for (const h of hosts()) watcher.observe(h, { childList: true });

  document.addEventListener('keydown', (e) => {
    const host = topHost();
    if (!host) return;
    const dialog = front(host);
    if (e.key === 'Escape' && dialog.querySelector('[data-close-modal]')) { close(dialog); return; }
    if (e.key !== 'Tab') return;
    // keep Tab inside the dialog in front
    const els = focusable(dialog);
    if (!els.length) return;
    const first = els[0], last = els[els.length - 1];
    if (e.shiftKey && (document.activeElement === first || !dialog.contains(document.activeElement))) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && (document.activeElement === last || !dialog.contains(document.activeElement))) { e.preventDefault(); first.focus(); }
  });

  // ---- clicks the kit owns: close, dismiss, back, keypad ----------------------------------------
  document.addEventListener('click', (e) => {
    const t = e.target.closest && e.target.closest('[data-close-modal], [data-dismiss], [data-back], [data-key]');
    if (!t) return;
    e.stopImmediatePropagation();
    if (t.hasAttribute('data-close-modal')) return close(t.closest('.modal-layer, .modal-host') || $('#modal'));
    if (t.hasAttribute('data-dismiss')) return t.closest('.flash, .toast').remove();
    if (t.hasAttribute('data-back')) {
      if (history.length > 1) { e.preventDefault(); history.back(); }
      return;
    }
    const form = t.closest('form, .modal-body');
    const input = form && (form._lastKeypadTarget || form.querySelector('.keypad-target'));
    if (!input) return;
    const key = t.dataset.key;
    if (key === '⌫') input.value = input.value.slice(0, -1);
    else if (key === 'clear') input.value = '';
    else if (!input.maxLength || input.maxLength < 0 || input.value.length < input.maxLength) input.value += key;
    input.dispatchEvent(new Event('input', { bubbles: true }));
    if (!coarse) input.focus();
  });
  document.addEventListener('focusin', (e) => {
    if (!e.target.classList || !e.target.classList.contains('keypad-target')) return;
    const form = e.target.closest('form, .modal-body');
    if (form) form._lastKeypadTarget = e.target;
  });

  // ---- a form is busy until answered: its buttons wait, the one pressed spins (no double submit) --
  const submitButtons = (form) => [...form.querySelectorAll('button:not([type=button]):not([type=reset]), input[type=submit]')];
  const setBusy = (form, submitter, on) => {
    form.toggleAttribute('aria-busy', on);
    const buttons = submitButtons(form);
    for (const b of buttons) {
      if (on && !b.disabled) { b.disabled = true; b.dataset.busyOff = ''; }
      if (!on && 'busyOff' in b.dataset) { b.disabled = false; delete b.dataset.busyOff; }
      if (!on) b.removeAttribute('aria-busy');
    }
    const shown = submitter || buttons[0];
    if (on && shown) shown.setAttribute('aria-busy', 'true');
  };
  const formOf = (ctx) => {
    const el = ctx.sourceElement;
    return el && el.closest ? (el.tagName === 'FORM' ? el : el.form || el.closest('form')) : null;
  };
  document.addEventListener('htmx:before:request', (e) => {
    const ctx = e.detail.ctx;
    // a tap clears the last error message
    if (ctx.sourceEvent && ctx.sourceEvent.isTrusted) { const f = $('#flash'); if (f) f.replaceChildren(); }
    const form = formOf(ctx);
    if (!form || (ctx.request.method === 'GET' && !ctx.approval)) return;
    ctx.busyForm = form;
    setBusy(form, ctx.request.submitter, true);
  });
  document.addEventListener('htmx:finally:request', (e) => {
    const ctx = e.detail.ctx;
    if (!ctx.busyForm) return;
    if (ctx.hx && (ctx.hx.redirect || ctx.hx.refresh === 'true')) return; // the page is leaving: stay busy
    setBusy(ctx.busyForm, null, false);
  });
  // plain forms (no htmx): busy until the next page; again usable when the browser comes back to this one
  document.addEventListener('submit', (e) => {
    const form = e.target;
    setTimeout(() => { if (!e.defaultPrevented && form.method === 'post') setBusy(form, e.submitter, true); });
  });
  window.addEventListener('pageshow', () => { for (const f of document.querySelectorAll('form[aria-busy]')) setBusy(f, null, false); });

  // ---- manager approval (docs/UI.md): the dialog's form holds the refused request (method, URL,
  // fields); sent with the PIN, its answer goes where the refused one would have gone -------------
  let pending; // where the last request refused for want of approval was aimed: target, swap
  document.addEventListener('htmx:after:request', (e) => {
    const ctx = e.detail.ctx;
    if (!ctx.response) return;
    const status = ctx.response.status;
    if (status === 403 && ctx.hx && ctx.hx.retarget === '#modal') {
      pending = { target: ctx.target, swap: ctx.swap };
      for (const old of document.querySelectorAll('.approval-layer')) old.remove(); // one approval at a time
      return;
    }
    if (ctx.approval && status >= 400 && !(ctx.hx.retarget && ctx.hx.retarget !== '#flash')) {
      // a wrong PIN (or a lock) is said inside the dialog, which stays open
      ctx.hx.retarget = '#approval-error';
      ctx.hx.reswap = 'innerHTML';
    } else if (ctx.approval) {
      // approved (or approved and then refused by the form, whose errors the answer draws in it)
      close(ctx.approval.closest('.approval-layer'));
      if (!ctx.target || !ctx.target.isConnected) window.location.reload(); // nowhere left to show the answer
    }
  });
  document.addEventListener('submit', (e) => {
    const form = e.target;
    if (!form.matches('form[data-approval]')) return;
    e.preventDefault();
    if (!pending) return close(form.closest('.approval-layer'));
    window.htmx.ajax(form.dataset.method, form.getAttribute('action'), {
      source: form, target: pending.target, swap: pending.swap, approval: form,
      headers: { 'X-Override-PIN': form.elements.override_pin.value },
    });
  });
  // the PIN goes in a header only: never into a URL (a GET's fields are its query)
  document.addEventListener('htmx:config:request', (e) => { if (e.detail.ctx.approval) e.detail.ctx.request.body.delete('override_pin'); });
  // a page shown with an approval must not be shown again by a reload re-sending the PIN
  if (document.body.hasAttribute('data-approved')) history.replaceState(history.state, '', window.location.href);

  // ---- after a refusal: PINs cleared, the first marked field focused ----------------------------
  document.addEventListener('htmx:after:request', (e) => {
    const ctx = e.detail.ctx;
    if (!ctx.response || ctx.response.status < 400) return;
    const form = formOf(ctx);
    if (!form) return;
    const pins = form.querySelectorAll('input[type=password]');
    for (const input of pins) input.value = '';
    if (pins[0] && !coarse) pins[0].focus();
  });
  const focusInvalid = () => { const el = $('[aria-invalid="true"]'); if (el) el.focus(); };
  document.addEventListener('htmx:after:swap', (e) => { if (e.detail.ctx.response && e.detail.ctx.response.status >= 400) focusInvalid(); });
  focusInvalid();
  // with a keyboard, a PIN page starts in its field (a touch screen keeps its keypad, not the system's)
  if (!coarse && !document.activeElement.matches('input')) { const pin = $('main .keypad-target'); if (pin) pin.focus(); }

  // ---- connection lost (docs/UI.md, "Wi-Fi blips"): a request that got no answer at all -------------
  // The bar shows at once. A tap whose request carries an idempotency key (a product tile marked
  // data-idempotent gets a fresh one per tap here; the pay form has its own) is queued and sent
  // again, same key and same fields, once the server answers /healthz: the server counts it once.
  // A tap without a key is not sent again, and the bar says so. When the link is back, the order on
  // screen is read again, so what the screen shows is what the server has.
  const newKey = () => [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join(''); // randomUUID needs https
  document.addEventListener('htmx:config:request', (e) => {
    const ctx = e.detail.ctx;
    // a request no hand asked for (a page's load, a refresh after another terminal's change) is not
    // activity: it must not keep an idle terminal from locking (server/auth/middleware.ts)
    if (ctx.sourceEvent && ctx.sourceEvent.isTrusted === false) ctx.request.headers['X-Background'] = '1';
    const body = ctx.request.body;
    const el = ctx.sourceElement;
    if (body && el && el.closest && el.closest('[data-idempotent]') && !body.get('idempotency_key')) body.set('idempotency_key', newKey());
  });
  const retries = []; // { method, action, values, source, target, swap, answered }
  let unsent = 0; // taps lost that had no key
  let probing = false;
  const connectionBar = () => {
    let bar = $('#connection-bar');
    if (!bar) {
      bar = document.createElement('div');
      bar.id = 'connection-bar';
      bar.className = 'connection-bar';
      bar.setAttribute('role', 'alert');
      document.body.prepend(bar);
    }
    return bar;
  };
  const sayConnection = () => {
    const n = retries.length;
    const parts = ['Connection lost — retrying…'];
    if (n) parts.push(`${n} ${n === 1 ? 'tap' : 'taps'} will be sent when the link is back.`);
    if (unsent) parts.push(`${unsent === 1 ? 'One tap was' : `${unsent} taps were`} not sent: check the order and tap again.`);
    connectionBar().textContent = parts.join(' ');
    document.body.classList.add('offline');
  };
  const online = async () => {
    try { return (await fetch('/healthz', { cache: 'no-store' })).ok; } catch { return false; }
  };
  const targetOf = (item) => (item.target && item.target.isConnected ? item.target : (item.targetId && document.getElementById(item.targetId)) || null);
  const probe = async () => {
    if (probing) return;
    probing = true;
    let wait = 1000;
    for (;;) {
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, 5000);
      if (!(await online())) continue;
      // the link is back: send the queued taps in order, each with its own key; stop if one gets no answer
      while (retries.length) {
        const item = retries[0];
        const source = item.source && item.source.isConnected ? item.source : document.body;
        await window.htmx.ajax(item.method, item.action, { source, target: targetOf(item) || undefined, swap: item.swap, values: item.values, retryOf: item });
        if (!item.answered) break;
        retries.shift();
      }
      if (retries.length) { sayConnection(); continue; }
      break;
    }
    probing = false;
    const bar = $('#connection-bar');
    if (unsent && bar) {
      bar.textContent = `Connection is back. ${unsent === 1 ? 'One tap was' : `${unsent} taps were`} not sent: check the order.`;
      bar.classList.add('connection-back');
      bar.append(Object.assign(document.createElement('button'), { type: 'button', className: 'btn', textContent: 'OK' }));
      bar.lastChild.setAttribute('data-dismiss-bar', '');
    } else if (bar) bar.remove();
    unsent = 0;
    document.body.classList.remove('offline');
    showToast('Connection is back.');
    const panel = $('#order-panel[data-order-id]');
    if (panel) window.htmx.trigger(panel, 'order-changed');
  };
  document.addEventListener('click', (e) => { if (e.target.closest && e.target.closest('[data-dismiss-bar]')) { const b = $('#connection-bar'); if (b) b.remove(); } });
  document.addEventListener('htmx:after:request', (e) => { const ctx = e.detail.ctx; if (ctx.retryOf && ctx.response) ctx.retryOf.answered = true; });
  document.addEventListener('htmx:error', (e) => {
    const ctx = e.detail.ctx;
    if (!ctx || !ctx.request || ctx.response || !ctx.request.action) return; // an answer came: not the link
    if (!ctx.retryOf) {
      const body = ctx.request.body;
      const key = body && typeof body.get === 'function' ? body.get('idempotency_key') : null;
      if (ctx.request.method !== 'GET' && key) {
        const target = ctx.target instanceof Element ? ctx.target : null;
        retries.push({ method: ctx.request.method, action: ctx.request.action, values: Object.fromEntries(body), source: ctx.sourceElement, target, targetId: target && target.id, swap: ctx.swap });
      } else if (ctx.request.method !== 'GET') unsent++;
    }
    sayConnection();
    probe();
  });

  // ---- an error said from a script (a socket's news): the same box a refused request gets -----------
  /** the error box `text` with its dismiss button; `into` = an existing box to refill, else a new one */
  const errorBox = (text, into) => {
    const box = into || document.createElement('div');
    box.className = 'flash flash-error';
    const msg = document.createElement('span');
    msg.className = 'flash-text';
    msg.textContent = text;
    const close = document.createElement('button');
    close.type = 'button';
    close.className = 'flash-close';
    close.setAttribute('data-dismiss', '');
    close.setAttribute('aria-label', 'Dismiss');
    close.textContent = '×';
    box.replaceChildren(msg, close);
    return box;
  };
  window.posUI = { errorBox };

  // ---- toasts: success, for a few seconds ----------------------------------------------------------
  const TOAST_MS = 6000;
  const fade = (el) => setTimeout(() => el.remove(), TOAST_MS);
  const showToast = (text) => {
    const host = $('#toasts');
    if (!host || !text) return;
    const p = document.createElement('p');
    p.className = 'toast';
    p.textContent = text;
    host.append(p);
    fade(p);
  };
  document.body.addEventListener('toast', (e) => showToast(e.detail && e.detail.message));
  for (const p of document.querySelectorAll('#toasts .toast')) fade(p);

  // ---- countdowns: "Try again in 0:42." ticks down to "You can try again now." -------------------
  const mmss = (s) => `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  const tick = () => {
    for (const el of document.querySelectorAll('[data-countdown]')) {
      if (!el.countdownEnds) el.countdownEnds = Date.now() + Number(el.dataset.countdown) * 1000;
      const left = Math.ceil((el.countdownEnds - Date.now()) / 1000);
      if (left > 0) el.textContent = el.dataset.text.replace('{time}', mmss(left));
      else { el.textContent = el.dataset.done; el.removeAttribute('data-countdown'); }
    }
  };
  document.addEventListener('htmx:after:swap', tick);
  tick();
  setInterval(tick, 250);
})();
