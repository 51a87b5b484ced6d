/**
 * CSV for spreadsheets (RFC 4180): a cell with a comma, quote or line break is quoted, its
 * quotes doubled. A cell a spreadsheet would run as a formula (starting with = + - @, or a
 * tab or carriage return that some strip first) gets a leading ' so it stays text (OWASP
 * "CSV injection"): audit subjects and actors can carry text from outside.
 */
export function csvCell(value: string | number | null | undefined): string {
  let text = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRow(cells: ReadonlyArray<string | number | null | undefined>): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}
