// Locks an untouched terminal: after the store's idle time with no touch or key, go to the PIN
// screen. The server enforces the same limit on the next request; this only makes it visible.
(() => {
  const seconds = Number(document.body.dataset.idleLock);
  if (!seconds) return;
  let last = Date.now();
  for (const ev of ['pointerdown', 'keydown', 'touchstart']) document.addEventListener(ev, () => (last = Date.now()), { passive: true });
  setInterval(() => {
    if (Date.now() - last > seconds * 1000) window.location.assign('/login?locked=1');
  }, 1000);
})();
