import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CharacterClass, characterClasses, checkPassword, generatePassword } from '../../functions/shared/password';

/** The seed's rule, written independently of the code under test. */
function seedRule(password: string): boolean {
  if (!/^[A-Za-z0-9!#$%^&*()_+\-=]{8,32}$/.test(password)) return false;
  return [/[A-Z]/, /[a-z]/, /[0-9]/, /[!#$%^&*()_+\-=]/].filter((re) => re.test(password)).length >= 3;
}

const CLASSES: CharacterClass[] = ['upper', 'lower', 'digit', 'special'];

describe('passwords', () => {
  it('generates 10,000 passwords that all satisfy the seed rule', () => {
    fc.assert(
      fc.property(fc.integer({ min: 16, max: 32 }), (length) => {
        const password = generatePassword(length);
        return password.length === length && seedRule(password) && checkPassword(password).length === 0;
      }),
      { numRuns: 10_000 },
    );
  });

  it.each([16, 32])('exercises every class of the rule at length %i', (length) => {
    const seen = new Set<CharacterClass>();
    const missing = new Set<CharacterClass>();
    for (let i = 0; i < 2_000; i++) {
      const classes = characterClasses(generatePassword(length));
      for (const c of CLASSES) (classes.has(c) ? seen : missing).add(c);
    }
    expect([...seen].sort()).toEqual([...CLASSES].sort());
    // Three classes of four are enough: at 16 characters the rarest pool, digits and specials, is sometimes left out.
    if (length === 16) expect([...missing]).toEqual(expect.arrayContaining(['digit', 'special']));
  });

  it('checks any string exactly as the seed rule does', () => {
    const chars = fc.constantFrom(...'aZ9!#$%^&*()_+-=@ ~é"\\'.split(''), ...'abcXYZ012'.split(''));
    fc.assert(
      fc.property(fc.array(chars, { minLength: 0, maxLength: 40 }).map((a) => a.join('')), (candidate) => {
        expect(checkPassword(candidate).length === 0).toBe(seedRule(candidate));
      }),
      { numRuns: 3_000 },
    );
  });

  it('says what is wrong without quoting the password', () => {
    const problems = checkPassword('abc@defgh');
    expect(problems).toEqual(['has 1 character(s) outside letters, digits and !#$%^&*()_+-=', 'uses 1 of the 4 character classes; the rule needs 3']);
    expect(problems.join(' ')).not.toContain('abc');
    expect(checkPassword('Aa1!')).toEqual(['has 4 characters; the rule allows 8 to 32']);
  });

  it('generates only 16 to 32 characters: the API allows 8, we refuse fewer than 16', () => {
    for (const length of [7, 8, 15, 33, 16.5]) expect(() => generatePassword(length)).toThrow(RangeError);
    expect(() => generatePassword(15)).toThrow('password length must be an integer from 16 to 32');
  });
});
