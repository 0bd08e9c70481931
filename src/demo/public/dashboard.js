// The dashboard's browser script (/_emulator/ui): loads the server-rendered sections with the
// admin token, follows the journal stream (a streaming fetch, since EventSource cannot send the
// token) and polls only while no stream is open, switches scenarios, shows one flow, and refreshes
// the conformance reports when rows of a client arrive (at most once a second, never on its own).
const root = document.getElementById('dashboard')
const needsToken = root.getAttribute('data-token-required') === 'true'
const maxRows = Number(root.getAttribute('data-journal-rows') || '200')
const key = 'camara-nv-emulator.admin-token'
// Flow ids are nanoids; anything else in the fragment is not a flow and is never fetched
const FLOW_ID = /^[A-Za-z0-9_-]{1,64}$/
const STREAM_RETRY_MS = 5000
const CONFORMANCE_EVERY_MS = 1000
let token = sessionStorage.getItem(key) || ''
const status = document.getElementById('status')
const tokenForm = document.getElementById('token-form')
const rows = document.getElementById('journal-rows')
let lastId = Number(rows.getAttribute('data-last-id') || '0')
let paused = false
let polling = null
let stream = null
let fetching = null
let again = false
let conformanceTimer = null
let conformanceAt = 0

function say (text) { status.textContent = text }

function api (path, options = {}) {
  const headers = { ...(options.headers || {}) }
  if (token) headers.authorization = 'Bearer ' + token
  return fetch(path, { ...options, headers }).then((res) => {
    if (res.status === 401) {
      showTokenForm('The admin token was refused: enter it again.')
      throw new Error('unauthorized')
    }
    return res
  })
}

/** A fragment of the dashboard's own routes, checked to be the one asked for before it is inserted */
function fragment (path, name) {
  return api(path).then((res) => {
    const type = res.headers.get('content-type') || ''
    const html = res.status === 204 || type.startsWith('text/html')
    if (!res.ok || !html || res.headers.get('x-dashboard-fragment') !== name) {
      throw new Error('unexpected answer from ' + path + ' (HTTP ' + res.status + ')')
    }
    return res
  })
}

function showTokenForm (message) {
  stopPolling()
  closeStream()
  tokenForm.hidden = false
  const problem = document.getElementById('token-error')
  problem.textContent = message || ''
  problem.hidden = !message
  document.getElementById('admin-token').focus()
}

function loadSection (name) {
  return fragment('/_emulator/ui/sections/' + name, name).then((res) => res.text())
    .then((markup) => { document.getElementById(name + '-section').innerHTML = markup })
}

/** The conformance section again: at once if it was not loaded within the last second, else when it is due */
function refreshConformance () {
  if (conformanceTimer !== null) return
  const wait = Math.max(0, conformanceAt + CONFORMANCE_EVERY_MS - Date.now())
  conformanceTimer = setTimeout(() => {
    conformanceAt = Date.now()
    loadSection('conformance').catch(() => {}).then(() => { conformanceTimer = null })
  }, wait)
}

/** Rows newer than the last shown; one request at a time, once more if asked meanwhile */
function fetchJournal () {
  if (paused) return Promise.resolve()
  if (fetching !== null) {
    again = true
    return fetching
  }
  fetching = fragment('/_emulator/ui/sections/journal?sinceId=' + lastId, 'journal').then((res) => {
    if (res.status === 204) return
    const newest = Number(res.headers.get('x-journal-last-id') || lastId)
    return res.text().then((markup) => {
      const before = rows.rows.length
      rows.insertAdjacentHTML('afterbegin', markup)
      // Only a client's requests change a report; the new rows are the first ones
      const added = Array.from(rows.rows).slice(0, rows.rows.length - before)
      if (added.some((row) => row.querySelector('[data-client]') !== null)) refreshConformance()
      while (rows.rows.length > maxRows) rows.deleteRow(rows.rows.length - 1)
      lastId = newest
      document.getElementById('journal-empty').hidden = rows.rows.length > 0
    })
  }).catch(() => {}).then(() => {
    fetching = null
    if (again) {
      again = false
      return fetchJournal()
    }
  })
  return fetching
}

function startPolling () {
  if (polling === null && stream === null) polling = setInterval(fetchJournal, 1000)
}

function stopPolling () {
  if (polling !== null) clearInterval(polling)
  polling = null
}

function closeStream () {
  if (stream !== null) stream.abort()
  stream = null
}

