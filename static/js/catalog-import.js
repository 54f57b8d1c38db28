// The catalog import (issue 24): a chosen CSV file is read into the form's text, which is what is sent.
(() => {
  const file = document.getElementById('csv-file');
  const text = document.getElementById('csv-text');
  if (!file || !text) return;
  file.addEventListener('change', () => {
    const f = file.files && file.files[0];
    if (f) f.text().then((t) => { text.value = t; });
  });
})();
