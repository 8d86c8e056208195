// What the user reads when something fails: SIP answers and browser errors as plain sentences.
// Pure: no DOM, no JsSIP; the tests and the UI share it.

/* What a SIP status means for the person calling (RFC 3261 §21, RFC 3398-style wording). */
const CALL_STATUS = {
  403: 'the call was refused',
  404: 'that number is not known',
  408: 'nobody answered in time',
  480: 'the person is not available right now',
  484: 'the number is incomplete',
  486: 'the line is busy',
  487: 'the call was cancelled',
  488: 'the call could not agree on audio (no common codec or media)',
  500: 'the phone system had an internal error',
  503: 'the phone system is not reachable or overloaded; try again shortly',
  504: 'the phone system did not answer in time',
  600: 'the line is busy everywhere',
  603: 'the call was declined',
  604: 'that number does not exist anywhere',
};

/**
 * The message for a call that failed. status and reason come from the SIP response (absent
 * when no response arrived); cause is JsSIP's cause string ('Connection Error', …).
 */
export function callFailureText(status, reason, cause) {
  if (status) {
    const meaning = CALL_STATUS[status] || (status >= 500 ? 'the phone system failed' : 'the call failed');
    return `Call failed: ${status} ${reason || ''}`.trimEnd() + ` — ${meaning}.`;
  }
  switch (cause) {
    case 'Connection Error':
      return 'Call failed: the connection to the gateway is down.';
    case 'Request Timeout':
      return 'Call failed: the gateway did not answer in time.';
    case 'User Denied Media Access':
      return microphoneText({ name: 'NotAllowedError' });
    case 'WebRTC Error':
    case 'Bad Media Description':
      return 'Call failed: the browser could not set up the audio (WebRTC error).';
    case 'RTP Timeout':
      return 'Call ended: no audio arrived for too long.';
    default:
      return `Call failed: ${cause || 'unknown reason'}.`;
  }
}

/** The message for a refused or failed registration. */
export function registrationFailureText(status, reason, cause) {
  if (status === 401 || status === 403 || status === 407 || cause === 'Authentication Error')
    return `Sign-in refused${status ? ` (${status} ${reason || ''})`.replace(/ \)$/, ')') : ''}: check the user and password.`;
  if (status === 404) return `Sign-in refused (404 ${reason || 'Not Found'}): this user is not known.`;
  if (status === 503) return `Sign-in failed (503 ${reason || 'Service Unavailable'}): the phone system is not reachable.`;
  if (status) return `Sign-in failed: ${status} ${reason || ''}`.trimEnd() + '.';
  if (cause === 'Request Timeout') return 'Sign-in failed: the gateway did not answer in time.';
  return 'Sign-in failed: the connection to the gateway is down.';
}

/** The message for a getUserMedia failure (a DOMException or anything with a name). */
export function microphoneText(err) {
  switch (err && err.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'Microphone access was denied. Allow the microphone for this site in the browser, then try again.';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'No microphone was found. Plug one in or choose another under Audio devices.';
    case 'NotReadableError':
      return 'The microphone is in use by another program or could not be opened.';
    default:
      return `The microphone could not be opened: ${(err && err.message) || err}.`;
  }
}
