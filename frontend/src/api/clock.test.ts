import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { json, onFetch, requests } from '@/test/setup'
import { isoDate, todayLabel } from '@/utils/dates'
import { applyClock, clockSource, now, resetClock, syncClock, thisYear, timeZone, today } from './clock'

// The browser is in UTC (its own date is the day before Beijing's from 00:00 to 08:00 there).
const tz = process.env.TZ
beforeAll(() => {
  process.env.TZ = 'UTC'
})
afterAll(() => {
  process.env.TZ = tz
})
afterEach(() => {
  resetClock()
  vi.useRealTimers()
})

/** The browser's clock reads `browser`; the server answered `now` in Asia/Shanghai. */
function at(browser: string, serverNow: string, zone = 'Asia/Shanghai') {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(new Date(browser))
  applyClock({ now: serverNow, today: serverNow.slice(0, 10), time_zone: zone }, Date.now())
}

describe('the institution’s day', () => {
  it('is the next day in Beijing while a UTC browser still says 17:30 of the day before', () => {
    at('2026-12-07T17:30:00Z', '2026-12-08T01:30:00+08:00')
    expect(isoDate(new Date())).toBe('2026-12-07') // the browser's own
    expect(today()).toBe('2026-12-08')
    expect(thisYear()).toBe(2026)
    expect(timeZone()).toBe('Asia/Shanghai')
    expect(clockSource()).toBe('server')
    expect(todayLabel(today())).toBe('2026年12月8日 星期二')
  })

  it('turns the year at the institution’s midnight: 31 December → 1 January', () => {
    at('2026-12-31T15:59:00Z', '2026-12-31T23:59:00+08:00')
    expect(today()).toBe('2026-12-31')
    expect(thisYear()).toBe(2026)
    vi.setSystemTime(new Date('2026-12-31T16:00:30Z')) // 00:00:30 in Beijing, no new request
    expect(today()).toBe('2027-01-01')
    expect(thisYear()).toBe(2027)
    expect(isoDate(new Date())).toBe('2026-12-31') // the UTC browser's own
  })

  it('has 29 February in a leap year and 1 March after it', () => {
    at('2028-02-28T16:00:00Z', '2028-02-29T00:00:00+08:00')
    expect(today()).toBe('2028-02-29')
    vi.setSystemTime(new Date('2028-02-29T16:00:00Z'))
    expect(today()).toBe('2028-03-01')
  })

  it('follows the server’s clock when the browser’s is wrong', () => {
    // The browser is three days and two hours behind.
    at('2026-03-05T08:00:00Z', '2026-03-08T18:00:00+08:00')
    expect(today()).toBe('2026-03-08')
    expect(now().toISOString()).toBe('2026-03-08T10:00:00.000Z')
    vi.setSystemTime(new Date('2026-03-05T14:00:00Z')) // six hours on: past midnight in Beijing
    expect(today()).toBe('2026-03-09')
  })

  it('uses the answer’s offset for a zone this browser does not know', () => {
    at('2026-12-07T17:30:00Z', '2026-12-08T01:30:00+08:00', 'Nowhere/Unknown')
    expect(today()).toBe('2026-12-08')
  })

  it('falls back to the browser’s clock and zone without an answer', () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(new Date('2026-12-07T17:30:00Z'))
    expect(today()).toBe('2026-12-07')
    expect(clockSource()).toBe('browser')
  })
})

describe('syncClock', () => {
  it('reads GET /api/v1/clock once, without a token', async () => {
    onFetch(() => json({ now: '2026-12-08T01:30:00+08:00', today: '2026-12-08', time_zone: 'Asia/Shanghai' }))
    await Promise.all([syncClock(), syncClock()])
    await syncClock()
    expect(requests).toHaveLength(1)
    expect(new URL(requests[0]!.url).pathname).toBe('/api/v1/clock')
    expect(requests[0]!.headers.get('Authorization')).toBeNull()
    expect(clockSource()).toBe('server')
    expect(timeZone()).toBe('Asia/Shanghai')
  })

  it('keeps the browser’s clock when the request fails', async () => {
    onFetch(() => new Response('down', { status: 503 }))
    await syncClock()
    expect(clockSource()).toBe('browser')
    expect(today()).toBe(isoDate(new Date()))
  })
})
