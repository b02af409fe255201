/**
 * `text` with every C0/C1 control character (line breaks and ESC included) shown as `\xNN`, and
 * every bidirectional formatting character (Unicode UAX #9 §2: LRM, RLM, ALM, LRE…RLO, LRI…PDI)
 * and the line and paragraph separators (U+2028, U+2029) as `\u{XXXX}`: what a command prints may
 * quote what a remote endpoint or a file said, and a terminal escape or a line break in it could
 * draw a "VERIFIED" line over the real verdict, or a bidi override reorder the line it stands in
 * (CVE-2021-42574, "Trojan Source"). Every human-readable line that can carry such text goes
 * through here; JSON output is escaped by JSON.stringify instead.
 */
export function printable(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
