// The floor plan: places tables at their x/y (CSSOM, so the page keeps a strict CSP) and keeps
// the live view fresh: any change on the floor re-reads it from the server. Covers typed into a
// free table survive those re-reads (a refresh came right after the page loaded and wiped them).
(() => {
  const typed = new Map(); // table id → covers typed and not yet sent
  let focused; // the table whose covers field had the focus
  const tileOf = (el) => el.closest && el.closest('.table-tile');
  document.addEventListener('input', (e) => {
    const tile = tileOf(e.target);
    if (tile && e.target.matches('input.covers')) typed.set(tile.dataset.tableId, e.target.value);
  });
  document.addEventListener('focusin', (e) => {
    const tile = tileOf(e.target);
    focused = tile && e.target.matches('input.covers') ? tile.dataset.tableId : undefined;
  });
  document.addEventListener('submit', (e) => {
    const tile = tileOf(e.target);
    if (tile) typed.delete(tile.dataset.tableId);
  });
  const place = () => {
    for (const t of document.querySelectorAll('.table-tile[data-x]')) {
      t.style.left = `${Number(t.dataset.x)}px`;
      t.style.top = `${Number(t.dataset.y)}px`;
      const input = t.querySelector('input.covers');
      const value = typed.get(t.dataset.tableId);
      if (!input) typed.delete(t.dataset.tableId); // seated meanwhile: nothing to keep
      else if (value !== undefined && input.value !== value) input.value = value;
      if (input && focused === t.dataset.tableId && document.activeElement !== input) input.focus();
    }
  };
  // a plan is as high as its tables need; the back office's preview also scales down to fit its
  // width (nothing in it to scroll to); a phone lays the live floor out as a grid (app.css)
  const fit = () => {
    for (const plan of document.querySelectorAll('.plan')) {
      const tiles = [...plan.querySelectorAll('.table-tile[data-x]')];
      const grid = getComputedStyle(plan).display === 'grid';
      plan.classList.toggle('fitted', tiles.length > 0 && !grid);
      if (!tiles.length || grid) { plan.style.height = ''; continue; }
      const width = Math.max(...tiles.map((t) => Number(t.dataset.x) + t.offsetWidth)) + 16;
      const height = Math.max(...tiles.map((t) => Number(t.dataset.y) + t.offsetHeight)) + 16;
      if (!plan.classList.contains('editor-plan')) { plan.style.height = `${height}px`; continue; }
      const k = Math.min(1, plan.clientWidth / width);
      for (const t of tiles) {
        t.style.left = `${Number(t.dataset.x) * k}px`;
        t.style.top = `${Number(t.dataset.y) * k}px`;
        t.style.transform = k < 1 ? `scale(${k})` : '';
      }
      plan.style.height = `${Math.ceil(height * k)}px`;
    }
  };
  place();
  fit();
  window.addEventListener('resize', fit);
  document.addEventListener('htmx:after:swap', () => { place(); fit(); });
  const floor = () => document.getElementById('floor');
  if (window.io && floor()) {
    const socket = window.io({ transports: ['websocket', 'polling'] });
    let timer;
    const refresh = () => { clearTimeout(timer); timer = setTimeout(() => { const f = floor(); if (f) window.htmx.trigger(f, 'floor-changed'); }, 100); };
    socket.on('connect', () => { socket.emit('floor:watch'); refresh(); });
    socket.on('floor:changed', refresh);
    socket.on('order:ready', refresh);
  }
})();
