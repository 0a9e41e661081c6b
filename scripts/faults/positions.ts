/**
 * The places a fault can strike: every DDS and KMS call a real rotation makes and, for an application user, every
 * MongoDB command it sends (as root, or as the user its login check logs in as), in order, each named by its action
 * or command and occurrence (`ResetAccountPassword#2 (cs)`, `ping#1 (as app_clone)`). They are read from the
 * request log and the MongoDB peer's command log of one clean run rather than listed by hand, so the matrix follows
 * the protocol when it changes.
 */
import type { Params } from '../../local-cloud/http/api-error';
import type { CommandRecord } from '../../local-cloud/mongo/connection';
import type { RequestRecord } from '../../local-cloud/state/request-log';
import { type Rig, outcomeOf } from './rig';
import { type SeededTarget, completedOutcome } from './seed';

export interface Position {
  product: 'dds' | 'kms' | 'mongo';
  /** The API's action, or the MongoDB command. */
  action: string;
  /** 1 for the action's first call in the run, 2 for its second, … */
  nth: number;
  /** What the parameters say about this call (`cs`, `move ACSCurrent`, `as app_clone`), if anything. */
  detail: string;
  label: string;
}

/**
 * Commands that are not positions: the SCRAM exchange of every login (the handshake's first step rides on `hello`,
 * which the peer does not log either) and the `endSessions` the driver sends as it closes a client, whose answer
 * nobody waits for.
 */
const NOT_POSITIONS = new Set(['saslStart', 'saslContinue', 'endSessions']);

/** Whether a request concerns this target: its instance or its secret (and, for an application user, the root secret it reads). */
export const concerns = (target: SeededTarget) => (params: Params) =>
  params.DBInstanceId === target.instanceId || params.SecretName === target.secretName || (target.account !== 'root' && params.SecretName === target.rootSecretName);

/**
 * Whether a command the MongoDB peers served is one of this target's positions: an application user's. Root's are
 * not (its rotation sends none; the login check's `ping` as root, VERIFY_LOGIN on, is not struck: its cells are the
 * DDS and KMS calls).
 */
export const commandConcerns = (target: SeededTarget) => (command: Pick<CommandRecord, 'instanceId' | 'command'>) =>
  target.account !== 'root' && command.instanceId === target.instanceId && !NOT_POSITIONS.has(command.command);

/** Rotates `target` once without faults (through the function deployed as `functionName`) and returns the calls the run made for it. */
export async function recordPositions(rig: Rig, functionName: string, target: SeededTarget): Promise<Position[]> {
  const from = rig.cloud.truth.requests.length;
  const commandsFrom = rig.cloud.mongo.commands.length;
  const invocation = await rig.invoke(functionName, target.event);
  const outcome = outcomeOf(invocation, target.instanceId);
  const expected = completedOutcome(target);
  if (outcome !== expected) throw new Error(`the clean run that records the calls of a ${target.topology} rotation ended ${outcome}, not ${expected}`);
  const calls = rig.cloud.truth.requests.slice(from).filter((r) => r.product !== 'fc' && concerns(target)(r.params));
  const commands = rig.cloud.mongo.commands.slice(commandsFrom).filter(commandConcerns(target));
  return positionsOf(inOrder(calls, commands, target));
}

type Call = { time: string; product: Position['product']; action: string; detail: string };

/**
 * The calls and commands in the order they arrived. Both logs say when each arrived (to the millisecond) and keep
 * their own order (the sort is stable); one run makes one at a time, and a login's handshake or a client's closing
 * lies between an API call and a command, so those two do not share a millisecond. Were they to, the check of the
 * clean run against the declared calls would say so.
 */
function inOrder(calls: RequestRecord[], commands: CommandRecord[], target: SeededTarget): Call[] {
  return [
    ...calls.map((r) => ({ time: r.time, product: r.product as Position['product'], action: r.action, detail: detailOf(r.action, r.params, target) })),
    ...commands.map((c) => ({ time: c.time, product: 'mongo' as const, action: c.command, detail: commandDetail(c) })),
  ].sort((a, b) => a.time.localeCompare(b.time));
}

function positionsOf(calls: Call[]): Position[] {
  const seen = new Map<string, number>();
  return calls.map(({ product, action, detail }) => {
    const nth = (seen.get(action) ?? 0) + 1;
    seen.set(action, nth);
    return { product, action, nth, detail, label: `${action}#${nth}${detail ? ` (${detail})` : ''}` };
  });
}

/**
 * What a call's parameters say about it: the role of a reset, the stage moved or removed, how a value is read, and,
 * for an application user's rotation, a read of the root secret.
 */
export function detailOf(action: string, params: Params, target?: SeededTarget): string {
  switch (action) {
    case 'ResetAccountPassword':
      return params.CharacterType || 'normal';
    case 'UpdateSecretVersionStage':
      return params.MoveToVersion ? `move ${params.VersionStage}` : `remove ${params.VersionStage}`;
    case 'GetSecretValue': {
      const how = params.VersionStage ?? (params.VersionId ? 'by VersionId' : '');
      return target?.account !== 'root' && target && params.SecretName === target.rootSecretName ? `root secret, ${how}` : how;
    }
    default:
      return '';
  }
}

/** What a command record says about it: who sent it, when not root (the login check, as the user it checks). */
export function commandDetail(command: Pick<CommandRecord, 'user'>): string {
  const user = command.user?.split('@')[0];
  return user && user !== 'root' ? `as ${user}` : '';
}
