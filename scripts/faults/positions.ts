/**
 * The places a fault can strike: every DDS and KMS call a real rotation makes, in order, each named
 * by its action and occurrence (`ResetAccountPassword#2 (cs)`). They are read from the request log
 * of one clean run rather than listed by hand, so the matrix follows the protocol when it changes.
 */
import type { Params } from '../../local-cloud/http/api-error';
import type { RequestRecord } from '../../local-cloud/state/request-log';
import { type Rig, outcomeOf } from './rig';
import { type SeededTarget, completedOutcome } from './seed';

export interface Position {
  product: 'dds' | 'kms';
  action: string;
  /** 1 for the action's first call in the run, 2 for its second, … */
  nth: number;
  /** What the parameters say about this call (`cs`, `move ACSCurrent`), if anything. */
  detail: string;
  label: string;
}

/** Whether a request concerns this target: its instance or its secret. */
export const concerns = (target: SeededTarget) => (params: Params) =>
  params.DBInstanceId === target.instanceId || params.SecretName === target.secretName;

/** Rotates `target` once without faults (through the function deployed as `functionName`) and returns the calls the run made for it. */
export async function recordPositions(rig: Rig, functionName: string, target: SeededTarget): Promise<Position[]> {
  const from = rig.cloud.truth.requests.length;
  const invocation = await rig.invoke(functionName, target.event);
  const outcome = outcomeOf(invocation, target.instanceId);
  const expected = completedOutcome(target);
  if (outcome !== expected) throw new Error(`the clean run that records the calls of a ${target.topology} rotation ended ${outcome}, not ${expected}`);
  const calls = rig.cloud.truth.requests.slice(from).filter((r) => r.product !== 'fc' && concerns(target)(r.params));
  return positionsOf(calls);
}

function positionsOf(calls: RequestRecord[]): Position[] {
  const seen = new Map<string, number>();
  return calls.map((call) => {
    const nth = (seen.get(call.action) ?? 0) + 1;
    seen.set(call.action, nth);
    const detail = detailOf(call.action, call.params);
    return {
      product: call.product as Position['product'],
      action: call.action,
      nth,
      detail,
      label: `${call.action}#${nth}${detail ? ` (${detail})` : ''}`,
    };
  });
}

/** What a call's parameters say about it: the role of a reset, the stage moved or removed, how a value is read. */
export function detailOf(action: string, params: Params): string {
  switch (action) {
    case 'ResetAccountPassword':
      return params.CharacterType || 'normal';
    case 'UpdateSecretVersionStage':
      return params.MoveToVersion ? `move ${params.VersionStage}` : `remove ${params.VersionStage}`;
    case 'GetSecretValue':
      return params.VersionStage ?? (params.VersionId ? 'by VersionId' : '');
    default:
      return '';
  }
}
