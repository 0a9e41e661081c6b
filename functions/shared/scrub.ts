/**
 * Keeping secrets out of text. A Scrubber knows the passwords one invocation handles and replaces them in
 * any text, written plainly, JSON-escaped, or URL-encoded in any of the ways an SDK writes a query or a form
 * (some or all characters percent-encoded, either case of hex digits), or encoded twice, as the API
 * gateway's SignatureDoesNotMatch message quotes the string it signed. `sanitizeMessage` is the one way an
 * error message reaches a log line, a report or a rejection: URLs lose their query and user info (an RPC
 * request carries its parameters, a new password among them, and the STS token in its query), then the
 * scrubber runs, then the text is capped.
 */

export const REDACTED = '[REDACTED]';
export const MESSAGE_LIMIT = 300;

export class Scrubber {
  private readonly secrets = new Set<string>();
  private encoded?: RegExp;

  add(secret: string): void {
    if (secret === '' || this.secrets.has(secret)) return;
    this.secrets.add(secret);
    this.encoded = undefined;
  }

  scrub(text: string): string {
    let clean = text;
    for (const secret of this.secrets) {
      clean = clean.replaceAll(JSON.stringify(secret).slice(1, -1), REDACTED).replaceAll(secret, REDACTED);
    }
    // Only text with a percent sign or a plus can hold an encoded form the plain pass missed.
    if (this.secrets.size > 0 && /[%+]/.test(clean)) clean = clean.replace(this.encodedForms(), REDACTED);
    return clean;
  }

  private encodedForms(): RegExp {
    this.encoded ??= new RegExp([...this.secrets].map(encodedPattern).join('|'), 'g');
    return this.encoded;
  }
}

/** An error message as it may be shown anywhere: no URL query or user info, no registered secret, then capped. */
export function sanitizeMessage(message: string, scrubber?: Scrubber, limit = MESSAGE_LIMIT): string {
  const stripped = withoutUrlSecrets(message);
  const clean = scrubber ? scrubber.scrub(stripped) : stripped;
  return clean.length > limit ? `${clean.slice(0, limit)}…` : clean;
}

/** Text whose URLs lost their query and user info. Nothing is cut: what is cut cannot be scrubbed whole later. */
export function withoutUrlSecrets(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*@/gi, '$1…@').replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s?#]*)\?[^\s#"']*/gi, '$1?…');
}

/** The secret with each character as is, or percent-encoded once or twice (UTF-8, hex digits in either case). */
function encodedPattern(secret: string): string {
  return [...secret]
    .map((char) => {
      const bytes = [...Buffer.from(char, 'utf8')].map((byte) => `%(?:25)?${hexDigits(byte)}`).join('');
      const alternatives = [escapeRegExp(char), bytes];
      if (char === ' ') alternatives.push('\\+');
      return `(?:${alternatives.join('|')})`;
    })
    .join('');
}

function hexDigits(byte: number): string {
  return [...byte.toString(16).padStart(2, '0')].map((digit) => (/[a-f]/.test(digit) ? `[${digit}${digit.toUpperCase()}]` : digit)).join('');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
