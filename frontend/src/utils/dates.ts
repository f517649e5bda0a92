/** Local calendar date as YYYY-MM-DD. */
export function isoDate(d: Date): string {
  const y = d.getFullYear()
  const m = String(d.getMonth() + 1).padStart(2, '0')
  const day = String(d.getDate()).padStart(2, '0')
  return `${y}-${m}-${day}`
}

export function addDays(d: Date, days: number): Date {
  const r = new Date(d)
  r.setDate(r.getDate() + days)
  return r
}

export function addYears(d: Date, years: number): Date {
  const r = new Date(d)
  r.setFullYear(r.getFullYear() + years)
  return r
}

/**
 * The latest admission date whose one-year probation (docs/domain.md: full membership = admission +
 * 1 year) ends within `withinDays` of today.
 */
export function probationDueCutoff(today: Date, withinDays: number): string {
  return isoDate(addDays(addYears(today, -1), withinDays))
}

export function todayLabel(d: Date): string {
  const week = '日一二三四五六'[d.getDay()]
  return `${d.getFullYear()}年${d.getMonth() + 1}月${d.getDate()}日 星期${week}`
}
