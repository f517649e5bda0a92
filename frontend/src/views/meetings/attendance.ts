// The attendance editor's rows: from the detail, "全部出席", the check that every absence has a
// reason (docs/domain.md, Organizational life: who was absent and why), and the PUT body. Only rows the
// clerk changed are sent, so a member's QR check-in (checked_in_by = qr) is not overwritten by
// the clerk's save of an untouched row.
import type { AbsenceReason, Attendance, AttendanceItem, MeetingAttendee } from './types'

export interface AttendanceRow {
  person_id: number
  name: string
  category: string | null
  has_vote: boolean
  attendance: Attendance
  absence_reason: AbsenceReason | null
  absence_note: string
  checked_in_by: string | null
  checked_in_at: string | null
}

export const REASONS: readonly AbsenceReason[] = ['sick', 'personal', 'business', 'other']

export function rowsOf(attendees: readonly MeetingAttendee[]): AttendanceRow[] {
  return attendees.map((a) => ({
    person_id: a.person_id,
    name: a.name,
    category: a.category ?? null,
    has_vote: a.has_vote,
    attendance: a.attendance as Attendance,
    absence_reason: (a.absence_reason ?? null) as AbsenceReason | null,
    absence_note: a.absence_note ?? '',
    checked_in_by: a.checked_in_by ?? null,
    checked_in_at: a.checked_in_at ?? null,
  }))
}

/** "全部出席": everyone present, reasons cleared. */
export function markAllPresent(rows: AttendanceRow[]): void {
  for (const r of rows) setAttendance(r, 'present')
}

export function setAttendance(r: AttendanceRow, a: Attendance): void {
  r.attendance = a
  if (a !== 'absent') {
    r.absence_reason = null
    r.absence_note = ''
  }
}

/** person_id → message, for every absence without a reason. */
export function validateRows(rows: readonly AttendanceRow[], reasonRequired: string): Record<number, string> {
  const out: Record<number, string> = {}
  for (const r of rows) if (r.attendance === 'absent' && !r.absence_reason) out[r.person_id] = reasonRequired
  return out
}

function key(r: AttendanceRow): string {
  return r.attendance === 'absent' ? `absent|${r.absence_reason ?? ''}|${r.absence_note.trim()}` : r.attendance
}

/** The rows that differ from what was loaded, as PUT items (a row back to "pending" is not sent). */
export function changedItems(original: readonly AttendanceRow[], rows: readonly AttendanceRow[]): AttendanceItem[] {
  const before = new Map(original.map((r) => [r.person_id, key(r)]))
  const out: AttendanceItem[] = []
  for (const r of rows) {
    if (r.attendance === 'pending' || before.get(r.person_id) === key(r)) continue
    const item = { person_id: r.person_id, attendance: r.attendance } as AttendanceItem
    if (r.attendance === 'absent') {
      item.absence_reason = r.absence_reason
      item.absence_note = r.absence_note.trim() || null
    }
    out.push(item)
  }
  return out
}

/** The index of a row in the PUT items: the server names `items[i].absence_reason`. */
export function itemErrorsByPerson(items: readonly AttendanceItem[], fields: Record<string, string>): Record<number, string> {
  const out: Record<number, string> = {}
  for (const [field, msg] of Object.entries(fields)) {
    const m = /^items\[(\d+)\]/.exec(field)
    const item = m ? items[Number(m[1])] : undefined
    if (item) out[item.person_id] = out[item.person_id] ? `${out[item.person_id]}；${msg}` : msg
  }
  return out
}

export function tally(rows: readonly AttendanceRow[]) {
  const c = { due: rows.length, present: 0, absent: 0, pending: 0, voters_due: 0, voters_present: 0 }
  for (const r of rows) {
    c[r.attendance]++
    if (r.has_vote) {
      c.voters_due++
      if (r.attendance === 'present') c.voters_present++
    }
  }
  return c
}

/** One line per person for the stale dialog: what each side recorded. */
export function attendanceLabels(rows: readonly AttendanceRow[], states: Record<string, string>, reasons: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const r of rows) {
    let s = states[r.attendance] ?? r.attendance
    if (r.attendance === 'absent' && r.absence_reason) s += `（${reasons[r.absence_reason] ?? r.absence_reason}${r.absence_note ? `：${r.absence_note}` : ''}）`
    out[`p${r.person_id}`] = s
  }
  return out
}
