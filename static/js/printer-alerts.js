// Printer alerts (issue 21): a printer that fails a job, or prints again, is told to every page
// with a live connection (the terminal, the floor, kitchen screens) and shown in #flash until
// dismissed or the next tap, like any error. socket.io is a nudge: on each (re)connect the page
// asks which printers fail now (GET /printers/alerts).
(() => {
  if (!window.io) return;
  const flash = () => document.getElementById('flash');
  const text = (a) => a.message + (a.waiting ? ` ${a.waiting} job${a.waiting === 1 ? '' : 's'} waiting.` : '');
  const find = (id) => { const f = flash(); return f && f.querySelector(`[data-printer-alert="${Number(id)}"]`); };
  const show = (a) => {
    const f = flash();
    if (!f || !a) return;
    const known = find(a.printerId);
    if (a.level === 'ok') {
      if (known) known.remove();
      document.body.dispatchEvent(new CustomEvent('toast', { detail: { message: text(a) } }));
      return;
    }
    const el = window.posUI.errorBox(text(a), known);
    el.classList.add('printer-alert-flash');
    el.dataset.printerAlert = String(Number(a.printerId));
    if (!known) f.appendChild(el);
  };
  const load = () => {
    fetch('/printers/alerts', { headers: { Accept: 'application/json', 'X-Background': '1' }, credentials: 'same-origin' })
      .then((r) => (r.ok ? r.json() : { alerts: [] }))
      .then((body) => {
        const f = flash();
        if (f) for (const el of f.querySelectorAll('[data-printer-alert]')) el.remove();
        for (const a of body.alerts || []) show(a);
      })
      .catch(() => undefined);
  };
  const socket = window.io({ transports: ['websocket', 'polling'] });
  socket.on('connect', load);
  socket.on('printer:alert', show);
})();
