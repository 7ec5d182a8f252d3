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

  // Back twice quickly: htmx fetches each page it restores from the server and swaps each answer as it comes,
  // so an older answer that came last would show another address's page. Only the newest restore may swap.
  let restoring = null
  document.addEventListener('htmx:historyCacheMiss', (event) => {
    if (restoring && restoring !== event.detail.xhr) restoring.abort()
    restoring = event.detail.xhr
  })

  // Dialogs: content swapped into #modal that holds <dialog data-modal> opens as a native modal dialog;
  // closing it empties #modal and gives focus back to the control that opened it.
  let opener = null
  document.addEventListener('htmx:beforeRequest', (event) => {
    if (event.detail.target && event.detail.target.id === 'modal') opener = event.detail.elt
  })
  document.addEventListener('htmx:afterSwap', (event) => {
    const target = event.detail.target
    // htmx's history restore (Back to a pushed address) swaps the whole body and names no target.
    if (!target) return
    const dialog = target.querySelector('dialog[data-modal]')
    if (dialog && !dialog.open) {
      dialog.addEventListener('close', () => {
        target.replaceChildren()
        if (opener && document.contains(opener)) opener.focus()
      })
      dialog.showModal()
    }
    focusErrorSummary(target)
  })
  // The client form: with a type chosen, only that type's fields are shown (without JS both are, and the
  // server ignores the other). Run on load and after every swap, for forms that declare data-kind-switch.
  function showChosenKind(root) {
    for (const form of root.querySelectorAll('form[data-kind-switch]')) {
      const chosen = form.querySelector('input[name="kind"]:checked')
      for (const set of form.querySelectorAll('fieldset[data-kind]')) set.hidden = chosen ? set.dataset.kind !== chosen.value : false
    }
  }
  document.addEventListener('DOMContentLoaded', () => showChosenKind(document))
  document.addEventListener('htmx:afterSettle', () => showChosenKind(document))
  document.addEventListener('change', (event) => {
    if (event.target.name === 'kind' && event.target.form && event.target.form.hasAttribute('data-kind-switch')) {
      showChosenKind(event.target.form.parentNode)
    }
  })

  document.addEventListener('click', (event) => {
    const close = event.target.closest('[data-close-dialog]')
    const dialog = close && close.closest('dialog')
    if (dialog) {
      event.preventDefault()
      dialog.close()
    }
  })
})()
