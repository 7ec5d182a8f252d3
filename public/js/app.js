// Progressive enhancement only: every page works without this file.
;(() => {
  // htmx requests carry the CSRF token from the layout's <meta name="csrf-token"> (works in htmx 2 and 4,
  // without relying on attribute inheritance).
  document.addEventListener('htmx:configRequest', (event) => {
    const meta = document.querySelector('meta[name="csrf-token"]')
    if (meta) event.detail.headers['X-CSRF-Token'] = meta.getAttribute('content')
  })

  // An error summary takes focus when it appears, so screen readers announce it and keyboard users start there.
  function focusErrorSummary(root) {
    const summary = root.querySelector('[data-autofocus]')
    if (summary) summary.focus()
  }
  document.addEventListener('DOMContentLoaded', () => focusErrorSummary(document))
  document.addEventListener('htmx:afterSwap', (event) => focusErrorSummary(event.detail.target))
})()
