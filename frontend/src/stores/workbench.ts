// The workbench's figures and to-dos for every grant of the account at once (each request pinned
// to its grant with X-Acting-Grant). All figures are list totals from the API: nothing is made up.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, asGrant, call } from '@/api/client'
import { toApiError } from '@/api/errors'
import type { Grant, Member } from '@/api/types'
import { isOrgManager, roleAllows } from '@/utils/permissions'
import { addDays, probationDueCutoff } from '@/utils/dates'
import { today as institutionToday } from '@/api/clock'
import { t } from '@/locales'

export interface Todo {
  kind: 'probation' | 'term' | 'phone' | 'meetings_due' | 'meetings_missing'
  count: number
  /** Where the user acts on it. */
  to: string
}

/** A to-do's sentence, as the workbench and the bell show it. */
export function todoText(todo: Todo): string {
  switch (todo.kind) {
    case 'probation':
      return t.workbench.todoProbation(todo.count)
    case 'term':
      return t.workbench.todoTerm(todo.count)
    case 'meetings_due':
      return t.workbench.todoMeetingsDue(todo.count)
    case 'meetings_missing':
      return t.workbench.todoMeetingsMissing(todo.count)
    case 'phone':
      return t.workbench.todoNoPhone
  }
}

export interface GrantStats {
  grant: Grant
  loading: boolean
  error?: string
  members?: number
  probationary?: number
  orgs?: number
  self?: Member
  todos: Todo[]
}

type MemberQuery = { category?: 'full' | 'probationary'; gender?: 'male' | 'female'; status?: 'normal'; joined_to?: string; org_id?: number }

export async function countMembers(grantId: number, query: MemberQuery): Promise<number> {
  const page = await call(api.GET('/api/v1/members', { params: { query: { ...query, page_size: 1 } }, headers: asGrant(grantId) }))
  return page.total
}

/** How many orgs the grant's scope holds (the subtree totals of its roots). */
async function scopeOrgCount(grant: Grant): Promise<number> {
  const roots: number[] = []
  if (grant.org_id != null) roots.push(grant.org_id)
  else {
    const tops = await call(api.GET('/api/v1/orgs', { params: { query: { page_size: 200 } }, headers: asGrant(grant.id) }))
    roots.push(...tops.items.map((o) => o.id))
  }
  const totals = await Promise.all(
    roots.map((id) =>
      call(api.GET('/api/v1/orgs/{id}/subtree', { params: { path: { id }, query: { page: 1, page_size: 1 } }, headers: asGrant(grant.id) })).then((r) => r.total),
    ),
  )
  return totals.reduce((a, b) => a + b, 0)
}

/** The day up to which a term ending counts as renewal due (换届, docs/domain.md: started 1-2 months ahead). */
export function termDueCutoff(today: string, withinDays = 90): string {
  return addDays(today, withinDays)
}

/** Committees and branches of the scope whose term ends by the cutoff (the server filters). */
async function termsDueCount(grant: Grant, cutoff: string): Promise<number> {
  const r = await call(api.GET('/api/v1/orgs', { params: { query: { term_end_before: cutoff, page_size: 1 } }, headers: asGrant(grant.id) }))
  return r.total
}

/**
 * 组织生活 (docs/domain.md, Organizational life): this year's owed meetings of the grant's scope that are
 * due within 7 days, and those already missed, from the compliance analysis (its summary counts
 * every row, whatever the page).
 */
async function meetingTodos(grant: Grant): Promise<Todo[]> {
  if (!roleAllows('meetings_compliance', grant.role)) return []
  const query = grant.org_id != null ? { org_id: grant.org_id, page_size: 1 } : { page_size: 1 }
  const r = await call(api.GET('/api/v1/meetings/compliance', { params: { query }, headers: asGrant(grant.id) }))
  const to = grant.org_id != null ? `/meetings/compliance?org_id=${grant.org_id}` : '/meetings/compliance'
  const out: Todo[] = []
  if (r.summary.due_soon > 0) out.push({ kind: 'meetings_due', count: r.summary.due_soon, to })
  if (r.summary.missing > 0) out.push({ kind: 'meetings_missing', count: r.summary.missing, to })
  return out
}

async function loadGrant(grant: Grant, personId: number | null, today: string): Promise<GrantStats> {
  const s: GrantStats = { grant, loading: false, todos: [] }
  if (grant.role === 'member' && personId !== null) {
    s.self = await call(api.GET('/api/v1/members/{id}', { params: { path: { id: personId } }, headers: asGrant(grant.id) }))
    if (!s.self.phone) s.todos.push({ kind: 'phone', count: 1, to: `/members/${personId}/edit` })
    return s
  }
  if (!isOrgManager(grant.role)) return s
  const cutoff = probationDueCutoff(today, 30)
  const [members, probationary, due, orgs, terms, meetings] = await Promise.all([
    countMembers(grant.id, { status: 'normal' }),
    countMembers(grant.id, { status: 'normal', category: 'probationary' }),
    countMembers(grant.id, { status: 'normal', category: 'probationary', joined_to: cutoff }),
    scopeOrgCount(grant),
    termsDueCount(grant, termDueCutoff(today)),
    // a scope without a single root (several grants' worth) has no one analysis: no meeting to-dos
    meetingTodos(grant).catch(() => [] as Todo[]),
  ])
  s.members = members
  s.probationary = probationary
  s.orgs = orgs
  if (due > 0) s.todos.push({ kind: 'probation', count: due, to: `/members?category=probationary&joined_to=${cutoff}` })
  if (terms > 0) s.todos.push({ kind: 'term', count: terms, to: '/orgs' })
  s.todos.push(...meetings)
  return s
}

export const useWorkbenchStore = defineStore('workbench', () => {
  const stats = ref<GrantStats[]>([])
  const loadedFor = ref<number | null>(null)

  async function load(grants: Grant[], personId: number | null, accountId: number, today = institutionToday()) {
    loadedFor.value = accountId
    stats.value = grants.map((grant) => ({ grant, loading: true, todos: [] }))
    await Promise.all(
      grants.map(async (grant, i) => {
        try {
          stats.value[i] = await loadGrant(grant, personId, today)
        } catch (e) {
          stats.value[i] = { grant, loading: false, todos: [], error: toApiError(e).userMessage }
        }
      }),
    )
  }

  function todoCount(): number {
    return stats.value.reduce((n, s) => n + s.todos.length, 0)
  }

  function reset() {
    stats.value = []
    loadedFor.value = null
  }

  return { stats, loadedFor, load, todoCount, reset }
})
