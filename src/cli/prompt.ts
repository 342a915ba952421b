import { createInterface } from 'node:readline';

/**
 * One line from the terminal (only called when stdin is a TTY); undefined
 * when the prompt ends without an answer (Ctrl-D, Ctrl-C, the terminal
 * closed), so the caller refuses instead of waiting forever.
 */
export async function promptLine(question: string): Promise<string | undefined> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await new Promise<string | undefined>((resolve) => {
      rl.once('SIGINT', () => resolve(undefined));
      rl.once('close', () => resolve(undefined));
      rl.question(question, (a) => resolve(a.trim()));
    });
  } finally {
    rl.close();
  }
}
