import t from 'tap'
import { E164, HASHED_PHONE_NUMBER, hashPhoneNumber, isE164 } from '../../src/core/phone-number.js'

t.test('isE164 accepts + then 5 to 15 digits with no leading zero', async (t) => {
  for (const value of ['+34666666666', '+919036499174', '+12345', '+123456789012345']) {
    t.equal(isE164(value), true, value)
  }
})

t.test('isE164 rejects what CAMARA\'s phoneNumber pattern rejects', async (t) => {
  const bad = [
    '34666666666',
    '+1234',
    '+1234567890123456',
    '+0666666666',
    '+34 666 666 666',
    '+34-666666666',
    'tel:+34666666666',
    '',
    '+',
    '+34666666666\n'
  ]
  for (const value of bad) t.equal(isE164(value), false, JSON.stringify(value))
  t.equal(E164.source, '^\\+[1-9][0-9]{4,14}$', 'the pattern of the CAMARA spec')
})

t.test('hashPhoneNumber is the SHA-256 hex of the number including its +', async (t) => {
  // printf '+34666666666' | sha256sum
  t.equal(hashPhoneNumber('+34666666666'), '3ffdd5fed312a04d147a2f4bece733bf77cb35528112fd83cd5e01590dfb616b')
  t.not(hashPhoneNumber('+34666666666'), hashPhoneNumber('34666666666'), 'the + is part of what is hashed')
  t.match(hashPhoneNumber('+919036499174'), HASHED_PHONE_NUMBER)
})

t.test('HASHED_PHONE_NUMBER accepts 64 hex digits of either case only', async (t) => {
  t.equal(HASHED_PHONE_NUMBER.test('3FFDD5FED312A04D147A2F4BECE733BF77CB35528112FD83CD5E01590DFB616B'), true)
  t.equal(
    HASHED_PHONE_NUMBER.test('3ffdd5fed312a04d147a2f4bece733bf77cb35528112fd83cd5e01590dfb616'),
    false,
    '63 digits'
  )
  t.equal(
    HASHED_PHONE_NUMBER.test('3ffdd5fed312a04d147a2f4bece733bf77cb35528112fd83cd5e01590dfb616bb'),
    false,
    '65 digits'
  )
  t.equal(
    HASHED_PHONE_NUMBER.test('gffdd5fed312a04d147a2f4bece733bf77cb35528112fd83cd5e01590dfb616b'),
    false,
    'not hex'
  )
})
