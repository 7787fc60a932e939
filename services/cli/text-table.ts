/**
 * Renders rows as plain-text columns separated by two spaces, trailing
 * spaces trimmed. Cells past `cellCharsMax` are clipped with "…", except in
 * the last column: that is where a table keeps its free-text reason or note,
 * and it cannot push any other column out of line.
 */
export function renderTable(header: string[], rows: string[][], cellCharsMax = Infinity): string {
  const last = header.length - 1;
  const cell = (cells: string[], i: number) => {
    const c = cells[i] ?? '';
    return i === last || c.length <= cellCharsMax ? c : c.slice(0, cellCharsMax - 1) + '…';
  };
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => cell(r, i).length)));
  const line = (cells: string[]) => header.map((_, i) => cell(cells, i).padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
