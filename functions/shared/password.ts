import { generate } from 'generate-password';

/** The special characters ResetAccountPassword accepts (the API page's list; `@` is not among them). */
export const SPECIAL_CHARACTERS = '!#$%^&*()_+-=';
/** ResetAccountPassword's rule: 8 to 32 characters. */
export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 32;
/** Our own floor for the passwords we generate (PASSWORD_LENGTH): the API allows 8, we refuse fewer than 16. */
export const MIN_GENERATED_PASSWORD_LENGTH = 16;
const MIN_CLASSES = 3;

export type CharacterClass = 'upper' | 'lower' | 'digit' | 'special';

const CLASS_TESTS: Record<CharacterClass, (c: string) => boolean> = {
  upper: (c) => c >= 'A' && c <= 'Z',
  lower: (c) => c >= 'a' && c <= 'z',
  digit: (c) => c >= '0' && c <= '9',
  special: (c) => SPECIAL_CHARACTERS.includes(c),
};

/** The classes of characters a password uses; a character outside every class is reported separately. */
export function characterClasses(password: string): Set<CharacterClass> {
  const classes = new Set<CharacterClass>();
  for (const c of password) {
    for (const [name, test] of Object.entries(CLASS_TESTS) as [CharacterClass, (c: string) => boolean][]) {
      if (test(c)) classes.add(name);
    }
  }
  return classes;
}

/**
 * Checks a password against ResetAccountPassword's rule: 8 to 32 characters, only letters, digits and
 * `!#$%^&*()_+-=`, at least three of the four classes. Returns the problems (empty when it complies);
 * a problem never quotes the password.
 */
export function checkPassword(password: string): string[] {
  const problems: string[] = [];
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH || length > MAX_PASSWORD_LENGTH) {
    problems.push(`has ${length} characters; the rule allows ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH}`);
  }
  const outside = [...password].filter((c) => !Object.values(CLASS_TESTS).some((test) => test(c))).length;
  if (outside > 0) problems.push(`has ${outside} character(s) outside letters, digits and ${SPECIAL_CHARACTERS}`);
  const classes = characterClasses(password).size;
  if (classes < MIN_CLASSES) problems.push(`uses ${classes} of the 4 character classes; the rule needs ${MIN_CLASSES}`);
  return problems;
}

/**
 * A password of 16 to 32 characters from a CSPRNG (generate-password draws from crypto.randomBytes with
 * rejection sampling) that satisfies checkPassword. generate-password's `strict` is not used: it builds a
 * regex character class from the symbol list, where `+-=` reads as a range. Instead we draw until our own
 * rule holds, which at 16 characters takes more than one draw well under 1% of the time.
 */
export function generatePassword(length: number): string {
  if (!Number.isInteger(length) || length < MIN_GENERATED_PASSWORD_LENGTH || length > MAX_PASSWORD_LENGTH) {
    throw new RangeError(`password length must be an integer from ${MIN_GENERATED_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH}`);
  }
  for (;;) {
    const password = generate({ length, lowercase: true, uppercase: true, numbers: true, symbols: SPECIAL_CHARACTERS, strict: false });
    if (checkPassword(password).length === 0) return password;
  }
}
