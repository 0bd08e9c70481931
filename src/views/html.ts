// An `html` template tag that escapes every interpolated value unless it is already markup, so
// the demo and dashboard pages cannot be tricked by fixture text, query strings or error bodies.
import { escapeHtml } from './error-page.js'

/** Markup that is already safe: produced by `html`, or trusted on purpose with `raw` */
export class SafeHtml {
  readonly value: string

  constructor (value: string) {
    this.value = value
  }

  toString (): string {
    return this.value
  }
}

export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[]

function render (value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.value
  if (Array.isArray(value)) return value.map(render).join('')
  if (value === null || value === undefined || value === false) return ''
  return escapeHtml(String(value))
}

export function html (strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? ''
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '')
  })
  return new SafeHtml(out)
}

/** Trusted markup (constant CSS and scripts only; never request or fixture data) */
export function raw (markup: string): SafeHtml {
  return new SafeHtml(markup)
}

/** JSON for a <pre> block, escaped */
export function jsonBlock (value: unknown): SafeHtml {
  return html`<pre class="json"><code>${JSON.stringify(value, null, 2)}</code></pre>`
}
