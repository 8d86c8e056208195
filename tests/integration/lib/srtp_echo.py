#!/usr/bin/python3
"""An SRTP echo for the tests, on libsrtp2 through pylibsrtp (not rtcgate's code): what arrives
on its UDP port is unprotected with the key rtcgate offered, protected again with our own key and
sent back to where it came from; before each of the first FORGED echoes, a copy with one payload
byte flipped (its tag no longer verifies: rtcgate must drop it). Prints {"port": N} once bound,
and at the end (stdin closed, or 60 s) {"ok": n, "bad": m, "forged": f, "stale": s}.

A stdin line "rekey NEW_OUR_KEY_B64" (a re-INVITE gave rtcgate a new key, RFC 4568 §7.1.4)
switches our protection to that key and prints {"rekeyed": true}; before each of the next STALE
echoes, a copy protected with the old key goes out (rtcgate must drop it).

usage: srtp_echo.py THEIR_KEY_B64 OUR_KEY_B64   (AES_CM_128_HMAC_SHA1_80 key||salt, 30 bytes)
THEIR_KEY_B64 "-": read it from the first line of stdin, after the port is printed (when the
PBX offers, its SDP needs the port before rtcgate's answer brings the key).
"""
import base64
import json
import select
import socket
import sys
import time

from pylibsrtp import Error, Policy, Session

FORGED = 5
STALE = 5


def session(key, direction):
    return Session(policy=Policy(key=base64.b64decode(key), ssrc_type=direction,
                                 srtp_profile=Policy.SRTP_PROFILE_AES128_CM_SHA1_80))


def main():
    tx = session(sys.argv[2], Policy.SSRC_ANY_OUTBOUND)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    print(json.dumps({"port": sock.getsockname()[1]}), flush=True)
    their = sys.argv[1] if sys.argv[1] != "-" else sys.stdin.readline().strip()
    ok = bad = forged = stale = 0
    old = None
    if not their:  # stdin closed before a key came: nothing to echo
        print(json.dumps({"ok": ok, "bad": bad, "forged": forged, "stale": stale}), flush=True)
        return
    rx = session(their, Policy.SSRC_ANY_INBOUND)
    end = time.monotonic() + 60
    while time.monotonic() < end:
        ready, _, _ = select.select([sock, sys.stdin], [], [], 1)
        line = sys.stdin.readline() if sys.stdin in ready else None
        if line == "":
            break
        if line and line.startswith("rekey "):
            old, tx = tx, session(line.split()[1], Policy.SSRC_ANY_OUTBOUND)
            print(json.dumps({"rekeyed": True}), flush=True)
        if sock not in ready:
            continue
        data, src = sock.recvfrom(2048)
        try:
            plain = rx.unprotect(data)
        except Error:
            bad += 1
            continue
        ok += 1
        out = tx.protect(plain)
        if forged < FORGED:  # first: after the good one it would be a replay, not a forgery
            sock.sendto(out[:20] + bytes([out[20] ^ 0x55]) + out[21:], src)
            forged += 1
        if old and stale < STALE:  # the old key's stream goes on: valid SRTP, but no longer agreed
            sock.sendto(old.protect(plain), src)
            stale += 1
        sock.sendto(out, src)
    print(json.dumps({"ok": ok, "bad": bad, "forged": forged, "stale": stale}), flush=True)


if __name__ == "__main__":
    main()
