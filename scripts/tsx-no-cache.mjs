// Loaded before tsx (`node --import ./scripts/tsx-no-cache.mjs --import tsx ...`): tsx keeps its
// cache of compiled files in the system temp folder (os.tmpdir()/tsx-<uid>), and nothing of this
// project may live outside the checkout. Set here, not as `VAR=1 node ...` in package.json, so the
// npm scripts run the same in every shell; the processes these scripts start inherit it.
process.env.TSX_DISABLE_CACHE = '1'
