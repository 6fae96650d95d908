// The elements the parts that draw themselves make (the list's rows, the
// query bar's suggestions) are made here; the components' are Preact's. Both
// put text in only as text (textContent, text nodes): a log line is data,
// never markup. The page's CSP (Trusted Types with no policy) makes
// innerHTML and the like throw, so nothing can slip past this by accident
// either (and no component uses dangerouslySetInnerHTML).

type Child = Node | string | null | undefined | false

/** An element with attributes (strings; `on*` names are refused) and children (strings become text nodes). */
export function h<K extends keyof HTMLElementTagNameMap> (tag: K, attrs: Record<string, string | boolean | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue
    if (k.startsWith('on')) throw new Error(`h(): event handler attribute ${k} refused; use addEventListener`)
    el.setAttribute(k, v === true ? '' : v)
  }
  append(el, children)
  return el
}

export function append (el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue
    el.append(typeof c === 'string' ? document.createTextNode(c) : c)
  }
}

export function clear (el: Element): void {
  el.replaceChildren()
}

/**
 * A line as it is shown: control characters (ANSI escapes' ESC, NUL, BEL, …)
 * become their visible Unicode pictures (␛), tabs stay; so an escape
 * sequence shows as the text it is instead of vanishing.
 */
export function visible (text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => String.fromCharCode(c === '\u007f' ? 0x2421 : 0x2400 + c.charCodeAt(0))).replace(/\n/g, '\u21b5')
}
