/**
 * An engine's stream of JSON messages, one per line, in chunks cut anywhere (also inside a
 * UTF-8 character), as whole lines: the build and the pull progress both read one.
 */
import { StringDecoder } from 'node:string_decoder';

export class JsonLines {
  private readonly decoder = new StringDecoder('utf8');
  private rest = '';

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer | string): void {
    this.rest += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const lines = this.rest.split('\n');
    this.rest = lines.pop() ?? '';
    for (const line of lines) this.onLine(line);
  }

  /** The stream ended: a last message without its newline is a line too. */
  end(): void {
    const last = this.rest + this.decoder.end();
    this.rest = '';
    this.onLine(last);
  }
}
