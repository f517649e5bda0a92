// Small rules of the meeting screens that are worth a unit test: the quorum preview (docs/domain.md,
// Member development, last paragraph; Organizations, renewal), why a record cannot be archived
// yet, study-hour progress, date formatting.
import type { MeetingDetail } from './types'

/** Quorum as the server checks it: more than half of the voters present; an election 4/5. */
export function quorumMet(subject: string, votersPresent: number, votersDue: number): boolean {
  if (votersDue <= 0) return false
  return subject === 'election' ? votersPresent * 5 > votersDue * 4 : votersPresent * 2 > votersDue
}

/** Passes: yes by more than half of the voters due (an election: of those present). */
export function votePasses(subject: string, yes: number, votersPresent: number, votersDue: number): boolean {
  return subject === 'election' ? yes * 2 > votersPresent : yes * 2 > votersDue
}

export type ArchiveBlocker = 'status' | 'pending' | 'minutes'

/** Why the archive button is disabled: a held record needs every attendance and the minutes. */
export function archiveBlockers(m: Pick<MeetingDetail, 'status' | 'minutes' | 'archived'> & { counts: { pending: number } }): ArchiveBlocker[] {
  if (m.archived) return []
  if (m.status === 'cancelled') return []
  if (m.status !== 'held') return ['status']
  const out: ArchiveBlocker[] = []
  if (m.counts.pending > 0) out.push('pending')
  if (!m.minutes || !m.minutes.trim()) out.push('minutes')
  return out
}

/** Study-hour progress in percent (0..100), one decimal place. */
export function studyPercent(done: number, required: number): number {
  if (required <= 0) return 100
  return Math.min(100, Math.round((done / required) * 1000) / 10)
}

function pad(n: number): string {
  return String(n).padStart(2, '0')
}

/** RFC 3339 → local "2026-03-12 14:30". */
export function fmtDateTime(iso: string | null | undefined): string {
  if (!iso) return '—'
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`
}

/** A Date as RFC 3339 with the local offset ("2026-03-12T14:30:00+08:00"). */
export function toRfc3339(d: Date): string {
  const off = -d.getTimezoneOffset()
  const sign = off >= 0 ? '+' : '-'
  const a = Math.abs(off)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`
}

/** A date range (YYYY-MM-DD, local days) as the list's from/to. */
export function rangeQuery(range: [string, string] | null): { from?: string; to?: string } {
  if (!range) return {}
  return { from: range[0], to: range[1] }
}
