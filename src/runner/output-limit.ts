/** Every tool answer is bounded; the marker tells the model that it saw only a part. */
export const MAX_TOOL_OUTPUT_BYTES = 64 * 1024;

export function truncateOutput(text: string, maxBytes = MAX_TOOL_OUTPUT_BYTES): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  // Cutting a Buffer can split a UTF-8 sequence; toString replaces the broken tail, which is fine.
  return `${bytes.subarray(0, maxBytes).toString('utf8')}\n[… truncated ${bytes.length - maxBytes} bytes]`;
}
