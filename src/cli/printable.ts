/**
 * `text` with every C0/C1 control character (line breaks and ESC included) shown as `\xNN`: what a
 * command prints may quote what a remote endpoint or a file said, and a terminal escape or a line
 * break in it could draw a "VERIFIED" line over the real verdict. Every human-readable line that can
 * carry such text goes through here; JSON output is escaped by JSON.stringify instead.
 */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
