// The report's tables (POST /reports/party-statistics, Accept: application/json) rendered
// generically: header rows of cells with colspan/rowspan, then one row per line (a label and its
// values). These functions place the header cells on a grid so that the page can check the widths
// agree and add a label column header when the server left it out.
import type { HeaderCell } from './types'

export interface PlacedCell {
  text: string
  colspan: number
  rowspan: number
  /** First grid column the cell covers (0-based). */
  col: number
}

const span = (n: number | undefined) => (Number.isInteger(n) && (n as number) > 0 ? (n as number) : 1)

/**
 * Places header cells as an HTML table does: each cell takes the next grid column not already
 * covered by a cell with rowspan from a row above. Returns the placed rows and the grid width.
 */
export function placeHeader(header: readonly (readonly HeaderCell[])[]): { rows: PlacedCell[][]; width: number } {
  const taken: boolean[][] = header.map(() => [])
  const rows: PlacedCell[][] = []
  let width = 0
  header.forEach((cells, r) => {
    const out: PlacedCell[] = []
    let col = 0
    for (const c of cells) {
      while (taken[r]![col]) col++
      const colspan = span(c.colspan)
      const rowspan = Math.min(span(c.rowspan), header.length - r)
      for (let dr = 0; dr < rowspan; dr++) for (let dc = 0; dc < colspan; dc++) taken[r + dr]![col + dc] = true
      out.push({ text: c.text, colspan, rowspan, col })
      col += colspan
    }
    width = Math.max(width, taken[r]!.length)
    rows.push(out)
  })
  return { rows, width }
}

export interface TableLayout {
  header: PlacedCell[][]
  /** Columns: the label column and one per value. */
  width: number
}

/**
 * The header to render. Each row is a label followed by its values, so the table is
 * values + 1 columns wide: a header that covers only the values gets a label column (项目)
 * spanning all header rows.
 */
export function tableLayout(table: { header: readonly (readonly HeaderCell[])[]; rows: readonly { label?: string; values: readonly number[]; total?: boolean }[] }, labelText = '项目'): TableLayout {
  const values = Math.max(0, ...table.rows.map((r) => r.values.length))
  let header: (readonly HeaderCell[])[] = table.header.filter((r) => r.length > 0)
  let placed = placeHeader(header)
  if (header.length > 0 && values > 0 && placed.width === values) {
    header = header.map((r, i) => (i === 0 ? [{ text: labelText, colspan: 1, rowspan: header.length }, ...r] : r))
    placed = placeHeader(header)
  }
  if (header.length === 0) {
    placed = { rows: [[{ text: labelText, colspan: 1, rowspan: 1, col: 0 }, ...Array.from({ length: values }, (_, i) => ({ text: String(i + 1), colspan: 1, rowspan: 1, col: i + 1 }))]], width: values + 1 }
  }
  return { header: placed.rows, width: Math.max(placed.width, values + 1) }
}

/**
 * The title of each grid column: the texts of the header cells over it, top to bottom, joined
 * (上年底党员数 · 合计). A phone shows the rows as cards of such title-value pairs instead of a
 * wide table.
 */
export function columnTitles(layout: TableLayout): string[] {
  const titles: string[][] = Array.from({ length: layout.width }, () => [])
  for (const row of layout.header) {
    for (const c of row) {
      for (let k = c.col; k < c.col + c.colspan && k < layout.width; k++) {
        const parts = titles[k]!
        if (c.text && parts[parts.length - 1] !== c.text) parts.push(c.text)
      }
    }
  }
  return titles.map((p) => p.join(' · '))
}

/** A number as the report prints it (thousands separated). */
export function formatValue(v: number | null | undefined): string {
  if (v === null || v === undefined) return ''
  return v.toLocaleString('zh-CN')
}

/** Default as-of date of a report: the last year end before today (YYYY-MM-DD). */
export function lastYearEnd(today: string): string {
  return `${Number(today.slice(0, 4)) - 1}-12-31`
}

/** Default as-of date of a half-year report: the last 30 June on or before today. */
export function lastHalfYearEnd(today: string): string {
  const y = Number(today.slice(0, 4))
  const thisYear = `${y}-06-30`
  return today >= thisYear ? thisYear : `${y - 1}-06-30`
}
