import globals from 'globals'
import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'coverage/**', '.tap/**', 'node_modules/**'] }),
  // Lines of at most 120 characters; strings, templates and comments count too (only URLs and regular
  // expressions are exempt): split long strings with +, or with a backslash-newline inside html templates
  {
    rules: {
      '@stylistic/max-len': ['error', { code: 120, ignoreUrls: true, ignoreRegExpLiterals: true }]
    }
  },
  // The demo's static browser scripts: browser modules, not Node
  {
    files: ['src/demo/public/**/*.js'],
    languageOptions: { sourceType: 'module', globals: { ...globals.browser } }
  }
]
