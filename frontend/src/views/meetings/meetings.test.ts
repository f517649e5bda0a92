import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { changedItems, itemErrorsByPerson, markAllPresent, rowsOf, setAttendance, tally, validateRows, type AttendanceRow } from './attendance'
import { archiveBlockers, fmtDateTime, quorumMet, studyPercent, toRfc3339, votePasses } from './meetingLogic'
import { lifetimeSecs, MIN_SECS, useCodeRefresher } from './codeRefresher'
import type { MeetingAttendee } from './types'

function attendee(id: number, attendance: string, extra: Partial<MeetingAttendee> = {}): MeetingAttendee {
  return {
    person_id: id,
    name: `P${id}`,
    category: 'full',
    has_vote: true,
    attendance,
    absence_reason: null,
    absence_note: null,
    checked_in_by: null,
    checked_in_at: null,
    ...extra,
  } as MeetingAttendee
}

describe('attendance rows', () => {
  it('sends only what the clerk changed, so a QR check-in is kept', () => {
    const original = rowsOf([attendee(1, 'present', { checked_in_by: 'qr' }), attendee(2, 'pending'), attendee(3, 'pending')])
    const rows: AttendanceRow[] = original.map((r) => ({ ...r }))
    setAttendance(rows[1]!, 'absent')
    rows[1]!.absence_reason = 'sick'
    rows[1]!.absence_note = ' 住院 '
    setAttendance(rows[2]!, 'present')
    expect(changedItems(original, rows)).toEqual([
      { person_id: 2, attendance: 'absent', absence_reason: 'sick', absence_note: '住院' },
      { person_id: 3, attendance: 'present' },
    ])
  })

  it('needs a reason for every absence', () => {
    const rows = rowsOf([attendee(1, 'absent'), attendee(2, 'absent', { absence_reason: 'business' }), attendee(3, 'pending')])
    expect(validateRows(rows, 'why')).toEqual({ 1: 'why' })
  })

  it('全部出席 clears the reasons', () => {
    const rows = rowsOf([attendee(1, 'absent', { absence_reason: 'sick', absence_note: 'x' }), attendee(2, 'pending')])
    markAllPresent(rows)
    expect(rows.map((r) => [r.attendance, r.absence_reason, r.absence_note])).toEqual([
      ['present', null, ''],
      ['present', null, ''],
    ])
  })

  it('counts voters apart from probationary members', () => {
    const rows = rowsOf([attendee(1, 'present'), attendee(2, 'present', { has_vote: false, category: 'probationary' }), attendee(3, 'absent'), attendee(4, 'pending')])
    expect(tally(rows)).toEqual({ due: 4, present: 2, absent: 1, pending: 1, voters_due: 3, voters_present: 1 })
  })

  it('puts the server\'s items[i] errors on the person', () => {
    const items = [
      { person_id: 7, attendance: 'present' },
      { person_id: 9, attendance: 'absent' },
    ] as Parameters<typeof itemErrorsByPerson>[0]
    expect(itemErrorsByPerson(items, { 'items[1].absence_reason': '必填', minutes: 'x' })).toEqual({ 9: '必填' })
  })
})

describe('meeting rules', () => {
  it('quorum: more than half, an election more than four fifths', () => {
    expect(quorumMet('admission', 5, 9)).toBe(true)
    expect(quorumMet('admission', 4, 8)).toBe(false)
    expect(quorumMet('election', 8, 10)).toBe(false)
    expect(quorumMet('election', 9, 10)).toBe(true)
    expect(quorumMet('other', 0, 0)).toBe(false)
  })

  it('passes by more than half of the voters due', () => {
    expect(votePasses('admission', 5, 7, 9)).toBe(true)
    expect(votePasses('admission', 4, 7, 9)).toBe(false)
    expect(votePasses('election', 4, 7, 9)).toBe(true)
  })

  it('says why a record cannot be archived', () => {
    expect(archiveBlockers({ status: 'planned', minutes: null, archived: false, counts: { pending: 0 } })).toEqual(['status'])
    expect(archiveBlockers({ status: 'held', minutes: ' ', archived: false, counts: { pending: 2 } })).toEqual(['pending', 'minutes'])
    expect(archiveBlockers({ status: 'held', minutes: '记录', archived: false, counts: { pending: 0 } })).toEqual([])
    expect(archiveBlockers({ status: 'cancelled', minutes: null, archived: false, counts: { pending: 3 } })).toEqual([])
  })

  it('study progress is capped at 100 %', () => {
    expect(studyPercent(8, 32)).toBe(25)
    expect(studyPercent(70, 56)).toBe(100)
    expect(studyPercent(1.5, 56)).toBe(2.7)
  })

  it('formats times in the local zone and back', () => {
    const d = new Date(2026, 2, 12, 14, 30, 0)
    const s = toRfc3339(d)
    expect(s).toMatch(/^2026-03-12T14:30:00[+-]\d\d:\d\d$/)
    expect(fmtDateTime(s)).toBe('2026-03-12 14:30')
    expect(fmtDateTime(null)).toBe('—')
  })
})

