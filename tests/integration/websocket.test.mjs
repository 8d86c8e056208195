// WebSocket /sip: subprotocol and path checks, the ?phys= location, Origin rules, WSS, the connection gauge, message size limits (1009),
// and pings that find dead flows.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { metrics, startRtcgate } from './lib/rtcgate.mjs';
import { WebSocket, closeWs, closed, openWs, refusedUpgrade, roundTrip } from './lib/ws.mjs';

const MAX = 2048;

/** Open a flow and wait until the gateway logged it, so server-side state is settled. */
async function openFlow(gw, opts) {
  const mark = gw.mark();
  const ws = await openWs(gw, opts);
  await gw.waitForLog(/msg="flow open"/, { after: mark });
  return ws;
}

/** Close a flow from the client and wait until the gateway logged it closed. */
async function closeFlow(gw, ws) {
  const mark = gw.mark();
  const c = await closeWs(ws);
  await gw.waitForLog(/msg="flow closed"/, { after: mark });
  return c;
}

const gauge = async (gw) => (await metrics(gw)).sample('rtcgate_ws_connections');

describe('upgrade on the default configuration', () => {
  let gw;
  before(async () => (gw = await startRtcgate()));
  after(() => gw?.stopClean());

  /* the emergency location of the page (DESIGN.md): letters, digits and -_. kept, else ignored */
  for (const [query, want] of [
    ['?phys=hq-3.north_wing', 'hq-3.north_wing'],
    ['?a=1&phys=B7', 'B7'],
    ['?phys=Bldg%207', '-'],
    ['?physics=lab', '-'],
    ['?phys=', '-'],
    ['', '-'],
  ]) {
    test(`/sip${query} is logged with phys=${want}`, async () => {
      const mark = gw.mark();
      const ws = await openWs(gw, { url: gw.wsUrl + query });
      const { line } = await gw.waitForLog(/msg="flow open"/, { after: mark });
      assert.match(line, / phys=(\S+)$/);
      assert.equal(/ phys=(\S+)$/.exec(line)[1], want);
      await closeFlow(gw, ws);
    });
  }

  test('subprotocol sip is accepted and the gauge follows the flow', async () => {
    assert.equal(await gauge(gw), 0);
    const ws = await openFlow(gw);
    assert.equal(ws.protocol, 'sip');
    assert.equal(await gauge(gw), 1);
    const c = await closeFlow(gw, ws);
    assert.equal(c.code, 1000);
    assert.equal(await gauge(gw), 0);
  });

  test('WSS on the TLS port works too', async () => {
    const ws = await openFlow(gw, { url: gw.wssUrl });
    assert.equal(ws.protocol, 'sip');
    assert.equal(await gauge(gw), 1);
    await roundTrip(ws);
    await closeFlow(gw, ws);
    assert.equal(await gauge(gw), 0);
  });

  const refusals = [
    { name: 'no subprotocol', protocols: undefined, status: 400, body: /sip/ },
    { name: 'subprotocol foo only', protocols: ['foo'], status: 400, body: /sip/ },
    { name: 'path /other', path: '/other', protocols: ['sip'], status: 404, body: /\/sip/ },
    { name: 'path /other over WSS', path: '/other', tls: true, protocols: ['sip'], status: 404, body: /\/sip/ },
    { name: 'no subprotocol over WSS', tls: true, protocols: undefined, status: 400, body: /sip/ },
  ];
  for (const r of refusals) {
    test(`upgrade with ${r.name} is refused with ${r.status}`, async () => {
      const base = r.tls ? gw.wssUrl : gw.wsUrl;
      const url = r.path ? base.replace(/\/sip$/, r.path) : base;
      const res = await refusedUpgrade(gw, { url, protocols: r.protocols });
      assert.equal(res.status, r.status);
      assert.match(res.body, r.body);
      assert.equal(await gauge(gw), 0);
    });
  }

  test('same-origin Origin is accepted, a foreign one gets 403', async () => {
    const ws = await openFlow(gw, { origin: `http://127.0.0.1:${gw.httpPort}` });
    assert.equal(ws.protocol, 'sip');
    await closeFlow(gw, ws);
    const res = await refusedUpgrade(gw, { protocols: ['sip'], origin: 'https://evil.example' });
    assert.equal(res.status, 403);
    assert.match(res.body, /origin/);
  });
});

describe('http.allowed_origins=https://good.example', () => {
  let gw;
  before(async () => (gw = await startRtcgate({ overrides: ['http.allowed_origins=https://good.example'] })));
  after(() => gw?.stopClean());

  test('the listed origin is accepted', async () => {
    const ws = await openFlow(gw, { origin: 'https://good.example' });
    assert.equal(ws.protocol, 'sip');
    await closeFlow(gw, ws);
  });

  for (const origin of ['https://evil.example', 'http://good.example', 'https://good.example:8443']) {
    test(`origin ${origin} gets 403`, async () => {
      const res = await refusedUpgrade(gw, { protocols: ['sip'], origin });
      assert.equal(res.status, 403);
    });
  }

  test('with an explicit list the same origin is no longer enough', async () => {
    const res = await refusedUpgrade(gw, { protocols: ['sip'], origin: `http://127.0.0.1:${gw.httpPort}` });
    assert.equal(res.status, 403);
  });
});

