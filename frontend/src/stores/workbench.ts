// The workbench's figures and to-dos for every grant of the account at once (each request pinned
// to its grant with X-Acting-Grant). All figures are list totals from the API: nothing is made up.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, asGrant, call } from '@/api/client'
import { toApiError } from '@/api/errors'
import type { Grant, Member, Org } from '@/api/types'
import { isOrgManager } from '@/utils/permissions'
import { addDays, isoDate, probationDueCutoff } from '@/utils/dates'

export interface Todo {
  kind: 'probation' | 'term' | 'phone'
  count: number
  /** Where the user acts on it. */
  to: string
  truncated?: boolean
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

const MAX_ORG_PAGES = 5

/** Orgs in the grant's scope (up to MAX_ORG_PAGES × 200), for the count and the terms that end. */
async function scopeOrgs(grant: Grant): Promise<{ total: number; items: Org[]; truncated: boolean }> {
  const roots: number[] = []
  if (grant.org_id != null) roots.push(grant.org_id)
  else {
    const tops = await call(api.GET('/api/v1/orgs', { params: { query: { page_size: 200 } }, headers: asGrant(grant.id) }))
    roots.push(...tops.items.map((o) => o.id))
  }
  let total = 0
  const items: Org[] = []
  let truncated = false
  for (const root of roots) {
    for (let page = 1; ; page++) {
      const r = await call(
        api.GET('/api/v1/orgs/{id}/subtree', { params: { path: { id: root }, query: { page, page_size: 200 } }, headers: asGrant(grant.id) }),
      )
      if (page === 1) total += r.total
      items.push(...r.items)
      if (page * 200 >= r.total) break
      if (page >= MAX_ORG_PAGES) {
        truncated = true
        break
      }
    }
  }
  return { total, items, truncated }
}

export function termsDue(orgs: Org[], today: Date, withinDays = 90): Org[] {
  const limit = isoDate(addDays(today, withinDays))
  return orgs.filter((o) => o.kind !== 'group' && !o.dissolved_on && !!o.term_end && o.term_end <= limit)
}

async function loadGrant(grant: Grant, personId: number | null, today: Date): Promise<GrantStats> {
  const s: GrantStats = { grant, loading: false, todos: [] }
  if (grant.role === 'member' && personId !== null) {
    s.self = await call(api.GET('/api/v1/members/{id}', { params: { path: { id: personId } }, headers: asGrant(grant.id) }))
    if (!s.self.phone) s.todos.push({ kind: 'phone', count: 1, to: `/members/${personId}/edit` })
    return s
  }
  if (!isOrgManager(grant.role)) return s
  const cutoff = probationDueCutoff(today, 30)
  const [members, probationary, due, orgs] = await Promise.all([
    countMembers(grant.id, { status: 'normal' }),
    countMembers(grant.id, { status: 'normal', category: 'probationary' }),
    countMembers(grant.id, { status: 'normal', category: 'probationary', joined_to: cutoff }),
    scopeOrgs(grant),
  ])
  s.members = members
  s.probationary = probationary
  s.orgs = orgs.total
  if (due > 0) s.todos.push({ kind: 'probation', count: due, to: `/members?category=probationary&joined_to=${cutoff}` })
  const terms = termsDue(orgs.items, today)
  if (terms.length > 0) s.todos.push({ kind: 'term', count: terms.length, to: '/orgs', truncated: orgs.truncated })
  return s
}

export const useWorkbenchStore = defineStore('workbench', () => {
  const stats = ref<GrantStats[]>([])
  const loadedFor = ref<number | null>(null)

  async function load(grants: Grant[], personId: number | null, accountId: number, today = new Date()) {
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
