import { rmSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PiConfig } from '../config/PiConfig.js';

/**
 * A system prompt longer than this many UTF-8 bytes goes to pi as a file. Linux refuses a
 * single argument of 128 KiB or more (`E2BIG`), and all of argv and the environment together
 * share a limit too.
 */
export const INLINE_PROMPT_BYTES = 32 * 1024;

/** The config to spawn with, and how to remove the files written for it. */
export interface PromptFiles {
  readonly config: PiConfig;
  /** Removes the files (synchronously; safe to call more than once). */
  readonly remove: () => void;
}

/**
 * Moves long `systemPrompt` / `appendSystemPrompt` texts out of argv: pi reads
 * `--system-prompt` and `--append-system-prompt` from a file when the value is the path of one
 * (pi 0.73, pi 1.x and omp alike), so each long text is written to a file in a private
 * temporary directory (mode 0700, files 0600) and its path passed instead. Remove the files
 * once pi has exited (pi reads them again on a reload).
 *
 * A launcher runs pi elsewhere, where a local file means nothing: its config is returned as is.
 *
 * @param config The config to spawn pi with.
 * @return The config with paths for the long texts, and how to remove their files.
 * @internal
 */
export async function writePromptFiles(config: PiConfig): Promise<PromptFiles> {
  const isLong = (text: string | undefined): text is string => text !== undefined && Buffer.byteLength(text) > INLINE_PROMPT_BYTES;
  const appends = config.appendSystemPrompt === undefined ? undefined : [config.appendSystemPrompt].flat();
  if (config.launcher !== undefined || (!isLong(config.systemPrompt) && !appends?.some(isLong))) {
    return { config, remove: () => undefined };
  }
  const dir = await mkdtemp(join(tmpdir(), 'pidriver-prompt-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    let count = 0;
    const toFile = async (text: string): Promise<string> => {
      const file = join(dir, `prompt-${++count}.md`);
      await writeFile(file, text, { mode: 0o600 });
      return file;
    };
    const systemPrompt = isLong(config.systemPrompt) ? await toFile(config.systemPrompt) : config.systemPrompt;
    const appendSystemPrompt = appends && (await Promise.all(appends.map((text) => (isLong(text) ? toFile(text) : text))));
    return {
      config: config.with({
        ...(systemPrompt !== undefined ? { systemPrompt } : {}),
        ...(appendSystemPrompt ? { appendSystemPrompt } : {}),
      }),
      remove,
    };
  } catch (error) {
    remove();
    throw error;
  }
}