/** Server-sent events from a fetch body: each `entry` event asks for the new rows */
function readEvents (body, controller) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ''
  const pump = () => reader.read().then(({ done, value }) => {
    if (done || controller.signal.aborted) return
    buffer += value.replace(/\r\n?/g, '\n')
    const events = buffer.split('\n\n')
    buffer = events.pop()
    if (events.some((event) => /^event: entry$/m.test(event))) fetchJournal()
    return pump()
  })
  return pump()
}

/** Follows the journal stream; while it is open nothing polls; when it ends, polling resumes */
function openStream () {
  if (stream !== null) return
  const controller = new AbortController()
  stream = controller
  const headers = { accept: 'text/event-stream' }
  if (token) headers.authorization = 'Bearer ' + token
  fetch('/_emulator/journal/stream', { headers, signal: controller.signal, cache: 'no-store' }).then((res) => {
    if (!res.ok || res.body === null) throw new Error('HTTP ' + res.status)
    stopPolling()
    root.setAttribute('data-journal-live', 'stream')
    // What happened between the last poll and the stream's start
    fetchJournal()
    return readEvents(res.body, controller)
  }).catch(() => {}).then(() => {
    if (stream !== controller) return
    stream = null
    root.setAttribute('data-journal-live', 'polling')
    startPolling()
    setTimeout(openStream, STREAM_RETRY_MS)
  })
}

/** The flow named in the URL fragment, if it is a flow id: fetched encoded, inserted only as its fragment */
function showFlow () {
  const match = /(?:^#|&)flow=([^&]*)/.exec(location.hash)
  if (!match) return
  const panel = document.getElementById('flow-section')
  let flowId = ''
  try {
    flowId = decodeURIComponent(match[1])
  } catch {
    flowId = ''
  }
  if (!FLOW_ID.test(flowId)) {
    panel.replaceChildren(Object.assign(document.createElement('p'), {
      className: 'empty',
      textContent: 'That is not a flow id.'
    }))
    return
  }
  fragment('/_emulator/ui/sections/flows/' + encodeURIComponent(flowId), 'flow')
    .then((res) => res.text())
    .then((markup) => {
      panel.innerHTML = markup
      const title = document.getElementById('flow-title')
      if (title) title.focus()
    })
    .catch((error) => say('Could not show the flow: ' + error.message))
}

function follow () {
  openStream()
  startPolling()
  showFlow()
}

function loadAll () {
  return Promise.all([loadSection('scenarios'), loadSection('world')]).then(() => {
    tokenForm.hidden = true
    lastId = 0
    rows.innerHTML = ''
    return fetchJournal()
  }).then(() => {
    // Once: a no-op when the journal's rows of a client have asked for it already
    refreshConformance()
    follow()
    say('Connected.')
  }).catch(() => {})
}

tokenForm.addEventListener('submit', (event) => {
  event.preventDefault()
  token = document.getElementById('admin-token').value.trim()
  sessionStorage.setItem(key, token)
  loadAll()
})
document.getElementById('scenarios-section').addEventListener('change', (event) => {
  const input = event.target
  const name = input.getAttribute('data-scenario')
  if (!name) return
  input.disabled = true
  const on = input.checked
  api('/_emulator/scenarios/' + encodeURIComponent(name) + '/activate', { method: on ? 'POST' : 'DELETE' })
    .then((res) => {
      if (!res.ok && res.status !== 404) throw new Error('HTTP ' + res.status)
      say(name + (on ? ' is on: it applies from the next request.' : ' is off.'))
      return loadSection('scenarios')
    })
    .then(() => {
      const switched = document.querySelector('input[data-scenario="' + CSS.escape(name) + '"]')
      if (switched) switched.focus()
    })
    .catch((error) => {
      input.checked = !on
      input.disabled = false
      say('Could not change ' + name + ': ' + error.message)
    })
})
document.getElementById('deactivate-all').addEventListener('click', () => {
  api('/_emulator/activations', { method: 'DELETE' })
    .then(() => { say('Every scenario is off.'); return loadSection('scenarios') })
    .catch(() => {})
})
document.getElementById('pause').addEventListener('click', (event) => {
  paused = !paused
  event.target.setAttribute('aria-pressed', String(paused))
  event.target.textContent = paused ? 'Resume' : 'Pause'
  say(paused ? 'Journal paused.' : 'Journal live.')
  if (!paused) fetchJournal()
})
document.getElementById('clear-journal').addEventListener('click', () => {
  api('/_emulator/journal', { method: 'DELETE' }).then(() => {
    rows.innerHTML = ''
    document.getElementById('journal-empty').hidden = false
    say('Journal cleared.')
    refreshConformance()
  }).catch(() => {})
})
window.addEventListener('hashchange', showFlow)

if (needsToken) {
  if (token) loadAll(); else showTokenForm()
} else {
  follow()
}
