import globals from 'globals'
import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'coverage/**', '.tap/**', 'node_modules/**'] }),
  // The demo's static browser scripts: browser modules, not Node
  {
    files: ['src/demo/public/**/*.js'],
    languageOptions: { sourceType: 'module', globals: { ...globals.browser } }
  }
]
