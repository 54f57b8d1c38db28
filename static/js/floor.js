// The floor plan: places tables at their x/y (CSSOM, so the page keeps a strict CSP) and keeps
// the live view fresh: any change on the floor re-reads it from the server.
(() => {
  const place = () => {
    for (const t of document.querySelectorAll('.table-tile[data-x]')) {
      t.style.left = `${Number(t.dataset.x)}px`;
      t.style.top = `${Number(t.dataset.y)}px`;
    }
  };
  place();
  document.addEventListener('htmx:after:swap', place);
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
