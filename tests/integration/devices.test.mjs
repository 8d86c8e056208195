// The device registry end to end: rtcgatectl device add|set|enable|disable|remove|list on the store
// of a running rtcgate (which notices without a restart), the admin API /api/v1/devices with good,
// wrong and missing tokens and hostile JSON, and /config with and without HTTP Basic auth.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  basicAuth,
  ctl,
  getJson,
  metrics,
  parseResponse,
  rawExchange,
  request,
  startRtcgate,
} from './lib/rtcgate.mjs';

const TOKEN = 'integration-token-0123456789';
const SECRETS = ['eve-secret-1', 'frank-secret-1', 'stdin-secret-1', 'api-secret-1', 'pbx-pass-xyz'];

let gw;
before(async () => {
  gw = await startRtcgate({
    turn: true,
    overrides: ['turn.secrets=devices-test-secret', `http.api_token=${TOKEN}`, 'http.max_body_bytes=4096'],
  });
});
after(async () => {
  /* whatever happened, no secret reached the log */
  const leaked = gw?.stderrLines.filter((l) => SECRETS.some((s) => l.includes(s)));
  await gw?.stopClean();
  assert.deepEqual(leaked, []);
});

/** /config as JSON, with Basic credentials when user is given (raw header when auth is given). */
async function config({ user, pass, auth } = {}) {
  const headers = {};
  if (auth) headers.authorization = auth;
  else if (user) headers.authorization = basicAuth(user, pass);
  const r = await getJson(gw, '/config', { headers });
  assert.equal(r.status, 200);
  return r.json;
}

const turnEntries = (cfg) => cfg.iceServers.filter((s) => /^turns?:/.test(s.urls[0]));

/** STUN only: no turn: URL and no credential fields at all. */
function assertStunOnly(cfg) {
  assert.equal(turnEntries(cfg).length, 0, JSON.stringify(cfg));
  assert.ok(cfg.iceServers.length >= 1);
  for (const s of cfg.iceServers) {
    assert.match(s.urls[0], /^stun:/);
    assert.equal(s.username, undefined);
    assert.equal(s.credential, undefined);
  }
}

/** The daemon's change log line for login and event, logged after mark. */
const changeSeen = (login, event, after) =>
  gw.waitForLog(new RegExp(`msg="device changed" login=${login} event=${event}\\b`), { after, timeoutMs: 5000 });

