// esbuild's entry point: JsSIP from npm as one browser ES module (dist/jssip.js, not in git).
import JsSIP from 'jssip';

export default JsSIP;
