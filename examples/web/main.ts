/**
 * `npm run example:web`: two real pi sessions (against the bundled fake LLM) in a browser page.
 * Open the printed URL. It binds 127.0.0.1 on a free port (set PORT to choose one).
 */
import { startWebExample } from './app.js';

const port = process.env['PORT'] === undefined ? 0 : Number(process.env['PORT']);
const example = await startWebExample({ port });
console.log(`pidriver web example: ${example.url}`);
console.log(`pi works in ${example.env.cwd}. Ctrl+C stops everything.`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  example.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
