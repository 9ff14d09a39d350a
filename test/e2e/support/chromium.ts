// Debian's Chromium driven by playwright-core, launched with the flags this closed network needs
// and a fresh profile directory per launch. Every test that needs it is a `browserTest`.
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { it, type TestContext } from 'vitest';

export const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Why the browser tests cannot run on this machine; undefined when Chromium is there. */
export const chromiumMissing: string | undefined = executable(chromiumPath)
  ? undefined
  : `no Chromium at ${chromiumPath}: run \`sudo apt-get install chromium\` (npm test's pretest does it when it may) or set CHROMIUM_PATH`;

/** CI=true (or 1): a browser test without a browser fails instead of being skipped. */
const inCi = /^(true|1)$/i.test(process.env.CI ?? '');

/**
 * A test that drives Chromium (`it` with the same arguments). Without Chromium it is reported as
 * skipped, with the reason and what to do, so the rest of the suite still tells something; under
 * CI it fails with that reason instead, since CI must run every browser test.
 */
export function browserTest(name: string, fn: (context: TestContext) => Promise<void>, timeout?: number): void {
  it(
    name,
    async (context) => {
      if (chromiumMissing !== undefined) {
        if (inCi) throw new Error(`${chromiumMissing} (CI is set: the browser tests must run)`);
        context.skip(chromiumMissing);
      }
      await fn(context);
    },
    timeout,
  );
}

export async function launchChromium(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'consulate-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * A person signing in on Consulate's login page in the browser: their e-mail, then the stand-in
 * upstream's sign-in and consent. `upstreamUrl`: also check the browser went to that upstream.
 */
export async function signInInBrowser(page: Page, email: string, upstreamUrl?: string): Promise<void> {
  await page.getByLabel('Work e-mail').fill(email);
  await page.getByRole('button', { name: 'Continue' }).click();
  if (upstreamUrl !== undefined) await page.waitForURL((url) => url.href.startsWith(upstreamUrl));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Accept' }).click();
}
