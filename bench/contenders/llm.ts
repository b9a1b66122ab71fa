/**
 * The bundled fake LLM in a process of its own (for bench/contenders/scale.ts): prints its URL,
 * serves until killed. `node llm.mjs`.
 */
import { startFakeLlm } from '../../src/testing/fakeLlm/startFakeLlm.js';

const llm = await startFakeLlm();
process.stdout.write(`${llm.url}\n`);
process.once('SIGTERM', () => void llm.close().then(() => process.exit(0)));
