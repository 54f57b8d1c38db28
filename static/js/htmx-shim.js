// htmx 4.0.1 calls Document.parseHTMLUnsafe(html, {}); some Chromium builds (143) reject that
// two-argument overload, so every swap fails. Wrap it to the one-argument form when needed.
// Loaded before htmx, as an external file so the page keeps a strict CSP.
(() => {
  const f = Document.parseHTMLUnsafe;
  if (!f) return;
  try {
    f.call(Document, '', {});
  } catch {
    Document.parseHTMLUnsafe = function (html) { return f.call(Document, html); };
  }
})();
