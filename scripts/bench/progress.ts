/** Progress while the fleet rotates, on stderr: a line rewritten in place on a terminal, else one every few seconds. */
import type { LocalCloud } from '../../local-cloud';

const TICK_MS = 1_000;
const PLAIN_EVERY_TICKS = 10;

export function showProgress(cloud: LocalCloud, targets: number, label = 'bench'): { stop(): void } {
  const started = Date.now();
  const tty = process.stderr.isTTY === true;
  let scanned = 0;
  let done = 0;
  let throttled = 0;
  let ticks = 0;
  const tick = () => {
    const requests = cloud.truth.requests;
    for (; scanned < requests.length; scanned++) {
      const r = requests[scanned];
      // A rotation's last call takes ACSPending off its promoted version.
      if (r.action === 'UpdateSecretVersionStage' && r.params.VersionStage === 'ACSPending' && r.status === 200) done++;
      if (r.code === 'Throttling.User' || r.code === 'Rejected.Throttling') throttled++;
    }
    const line = `${label}: ${done}/${targets} targets rotated · ${scanned} API calls · ${throttled} throttled · ${((Date.now() - started) / 1000).toFixed(0)} s`;
    if (tty) process.stderr.write(`\r${line}\u001b[K`);
    else if (++ticks % PLAIN_EVERY_TICKS === 0) process.stderr.write(`${line}\n`);
  };
  const timer = setInterval(tick, TICK_MS);
  return {
    stop() {
      clearInterval(timer);
      tick();
      if (tty) process.stderr.write('\n');
    },
  };
}
