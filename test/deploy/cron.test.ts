import { describe, expect, it } from 'vitest';
import { cronProblems } from './cron';

describe('the FC timer cron validator', () => {
  it.each([
    '0 0 3 * * *',
    '0 */15 * * * *',
    '30 0 2 1,15 * ?',
    '0 0 4 ? JAN-MAR MON-FRI',
    '0 0 0-6/2 * * 0',
    '0 0 4 1 * *',
    'CRON_TZ=Asia/Shanghai 0 0 4 1 * *',
  ])('accepts %s', (expression) => {
    expect(cronProblems(expression)).toEqual([]);
  });

  it.each([
    ['0 3 * * *', /expected 6 fields/],
    ['@every 4m', /expected 6 fields/],
    ['60 0 3 * * *', /second "60"/],
    ['0 0 24 * * *', /hour "24"/],
    ['0 0 3 0 * *', /day-of-month "0"/],
    ['0 0 3 * 13 *', /month "13"/],
    ['0 0 3 * * 7', /day-of-week "7"/],
    ['? 0 3 * * *', /only allowed in the day fields/],
    ['0 0 3 * * MON/0', /positive integer/],
    ['0 0 5-3 * * *', /backwards/],
    ['0 0 1-2-3 * * *', /two ends/],
    ['0 0 3 * FOO *', /month "FOO"/],
    ['CRON_TZ=Mars/Olympus 0 0 3 * * *', /unknown time zone/],
  ])('rejects %s', (expression, problem) => {
    expect(cronProblems(expression).join('\n')).toMatch(problem);
  });
});
