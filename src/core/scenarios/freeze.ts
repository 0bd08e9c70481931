// Scenario definitions are shared by the engine, the control API and the journal: freezing them
// makes an accidental change by one of them fail loudly instead of altering the others.
export function deepFreeze<T> (value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}
