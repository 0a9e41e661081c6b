/**
 * Structured logging, one JSON object per line (FC ships stdout to SLS), after AWS Lambda Powertools'
 * Logger: `{ time, level, msg, ...bound keys, ...fields }`, child loggers that bind keys such as
 * `instanceId` and `step`.
 *
 * Strings from input (instance ids, secret names, reasons, service messages) cannot forge or break a line:
 * JSON.stringify escapes quotes and C0 controls, and the line is then cut of what it leaves raw but some
 * readers still take for a line break or a terminal command (U+2028, U+2029, DEL and the C1 controls such
 * as NEL and CSI), which are written as `\uXXXX` escapes: parsing the line gives the original string back.
 * A string longer than MAX_STRING_LENGTH is cut, saying how much was left out.
 *
 * Two last lines of defence keep secrets out: any key named like a password or secret data is replaced,
 * and every value registered with `keepSecret` is scrubbed (scrub.ts: plain, JSON-escaped or URL-encoded)
 * from each string (before it is cut, so that no half of a secret survives) and from the finished line.
 */
import { REDACTED, Scrubber, sanitizeMessage } from './scrub';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogSink {
  write(line: string): unknown;
}

export type LogFields = Record<string, unknown>;

const SENSITIVE_KEY = /password|secretdata|secret_data|accesskeysecret|securitytoken|credentials/i;
/** Characters JSON.stringify leaves raw that some readers break lines at or act on. */
const RAW_HAZARDS = /[\u007f-\u009f\u2028\u2029]/g;
export const MAX_STRING_LENGTH = 4096;

export class Logger {
  private constructor(
    private readonly sink: LogSink,
    private readonly bound: LogFields,
    private readonly secrets: Scrubber,
  ) {}

  static create(options: { sink?: LogSink; fields?: LogFields } = {}): Logger {
    return new Logger(options.sink ?? process.stdout, options.fields ?? {}, new Scrubber());
  }

  /** A logger that adds `fields` to every line; it shares the parent's sink and secrets. */
  child(fields: LogFields): Logger {
    return new Logger(this.sink, { ...this.bound, ...fields }, this.secrets);
  }

  /** Scrubs `value` from every later line of this logger and its relatives. */
  keepSecret(value: string): void {
    this.secrets.add(value);
  }

  /** An error message as this invocation may show it in a report or a rejection (scrub.ts). */
  sanitize(message: string, limit?: number): string {
    return sanitizeMessage(message, this.secrets, limit);
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
    const line = JSON.stringify(entry, (key, value: unknown) => {
      if (key !== '' && SENSITIVE_KEY.test(key)) return REDACTED;
      return typeof value === 'string' ? cap(this.scrub(value)) : value;
    });
    this.sink.write(`${this.scrub(line).replace(RAW_HAZARDS, escapeChar)}\n`);
  }

  private scrub(text: string): string {
    return this.secrets.scrub(text);
  }
}

function cap(text: string): string {
  if (text.length <= MAX_STRING_LENGTH) return text;
  // Never end on the first half of a surrogate pair: JSON.stringify would escape the lone half.
  const end = /[\ud800-\udbff]/.test(text[MAX_STRING_LENGTH - 1]) ? MAX_STRING_LENGTH - 1 : MAX_STRING_LENGTH;
  return `${text.slice(0, end)}…[${text.length - end} more characters]`;
}

function escapeChar(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
}
