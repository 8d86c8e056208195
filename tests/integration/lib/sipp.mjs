// sipp (Debian's sip-tester) as the PBX in the call tests: started on free loopback ports,
// stopped by its PID; its scenarios live in tests/fixtures/sipp.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { REPO, freeUdpPort, withTimeout } from './rtcgate.mjs';

export const SIPP_DIR = path.join(REPO, 'tests', 'fixtures', 'sipp');

/**
 * sipp with args (a scenario among them) on a free port, one call (-m 1) unless args say
 * otherwise; resolves {port, mediaPort, exit: Promise<{code, out}>, kill}.
 */
export async function sippPbx(args) {
  const port = await freeUdpPort();
  const mediaPort = await freeUdpPort();
  const child = spawn(
    'sipp',
    [...args, ...(args.includes('-m') ? [] : ['-m', '1'])].concat(
      ['-i', '127.0.0.1', '-p', String(port), '-mi', '127.0.0.1', '-mp', String(mediaPort), '-timeout', '30s', '-nostdin'],
      // RTCGATE_SIPP_TRACE=1: sipp's message and error logs in the working directory
      process.env.RTCGATE_SIPP_TRACE ? ['-trace_msg', '-trace_err'] : [],
    ),
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exit = once(child, 'exit').then(([code]) => ({ code, out }));
  return { port, mediaPort, exit, kill: () => child.kill() };
}

/** Wait for sipp to finish its scenario and assert that every call of it passed. */
export async function sippDone(pbx, ms = 15_000) {
  const { code, out } = await withTimeout(pbx.exit, ms, 'sipp to finish its scenario');
  assert.equal(code, 0, `sipp failed:\n${out.slice(-2000)}`);
}
