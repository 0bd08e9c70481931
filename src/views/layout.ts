// The page shell shared by the demo app, the simulated operator network and the dashboard: one
// small inline stylesheet, a header with the emulator's surfaces, and the page's CSP with its
// per-response script nonce. The headers every HTML response needs are html-security-headers.ts's.
import { randomBytes } from 'node:crypto'
import type { FastifyReply } from 'fastify'
import { html, raw, type SafeHtml } from './html.js'

export type Section = 'demo' | 'dashboard' | 'operator'

export interface PageOptions {
  title: string
  /** Which header link is current; the operator page shows its own header */
  section: Section
  body: SafeHtml
  /** Inline script (constant text), run with the response's CSP nonce */
  script?: string
  /** A same-origin script file (a browser module), loaded with the response's CSP nonce */
  scriptSrc?: string
  nonce: string
  /** Whether to link the dashboard (the control API may be off) */
  dashboard?: boolean
  /** Heading shown in the top bar instead of the product name (the operator page) */
  brand?: string
}

export function newNonce (): string {
  return randomBytes(16).toString('base64')
}

export interface PagePolicyOptions {
  /**
   * Origins a form on the page may lead to besides this one: browsers check form-action on the
   * redirects after a submission too (the SIM picker's answer redirects to the client)
   */
  formTargets?: readonly string[]
}

/** The CSP of a page rendered here: scripts only with this response's nonce */
export function pagePolicy (nonce: string, options: PagePolicyOptions = {}): string {
  const formAction = ["'self'", ...new Set(options.formTargets ?? [])].join(' ')
  return `default-src 'self'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; img-src 'self' data:; ` +
    `base-uri 'none'; form-action ${formAction}; frame-ancestors 'none'`
}

/** A page of the emulator with its CSP; the other security headers are added to every HTML answer */
export function sendPage (reply: FastifyReply, status: number, page: SafeHtml, nonce: string,
  options: PagePolicyOptions = {}): FastifyReply {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', pagePolicy(nonce, options))
    .send(page.value)
}

