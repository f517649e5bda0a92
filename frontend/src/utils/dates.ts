// Calendar dates as YYYY-MM-DD strings. "Today" is the institution's (today() of @/api/clock),
// not the browser's; the arithmetic below is on calendar days, with no time zone involved.

/** A Date's local calendar date as YYYY-MM-DD (a date picker's day: pickers work in local dates). */
export function isoDate(d: Date): string {
  const y = d.getFullYear()
  const m = String(d.getMonth() + 1).padStart(2, '0')
  const day = String(d.getDate()).padStart(2, '0')
  return `${y}-${m}-${day}`
}

function parse(iso: string): Date {
  const [y, m, d] = iso.split('-').map(Number)
  return new Date(Date.UTC(y!, m! - 1, d!))
}

function format(d: Date): string {
  return d.toISOString().slice(0, 10)
}

/** YYYY-MM-DD plus some days. */
export function addDays(iso: string, days: number): string {
  const d = parse(iso)
  d.setUTCDate(d.getUTCDate() + days)
  return format(d)
}

/** YYYY-MM-DD plus some years (29 February on to a common year is 1 March). */
export function addYears(iso: string, years: number): string {
  const d = parse(iso)
  d.setUTCFullYear(d.getUTCFullYear() + years)
  return format(d)
}

/**
 * The latest admission date whose one-year probation (docs/domain.md: full membership = admission +
 * 1 year) ends within `withinDays` of today.
 */
export function probationDueCutoff(today: string, withinDays: number): string {
  return addDays(addYears(today, -1), withinDays)
}

/** 2026年12月8日 星期二 */
export function todayLabel(today: string): string {
  const d = parse(today)
  const week = '日一二三四五六'[d.getUTCDay()]
  return `${d.getUTCFullYear()}年${d.getUTCMonth() + 1}月${d.getUTCDate()}日 星期${week}`
}
