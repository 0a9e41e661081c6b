/**
 * The page `npm run status -- --html FILE` writes, for a staged fleet of 200: self-contained (nothing to
 * fetch), and, opened in a real headless Chromium from a file:// URL, showing the attention list first,
 * then the chart of the secrets' ages with the interval and overdue lines, then the table. The screenshot
 * is kept in .tmp/status-browser/ (git-ignored) and its path printed.
 *
 * Chromium comes from the Debian package (`apt-get install -y chromium`, which .ci/run does) at
 * /usr/bin/chromium, driven by playwright-core, which never downloads a browser. Without it, this one test
 * is skipped, and says so.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { startCloud } from '../helpers/cloud';
import { PROJECT_ROOT } from '../deploy/s-yaml';
import { type JsonReport, statusJson } from './run';
import { refuseUnreadable, stagedFleet, statusEnv } from './staged-fleet';

const CHROMIUM = '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
const OUTPUT_DIR = join(PROJECT_ROOT, '.tmp', 'status-browser');
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const URGENCY = ['instance-missing', 'unreadable', 'secret-missing', 'locked', 'stuck', 'overdue', 'many-versions'];

if (!HAS_CHROMIUM) {
  console.warn(
    `SKIPPED: the status page's browser test needs Chromium at ${CHROMIUM}, which this machine does not have. ` +
      'Install it with `apt-get install -y chromium` (.ci/run does) to run it.',
  );
}

it('is run by CI, which installs Chromium before the tests', () => {
  const ci = readFileSync(join(PROJECT_ROOT, '.ci', 'run'), 'utf8');
  expect(ci).toMatch(/\[ -x \/usr\/bin\/chromium \] \|\| install_chromium\n+npm ci\nnpm test\n/);
  expect(ci).toContain('apt-get install -y -q chromium');
});

describe('the status page of a staged fleet of 200', () => {
  const staged = stagedFleet(200);
  const page = join(OUTPUT_DIR, 'status-200.html');
  let cloud: LocalCloud;
  let report: JsonReport;
  let html: string;

  beforeAll(async () => {
    mkdirSync(OUTPUT_DIR, { recursive: true });
    cloud = await startCloud({ port: 0, fixture: staged.fixture });
    refuseUnreadable(cloud, staged);
    const run = await statusJson(['--html', page, '--concurrency', '16'], statusEnv(cloud, staged));
    expect(run.stderr).toContain(`status: wrote ${page}\n`);
    report = run.report;
    html = readFileSync(page, 'utf8');
  });

  afterAll(async () => {
    await cloud?.close();
  });

  it('is one self-contained file: no script, no external style, image or link, and a policy that forbids fetching', () => {
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|src=|href=|url\(|@import|https?:\/\//i);
  });

  it.skipIf(!HAS_CHROMIUM)('opens in headless Chromium from a file:// URL: attention list first, then the chart against the interval, then the table', async () => {
    const profile = mkdtempSync(join(tmpdir(), 'status-chromium-'));
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, viewport: { width: 1280, height: 900 } });
    try {
      const tab = await context.newPage();
      const url = pathToFileURL(page).href;
      const requested: string[] = [];
      const complaints: string[] = [];
      tab.on('request', (request) => requested.push(request.url()));
      tab.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') complaints.push(message.text());
      });
      tab.on('pageerror', (error) => complaints.push(error.message));
      await tab.goto(url, { waitUntil: 'load' });

      expect(await tab.title()).toBe(`Rotation status: 200 targets, ${report.summary.attention} need attention`);
      expect(await tab.locator('#summary').textContent()).toContain(`summary: 200 targets, ${report.summary.attention} need attention`);

      // The attention list: one item per target that needs attention, most urgent first.
      const items = tab.locator('#attention li');
      expect(await items.count()).toBe(report.summary.attention);
      const shownStates = await items.evaluateAll((lis) => lis.map((li) => li.getAttribute('data-state')));
      expect(shownStates).toEqual([...shownStates].sort((a, b) => URGENCY.indexOf(a!) - URGENCY.indexOf(b!)));
      expect(new Set(shownStates)).toEqual(new Set(URGENCY));
      await expect.poll(() => items.first().isVisible()).toBe(true);
      expect(await items.first().textContent()).toContain(staged.missingInstanceId);

      // The chart: a drawn bar per secret with an age, and the two lines, below the attention list.
      const chart = tab.locator('#age-chart');
      const chartBox = await chart.boundingBox();
      expect(chartBox!.width).toBeGreaterThan(600);
      expect(chartBox!.height).toBeGreaterThan(150);
      const aged = report.targets.filter((t) => t.current?.ageDays !== null && t.current !== null);
      const bars = await tab.locator('#age-chart rect.bar').evaluateAll((rects) =>
        rects.map((rect) => {
          const box = rect.getBoundingClientRect();
          return { instance: rect.getAttribute('data-instance'), state: rect.getAttribute('data-state'), width: box.width, height: box.height };
        }),
      );
      expect(bars).toHaveLength(aged.length);
      expect(bars.filter((b) => !(b.width > 0 && b.height > 0))).toEqual([]);
      expect(new Set(bars.map((b) => b.instance))).toEqual(new Set(aged.map((t) => t.instanceId)));
      const overdueBar = bars.find((b) => b.state === 'overdue')!;
      const freshBar = bars.find((b) => b.state === 'fresh')!;
      expect(overdueBar.height).toBeGreaterThan(freshBar.height * 10); // 40 days against 2
      for (const line of ['#interval-line', '#overdue-line']) expect(await tab.locator(line).isVisible(), line).toBe(true);
      const interval = await tab.locator('#interval-line line').boundingBox();
      const overdue = await tab.locator('#overdue-line line').boundingBox();
      expect(overdue!.y).toBeLessThan(interval!.y); // 31 days is higher up than 30
      const attentionBox = await tab.locator('#attention').boundingBox();
      const tableBox = await tab.locator('#fleet table').boundingBox();
      expect(attentionBox!.y).toBeLessThan(chartBox!.y);
      expect(chartBox!.y).toBeLessThan(tableBox!.y);

      expect(await tab.locator('#fleet tbody tr').count()).toBe(200);
      expect(requested).toEqual([url]);
      expect(complaints).toEqual([]);

      const screenshot = join(OUTPUT_DIR, 'status-200.png');
      await tab.screenshot({ path: screenshot, fullPage: true });
      expect(readFileSync(screenshot).subarray(1, 4).toString()).toBe('PNG');
      console.log(`status page screenshot: ${screenshot}`);
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    }
  }, 180_000);
});