const STYLE = `
:root{--fg:#1b1f24;--muted:#4d5761;--bg:#f4f6f8;--card:#fff;--line:#d0d7de;--accent:#0a58a8;--accent-fg:#fff;
--ok:#0f5c2a;--ok-bg:#dcf5e3;--bad:#9a0f24;--bad-bg:#ffe9e7;--warn:#6b4300;--warn-bg:#fff4c2;--code:#eef1f4}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
a{color:var(--accent)}
a:hover{text-decoration-thickness:2px}
:focus-visible{outline:3px solid #1f6feb;outline-offset:2px}
.skip{position:absolute;left:-999px;top:0;background:#fff;padding:.5rem 1rem;z-index:10}
.skip:focus{left:.5rem}
header.top{background:#102a43;color:#fff}
header.top .bar{max-width:76rem;margin:0 auto;padding:.7rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;\
align-items:center}
header.top .brand{font-weight:700;font-size:1.05rem;color:#fff;text-decoration:none}
header.top nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1rem}
header.top nav a{color:#d9e8ff;text-decoration:none;padding:.2rem 0;border-bottom:2px solid transparent}
header.top nav a:hover{color:#fff;border-bottom-color:#8fbcff}
header.top nav a[aria-current=page]{color:#fff;border-bottom-color:#fff}
header.operator{background:#5b2a86}
main{max-width:76rem;margin:0 auto;padding:1.25rem 1rem 3rem}
h1{font-size:1.6rem;margin:.2rem 0 1rem;line-height:1.25}
h2{font-size:1.2rem;margin:0 0 .75rem}
h3{font-size:1rem;margin:1rem 0 .5rem}
p{margin:.4rem 0 .8rem}
.lead{color:var(--muted);max-width:52rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:1.1rem 1.25rem;margin:0 0 1.25rem}
.grid{display:grid;gap:1.25rem;grid-template-columns:repeat(auto-fit,minmax(min(100%,24rem),1fr))}
.grid{margin:0 0 1.25rem}
.grid>.card{margin:0}
.muted{color:var(--muted)}
small{font-size:.85rem}
code,pre,kbd{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
code{background:var(--code);padding:.05rem .3rem;border-radius:4px;overflow-wrap:anywhere}
pre{background:var(--code);padding:.75rem;border-radius:6px;overflow:auto;margin:.4rem 0 .8rem;max-height:28rem}
pre code{background:none;padding:0}
pre.json{white-space:pre-wrap;overflow-wrap:anywhere}
.nowrap,.nowrap code{white-space:nowrap;overflow-wrap:normal}
label{font-weight:600;display:block;margin:0 0 .3rem}
.field{margin:0 0 1rem}
.hint{font-weight:400;color:var(--muted);font-size:.88rem;margin:.25rem 0 0}
input[type=text],input[type=tel],input[type=password],select{font:inherit;width:100%;max-width:34rem;\
padding:.5rem .6rem;border:1px solid #8c959f;border-radius:6px;background:#fff;color:var(--fg)}
input:focus,select:focus{border-color:var(--accent)}
fieldset{border:1px solid var(--line);border-radius:8px;padding:.6rem 1rem .4rem;margin:0 0 1rem;max-width:34rem}
legend{font-weight:600;padding:0 .3rem}
.choice{display:flex;gap:.5rem;align-items:flex-start;margin:.3rem 0}
.choice label{font-weight:400;margin:0}
.choice input{margin-top:.3rem}
button,.button{font:inherit;font-weight:600;display:inline-block;padding:.55rem 1.1rem;border-radius:6px;\
border:1px solid var(--accent);background:var(--accent);color:var(--accent-fg);cursor:pointer;text-decoration:none}
button:hover,.button:hover{background:#084887}
button.secondary,.button.secondary{background:#fff;color:var(--accent)}
button.secondary:hover,.button.secondary:hover{background:#eaf2fb}
button.link{background:none;border:0;padding:0;color:var(--accent);text-decoration:underline;font-weight:400;\
cursor:pointer}
.actions{display:flex;flex-wrap:wrap;gap:.75rem;align-items:center;margin-top:1rem}
.errors{border:1px solid var(--bad);background:var(--bad-bg);color:var(--bad);border-radius:8px;padding:.6rem 1rem;\
margin:0 0 1rem}
.table-wrap{overflow-x:auto;margin:0 0 .5rem}
table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{text-align:left;vertical-align:top;padding:.45rem .6rem;border-bottom:1px solid var(--line)}
th{font-weight:600;color:var(--muted);background:#f9fafb;white-space:nowrap}
tbody tr:hover{background:#f9fbfd}
table.compact{font-size:.86rem}
table.compact th,table.compact td{padding:.4rem .45rem}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.badge{display:inline-block;font-size:.8rem;font-weight:600;padding:.05rem .45rem;border-radius:999px;\
border:1px solid var(--line);background:#f3f4f6;color:var(--fg);white-space:nowrap;margin:0 .2rem .2rem 0}
.badge.ok{background:var(--ok-bg);border-color:#8ad19f;color:var(--ok)}
.badge.bad{background:var(--bad-bg);border-color:#f3a9a3;color:var(--bad)}
.badge.warn{background:var(--warn-bg);border-color:#e3c75b;color:var(--warn)}
.badge.info{background:#e6f0fb;border-color:#9cc3ee;color:#0a3f7a}
.verdict{border-radius:10px;padding:1.1rem 1.25rem;margin:0 0 1.25rem;border:2px solid}
.verdict h1{margin:0 0 .35rem}
.verdict p{margin:0}
.verdict.ok{background:var(--ok-bg);border-color:#2f9e57;color:var(--ok)}
.verdict.bad{background:var(--bad-bg);border-color:#d1453b;color:var(--bad)}
.verdict.warn{background:var(--warn-bg);border-color:#c99a06;color:var(--warn)}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;margin:0}
dl.facts dt{font-weight:600;color:var(--muted)}
dl.facts dd{margin:0;overflow-wrap:anywhere}
.bar-track{background:#e6e9ed;border-radius:3px;height:.55rem;min-width:5rem;position:relative}
.bar-fill{background:#3b82c4;border-radius:3px;height:100%;min-width:2px}
.status-0 .bar-fill,.status-err .bar-fill{background:#d1453b}
.switch{display:inline-flex;align-items:center;gap:.5rem;cursor:pointer;margin:0;font-weight:600}
.switch input{appearance:none;-webkit-appearance:none;width:2.5rem;height:1.4rem;border-radius:999px;\
background:#8c959f;position:relative;cursor:pointer;margin:0;flex:none;transition:background .15s}
.switch input::after{content:"";position:absolute;top:.15rem;left:.15rem;width:1.1rem;height:1.1rem;border-radius:50%;\
background:#fff;transition:left .15s}
.switch input:checked{background:#1a7f37}
.switch input:checked::after{left:1.25rem}
.switch input:disabled{opacity:.5;cursor:wait}
.sims{list-style:none;margin:0;padding:0;display:grid;gap:.75rem}
.sims button{width:100%;text-align:left;background:#fff;color:var(--fg);border:1px solid var(--line);\
padding:.8rem 1rem;display:flex;justify-content:space-between;gap:1rem;flex-wrap:wrap;align-items:center}
.sims button:hover{background:#f5f0fa;border-color:#5b2a86}
.sims .msisdn{font-size:1.1rem;font-weight:700}
.sims .about{font-weight:400;color:var(--muted)}
.toolbar{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;margin:0 0 .75rem}
.toolbar .spacer{flex:1}
.sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);\
white-space:nowrap;border:0}
nav.sections{padding:0 0 .5rem;margin:0 0 .75rem;border-bottom:1px solid var(--line)}
nav.sections ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.4rem 1.2rem}
.empty{color:var(--muted);font-style:italic}
@media (max-width:40rem){body{font-size:14px}main{padding:1rem .6rem 2rem}.card{padding:.9rem}h1{font-size:1.35rem}\
dl.facts{grid-template-columns:1fr}dl.facts dd{margin-bottom:.4rem}}
@media (prefers-reduced-motion:reduce){*{transition:none!important}}
`

