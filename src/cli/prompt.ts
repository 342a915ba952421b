import { createInterface } from 'node:readline/promises';

/** One line from the terminal (only called when stdin is a TTY). */
export async function promptLine(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}
