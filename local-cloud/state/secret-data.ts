/** Reading the fields the local cloud cares about from a secret's data: `{"AccountName","AccountPassword","DBInstanceId",…}`. */

function parse(data: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(data);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function stringField(data: string, field: string): string | undefined {
  const value = parse(data)?.[field];
  return typeof value === 'string' ? value : undefined;
}

export const accountPasswordOf = (data: string): string | undefined => stringField(data, 'AccountPassword');

export const instanceIdOf = (data: string): string | undefined => stringField(data, 'DBInstanceId');

export const accountNameOf = (data: string): string | undefined => stringField(data, 'AccountName');

/** The database an application user authenticates against: `AuthDatabase`, `admin` when absent. */
export const authDatabaseOf = (data: string): string => stringField(data, 'AuthDatabase') ?? 'admin';
