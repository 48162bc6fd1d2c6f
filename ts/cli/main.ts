/**
 * The `tunstack` command line (bin/tunstack.cjs runs {@link run}).
 * @internal
 * @module
 */

import { demo, demoHelp } from './demo.js';
import { type Output, UsageError } from './args.js';
import { serve, serveHelp } from './serve.js';

/** @internal */
export const mainHelp = `Usage: tunstack <command> [options]

Commands:
  demo     watch TCP at work: a node:http server and client on two tunstack stacks
           joined by an in-memory link, every segment and state change printed
  serve    serve echo, discard and HTTP through a Linux TUN device

Run \`tunstack <command> --help\` for a command's options.`;

/** Writes to the process's stdout/stderr. @internal */
export const stdio: Output = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
};

/**
 * Runs one command; resolves with the exit status.
 * @internal
 */
export async function main(argv: string[], io: Output = stdio): Promise<number> {
  const [command, ...rest] = argv;
  const help = { demo: demoHelp, serve: serveHelp } as Record<string, string>;
  try {
    switch (command) {
      case 'demo':
        return await demo(rest, io);
      case 'serve':
        return await serve(rest, io);
      case undefined:
      case 'help':
      case '-h':
      case '--help': {
        const topic = rest[0];
        io.out(topic && help[topic] ? help[topic]! : mainHelp);
        return 0;
      }
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (err instanceof UsageError || e.code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`tunstack: ${e.message}`);
      io.err('');
      io.err(command && help[command] ? help[command]! : mainHelp);
      return 2;
    }
    io.err(`tunstack: ${e.message ?? String(err)}`);
    return 1;
  }
}

/**
 * Entry point of the executable: runs `process.argv` and sets the exit code.
 * @internal
 */
export function run(argv: string[] = process.argv.slice(2)): void {
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`tunstack: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
