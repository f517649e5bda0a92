// Names for the generated schema types of the meeting endpoints (no hand-written API types).
import type { components, paths } from '@/api/schema'

type S = components['schemas']
export type MeetingKind = S['MeetingKind']
export type MeetingSummary = S['MeetingSummary']
export type MeetingDetail = S['MeetingDetail']
export type MeetingAttendee = S['Attendee']
export type MeetingCounts = S['Counts']
export type AttendeeCandidate = S['Candidate']
export type Vote = S['Vote']
export type Attachment = S['Attachment']
export type Addendum = S['Addendum']
export type CheckinCode = S['CheckinCode']
export type MyMeetings = S['MyMeetings']
export type Notification = S['Notification']

export type MeetingListQuery = NonNullable<paths['/api/v1/meetings']['get']['parameters']['query']>
export type CreateMeetingBody = paths['/api/v1/meetings']['post']['requestBody']['content']['application/json']
export type UpdateMeetingBody = paths['/api/v1/meetings/{id}']['patch']['requestBody']['content']['application/json']
export type AttendanceBody = paths['/api/v1/meetings/{id}/attendance']['put']['requestBody']['content']['application/json']
export type AttendanceItem = AttendanceBody['items'][number]
export type VoteBody = paths['/api/v1/meetings/{id}/votes']['post']['requestBody']['content']['application/json']

export type MeetingStatus = 'planned' | 'held' | 'cancelled'
export type Attendance = 'pending' | 'present' | 'absent'
export type AbsenceReason = 'sick' | 'personal' | 'business' | 'other'
export type AttachmentCategory = 'photo' | 'sign_in_sheet' | 'document'
