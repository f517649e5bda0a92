import { describe, expect, it } from 'vitest'
import { changedKeys, patchBody, rebase, staleRows } from './stale'
import { fromRouteQuery, toApiQuery, toRouteQuery } from './memberQuery'
import { mayCreateUnder, mayWriteOrg, memberEditMode, roleAllows, sortGrants } from './permissions'
import { probationDueCutoff } from './dates'
import { termDueCutoff } from '@/stores/workbench'
import type { Grant } from '@/api/types'

describe('partial updates and stale edits', () => {
  const keys = ['name', 'phone', 'post'] as const
  const original = { name: '张三', phone: '13800000000', post: null as string | null }

  it('sends only the changed fields, blank as null', () => {
    const current = { name: '张三', phone: '13911112222', post: '' }
    expect(changedKeys(keys, original, current)).toEqual(['phone'])
    expect(patchBody(keys, original, current)).toEqual({ phone: '13911112222' })
    expect(patchBody(keys, { ...original, post: '书记' }, { ...current, post: '' })).toEqual({ phone: '13911112222', post: null })
  })

  it('rebases the user input on the newer record', () => {
    const theirs = { name: '张三丰', phone: '13800000000', post: '委员' }
    const yours = { name: '张三', phone: '13911112222', post: null }
    expect(rebase(keys, original, theirs, yours)).toEqual({ name: '张三丰', phone: '13911112222', post: '委员' })
  })

  it('lists what they changed and marks conflicts', () => {
    const specs = keys.map((k) => ({ key: k, label: k }))
    const theirs = { name: '张三丰', phone: '13700000000', post: null }
    const yours = { name: '张三', phone: '13911112222', post: null }
    const rows = staleRows(specs, original, theirs, yours)
    expect(rows.map((r) => [r.field, r.theirs, r.yours, r.conflict])).toEqual([
      ['name', '张三丰', '张三', false],
      ['phone', '13700000000', '13911112222', true],
    ])
  })
})

describe('member list filters', () => {
  it('reads the URL defensively', () => {
    const f = fromRouteQuery({ q: 'zs', category: 'probationary', gender: 'bogus', joined_to: '2025-12-01', joined_from: 'x', org_id: '12', page: '3', page_size: '1000' })
    expect(f).toMatchObject({ q: 'zs', category: 'probationary', gender: '', joined_to: '2025-12-01', joined_from: '', org_id: 12, page: 3, page_size: 20 })
  })
  it('round-trips through the URL and builds the API query', () => {
    const f = fromRouteQuery({ q: ' zs ', status: 'normal', org_id: '4', page_size: '50' })
    expect(toRouteQuery(f)).toEqual({ q: 'zs', status: 'normal', org_id: '4', page_size: '50' })
    expect(toApiQuery(f)).toEqual({ q: 'zs', status: 'normal', org_id: 4, page: 1, page_size: 50 })
  })
})

const g = (id: number, role: Grant['role'], org_id: number | null): Grant => ({ id, role, org_id })

describe('permissions from the OpenAPI scopes and the data scope', () => {
  it('reads the roles each operation admits', () => {
    expect(roleAllows('move_org', 'committee')).toBe(true)
    expect(roleAllows('move_org', 'branch')).toBe(false)
    expect(roleAllows('update_member', 'member')).toBe(true)
    expect(roleAllows('create_member', 'member')).toBe(false)
  })
  it('writes orgs strictly below the grant org', () => {
    const path = [1, 2, 3] // top → org 3
    expect(mayWriteOrg('update_org', g(1, 'committee', 2), path)).toBe(true)
    expect(mayWriteOrg('update_org', g(1, 'committee', 3), path)).toBe(false) // its own org: the level above edits it
    expect(mayWriteOrg('move_org', g(1, 'branch', 2), path)).toBe(false) // branch may not move
    expect(mayWriteOrg('move_org', g(1, 'political_dept', null), [1])).toBe(true)
    expect(mayWriteOrg('update_org', g(1, 'committee', 9), path)).toBe(false)
  })
  it('creates under the grant org and below; tops only for the whole institution', () => {
    expect(mayCreateUnder(g(1, 'branch', 3), [1, 2, 3])).toBe(true)
    expect(mayCreateUnder(g(1, 'branch', 3), [1, 2])).toBe(false)
    expect(mayCreateUnder(g(1, 'political_dept', null), null)).toBe(true)
    expect(mayCreateUnder(g(1, 'political_dept', 1), null)).toBe(false)
  })
  it('lets a member edit only their own phone', () => {
    expect(memberEditMode(g(1, 'member', 3), [1, 2, 3], true)).toBe('phone')
    expect(memberEditMode(g(1, 'member', 3), [1, 2, 3], false)).toBe('none')
    expect(memberEditMode(g(1, 'branch', 3), [1, 2, 3], false)).toBe('all')
    expect(memberEditMode(g(1, 'branch', 4), [1, 2, 3], false)).toBe('none')
  })
  it('puts the most powerful grant first', () => {
    expect(sortGrants([g(3, 'member', 4), g(1, 'branch', 4), g(2, 'committee', 2)]).map((x) => x.id)).toEqual([2, 1, 3])
  })
})

describe('workbench to-dos', () => {
  it('finds probation that ends within 30 days', () => {
    expect(probationDueCutoff('2026-11-23', 30)).toBe('2025-12-23')
  })
  it('counts a term as due when it ends within 90 days (the server filters groups and dissolved orgs)', () => {
    expect(termDueCutoff('2026-11-23')).toBe('2027-02-21')
  })
})