/** Parse `device list --json`. */
async function listJson() {
  const r = await ctl(gw, ['device', 'list', '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).devices;
}

describe('rtcgatectl device', () => {
  test('add, list (text and JSON), set, disable, enable, remove', async () => {
    let r = await ctl(gw, ['device', 'add', 'frank', '--secret', 'frank-secret-1', '--extension', '201',
      '--pbx-user', 'f201', '--pbx-password', 'pbx-pass-xyz', '--location', 'hq', '--max-calls', '3',
      '--display-name', 'Frank F', '--codecs', 'OPUS,pcmu']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'device "frank" added\n');
    let dev = (await listJson()).find((d) => d.login === 'frank');
    assert.deepEqual(
      { ...dev, created: undefined, updated: undefined },
      {
        login: 'frank', display_name: 'Frank F', enabled: true, extension: '201', pbx_user: 'f201',
        pbx_password_set: true, remote_access: false, location: 'hq', codecs: 'opus,pcmu', max_calls: 3,
        created: undefined, updated: undefined,
      },
    );
    r = await ctl(gw, ['device', 'list']);
    assert.match(r.stdout, /^LOGIN\s+ENABLED/);
    assert.match(r.stdout, /\nfrank\s+yes\s+no\s+201\s+f201\s+set\s+3\s+hq/);
    assert.ok(!r.stdout.includes('pbx-pass-xyz') && !r.stdout.includes('frank-secret-1'));

    r = await ctl(gw, ['device', 'set', 'frank', '--remote-access', '--max-calls', '5', '--pbx-password', '']);
    assert.equal(r.code, 0, r.stderr);
    dev = (await listJson()).find((d) => d.login === 'frank');
    assert.equal(dev.remote_access, true);
    assert.equal(dev.max_calls, 5);
    assert.equal(dev.pbx_password_set, false);
    assert.equal(dev.extension, '201', 'a partial update keeps the other fields');

    for (const [verb, enabled] of [['disable', false], ['enable', true]]) {
      r = await ctl(gw, ['device', verb, 'frank']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal((await listJson()).find((d) => d.login === 'frank').enabled, enabled);
    }
    r = await ctl(gw, ['device', 'remove', 'frank']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await listJson()).find((d) => d.login === 'frank'), undefined);
  });

  test('failed operations exit 1 with a one-line reason', async () => {
    assert.equal((await ctl(gw, ['device', 'add', 'dup', '--secret', 'dup-secret-1'])).code, 0);
    const cases = [
      [['device', 'add', 'dup', '--secret', 'dup-secret-2'], 'rtcgatectl: device "dup" exists\n'],
      [['device', 'add', "x'; DROP TABLE devices;--", '--secret', 'sql-secret-1'], /^rtcgatectl: login must be/],
      [['device', 'add', 'short', '--secret', 'abc'], /^rtcgatectl: secret must be 8 to 256/],
      [['device', 'add', 'codec', '--secret', 'codec-secret', '--codecs', 'opus,speex'], /^rtcgatectl: codecs /],
      [['device', 'add', 'calls', '--secret', 'calls-secret', '--max-calls', '0'], /^rtcgatectl: --max-calls must/],
      [['device', 'set', 'nobody', '--max-calls', '2'], 'rtcgatectl: no device "nobody"\n'],
      [['device', 'disable', 'nobody'], 'rtcgatectl: no device "nobody"\n'],
      [['device', 'remove', 'nobody'], 'rtcgatectl: no device "nobody"\n'],
      [['device', 'set', 'dup'], /^rtcgatectl: nothing to change/],
    ];
    for (const [args, want] of cases) {
      const r = await ctl(gw, args);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.code} ${r.stderr}`);
      if (typeof want === 'string') assert.equal(r.stderr, want);
      else assert.match(r.stderr, want);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    const names = (await listJson()).map((d) => d.login);
    assert.ok(names.includes('dup'), 'the table survived the SQL-ish login');
    for (const n of ['short', 'codec', 'calls']) assert.ok(!names.includes(n), `${n} was added`);
  });

  test('usage errors exit 2', async () => {
    for (const args of [
      ['device'],
      ['device', 'frob', 'x'],
      ['device', 'add'],
      ['device', 'add', 'a', 'b', '--secret', 'two-logins-1'],
      ['device', 'add', 'u', '--secret', 'unknown-opt', '--bogus'],
      ['device', 'add', 'u', '--secret', 'no-remote-x', '--no-remote-access'],
      ['device', 'list', 'extra'],
    ]) {
      const r = await ctl(gw, args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.code} ${r.stderr}`);
      assert.match(r.stderr, /usage: rtcgatectl/);
    }
  });

  test('--secret - reads the secret from stdin', async () => {
    const r = await ctl(gw, ['device', 'add', 'stdin', '--secret', '-', '--remote-access'], { input: 'stdin-secret-1\n' });
    assert.equal(r.code, 0, r.stderr);
    await changeSeen('stdin', 'added', 0);
    assert.equal(turnEntries(await config({ user: 'stdin', pass: 'stdin-secret-1' })).length, 3);
    assertStunOnly(await config({ user: 'stdin', pass: '-' }));
  });
});

describe('the running rtcgate sees CLI changes without a restart', () => {
  const auth = { user: 'eve', pass: 'eve-secret-1' };

  test('add, disable, enable, no-remote-access, remove: /config follows each step', async () => {
    let mark = gw.mark();
    assertStunOnly(await config(auth));
    let r = await ctl(gw, ['device', 'add', 'eve', '--secret', 'eve-secret-1', '--remote-access']);
    assert.equal(r.code, 0, r.stderr);
    await changeSeen('eve', 'added', mark);
    const turns = turnEntries(await config(auth));
    assert.equal(turns.length, 3);
    for (const t of turns) assert.match(t.username, /^\d+:eve$/);

    const steps = [
      [['disable', 'eve'], 'disabled', false],
      [['enable', 'eve'], 'enabled', true],
      [['set', 'eve', '--no-remote-access'], 'changed', false],
      [['set', 'eve', '--remote-access'], 'changed', true],
      [['remove', 'eve'], 'removed', false],
    ];
    for (const [args, event, turnWanted] of steps) {
      mark = gw.mark();
      r = await ctl(gw, ['device', ...args]);
      assert.equal(r.code, 0, r.stderr);
      await changeSeen('eve', event, mark);
      const cfg = await config(auth);
      if (turnWanted) assert.equal(turnEntries(cfg).length, 3, `${args.join(' ')}: ${JSON.stringify(cfg)}`);
      else assertStunOnly(cfg);
    }
  });
});

