/**
 * Delivers an event to a function the way an EventBridge trigger with `asyncInvocationType: true` does:
 * an async InvokeFunction through the official FC client, over HTTP to the local cloud.
 */
import type { LocalCloud } from '../../local-cloud';
import type { InvocationRecord } from '../../local-cloud/fc/types';
import { createFcClient, invokeFunction } from '../invoke/fc';

/**
 * Resolves with the task's last run once FC is done with it (retries included). `async: false` invokes as
 * an operator does (`npm run invoke`): synchronously, no retries.
 */
export async function deliverEvent(cloud: LocalCloud, functionName: string, event: Buffer, options: { async: boolean } = { async: true }): Promise<InvocationRecord> {
  const key = cloud.accessKeys.find((candidate) => candidate.securityToken === undefined) ?? cloud.accessKeys[0];
  const client = createFcClient({
    endpoint: { host: cloud.host, protocol: 'http' },
    regionId: cloud.region,
    accessKey: { accessKeyId: key.id, accessKeySecret: key.secret, securityToken: key.securityToken },
  });
  const { requestId } = await invokeFunction(client, functionName, event, { async: options.async });
  await cloud.fc.whenIdle();
  const run = cloud.fc.invocations.filter((record) => record.requestId === requestId).at(-1);
  if (!run) throw new Error(`FC accepted event ${requestId} but never ran it`);
  return run;
}
