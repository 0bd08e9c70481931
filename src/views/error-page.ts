// The readable page a browser gets when an authorization error must not be redirected
// (unknown client, unregistered redirect_uri, a stale operator request).
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

export function escapeHtml (text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string)
}

export function renderErrorPage (error: string, description: string, hint: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Authorization error: ${escapeHtml(error)}</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1b1f24}
main{max-width:40rem;margin:4rem auto;padding:2rem;background:#fff;border:1px solid #d0d7de;border-radius:8px}
h1{font-size:1.4rem;margin-top:0;color:#a40e26}
code{background:#eef1f4;padding:.1rem .3rem;border-radius:4px}
</style>
</head>
<body>
<main>
<h1>This authorization request cannot continue</h1>
<p><strong>Error:</strong> <code>${escapeHtml(error)}</code></p>
<p>${escapeHtml(description)}</p>
<p>${escapeHtml(hint)}</p>
<p><small>camara-nv-emulator: for safety this error is shown here instead of being sent to an ` +
    `unverified redirect_uri.</small></p>
</main>
</body>
</html>
`
}
