// Where the heat map's cells lie on its canvas, without imports: the browser test
// (tests/e2e/compliance.spec.ts) clicks cells by it.

/**
 * The plot area's margins in pixels (fixed, not fitted to the labels): the rows' names get a set
 * width (truncated), so a cell's place on the canvas follows from the size alone (the browser
 * test clicks cells by it).
 */
export const HEAT_GRID = { left: 210, leftCompact: 92, right: 8, top: 8, bottom: 60 } as const

/** The centre of a cell (month index, row index) on a canvas of that size. */
export function cellCentre(width: number, height: number, months: number, rows: number, x: number, y: number, compact = false): { x: number; y: number } {
  const left = compact ? HEAT_GRID.leftCompact : HEAT_GRID.left
  const w = (width - left - HEAT_GRID.right) / months
  const h = (height - HEAT_GRID.top - HEAT_GRID.bottom) / rows
  return { x: left + (x + 0.5) * w, y: HEAT_GRID.top + (y + 0.5) * h }
}
