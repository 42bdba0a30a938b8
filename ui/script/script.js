/*! Offen embed script. It holds no ids, keys or data. See docs/embedding.md */
;((w, d, loc) => {
  if (w.__offen__) return
  const api = (w.__offen__ = {})
  const tag = d.currentScript
  const data = tag?.dataset || {}
  const id = data.accountId
  const origin = tag?.src && new URL(tag.src, loc.href).origin
  const enc = encodeURIComponent
  const hidden = { display: 'none', border: 0 }
  let frame, loaded, overlay, warned
  // CSSOM only: passes a host CSP without style-src 'unsafe-inline'
  const css = (e, styles) => {
    for (const k in styles) e.style.setProperty(k, styles[k], 'important')
    return e
  }
  const el = (name, attrs, styles) => {
    const e = d.createElement(name)
    for (const k in attrs) e.setAttribute(k, attrs[k])
    return css(e, styles)
  }
  const on = (t, type, fn, off) => t[(off ? 'remove' : 'add') + 'EventListener'](type, fn)
  const ready = (fn) => (d.readyState[0] == 'l' ? on(d, 'DOMContentLoaded', () => setTimeout(fn)) : setTimeout(fn))

  const problem = !origin || !id ? 'data-account-id missing' : !w.indexedDB && 'browser not supported'
  const vault = () =>
    (loaded ||= problem
      ? Promise.reject(Error('Offen: ' + problem))
      : new Promise((resolve) =>
          ready(() => {
            const src = origin + '/vault?accountId=' + enc(id) + (data.locale ? '&locale=' + enc(data.locale) : '')
            frame = el('iframe', { id: 'offen-vault-' + Math.random().toString(36).slice(2), title: 'Offen Vault', src }, hidden)
            on(frame, 'load', resolve)
            d.body.append(frame)
          })
        ))

  const post = (message) =>
    vault().then(
      () =>
        new Promise((resolve, reject) => {
          const { port1, port2 } = new MessageChannel()
          // kept open: STYLES may follow the reply
          port1.onmessage = ({ data: m }) => {
            const p = m?.payload || {}
            const type = m?.type
            if (type == 'STYLES') {
              frame.style.cssText = ''
              css(frame, { ...hidden, ...p.styles })
              for (const a in p.attributes) /^(height|width)$/.test(a) && frame.setAttribute(a, p.attributes[a])
            } else if (type == 'OPEN_AUDITORIUM') open(p.url)
            else type == 'ERROR' ? reject(Error(p.error)) : resolve(m)
          }
          frame.contentWindow.postMessage(message, origin, [port2])
        })
    )

  const open = (path) => {
    const src = new URL(path, origin)
    if (overlay || src.origin != origin) return
    const before = d.activeElement
    const box = (overlay = el(
      'div',
      { role: 'dialog', 'aria-modal': true, 'aria-label': 'Offen Auditorium', 'data-testid': 'offen-auditorium-overlay' },
      { position: 'fixed', inset: 0, 'z-index': 2147483647, background: '#fff', display: 'block' }
    ))
    const close = el(
      'button',
      { type: 'button', 'data-testid': 'offen-auditorium-close' },
      { position: 'absolute', right: '6px', top: '6px', font: '18px sans-serif', color: '#000', background: '#fff' }
    )
    const view = el(
      'iframe',
      { title: 'Offen Auditorium', src: src.href },
      { position: 'absolute', top: '50px', width: '100%', height: 'calc(100% - 50px)', border: 0 }
    )
    const listen = (off) => [[w, 'message', onMessage], [d, 'keydown', onKey], [d, 'focusin', onFocus]].map(([t, type, fn]) => on(t, type, fn, off))
    const shut = () => {
      if (overlay != box) return
      overlay = null
      box.remove()
      listen(1)
      before?.focus?.()
    }
    const onMessage = (e) => e.source == view.contentWindow && e.origin == origin && e.data?.type == 'CLOSE_AUDITORIUM' && shut()
    const onKey = (e) => e.key == 'Escape' && shut()
    const onFocus = (e) => box.contains(e.target) || close.focus()
    close.textContent = 'Close'
    close.onfocus = close.onblur = (e) => css(close, { outline: e.type[0] == 'b' ? 0 : '3px solid #1a73e8' })
    close.onclick = shut
    box.append(close, view)
    d.body.append(box)
    listen()
    close.focus()
  }

  const pageview = (subsequent, skipConsent) => {
    const href = loc.href
    const link = d.querySelector('link[rel~=canonical][href]')
    const canonical = link ? new URL(link.getAttribute('href'), href).href : href
    const event = {
      type: 'PAGEVIEW',
      href: canonical,
      rawHref: canonical != href ? href : null,
      referrer: d.referrer,
      pageload: null,
      isMobile: typeof w.onorientationchange != 'undefined'
    }
    return vault().then(() => {
      const nav = !subsequent && performance.getEntriesByType('navigation')[0]
      if (nav && nav.domContentLoadedEventEnd > 0) event.pageload = Math.round(nav.domContentLoadedEventEnd)
      return post({ type: 'EVENT', payload: { accountId: id, event }, meta: { skipConsent: !!skipConsent } })
    })
  }
  const settle = (promise, cb) =>
    promise.then(
      () => cb?.(null),
      (err) => (cb ? cb(err) : warned || console.log((warned = err.message)))
    )

  if (data.useApi != null) {
    api.pageview = (options, cb) => {
      if (typeof options == 'function') (cb = options), (options = 0)
      options = options || {}
      settle(pageview(options.subsequent, options.skipConsent), cb)
    }
    api.acquireConsent = (cb) => settle(post({ type: 'ACQUIRE_CONSENT', payload: null }), cb)
    return
  }

  let last = loc.href
  const changed = (always) => (always || loc.href != last) && settle(pageview((last = loc.href)))
  for (const name of ['pushState', 'replaceState']) {
    const original = history[name]
    history[name] = function (...args) {
      const result = original.apply(this, args)
      changed(name[0] == 'p')
      return result
    }
  }
  on(w, 'popstate', () => changed())
  ready(() => settle(pageview()))
})(window, document, location)
