// What the sample app tells its user when the flow fails, for each OAuth and CAMARA error: the
// words a real app would show, next to the raw error a developer reads.
export interface UserMessage {
  title: string
  text: string
}

const AUTHORIZE: Record<string, UserMessage> = {
  access_denied: {
    title: 'Verification was declined',
    text: 'Your mobile operator did not confirm this device. If you are on Wi-Fi, switch to mobile data and try ' +
      'again, or verify another way (for example with a code by SMS).'
  },
  login_required: {
    title: 'We could not confirm your number automatically',
    text: 'Your mobile operator could not recognise this device silently. ' +
      'Turn off Wi-Fi and VPN, use mobile data, and try again.'
  },
  consent_required: {
    title: 'Your permission is needed',
    text: 'Your mobile operator needs your consent before sharing this check. Try again and accept the request.'
  },
  interaction_required: {
    title: 'Your operator needs you to take action',
    text: 'Your mobile operator needs you to confirm something first. Try again.'
  },
  temporarily_unavailable: {
    title: 'Number verification is unavailable right now',
    text: 'The verification service is busy or down. Please try again in a few minutes.'
  },
  server_error: {
    title: 'Something went wrong at your mobile operator',
    text: 'The verification could not be completed. Please try again later.'
  },
  invalid_request: {
    title: 'This app made a mistake',
    text: 'The verification request was not accepted. This is a problem with the app, not with your phone.'
  },
  invalid_scope: {
    title: 'This app made a mistake',
    text: 'The app asked for a permission it may not use. This is a problem with the app, not with your phone.'
  },
  unauthorized_client: {
    title: 'This app is not allowed to verify numbers',
    text: 'The app is not registered for number verification.'
  },
  unsupported_response_type: {
    title: 'This app made a mistake',
    text: 'The verification request was not accepted. This is a problem with the app, not with your phone.'
  }
}

const CAMARA: Record<string, UserMessage> = {
  UNAVAILABLE: {
    title: 'Your mobile operator is not answering',
    text: 'Number verification is temporarily unavailable. Please try again in a few minutes.'
  },
  BAD_GATEWAY: {
    title: 'Your mobile operator is not answering',
    text: 'We could not reach your mobile operator. Please try again in a few minutes.'
  },
  TIMEOUT: { title: 'Your mobile operator took too long', text: 'The check did not finish in time. Please try again.' },
  TOO_MANY_REQUESTS: { title: 'Too many attempts', text: 'Please wait a little before trying again.' },
  QUOTA_EXCEEDED: {
    title: 'Verification is paused',
    text: 'This app has used up its verification allowance. Please try again later or verify another way.'
  },
  UNAUTHENTICATED: { title: 'Your session expired', text: 'Please start the verification again.' },
  PERMISSION_DENIED: {
    title: 'This app is not allowed to verify numbers',
    text: 'The check was refused. This is a problem with the app, not with your phone.'
  },
  'NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK': {
    title: 'Use mobile data to verify',
    text: 'Your operator could only confirm you another way. Turn off Wi-Fi, use mobile data, and try again.'
  },
  INVALID_TOKEN_CONTEXT: {
    title: 'We could not tell which number this device has',
    text: 'Please start the verification again.'
  },
  INVALID_ARGUMENT: {
    title: 'That phone number does not look right',
    text: 'Enter the number in international format, for example +34 666 666 666.'
  },
  INTERNAL: { title: 'Something went wrong', text: 'The verification could not be completed. Please try again later.' }
}

const FALLBACK: UserMessage = {
  title: 'Something went wrong',
  text: 'The verification could not be completed. Please try again later.'
}

export function authorizeErrorMessage (error: string): UserMessage {
  return AUTHORIZE[error] ?? FALLBACK
}

export function tokenErrorMessage (error: string | undefined, status: number): UserMessage {
  if (error === 'invalid_grant') {
    return { title: 'This verification link expired', text: 'Please start the verification again.' }
  }
  if (status >= 500 || error === 'server_error' || error === 'temporarily_unavailable') {
    return {
      title: 'Number verification is unavailable right now',
      text: 'The verification service failed. Please try again in a few minutes.'
    }
  }
  return {
    title: 'This app could not complete the verification',
    text: 'The app was refused by the verification service. This is a problem with the app, not with your phone.'
  }
}

export function apiErrorMessage (code: string | undefined): UserMessage {
  return (code === undefined ? undefined : CAMARA[code]) ?? FALLBACK
}

export const NETWORK_FAILURE: UserMessage = {
  title: 'We could not reach the verification service',
  text: 'The connection failed before an answer came back. Please check your connection and try again.'
}
