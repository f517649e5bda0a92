// The institution's clock. "Today" for data (date pickers' defaults and limits, as-of dates,
// years, renewal windows, the workbench's date) is the institution's calendar day, not the
// browser's: a browser in another time zone, or with its clock wrong, would otherwise ask for a
// future date (which the server refuses) or yesterday's figures.
//
// GET /api/v1/clock (public) is read once at start-up (the router's first navigation awaits
// `syncClock()`). It gives the server's instant and the institution's IANA time zone; we keep
// the difference between the server's clock and the browser's (the skew) and the zone, so that
// `today()` is computed afresh at each call from the corrected clock in that zone: it turns at the
// institution's midnight without another request. Without an answer (offline, an older server)
// the browser's own clock and zone are used, as before.
import { rawApi } from './client'
import type { components } from './schema'

/** `now`: RFC 3339 with the institution's offset; `today`: its calendar date; `time_zone`: IANA name. */
export type ClockInfo = components['schemas']['ClockInfo']

interface State {
  /** Server's clock minus the browser's, in ms. */
  skewMs: number
  /** The institution's zone; undefined: the browser's own. */
  timeZone: string | undefined
  /** The institution's UTC offset in minutes from `now`, for a zone this browser does not know. */
  fixedOffsetMin: number | null
  source: 'server' | 'browser'
}

const initial = (): State => ({ skewMs: 0, timeZone: undefined, fixedOffsetMin: null, source: 'browser' })
let state: State = initial()
let pending: Promise<void> | null = null

const OFFSET = /(?:([+-])(\d{2}):?(\d{2})|Z)$/i

function offsetMinutes(rfc3339: string): number | null {
  const m = OFFSET.exec(rfc3339)
  if (!m) return null
  if (!m[1]) return 0
  const v = Number(m[2]) * 60 + Number(m[3])
  return m[1] === '-' ? -v : v
}

function knownZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz })
    return true
  } catch {
    return false
  }
}

/**
 * Takes the server's answer. `sentAt` and `receivedAt` are the browser's clock (ms) around the
 * request: the server's instant is taken to lie halfway.
 */
export function applyClock(info: ClockInfo, sentAt: number, receivedAt: number = sentAt) {
  const server = Date.parse(info.now)
  if (Number.isNaN(server)) return
  const zone = info.time_zone && knownZone(info.time_zone) ? info.time_zone : undefined
  state = {
    skewMs: server - (sentAt + receivedAt) / 2,
    timeZone: zone,
    fixedOffsetMin: zone ? null : offsetMinutes(info.now),
    source: 'server',
  }
}

/** Reads GET /api/v1/clock once (later calls share the first); never rejects. */
export function syncClock(timeoutMs = 4000): Promise<void> {
  pending ??= (async () => {
    const ctrl = new AbortController()
    const timer = setTimeout(() => ctrl.abort(), timeoutMs)
    try {
      const sentAt = Date.now()
      const { data } = await rawApi.GET('/api/v1/clock', { signal: ctrl.signal })
      if (data) applyClock(data, sentAt, Date.now())
    } catch {
      // the browser's clock, as before
    } finally {
      clearTimeout(timer)
    }
  })()
  return pending
}

/** Back to the browser's clock (tests). */
export function resetClock() {
  state = initial()
  pending = null
}

/** Where "now" comes from: the server's answer, or the browser's own clock. */
export function clockSource(): 'server' | 'browser' {
  return state.source
}

/** The institution's IANA time zone, or the browser's when the server has not said. */
export function timeZone(): string {
  return state.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone
}

/** The current instant by the server's clock. */
export function now(): Date {
  return new Date(Date.now() + state.skewMs)
}

const formats = new Map<string, Intl.DateTimeFormat>()
function ymdFormat(tz: string | undefined): Intl.DateTimeFormat {
  const key = tz ?? ''
  let f = formats.get(key)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', calendar: 'gregory', numberingSystem: 'latn' })
    formats.set(key, f)
  }
  return f
}

/** The calendar date (YYYY-MM-DD) of an instant in the institution's zone. */
export function dateAt(instant: Date | number): string {
  const t = typeof instant === 'number' ? instant : instant.getTime()
  if (!state.timeZone && state.fixedOffsetMin !== null) return new Date(t + state.fixedOffsetMin * 60_000).toISOString().slice(0, 10)
  const parts = ymdFormat(state.timeZone).formatToParts(t)
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? ''
  return `${part('year').padStart(4, '0')}-${part('month')}-${part('day')}`
}

/** The institution's today, YYYY-MM-DD. */
export function today(): string {
  return dateAt(now())
}

/** The institution's current year. */
export function thisYear(): number {
  return Number(today().slice(0, 4))
}
