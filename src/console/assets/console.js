// The console's one script (CSP: script-src 'self', no inline handlers): copy buttons.
document.addEventListener('click', (event) => {
  const button = event.target instanceof Element ? event.target.closest('[data-copy]') : null;
  if (!button) return;
  const source = document.getElementById(button.getAttribute('data-copy') || '');
  if (!source) return;
  void navigator.clipboard.writeText(source.textContent || '').then(() => {
    button.textContent = 'Copied';
  });
});
