// The terminal's ledger banner (issue 25): when entries have waited longer than the store's alert
// time to reach the cloud ledger, when the ledger holds a different entry, or when a restored
// store waits to compare, a notice at the top of the terminal says so. The server decides
// (/ledger/banner answers 204 when all is well); this only asks it now and then and shows the answer.
(() => {
  if (!document.body.classList.contains('terminal')) return;
  const EVERY_MS = 60_000;
  const show = (html) => {
    const old = document.getElementById('ledger-banner');
    if (!html) {
      old?.remove();
      return;
    }
    const holder = document.createElement('div');
    holder.innerHTML = html.trim();
    const banner = holder.firstElementChild;
    if (!banner) return;
    if (old) old.replaceWith(banner);
    else document.body.insertBefore(banner, document.getElementById('flash')?.nextSibling ?? document.body.firstChild);
  };
  const check = async () => {
    try {
      const res = await fetch('/ledger/banner', { headers: { Accept: 'text/html', 'X-Background': '1' }, credentials: 'same-origin', cache: 'no-store' });
      if (res.status === 204) show('');
      else if (res.ok) show(await res.text());
      // anything else (a locked terminal, a server restarting): leave the page as it is
    } catch {
      // no answer: the connection bar (ui.js) says so; keep what is shown
    }
  };
  check();
  setInterval(check, EVERY_MS);
  document.addEventListener('visibilitychange', () => { if (!document.hidden) check(); });
})();
