// What the page needs from rtcgate before it can register: GET /config (docs/http.md) and the
// WebSocket URL with the page's own ?phys= copied onto it (emergency location, DESIGN.md).

/* RFC 7617: base64 of the UTF-8 bytes of user:password */
function basic(user, password) {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  return 'Basic ' + btoa(String.fromCharCode(...bytes));
}

/**
 * Fetch /config with the device's credentials (HTTP Basic: only then does a remote-access
 * device get TURN servers). Resolves {websocketUrl, iceServers}; rejects with an Error whose
 * message the page can show.
 */
export async function loadConfig(user, password, fetchFn = fetch) {
  let res;
  try {
    res = await fetchFn('config', {
      headers: { Authorization: basic(user, password) },
      cache: 'no-store',
    });
  } catch {
    throw new Error('The gateway is not reachable (GET /config failed). Check the network.');
  }
  if (!res.ok) throw new Error(`The gateway refused GET /config: ${res.status} ${res.statusText}.`);
  const cfg = await res.json();
  if (typeof cfg.websocket_url !== 'string') throw new Error('The gateway sent a /config without websocket_url.');
  return { websocketUrl: cfg.websocket_url, iceServers: Array.isArray(cfg.iceServers) ? cfg.iceServers : [] };
}

/** wsUrl with ?phys=<location> taken from pageUrl's own phys parameter (URL-encoded), if any. */
export function withPhys(wsUrl, pageUrl) {
  const phys = new URL(pageUrl).searchParams.get('phys');
  if (!phys) return wsUrl;
  return `${wsUrl}${wsUrl.includes('?') ? '&' : '?'}phys=${encodeURIComponent(phys)}`;
}