describe('/config and HTTP Basic auth', () => {
  before(async () => {
    assert.equal((await ctl(gw, ['device', 'add', 'remote', '--secret', 'remote-secret', '--remote-access'])).code, 0);
    assert.equal((await ctl(gw, ['device', 'add', 'local', '--secret', 'local-secret'])).code, 0);
  });

  test('without credentials: STUN only', async () => {
    assertStunOnly(await config());
  });

  test('a remote-access device gets TURN over UDP, TCP and TLS with <expiry>:<login>', async () => {
    const cfg = await config({ user: 'remote', pass: 'remote-secret' });
    const turns = turnEntries(cfg);
    assert.deepEqual(turns.map((t) => t.urls[0]), [
      `turn:127.0.0.1:${gw.turnPort}?transport=udp`,
      `turn:127.0.0.1:${gw.turnPort}?transport=tcp`,
      `turns:127.0.0.1:${gw.turnTlsPort}?transport=tcp`,
    ]);
    const [expiry, login] = turns[0].username.split(':');
    assert.equal(login, 'remote');
    assert.ok(Math.abs(Number(expiry) - (Date.now() / 1000 + 86400)) < 60, `expiry ${expiry}`);
  });

  test('wrong secret, unknown login, no remote access and malformed headers all look the same', async () => {
    const answers = [];
    for (const c of [
      { user: 'remote', pass: 'remote-secreT' },
      { user: 'nobody', pass: 'remote-secret' },
      { user: 'local', pass: 'local-secret' },
      { user: 'remote', pass: '' },
      { auth: 'Basic !!!!' },
      { auth: 'Basic ' + Buffer.from('remote').toString('base64') },
      { auth: 'Bearer remote-secret' },
      { auth: 'Basic ' + 'A'.repeat(3000) },
    ]) {
      const cfg = await config(c);
      assertStunOnly(cfg);
      answers.push(JSON.stringify(cfg));
    }
    answers.push(JSON.stringify(await config()));
    assert.equal(new Set(answers).size, 1, 'the answers differ');
  });

  test('rtcgate_config_auth_total counts granted and refused checks', async () => {
    const m0 = await metrics(gw);
    const granted = m0.sample('rtcgate_config_auth_total', { result: 'turn' }) ?? 0;
    const refused = m0.sample('rtcgate_config_auth_total', { result: 'refused' }) ?? 0;
    await config({ user: 'remote', pass: 'remote-secret' });
    await config({ user: 'remote', pass: 'nope-nope' });
    const m1 = await metrics(gw);
    assert.equal(m1.sample('rtcgate_config_auth_total', { result: 'turn' }), granted + 1);
    assert.equal(m1.sample('rtcgate_config_auth_total', { result: 'refused' }), refused + 1);
  });
});

/** One API request: {status, headers, body, json}. */
async function api(method, p, { body, token = TOKEN, headers = {} } = {}) {
  const h = { ...headers };
  if (token !== null) h.authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined) {
    payload = typeof body === 'string' ? body : JSON.stringify(body);
    h['content-type'] = 'application/json';
    h['content-length'] = Buffer.byteLength(payload);
  }
  const r = await request(gw, { method, path: p, headers: h, body: payload });
  let json;
  try {
    json = r.body ? JSON.parse(r.body) : undefined;
  } catch {
    json = undefined;
  }
  return { ...r, json };
}

