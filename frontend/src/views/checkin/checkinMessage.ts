// What the check-in page says for each refusal of POST /meetings/{id}/checkin (contract: 422
// checkin_code_expired / checkin_code_invalid, 403 not_an_attendee, 409 checkin_closed).
import type { ApiError } from '@/api/errors'
import { t } from '@/locales'

export function checkinMessage(err: Pick<ApiError, 'code' | 'fields' | 'userMessage'>): string {
  const codes = [err.code, ...err.fields.map((f) => f.code)]
  if (codes.includes('checkin_code_expired')) return t.checkin.expired
  if (codes.includes('checkin_code_invalid')) return t.checkin.invalid
  if (codes.includes('not_an_attendee')) return t.checkin.notAttendee
  if (codes.includes('checkin_closed')) return t.checkin.closed
  return err.userMessage
}
