import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultControls, ArrivingRequest } from '../faults/fault-controls';
import type { FcGateway, FcHttpResponse } from '../fc/types';
import { authorize, denial } from '../ram';
import type { RequestRecord } from '../state/request-log';
import type { Product, ProductService } from './api-error';
import { ApiError } from './api-error';
import type { AccessKey } from './authenticate';
import { authenticate, NonceRegistry, readClaim } from './authenticate';
import { gatewayErrors } from './gateway-errors';
import type { IncomingApiRequest } from './incoming';
import { readIncoming } from './incoming';
import type { Reply } from './replies';
import { errorReply, newRequestId, productHost, send, successReply } from './replies';
import type { Route } from './routing';
import { resolveRoute } from './routing';

export interface GatewayOptions {
  region: string;
  accountId: string;
  /** The keys it accepts; a key with a `policy` is held to it (RAM). */
  findKey(accessKeyId: string): AccessKey | undefined;
  services: Record<'dds' | 'kms', ProductService>;
  /** Serves the paths under `/2023-03-30/`. */
  fc: FcGateway;
  faults: FaultControls;
  recordRequest(entry: RequestRecord): void;
  checkInvariant(cause: { requestId: string; product: Product; action: string }): void;
  /** Runs a read over the state as it was at `time` (ms since the epoch), for the `lag` fault. */
  readAsOf?<T>(time: number, read: () => T): T;
}

/** One request on its way through the gateway. */
interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  requestId: string;
  time: string;
  route?: Route;
  accessKeyId: string;
  /** Set once the action was handed to its service: a write is logged and checked as such. */
  write: boolean;
}

/**
 * The local API gateway: authenticates every request, routes it to DDS, KMS or FC, applies the
 * faults, logs it in the truth and, after a write, has the invariant checked.
 */
export class Gateway {
  private readonly nonces = new NonceRegistry();

  constructor(private readonly options: GatewayOptions) {}

  readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    const exchange: Exchange = { req, res, requestId: newRequestId(), time: new Date().toISOString(), accessKeyId: '', write: false };
    this.handle(exchange).catch((err: unknown) => this.finish(exchange, this.failure(exchange, err)));
  };

  private async handle(exchange: Exchange): Promise<void> {
    const incoming = await readIncoming(exchange.req);
    const route = resolveRoute(incoming);
    exchange.route = route;
    const claim = readClaim(incoming);
    exchange.accessKeyId = claim.accessKeyId;
    const key = authenticate(claim, this.options.findKey, this.nonces);
    this.checkServed(route);
    this.checkAllowed(route, key);
    const arriving: ArrivingRequest = { requestId: exchange.requestId, ...route, accessKeyId: exchange.accessKeyId, stringToSign: claim.stringToSign };
    await this.serve(exchange, incoming, arriving);
  }

  /** The fault pipeline around the action: delay, hold, reject or drop, hooks, apply. */
  private async serve(exchange: Exchange, incoming: IncomingApiRequest, arriving: ArrivingRequest): Promise<void> {
    const { faults } = this.options;
    const plan = faults.plan(arriving);
    if (!(await faults.wait(plan.delayMs))) return this.abandon(exchange);
    if (plan.hold && !plan.hold.after && !(await faults.wait(plan.hold.ms))) return this.abandon(exchange);
    if (plan.drop === 'before') return this.abandon(exchange);
    let reply: Reply;
    if (plan.rejection) {
      reply = this.errorReply(exchange, plan.rejection);
    } else {
      await faults.runHooks('before', arriving);
      reply = await this.apply(exchange, incoming, arriving, plan.lagMs);
      await faults.runHooks('after', arriving);
    }
    if (plan.hold?.after && !(await faults.wait(plan.hold.ms))) return this.abandon(exchange);
    if (plan.drop === 'after') return this.abandon(exchange);
    this.finish(exchange, reply);
  }

  /** Applies the action; a read that lags (`lagMs`) over the state as it was that long ago. */
  private async apply(exchange: Exchange, incoming: IncomingApiRequest, arriving: ArrivingRequest, lagMs?: number): Promise<Reply> {
    const { product, action, params } = arriving;
    if (product === 'fc') return this.applyFc(exchange, incoming);
    const service = this.options.services[product];
    exchange.write = service.writeActions.has(action);
    const { readAsOf } = this.options;
    try {
      const run = () => service.actions[action](params, { requestId: exchange.requestId, product, action, accessKeyId: exchange.accessKeyId });
      const body = lagMs && !exchange.write && readAsOf ? readAsOf(Date.now() - lagMs, run) : run();
      return this.options.faults.corruptReply(arriving, successReply(body, exchange.requestId));
    } catch (err) {
      return this.failure(exchange, err);
    } finally {
      if (exchange.write) this.options.checkInvariant({ requestId: exchange.requestId, product, action });
    }
  }

  private async applyFc(exchange: Exchange, incoming: IncomingApiRequest): Promise<Reply> {
    const answer = await this.options.fc.handle(
      { method: incoming.method, path: incoming.rawPath, query: incoming.query, headers: incoming.headers, body: incoming.body },
      { requestId: exchange.requestId, accessKeyId: exchange.accessKeyId },
    );
    return fcReply(answer, exchange.requestId);
  }

  /** Refuses, before any fault or hook, an action no service here answers (FC judges its own paths). */
  private checkServed(route: Route): void {
    if (route.product !== 'fc' && !Object.hasOwn(this.options.services[route.product].actions, route.action)) {
      throw gatewayErrors.apiNotFound();
    }
  }

  /** RAM: a key that carries a policy may do only what the policy allows. */
  private checkAllowed(route: Route, key: AccessKey): void {
    if (!key.policy) return;
    const scope = { ...route, region: this.options.region, accountId: this.options.accountId };
    const decision = authorize(key.policy, scope);
    if (decision.allowed) return;
    const refusal = denial(route.product, decision);
    throw new ApiError(refusal.code, refusal.message, refusal.httpStatus);
  }

  private failure(exchange: Exchange, err: unknown): Reply {
    const error = err instanceof ApiError ? err : gatewayErrors.internal(err);
    return this.errorReply(exchange, error);
  }

  private errorReply(exchange: Exchange, error: ApiError): Reply {
    const hostId = productHost(exchange.route?.product, this.options.region, this.options.accountId);
    return errorReply(error, exchange.requestId, hostId);
  }

  private finish(exchange: Exchange, reply: Reply): void {
    if (!exchange.res.headersSent && !exchange.res.destroyed) send(exchange.res, reply);
    this.record(exchange, reply.status, reply.code);
  }

  /** Ends the connection without an answer: a dropped request, or one held when the cloud closed. */
  private abandon(exchange: Exchange): void {
    exchange.req.socket.destroy();
    this.record(exchange, 0);
  }

  private record(exchange: Exchange, status: number, code?: string): void {
    const { route } = exchange;
    if (!route) return;
    const entry: RequestRecord = {
      time: exchange.time,
      requestId: exchange.requestId,
      product: route.product,
      action: route.action,
      params: route.params,
      accessKeyId: exchange.accessKeyId,
      status,
      write: exchange.write,
    };
    if (code !== undefined) entry.code = code;
    this.options.recordRequest(entry);
  }
}

/** FC answers with its own headers and body (bytes, text, or an object sent as JSON). */
function fcReply(answer: FcHttpResponse, requestId: string): Reply {
  const raw = Buffer.isBuffer(answer.body) || typeof answer.body === 'string';
  const body = raw ? Buffer.from(answer.body as Buffer | string) : Buffer.from(JSON.stringify(answer.body), 'utf8');
  const headers: Record<string, string> = { 'x-acs-request-id': requestId, 'x-fc-request-id': requestId };
  if (!raw) headers['content-type'] = 'application/json;charset=utf-8';
  const code = raw ? undefined : (answer.body as { Code?: unknown }).Code;
  return {
    status: answer.status,
    headers: { ...headers, ...answer.headers },
    body,
    code: answer.status >= 400 && typeof code === 'string' ? code : undefined,
  };
}