describe('admin API /api/v1/devices', () => {
  test('off without http.api_token: 403 saying how to turn it on', async (t) => {
    const plain = await startRtcgate();
    t.after(() => plain.stopClean());
    const r = await request(plain, { path: '/api/v1/devices', headers: { authorization: 'Bearer anything-at-all-123' } });
    assert.equal(r.status, 403);
    assert.match(JSON.parse(r.body).error, /http\.api_token/);
  });

  test('a missing, wrong or non-Bearer token is 401 with WWW-Authenticate: Bearer', async () => {
    for (const opts of [
      { token: null },
      { token: 'wrong-token-0123456789' },
      { token: TOKEN + 'x' },
      { token: TOKEN.slice(0, -1) },
      { token: null, headers: { authorization: basicAuth('admin', TOKEN) } },
    ]) {
      const r = await api('GET', '/api/v1/devices', opts);
      assert.equal(r.status, 401, JSON.stringify(opts));
      assert.match(r.headers['www-authenticate'], /^Bearer/);
      assert.match(r.json.error, /token/);
    }
    const r = await api('POST', '/api/v1/devices', { token: 'wrong-token-0123456789', body: { login: 'sneaky', secret: 'sneaky-secret' } });
    assert.equal(r.status, 401);
    assert.equal((await api('GET', '/api/v1/devices/sneaky')).status, 404);
  });

  test('create, read, list, update, delete; secrets never echoed', async () => {
    let r = await api('POST', '/api/v1/devices', {
      body: { login: 'api1', secret: 'api-secret-1', pbx_password: 'pbx-pass-xyz', remote_access: true, max_calls: 4 },
    });
    assert.equal(r.status, 201, r.body);
    assert.equal(r.headers.location, '/api/v1/devices/api1');
    assert.equal(r.json.login, 'api1');
    assert.equal(r.json.pbx_password_set, true);
    assert.equal(r.json.max_calls, 4);
    assert.ok(!('secret' in r.json) && !('pbx_password' in r.json));
    assert.ok(!r.body.includes('api-secret-1') && !r.body.includes('pbx-pass-xyz'));
    await gw.waitForLog(/msg="device added via api" login=api1/);

    r = await api('POST', '/api/v1/devices', { body: { login: 'api1', secret: 'api-secret-2' } });
    assert.equal(r.status, 409);
    assert.equal(r.json.error, 'device "api1" exists');

    r = await api('GET', '/api/v1/devices/api1');
    assert.equal(r.status, 200);
    assert.equal(r.json.remote_access, true);
    r = await api('GET', '/api/v1/devices');
    assert.ok(r.json.devices.some((d) => d.login === 'api1'));
    assert.ok(!r.body.includes('api-secret-1') && !r.body.includes('pbx-pass-xyz'));

    /* the device works for /config at once, and stops when disabled through the API */
    assert.equal(turnEntries(await config({ user: 'api1', pass: 'api-secret-1' })).length, 3);
    r = await api('PATCH', '/api/v1/devices/api1', { body: { enabled: false } });
    assert.equal(r.status, 200);
    assert.equal(r.json.enabled, false);
    assert.equal(r.json.max_calls, 4, 'a partial update keeps the other fields');
    assertStunOnly(await config({ user: 'api1', pass: 'api-secret-1' }));
    r = await api('PUT', '/api/v1/devices/api1', { body: { enabled: true, codecs: 'PCMA', pbx_password: null } });
    assert.equal(r.status, 200);
    assert.equal(r.json.codecs, 'pcma');
    assert.equal(r.json.pbx_password_set, false);
    assert.equal(r.json.enabled, true);

    /* a new secret through the API replaces the old one */
    r = await api('PATCH', '/api/v1/devices/api1', { body: { secret: 'api-secret-1-new' } });
    assert.equal(r.status, 200);
    assertStunOnly(await config({ user: 'api1', pass: 'api-secret-1' }));
    assert.equal(turnEntries(await config({ user: 'api1', pass: 'api-secret-1-new' })).length, 3);

    r = await api('DELETE', '/api/v1/devices/api1');
    assert.equal(r.status, 200);
    assert.equal(r.json.removed, 'api1');
    assert.equal((await api('GET', '/api/v1/devices/api1')).status, 404);
    assert.equal((await api('DELETE', '/api/v1/devices/api1')).status, 404);
    assert.equal((await api('PATCH', '/api/v1/devices/api1', { body: { enabled: true } })).status, 404);
  });

  test('hostile JSON is 400 naming the field; nothing is written', async () => {
    const cases = [
      ['{"login":', null, /not valid JSON/],
      ['[1,2,3]', null, /JSON object/],
      ['"just a string"', null, /JSON object/],
      ['{"a":' + '['.repeat(2000) + ']'.repeat(2000) + '}', null, /nests too deep/],
      [{ login: 'h1', secret: 'hostile-secret', admin: true }, null, /unknown field "admin"/],
      [{ login: 'h1', secret: 'hostile-secret', enabled: 'yes' }, 'enabled', /enabled must be true or false/],
      [{ login: 'h1', secret: 'hostile-secret', max_calls: 1e9 }, 'max_calls', /max_calls must be/],
      [{ login: 'h1', secret: 'hostile-secret', max_calls: 2.5 }, 'max_calls', /integer/],
      [{ login: 'h1', secret: 'hostile-secret', extension: { x: 1 } }, 'extension', /string/],
      [{ login: "h1' OR '1'='1", secret: 'hostile-secret' }, 'login', /login must be/],
      [{ login: 'h1\u0000x', secret: 'hostile-secret' }, null, /NUL/],
      [{ login: 'h1', secret: 'short' }, 'secret', /secret must be/],
      [{ login: 'h1', secret: 'hostile-secret', display_name: 'x'.repeat(3000) }, 'display_name', /display_name/],
      [{ login: 'h1' }, 'secret', /secret is required/],
      [{ secret: 'hostile-secret' }, 'login', /login is required/],
    ];
    for (const [body, field, re] of cases) {
      const r = await api('POST', '/api/v1/devices', { body });
      const what = (typeof body === 'string' ? body : JSON.stringify(body)).slice(0, 60);
      assert.equal(r.status, 400, `${what}: ${r.status} ${r.body}`);
      assert.match(r.json.error, re, what);
      assert.equal(r.json.field, field ?? undefined, what);
    }
    assert.ok(!(await api('GET', '/api/v1/devices')).json.devices.some((d) => d.login.startsWith('h1')));
    await api('POST', '/api/v1/devices', { body: { login: 'h2', secret: 'hostile-secret' } });
    const r = await api('PATCH', '/api/v1/devices/h2', { body: { login: 'h3' } });
    assert.equal(r.status, 400);
    assert.equal(r.json.field, 'login');
  });

  test('a body over http.max_body_bytes is 413; no Content-Length is 411', async () => {
    const big = JSON.stringify({ login: 'big', secret: 'big-secret-1', display_name: 'x'.repeat(5000) });
    const r = await api('POST', '/api/v1/devices', { body: big });
    assert.equal(r.status, 413);
    assert.match(r.json.error, /too large/);
    const raw = await rawExchange(
      gw.httpPort,
      `POST /api/v1/devices HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\n` +
        'Transfer-Encoding: chunked\r\n\r\n5\r\n{"a":\r\n0\r\n\r\n',
    );
    assert.equal(parseResponse(raw.data)?.status, 411, raw.data);
    assert.equal((await api('GET', '/api/v1/devices/big')).status, 404);
  });

  test('unknown routes and methods', async () => {
    assert.equal((await api('GET', '/api/v1/nothing')).status, 404);
    assert.equal((await api('GET', '/api/v1/devices/a/b')).status, 404);
    assert.equal((await api('GET', '/api/v1/devices/bad%20login')).status, 404);
    const r = await api('DELETE', '/api/v1/devices');
    assert.equal(r.status, 405);
    assert.match(r.headers.allow, /POST/);
  });

  test('API requests are counted by status', async () => {
    const before = (await metrics(gw)).sample('rtcgate_http_requests_total', { route: 'api', status: '401' }) ?? 0;
    await api('GET', '/api/v1/devices', { token: null });
    await api('GET', '/api/v1/devices', { token: 'nope-nope-nope-nope' });
    const afterValue = (await metrics(gw)).sample('rtcgate_http_requests_total', { route: 'api', status: '401' });
    assert.equal(afterValue - before, 2);
  });
});
