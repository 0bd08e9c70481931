// Reading the presenter's choices from the demo form (or a "verify again" link), with the
// problems a user should be told about, and the form's lists (devices, scenarios).
import type { Emulator } from '../core/emulator.js'
import { isE164 } from '../core/phone-number.js'
import type { DemoFormValues, DemoFormView } from './views/demo.js'
import { BROWSER_DEVICE, deviceOptions } from './devices.js'

const LEG_GROUPS: Array<[string, string]> = [
  ['authorize', 'Gateway authorize'],
  ['operator', 'Operator leg'],
  ['token', 'Token endpoint'],
  ['verify', 'Verify and share'],
  ['share', 'Verify and share'],
  ['operator-token', 'Wi-Fi path: operator token'],
  ['bc-authorize', 'Wi-Fi path: CIBA'],
  ['ciba-decision', 'Wi-Fi path: CIBA']
]

function text (input: Record<string, unknown>, name: string): string {
  const value = input[name]
  return typeof value === 'string' ? value.trim() : ''
}

export function defaultValues (emulator: Emulator): DemoFormValues {
  const first = emulator.directory.fixtures.subscribers[0]?.msisdn
  return { device: first ?? BROWSER_DEVICE, claimed: first ?? '', hint: 'konera', scenario: '', promptNone: false }
}

/** Values as given, each problem in words; unknown values fall back to defaults when `lenient` */
export function readChoices (
  emulator: Emulator, input: Record<string, unknown>, options: { lenient: boolean }
): { values: DemoFormValues, errors: string[] } {
  const defaults = defaultValues(emulator)
  const errors: string[] = []
  const device = text(input, 'device')
  const claimed = text(input, 'claimed').replace(/[\s()-]/g, '')
  const hint = text(input, 'hint')
  const scenario = text(input, 'scenario')
  const values: DemoFormValues = {
    device: device === '' && options.lenient ? defaults.device : device,
    claimed: claimed === '' && options.lenient ? defaults.claimed : claimed,
    hint: hint === 'ipport' ? 'ipport' : hint === 'operator-token' ? 'operator-token' : 'konera',
    scenario,
    promptNone: ['1', 'on', 'true', 'none'].includes(text(input, 'promptNone').toLowerCase())
  }
  if (values.device !== BROWSER_DEVICE && emulator.directory.subscriber(values.device) === undefined) {
    if (options.lenient) values.device = defaults.device
    else {
      errors.push(values.device === ''
        ? 'Choose a simulated device.'
        : `There is no subscriber ${values.device} in the fixtures.`)
    }
  }
  if (values.hint === 'operator-token' && values.device === BROWSER_DEVICE) {
    if (options.lenient) values.hint = 'konera'
    else errors.push('The Wi-Fi path needs a simulated device: its SIM asks its operator for the operator token.')
  }
  if (!isE164(values.claimed) && !options.lenient) {
    errors.push(values.claimed === ''
      ? 'Enter the phone number the user claims.'
      : `"${values.claimed}" is not a phone number in international format (like +34666666666).`)
  }
  if (values.scenario !== '' && emulator.scenarios.get(values.scenario) === undefined) {
    if (options.lenient) values.scenario = ''
    else errors.push(`There is no scenario "${values.scenario}".`)
  }
  return { values, errors }
}

export function formLists (emulator: Emulator): Pick<DemoFormView, 'devices' | 'scenarios'> {
  const scenarios = emulator.scenarios.list().map((listing) => {
    const operations = listing.scenario.match?.operations
    const group = operations === undefined
      ? 'Every leg'
      : [...new Set(operations.map((op) => LEG_GROUPS.find(([name]) => name === op)?.[1] ?? op))].join(', ')
    return { name: listing.name, description: listing.description, group }
  })
  return { devices: deviceOptions(emulator.directory), scenarios }
}

/** A link back to the form with the same choices */
export function retryUrl (values: DemoFormValues): string {
  const query = new URLSearchParams({ device: values.device, claimed: values.claimed, hint: values.hint })
  if (values.scenario !== '') query.set('scenario', values.scenario)
  if (values.promptNone) query.set('promptNone', '1')
  return `/demo?${query.toString()}`
}
