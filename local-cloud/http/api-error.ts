/** An error the gateway answers with: the service's `Code`, its message and HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus = 400,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type Product = 'dds' | 'kms' | 'fc';

/** Request parameters as the gateway received them (query and form body merged), all strings. */
export type Params = Record<string, string>;

export interface ActionContext {
  requestId: string;
  product: Product;
  action: string;
  accessKeyId: string;
}

/** Returns the response body without `RequestId` (the gateway adds it); throws ApiError. */
export type ActionHandler = (params: Params, ctx: ActionContext) => Record<string, unknown>;

export interface ProductService {
  actions: Record<string, ActionHandler>;
  /** Actions that change state: logged as writes, followed by an invariant check. */
  writeActions: ReadonlySet<string>;
}
