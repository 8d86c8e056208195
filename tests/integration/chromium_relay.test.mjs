// Chromium as an independent TURN client: two RTCPeerConnections in one page, forced through
// rtcgate's TURN over UDP, TCP and TLS (iceTransportPolicy 'relay', only rtcgate in iceServers,
// credentials from /config for a device with remote access), exchange audio; getStats() must show packets over a relay pair.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { addRemoteDevice, basicAuth, getJson, startRtcgate, withTimeout } from './lib/rtcgate.mjs';

const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--disable-background-networking',
  // rtcgate's certificate is self-signed in the tests: let TURNS use it
  '--ignore-certificate-errors',
];

let gw;
let browser;

before(async () => {
  gw = await startRtcgate({
    turn: true,
    overrides: [
      'turn.secrets=chromium-test-secret',
      // the peers of a relay-to-relay call are rtcgate's own relay addresses
      'turn.relay_ports=31000-31999',
      'turn.allowed_peers=127.0.0.1:31000-31999',
    ],
  });
  await addRemoteDevice(gw, 'chromium', 'chromium-device-secret');
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
});
after(async () => {
  await browser?.close();
  await gw?.stopClean();
});

/* Runs in the page: a call between two local peer connections, all media via TURN. */
async function relayCall(iceServers) {
  const config = { iceServers, iceTransportPolicy: 'relay' };
  const a = new RTCPeerConnection(config);
  const b = new RTCPeerConnection(config);
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
  const ctx = new AudioContext();
  const osc = ctx.createOscillator();
  const dest = ctx.createMediaStreamDestination();
  osc.connect(dest);
  osc.start();
  a.addTrack(dest.stream.getAudioTracks()[0], dest.stream);
  const connected = new Promise((resolve, reject) => {
    b.onconnectionstatechange = () => {
      if (b.connectionState === 'connected') resolve();
      if (b.connectionState === 'failed') reject(new Error('ICE failed'));
    };
  });
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription);
  await connected;
  /* wait for audio to flow: bounded polling of stats, no fixed sleep */
  let inbound;
  for (let i = 0; i < 100; i++) {
    const stats = await b.getStats();
    inbound = [...stats.values()].find((s) => s.type === 'inbound-rtp' && s.kind === 'audio');
    if (inbound && inbound.packetsReceived >= 50) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const stats = await b.getStats();
  const pair = [...stats.values()].find(
    (s) => s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded',
  );
  const local = pair && stats.get(pair.localCandidateId);
  const remote = pair && stats.get(pair.remoteCandidateId);
  return {
    packetsReceived: inbound ? inbound.packetsReceived : 0,
    bytesReceived: pair ? pair.bytesReceived : 0,
    localType: local && local.candidateType,
    remoteType: remote && remote.candidateType,
    relayProtocol: local && local.relayProtocol,
  };
}

for (const [name, scheme, transport] of [
  ['UDP', 'turn:', 'udp'],
  ['TCP', 'turn:', 'tcp'],
  ['TLS', 'turns:', 'tls'],
]) {
  test(`Chromium relays audio through rtcgate TURN over ${name}`, async () => {
    const auth = basicAuth('chromium', 'chromium-device-secret');
    const cfg = (await getJson(gw, '/config', { headers: { authorization: auth } })).json;
    const want = transport === 'udp' ? 'udp' : 'tcp';
    const turn = cfg.iceServers.filter(
      (s) => s.urls[0].startsWith(scheme) && s.urls[0].endsWith(`?transport=${want}`),
    );
    assert.equal(turn.length, 1, JSON.stringify(cfg.iceServers));
    const page = await browser.newPage();
    try {
      await page.goto(gw.httpUrl + '/');
      const r = await withTimeout(page.evaluate(relayCall, turn), 30_000, 'the relayed call');
      assert.equal(r.localType, 'relay');
      assert.equal(r.remoteType, 'relay');
      assert.equal(r.relayProtocol, transport);
      assert.ok(r.packetsReceived >= 50, `only ${r.packetsReceived} audio packets arrived`);
      assert.ok(r.bytesReceived > 0);
    } finally {
      await page.close();
    }
  });
}