export function renderPage (options: PageOptions): SafeHtml {
  const current = (section: Section): string | undefined => section === options.section ? 'page' : undefined
  const links = html`
<li><a href="/demo" ${ariaCurrent(current('demo'))}>Demo app</a></li>
${options.dashboard !== false
? html`<li><a href="/_emulator/ui" ${ariaCurrent(current('dashboard'))}>Dashboard</a>\
</li>`
: ''}
<li><a href="/docs">API docs</a></li>`
  const header =
    options.section === 'operator'
      ? html`<header class="top operator"><div class="bar"><span class="brand">${options.brand ?? 'Operator'}</span>\
<span>Simulated operator network · camara-nv-emulator</span></div></header>`
      : html`<header class="top"><div class="bar"><a class="brand" href="/demo">camara-nv-emulator</a>\
<nav aria-label="Emulator"><ul>${links}</ul></nav></div></header>`
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${options.title} · camara-nv-emulator</title>
<style>${raw(STYLE)}</style>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
${header}
<main id="main">
${options.body}
</main>
${options.script === undefined ? '' : html`<script nonce="${options.nonce}">${raw(options.script)}</script>`}
${options.scriptSrc === undefined
? ''
: html`<script type="module" nonce="${options.nonce}" \
src="${options.scriptSrc}"></script>`}
</body>
</html>
`
}

function ariaCurrent (value: string | undefined): SafeHtml {
  return value === undefined ? html`` : html`aria-current="${value}"`
}
