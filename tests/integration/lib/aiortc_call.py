#!/usr/bin/python3
"""A non-browser WebRTC peer for the tests: aiortc (ICE, DTLS-SRTP) with SIP over WebSocket
(RFC 7118) written here on python3-websockets. Registers (digest, RFC 3261 §22), calls a target,
sends a 440 Hz tone, counts the audio frames that come back, hangs up; prints one JSON line.

usage: aiortc_call.py WS_URL USER PASSWORD TARGET [MIN_FRAMES]
"""
import asyncio
import fractions
import hashlib
import json
import math
import random
import re
import sys

import av
import websockets
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription

DOMAIN = "pbx.example"
RATE = 8000
SAMPLES = 160  # 20 ms


class Tone(MediaStreamTrack):
    """440 Hz, 20 ms frames, paced by the clock (aiortc pulls frames as fast as recv returns)."""

    kind = "audio"

    def __init__(self):
        super().__init__()
        self.pts = 0
        self.start = None

    async def recv(self):
        loop = asyncio.get_running_loop()
        if self.start is None:
            self.start = loop.time()
        wait = self.start + self.pts / RATE - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)  # pacing of the media clock, not synchronisation
        frame = av.AudioFrame(format="s16", layout="mono", samples=SAMPLES)
        pcm = bytearray()
        for i in range(SAMPLES):
            v = int(8000 * math.sin(2 * math.pi * 440 * (self.pts + i) / RATE))
            pcm += v.to_bytes(2, "little", signed=True)
        frame.planes[0].update(bytes(pcm))
        frame.sample_rate = RATE
        frame.pts = self.pts
        frame.time_base = fractions.Fraction(1, RATE)
        self.pts += SAMPLES
        return frame


def token(n=10):
    return "".join(random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))


class Sip:
    """Just enough SIP over one WebSocket: requests out, responses in by CSeq."""

    def __init__(self, ws, user):
        self.ws, self.user, self.cseq, self.tag = ws, user, 0, token()
        self.contact = f"<sip:{user}@{token()}.invalid;transport=ws>"

    def request(self, method, uri, call_id, extra=(), body="", to_tag=None, cseq=None):
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        to = f"<{uri}>" if method != "REGISTER" else f"<sip:{self.user}@{DOMAIN}>"
        lines = [
            f"{method} {uri} SIP/2.0",
            f"Via: SIP/2.0/WSS {token()}.invalid;branch=z9hG4bK{token()}",
            "Max-Forwards: 70",
            f"To: {to}" + (f";tag={to_tag}" if to_tag else ""),
            f"From: <sip:{self.user}@{DOMAIN}>;tag={self.tag}",
            f"Call-ID: {call_id}",
            f"CSeq: {cseq} {method}",
            f"Contact: {self.contact}",
            *extra,
        ]
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body.encode())}")
        return "\r\n".join(lines) + "\r\n\r\n" + body

    async def final(self, method, timeout=15):
        """The next final response to method (provisional ones and requests skipped; bounded)."""
        while True:
            msg = await asyncio.wait_for(self.ws.recv(), timeout)
            m = re.match(r"SIP/2.0 (\d+)", msg)
            if m and int(m.group(1)) >= 200 and re.search(rf"^CSeq: \d+ {method}", msg, re.M | re.I):
                return int(m.group(1)), msg
            if not m and msg.startswith("BYE "):
                return 0, msg


def header(msg, name):
    m = re.search(rf"^{name}:\s*(.*)$", msg, re.M | re.I)
    return m.group(1).strip() if m else ""


def digest(challenge, user, password, method, uri):
    p = dict(re.findall(r'(\w+)="?([^",]*)"?', challenge))
    ha1 = hashlib.md5(f"{user}:{p['realm']}:{password}".encode()).hexdigest()
    ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()
    nc, cnonce = "00000001", token()
    if "qop" in p:
        resp = hashlib.md5(f"{ha1}:{p['nonce']}:{nc}:{cnonce}:auth:{ha2}".encode()).hexdigest()
        return (f'Digest username="{user}", realm="{p["realm"]}", nonce="{p["nonce"]}", uri="{uri}", '
                f'response="{resp}", algorithm=MD5, qop=auth, nc={nc}, cnonce="{cnonce}"')
    resp = hashlib.md5(f"{ha1}:{p['nonce']}:{ha2}".encode()).hexdigest()
    return f'Digest username="{user}", realm="{p["realm"]}", nonce="{p["nonce"]}", uri="{uri}", response="{resp}"'


async def register(sip, password):
    uri, cid = f"sip:{DOMAIN}", token(16)
    await sip.ws.send(sip.request("REGISTER", uri, cid, ["Expires: 300"]))
    code, msg = await sip.final("REGISTER")
    if code in (401, 407):
        auth = digest(header(msg, "WWW-Authenticate") or header(msg, "Proxy-Authenticate"),
                      sip.user, password, "REGISTER", uri)
        await sip.ws.send(sip.request("REGISTER", uri, cid, ["Expires: 300", f"Authorization: {auth}"]))
        code, msg = await sip.final("REGISTER")
    return code


async def count_frames(track, box):
    while True:
        await track.recv()
        box["frames"] += 1


async def call(sip, target, min_frames):
    pc = RTCPeerConnection()
    pc.addTrack(Tone())
    box = {"frames": 0}
    tasks = []
    pc.on("track", lambda t: tasks.append(asyncio.ensure_future(count_frames(t, box))))
    await pc.setLocalDescription(await pc.createOffer())  # aiortc gathers every candidate here
    cid = token(16)
    await sip.ws.send(sip.request("INVITE", target, cid, body=pc.localDescription.sdp))
    code, msg = await sip.final("INVITE")
    result = {"status": code, "reason": msg.split("\r\n", 1)[0]}
    if code != 200:
        await pc.close()
        return result
    to_tag = re.search(r";tag=([^;>\s]+)", header(msg, "To")).group(1)
    await sip.ws.send(sip.request("ACK", target, cid, to_tag=to_tag, cseq=sip.cseq))
    await pc.setRemoteDescription(RTCSessionDescription(msg.split("\r\n\r\n", 1)[1], "answer"))
    for _ in range(150):  # at most 15 s
        if box["frames"] >= min_frames:
            break
        await asyncio.sleep(0.1)  # polling interval of the counter, bounded by the loop
    result["frames"] = box["frames"]
    result["dtls"] = pc.getTransceivers()[0].receiver.transport.state
    await sip.ws.send(sip.request("BYE", target, cid, to_tag=to_tag))
    result["bye"], _ = await sip.final("BYE")
    for t in tasks:
        t.cancel()
    await pc.close()
    return result


async def main():
    url, user, password, target = sys.argv[1:5]
    min_frames = int(sys.argv[5]) if len(sys.argv) > 5 else 50
    async with websockets.connect(url, subprotocols=["sip"]) as ws:
        sip = Sip(ws, user)
        out = {"registered": await register(sip, password)}
        if out["registered"] == 200:
            out.update(await call(sip, target, min_frames))
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    asyncio.run(asyncio.wait_for(main(), 60))