describe('QR code refresh', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('bounds the countdown to the code\'s validity, whatever the clocks say', () => {
    const now = Date.parse('2026-03-12T06:00:10Z')
    expect(lifetimeSecs('2026-03-12T06:00:30Z', 30, now)).toBe(20)
    expect(lifetimeSecs('2026-03-12T06:10:00Z', 30, now)).toBe(30)
    expect(lifetimeSecs('2026-03-12T05:00:00Z', 30, now)).toBe(MIN_SECS)
    expect(lifetimeSecs('garbage', 30, now)).toBe(30)
  })

  it('counts down each second and fetches the next code at zero', async () => {
    vi.setSystemTime(Date.parse('2026-03-12T06:00:20Z'))
    let n = 0
    const fetchCode = vi.fn(async () => {
      n++
      const window = Math.floor(Date.now() / 30000)
      return { code: `${window}.c${n}`, path: `/checkin?m=1&c=${window}.c${n}`, expires_at: new Date((window + 1) * 30000).toISOString(), valid_secs: 30 }
    })
    const r = useCodeRefresher(fetchCode)
    r.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(fetchCode).toHaveBeenCalledTimes(1)
    expect(r.left.value).toBe(10)
    await vi.advanceTimersByTimeAsync(4000)
    expect(r.left.value).toBe(6)
    await vi.advanceTimersByTimeAsync(6000)
    expect(fetchCode).toHaveBeenCalledTimes(2)
    expect(r.code.value?.code).toMatch(/\.c2$/)
    expect(r.left.value).toBe(30)
    r.stop()
    await vi.advanceTimersByTimeAsync(60000)
    expect(fetchCode).toHaveBeenCalledTimes(2)
  })

  it('retries a failed fetch after a few seconds', async () => {
    vi.setSystemTime(Date.parse('2026-03-12T06:00:00Z'))
    const onError = vi.fn()
    const fetchCode = vi.fn().mockRejectedValueOnce(new Error('closed')).mockResolvedValue({ code: 'x', path: '/checkin?m=1&c=x', expires_at: '2026-03-12T06:00:30Z', valid_secs: 30 })
    const r = useCodeRefresher(fetchCode, { onError })
    r.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(r.failed.value).toBe(true)
    expect(onError).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(MIN_SECS * 1000)
    expect(fetchCode).toHaveBeenCalledTimes(2)
    expect(r.failed.value).toBe(false)
    r.stop()
  })
})

describe('attachment checks', () => {
  it('takes JPEG, PNG, WebP and PDF up to 10 MB, by type or extension', async () => {
    const { refusal, typeOf } = await import('./attachmentUpload')
    expect(refusal({ name: '签到表.pdf', type: 'application/pdf', size: 1000 })).toBeNull()
    expect(refusal({ name: 'IMG_0001.JPG', type: '', size: 1000 })).toBeNull()
    expect(typeOf({ name: 'x.webp', type: '' })).toBe('image/webp')
    expect(refusal({ name: '记录.docx', type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', size: 10 })).toBe('type')
    expect(refusal({ name: '大.png', type: 'image/png', size: 10 * 1024 * 1024 + 1 })).toBe('size')
  })
})