describe(`message size limit (http.ws_max_message=${MAX})`, () => {
  let gw;
  before(async () => (gw = await startRtcgate({ overrides: [`http.ws_max_message=${MAX}`] })));
  after(() => gw?.stopClean());

  const tooBig = async () =>
    (await metrics(gw)).sample('rtcgate_ws_closed_total', { reason: 'message_too_big' }) ?? 0;

  test('a message over the limit closes the flow with 1009', async () => {
    const ws = await openFlow(gw);
    const before = await tooBig();
    ws.send('x'.repeat(2 * MAX));
    const c = await closed(ws, 'close after an oversized message');
    assert.equal(c.code, 1009);
    assert.equal((await tooBig()) - before, 1);
  });

  for (const size of [MAX - 1, MAX]) {
    test(`a ${size}-byte message keeps the flow open`, async () => {
      const ws = await openFlow(gw);
      const before = await tooBig();
      ws.send('x'.repeat(size));
      ws.send(Buffer.alloc(size, 1));
      await roundTrip(ws); // the server has read both messages by now
      assert.equal(ws.readyState, WebSocket.OPEN);
      assert.equal(await tooBig(), before);
      /* still alive: the same flow is closed by the next oversized message */
      ws.send('x'.repeat(MAX + 1));
      assert.equal((await closed(ws)).code, 1009);
    });
  }

  test('a fragmented message is limited as a whole', async () => {
    const ws = await openFlow(gw);
    const chunk = 'y'.repeat(MAX / 2);
    /* within the limit across two fragments: fine */
    ws.send(chunk, { fin: false });
    ws.send(chunk.slice(1), { fin: true });
    await roundTrip(ws);
    assert.equal(ws.readyState, WebSocket.OPEN);
    /* three fragments each under the limit, together over it */
    ws.send(chunk, { fin: false });
    ws.send(chunk, { fin: false });
    ws.send(chunk, { fin: true });
    assert.equal((await closed(ws, 'close after an oversized fragmented message')).code, 1009);
  });

  test('another open flow is not affected when one is closed for size', async () => {
    const bystander = await openFlow(gw);
    const offender = await openFlow(gw);
    assert.equal(await gauge(gw), 2);
    const mark = gw.mark();
    offender.send(Buffer.alloc(2 * MAX));
    assert.equal((await closed(offender)).code, 1009);
    await gw.waitForLog(/msg="flow closed"/, { after: mark });
    await roundTrip(bystander);
    assert.equal(bystander.readyState, WebSocket.OPEN);
    assert.equal(await gauge(gw), 1);
    await closeFlow(gw, bystander);
  });
});

describe('http.ws_ping_interval=1, http.ws_ping_timeout=1', () => {
  let gw;
  before(async () => (gw = await startRtcgate({ overrides: ['http.ws_ping_interval=1', 'http.ws_ping_timeout=1'] })));
  after(() => gw?.stopClean());

  test('a silent flow is pinged; one that answers stays, one that does not is closed', { timeout: 20000 }, async () => {
    const alive = await openFlow(gw);
    const dead = await openFlow(gw, { autoPong: false });
    const pinged = (ws) => new Promise((resolve) => ws.once('ping', resolve));
    await Promise.all([pinged(alive), pinged(dead)]);
    // the dead one (no pong, nothing sent) goes; the live one answered every ping meanwhile
    const mark = gw.mark();
    await dead.closed;
    await gw.waitForLog(/msg="flow closed"/, { after: mark });
    assert.equal(alive.readyState, WebSocket.OPEN);
    assert.equal(await gauge(gw), 1);
    await pinged(alive); // still pinged and still answering after the other one's hang-up
    assert.equal(alive.readyState, WebSocket.OPEN);
    await closeFlow(gw, alive);
    assert.equal(await gauge(gw), 0);
  });

  test('a flow that sends messages counts as alive without pongs', { timeout: 20000 }, async () => {
    const ws = await openFlow(gw, { autoPong: false });
    // keepalive CRLFs every 300 ms for 3 s: more than ping + timeout, so a flow judged by
    // pongs alone would be closed; each CRLF gets its pong
    for (let i = 0; i < 10; i++) {
      const pong = new Promise((resolve) => ws.once('message', resolve));
      ws.send('\r\n\r\n');
      await Promise.race([pong, ws.closed.then((c) => assert.fail(`flow closed: ${c.code}`))]);
      await new Promise((r) => setTimeout(r, 300)); // the pacing under test, not a synchronisation
    }
    assert.equal(ws.readyState, WebSocket.OPEN);
    await closeFlow(gw, ws);
  });
});
