// Phone numbers as CAMARA sees them: E.164 with a leading '+', and the SHA-256 hashed form.
import { createHash } from 'node:crypto'

/** CAMARA's PhoneNumber pattern: the one source for schemas, checks and messages */
export const E164_PATTERN = '^\\+[1-9][0-9]{4,14}$'
export const E164 = new RegExp(E164_PATTERN)
export const HASHED_PHONE_NUMBER = /^[a-fA-F0-9]{64}$/

export function isE164 (value: string): boolean {
  return E164.test(value)
}

/** SHA-256 hex of the E.164 string including its leading '+', as CAMARA defines hashedPhoneNumber. */
export function hashPhoneNumber (msisdn: string): string {
  return createHash('sha256').update(msisdn).digest('hex')
}
