// Kitchen screen: live tickets over socket.io. Every change re-reads the whole open list from the
// server (the database is the record; socket.io only nudges), so a screen never misses or
// doubles a ticket, even after a blip or a server restart.
(() => {
  const board = () => document.getElementById('tickets');
  const state = document.getElementById('conn-state');
  const resync = () => { const b = board(); if (b) window.htmx.trigger(b, 'resync'); };
  if (window.io && board()) {
    const socket = window.io({ transports: ['websocket', 'polling'] });
    socket.on('connect', () => {
      socket.emit('kitchen:watch', { station: board().dataset.station === 'expo' ? 'expo' : Number(board().dataset.station) });
      if (state) { state.textContent = 'live'; state.className = 'badge badge-ok'; }
      resync();
    });
    socket.on('disconnect', () => { if (state) { state.textContent = 'reconnecting…'; state.className = 'badge badge-warn'; } });
    socket.on('ticket:created', resync);
    socket.on('ticket:changed', resync);
  }
  // ages tick here; colours change at the store's thresholds
  let loaded = Date.now();
  document.addEventListener('htmx:after:swap', () => { loaded = Date.now(); tick(); });
  const tick = () => {
    const b = board();
    if (!b) return;
    const warn = Number(b.dataset.warn), late = Number(b.dataset.late);
    for (const t of b.querySelectorAll('.ticket')) {
      const age = Number(t.dataset.age) + Math.floor((Date.now() - loaded) / 1000);
      t.classList.toggle('warn', age >= warn && age < late);
      t.classList.toggle('late', age >= late);
      const el = t.querySelector('.age');
      if (el) el.textContent = `${Math.floor(age / 60)}:${String(age % 60).padStart(2, '0')}`;
    }
  };
  tick();
  setInterval(tick, 1000);
})();
