/**
 * The web example (examples/web) in real headless Chromium: Debian's `chromium` driven by
 * playwright-core (no browser download), two real pi sessions against the fake LLM behind the
 * bridge. Skips, saying why, when there is no Chromium (`.ci/run` installs it with apt-get).
 *
 * A screenshot of the page is saved as test-output/web-example.png.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebExample, type WebExample } from '../../examples/web/app.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const title = hasChromium
  ? 'the web example in headless Chromium'
  : `the web example in headless Chromium (SKIPPED: no Chromium at ${CHROMIUM}; apt-get install -y chromium, or set CHROMIUM_PATH)`;

// CI relies on this test (.ci/run sets PIDRIVER_REQUIRE_BROWSER=1): there, no Chromium is a failure, not a skip.
if (!hasChromium && process.env['PIDRIVER_REQUIRE_BROWSER'] === '1') {
  it(`the web example in headless Chromium: no Chromium at ${CHROMIUM} (PIDRIVER_REQUIRE_BROWSER=1)`, () => {
    throw new Error(`PIDRIVER_REQUIRE_BROWSER=1 but there is no Chromium at ${CHROMIUM}: apt-get install -y chromium, or set CHROMIUM_PATH`);
  });
}

describe.skipIf(!hasChromium)(title, () => {
  let example: WebExample;
  let context: BrowserContext;
  let page: Page;
  let userDataDir: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    userDataDir = await mkdtemp(join(tmpdir(), 'pidriver-chromium-'));
    example = await startWebExample();
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      // The machine has no network: without these Chromium keeps trying to reach Google's hosts.
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1300, height: 820 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });

  afterAll(async () => {
    await context?.close();
    await example?.close();
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
  });

  it('streams text, aborts a superseded run, and turns a bash permission into Allow / Deny buttons', async () => {
    // The left session reads its events with the browser's EventSource, the right one with fetch.
    await page.goto(`${example.url}?eventsource=left`);
    await page.locator('body[data-ready="true"]').waitFor();
    const left = page.locator('section[data-session-id="left"]');
    const right = page.locator('section[data-session-id="right"]');

    const send = async (panel: typeof left, text: string) => {
      await panel.locator('textarea[name="prompt"]').fill(text);
      await panel.locator('button[type="submit"]').click();
    };

    // Streamed text (and thinking) appear.
    await send(left, 'scenario:think');
    await expect.poll(() => left.locator('.assistant').last().textContent()).toBe('The answer is 42.');
    expect(await left.locator('.thinking').last().textContent()).toBe('Let me think about this.');
    await left.locator('.end.completed').first().waitFor();

    // switchMap: a new prompt aborts the run still streaming.
    await send(left, 'scenario:slow:50:100');
    await expect.poll(() => left.locator('.assistant').last().textContent()).toMatch(/^w0 /);
    await send(left, 'scenario:text [[text:Second prompt wins.]]');
    await left.locator('.end.cancelled').first().waitFor();
    await expect.poll(() => left.locator('.assistant').last().textContent()).toBe('Second prompt wins.');

    // Deny: the tool starts, asks, is blocked; the file is not created.
    const denied = join(example.env.cwd, 'denied.txt');
    await send(right, `scenario:tool-bash [[cmd:touch ${denied}]]`);
    await right.locator('.tool.running').first().waitFor();
    await right.locator('button.deny').click();
    await right.locator('.tool.failed').first().waitFor();
    await right.locator('.end').first().waitFor();
    expect(existsSync(denied)).toBe(false);

    // Allow: the tool runs; the file is created.
    const allowed = join(example.env.cwd, 'allowed.txt');
    await send(right, `scenario:tool-bash [[cmd:touch ${allowed}]]`);
    await right.locator('button.allow').click();
    await right.locator('.tool.done').first().waitFor();
    await right.locator('.end').nth(1).waitFor();
    expect(existsSync(allowed)).toBe(true);
    expect(await right.locator('.requests .request').count()).toBe(0);

    await mkdir('test-output', { recursive: true });
    await page.screenshot({ path: 'test-output/web-example.png', fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});
