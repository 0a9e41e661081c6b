/**
 * ResetAccountPassword's rule for a new root password (the seed's API page): 8 to 32 characters, each a letter,
 * a digit or one of `!#$%^&*()_+-=`, from at least three of the four classes.
 */
export const PASSWORD_SPECIALS = '!#$%^&*()_+-=';

const CLASSES: Array<(c: string) => boolean> = [
  (c) => c >= 'A' && c <= 'Z',
  (c) => c >= 'a' && c <= 'z',
  (c) => c >= '0' && c <= '9',
  (c) => PASSWORD_SPECIALS.includes(c),
];

/** Why the password breaks the rule, or undefined when it keeps it. Never quotes the password. */
export function passwordRuleBreach(password: string): string | undefined {
  const chars = [...password];
  if (chars.length < 8 || chars.length > 32) return 'it must be 8 to 32 characters long';
  if (chars.some((c) => !CLASSES.some((isIn) => isIn(c)))) {
    return `it may hold only letters, digits and the special characters ${PASSWORD_SPECIALS}`;
  }
  const classes = CLASSES.filter((isIn) => chars.some(isIn)).length;
  if (classes < 3) return 'it must mix at least three of upper case letters, lower case letters, digits and special characters';
  return undefined;
}
