/**
 * Structured logging, one JSON object per line (FC ships stdout to SLS), after AWS Lambda Powertools'
 * Logger: `{ time, level, msg, ...bound keys, ...fields }`, child loggers that bind keys such as
 * `instanceId` and `step`. Strings from input go through JSON.stringify, so they cannot forge a line.
 *
 * Two last lines of defence keep secrets out: any key named like a password or secret data is replaced,
 * and every value registered with `keepSecret` is scrubbed from the finished line, plain and JSON-escaped.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogSink {
  write(line: string): unknown;
}

export type LogFields = Record<string, unknown>;

const REDACTED = '[REDACTED]';
const SENSITIVE_KEY = /password|secretdata|secret_data|accesskeysecret|securitytoken|credentials/i;

export class Logger {
  private constructor(
    private readonly sink: LogSink,
    private readonly bound: LogFields,
    private readonly secrets: Set<string>,
  ) {}

  static create(options: { sink?: LogSink; fields?: LogFields } = {}): Logger {
    return new Logger(options.sink ?? process.stdout, options.fields ?? {}, new Set());
  }

  /** A logger that adds `fields` to every line; it shares the parent's sink and secrets. */
  child(fields: LogFields): Logger {
    return new Logger(this.sink, { ...this.bound, ...fields }, this.secrets);
  }

  /** Scrubs `value` from every later line of this logger and its relatives. */
  keepSecret(value: string): void {
    if (value !== '') this.secrets.add(value);
  }

  debug(msg: string, fields?: LogFields): void {
    this.write('debug', msg, fields);
  }

  info(msg: string, fields?: LogFields): void {
    this.write('info', msg, fields);
  }

  warn(msg: string, fields?: LogFields): void {
    this.write('warn', msg, fields);
  }

  error(msg: string, fields?: LogFields): void {
    this.write('error', msg, fields);
  }

  private write(level: LogLevel, msg: string, fields: LogFields = {}): void {
    const entry = { time: new Date().toISOString(), level, msg, ...this.bound, ...fields };
    const line = JSON.stringify(entry, (key, value: unknown) => (key !== '' && SENSITIVE_KEY.test(key) ? REDACTED : value));
    this.sink.write(`${this.scrub(line)}\n`);
  }

  private scrub(line: string): string {
    let clean = line;
    for (const secret of this.secrets) {
      clean = clean.replaceAll(JSON.stringify(secret).slice(1, -1), REDACTED).replaceAll(secret, REDACTED);
    }
    return clean;
  }
}
