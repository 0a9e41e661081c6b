import { actionMatches, asList, parsePolicy, resourceMatches, type PolicyDocument, type Statement } from './policy';
import { resourcesFor, type RamProduct, type RequestScope } from './resources';

export interface Decision {
  allowed: boolean;
  /** The RAM action, e.g. `dds:ResetAccountPassword`. */
  action: string;
  /** The resource ARNs the request was judged on. */
  resources: string[];
}

/**
 * Judges one request against an identity policy: an explicit Deny on any of its resources
 * wins; otherwise every resource needs an Allow; no matching Allow means denied.
 * Throws PolicyError for a policy it cannot evaluate (e.g. one with a Condition).
 */
export function authorize(policy: PolicyDocument, request: RequestScope): Decision {
  const { Statement: statements } = parsePolicy(policy);
  const action = `${request.product}:${request.action}`;
  const resources = resourcesFor(request);
  const matching = (effect: Statement['Effect'], resource: string) =>
    statements.some((s) => s.Effect === effect && covers(s, action, resource));

  const denied = resources.some((r) => matching('Deny', r));
  const allowed = !denied && resources.every((r) => matching('Allow', r));
  return { allowed, action, resources };
}

function covers(statement: Statement, action: string, resource: string): boolean {
  return (
    asList(statement.Action).some((p) => actionMatches(p, action)) &&
    asList(statement.Resource).some((p) => resourceMatches(p, resource))
  );
}

export interface DeniedCode {
  code: string;
  httpStatus: number;
}

// Each service answers a RAM refusal with its own code: dds error-code appendix
// (Forbidden.RAM), KMS API reference (Forbidden.NoPermission), FC error codes (AccessDenied).
const DENIED_CODES: Record<RamProduct, DeniedCode> = {
  dds: { code: 'Forbidden.RAM', httpStatus: 403 },
  kms: { code: 'Forbidden.NoPermission', httpStatus: 403 },
  fc: { code: 'AccessDenied', httpStatus: 403 },
};

export function deniedCode(product: RamProduct): DeniedCode {
  return DENIED_CODES[product];
}

/** The error a service answers with when RAM refuses the request. */
export function denial(product: RamProduct, decision: Decision): DeniedCode & { message: string } {
  const message =
    `You are not authorized to perform ${decision.action} on ` +
    `${decision.resources.join(', ')}: no policy of this access key allows it, or one denies it.`;
  return { ...deniedCode(product), message };
}
