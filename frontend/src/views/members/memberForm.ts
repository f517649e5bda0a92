// The member form's fields and their mapping to the API (MemberInput), kept apart from the view so
// that unit tests cover it.
import type { Member, MemberInput } from '@/api/types'
import type { FieldSpec } from '@/utils/stale'
import { t } from '@/locales'

export const MEMBER_KEYS = [
  'name', 'gender', 'id_number', 'birth_date', 'ethnicity', 'native_place', 'education', 'degree', 'job_category', 'post', 'title',
  'phone', 'work_started_on', 'category', 'org_id', 'joined_at', 'full_member_at', 'status', 'is_flowing', 'lost_contact',
] as const satisfies readonly (keyof MemberInput & keyof Member)[]

export type MemberKey = (typeof MEMBER_KEYS)[number]
type Required4 = 'gender' | 'category' | 'is_flowing' | 'lost_contact'
export type MemberForm = { [K in Exclude<MemberKey, Required4>]: Member[K] | null } & {
  gender: Member['gender'] | undefined
  category: Member['category'] | undefined
  is_flowing: boolean
  lost_contact: boolean
}

export function emptyMemberForm(orgId: number | null = null): MemberForm {
  return {
    name: '', gender: undefined, id_number: null, birth_date: null, ethnicity: '汉族', native_place: null, education: null, degree: null,
    job_category: null, post: null, title: null, phone: null, work_started_on: null, category: 'probationary', org_id: orgId,
    joined_at: null, full_member_at: null, status: 'normal', is_flowing: false, lost_contact: false,
  }
}

export function memberToForm(m: Member): MemberForm {
  const f = {} as Record<MemberKey, unknown>
  for (const k of MEMBER_KEYS) f[k] = m[k] ?? null
  return f as unknown as MemberForm
}

/** A create body: blank fields left out. */
export function createBody(f: MemberForm): MemberInput {
  const body: Record<string, unknown> = {}
  for (const k of MEMBER_KEYS) {
    const v = f[k]
    if (v === null || v === undefined || (typeof v === 'string' && v.trim() === '')) continue
    body[k] = typeof v === 'string' ? v.trim() : v
  }
  return body as MemberInput
}

const label = (k: MemberKey) => t.fields[k] ?? k
const formatters: Partial<Record<MemberKey, (v: unknown) => string>> = {
  gender: (v) => t.gender[v as 'male' | 'female'] ?? String(v),
  category: (v) => t.category[v as 'full' | 'probationary'] ?? String(v),
  status: (v) => t.status[v as 'normal'] ?? String(v),
  is_flowing: (v) => (v ? t.common.yes : t.common.no),
  lost_contact: (v) => (v ? t.common.yes : t.common.no),
}

export const MEMBER_SPECS: FieldSpec<MemberKey>[] = MEMBER_KEYS.map((k) => {
  const spec: FieldSpec<MemberKey> = { key: k, label: label(k) }
  const f = formatters[k]
  if (f) spec.format = f
  return spec
})
