import { type Params, ApiError } from '../http/api-error';

/** Reading request parameters the way Alibaba's services validate them, shared by the product services. */

export function missingParameter(name: string): ApiError {
  return new ApiError('MissingParameter', `The input parameter "${name}" that is mandatory for processing this request is not supplied.`);
}

export function requiredParam(params: Params, name: string): string {
  const value = params[name];
  if (value === undefined || value === '') throw missingParameter(name);
  return value;
}

export function invalidParameter(name: string, reason: string): ApiError {
  return new ApiError('InvalidParameter', `The specified parameter "${name}" is not valid: ${reason}.`);
}

/** A positive integer parameter, `fallback` when absent. */
export function positiveIntParam(params: Params, name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = params[name];
  if (raw === undefined || raw === '') return fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= 1 && value <= max)) {
    throw invalidParameter(name, max === Number.MAX_SAFE_INTEGER ? 'expected a positive integer' : `expected an integer from 1 to ${max}`);
  }
  return value;
}

export function page<T>(items: T[], pageNumber: number, pageSize: number): T[] {
  return items.slice((pageNumber - 1) * pageSize, pageNumber * pageSize);
}
