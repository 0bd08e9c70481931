// TypeBox schemas of the Number Verification API (CAMARA), shared by routes and the OpenAPI document.
import { Type, type Static } from '@sinclair/typebox'
import { E164_PATTERN } from '../core/phone-number.js'

export const ErrorInfoSchema = Type.Object({
  status: Type.Integer({ minimum: 100, maximum: 599 }),
  code: Type.String({ examples: ['UNAUTHENTICATED'] }),
  message: Type.String()
}, { $id: 'ErrorInfo', description: 'CAMARA ErrorInfo' })
export type ErrorInfo = Static<typeof ErrorInfoSchema>

export const PhoneNumberSchema = Type.String({ pattern: E164_PATTERN, maxLength: 16, examples: ['+34666666666'] })

export const VerifyRequestSchema = Type.Object(
  {
    phoneNumber: Type.Optional(PhoneNumberSchema),
    hashedPhoneNumber: Type.Optional(
      Type.String({
        pattern: '^[a-fA-F0-9]{64}$',
        description: 'SHA-256 hex of the E.164 number including its +',
        examples: ['7d3f9b5fbbd7c1e8db1c8f0a7a5a5b9b8a8f4e4a1b6f0e2a4b5f3c9d6e1a2b3c']
      })
    )
  },
  {
    description: 'Exactly one of phoneNumber or hashedPhoneNumber',
    minProperties: 1,
    maxProperties: 1,
    additionalProperties: false
  }
)

export const CamaraVerifyResponseSchema = Type.Object({
  devicePhoneNumberVerified: Type.Boolean()
}, { description: 'CAMARA NumberVerificationMatchResponse' })

export const AggregatorVerifyResponseSchema = Type.Object(
  {
    devicePhoneNumberVerified: Type.Boolean(),
    // A type list, not a union: the serializer then writes it without trying each branch
    assessedAt: Type.Unsafe<string | null>({
      type: ['string', 'null'],
      format: 'date-time',
      description: 'When the network assessed the number (nullable)'
    })
  },
  { description: 'The aggregator verify response' }
)

export const ShareResponseSchema = Type.Object({
  devicePhoneNumber: PhoneNumberSchema
}, { description: 'CAMARA NumberVerificationShareResponse' })

export const CorrelatorHeadersSchema = Type.Object({
  'x-correlator': Type.Optional(
    Type.String({
      pattern: '^[a-zA-Z0-9-_:;.\\/<>{}]{0,256}$',
      description: 'Echoed in the response; generated when absent'
    })
  ),
  'x-correlation-id': Type.Optional(
    Type.String({ description: 'The aggregator correlation header; echoed like x-correlator' })
  )
})

/** A 204 answer, documented as such in the OpenAPI document */
export const NoContentSchema = Type.Null({ description: 'No content' })
