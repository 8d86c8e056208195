// Call quality from RTCPeerConnection.getStats() (W3C webrtc-stats): what the page shows.

/**
 * Reduce a stats report (a Map or an iterable of stats objects) to
 * {codec, packetsLost, jitter (ms), rtt (ms), audioLevel (0..1), packetsReceived, packetsSent};
 * a field is null when the report does not have it yet.
 */
export function summarize(report) {
  const all = [...(report.values ? report.values() : report)];
  const byId = new Map(all.map((s) => [s.id, s]));
  const audio = (type) => all.find((s) => s.type === type && (s.kind ?? s.mediaType) === 'audio');
  const inbound = audio('inbound-rtp');
  const outbound = audio('outbound-rtp');
  const remoteIn = audio('remote-inbound-rtp');
  const pair = all.find((s) => s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded');
  const codec = byId.get(inbound?.codecId) || byId.get(outbound?.codecId);
  const ms = (s) => (typeof s === 'number' ? Math.round(s * 1000) : null);
  const lost = [inbound?.packetsLost, remoteIn?.packetsLost].filter((n) => typeof n === 'number');
  return {
    codec: codec ? `${codec.mimeType.replace(/^audio\//, '')}/${codec.clockRate}` : null,
    packetsLost: lost.length ? lost.reduce((a, b) => a + Math.max(0, b), 0) : null,
    jitter: ms(inbound?.jitter ?? remoteIn?.jitter),
    rtt: ms(remoteIn?.roundTripTime ?? pair?.currentRoundTripTime),
    audioLevel: typeof inbound?.audioLevel === 'number' ? inbound.audioLevel : null,
    packetsReceived: inbound?.packetsReceived ?? null,
    packetsSent: outbound?.packetsSent ?? null,
  };
}

/** How a summary field reads on the page. */
export function formatStat(name, value) {
  if (value === null || value === undefined) return '–';
  if (name === 'jitter' || name === 'rtt') return `${value} ms`;
  if (name === 'audioLevel') return value.toFixed(2);
  return String(value);
}
