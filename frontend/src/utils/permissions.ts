// What the acting role may do, from the OpenAPI `security` scopes of each operation (generated into
// operations.gen.ts) and the data-scope rules of docs/api.md ("Roles and scope").
import { operations, type OperationId } from '@/api/operations.gen'
import type { Grant, Role } from '@/api/types'

export function roleAllows(op: OperationId, role: Role | undefined | null): boolean {
  if (!role) return false
  return (operations[op].roles as readonly string[]).includes(role)
}

const ORG_MANAGERS: readonly Role[] = ['branch', 'committee', 'political_dept']

export function isOrgManager(role: Role | undefined | null): boolean {
  return !!role && ORG_MANAGERS.includes(role)
}

/** The grant reaches an org whose path (top → org, inclusive) is given. */
export function grantCovers(grant: Grant, pathIds: readonly number[]): boolean {
  if (grant.org_id === null || grant.org_id === undefined) return grant.role === 'political_dept'
  return pathIds.includes(grant.org_id)
}

/**
 * The grant may write an org itself (edit, move, delete): it must lie strictly below the grant's
 * org; the grant's own org is edited by the level above. political_dept without an org: everything.
 */
export function mayWriteOrg(op: OperationId, grant: Grant | null, pathIds: readonly number[]): boolean {
  if (!grant || !roleAllows(op, grant.role)) return false
  if (grant.org_id === null || grant.org_id === undefined) return grant.role === 'political_dept'
  const at = pathIds.indexOf(grant.org_id)
  return at >= 0 && at < pathIds.length - 1
}

/** The grant may add a child under the org with this path (the org itself may be the grant's). */
export function mayCreateUnder(grant: Grant | null, parentPathIds: readonly number[] | null): boolean {
  if (!grant || !roleAllows('create_org', grant.role)) return false
  if (parentPathIds === null) return grant.role === 'political_dept' && (grant.org_id === null || grant.org_id === undefined)
  return grantCovers(grant, parentPathIds)
}

/** The grant may edit a member record of an org with this path; a member only their own phone. */
export function memberEditMode(grant: Grant | null, orgPathIds: readonly number[], isSelf: boolean): 'all' | 'phone' | 'none' {
  if (!grant || !roleAllows('update_member', grant.role)) return 'none'
  if (grant.role === 'member') return isSelf ? 'phone' : 'none'
  return grantCovers(grant, orgPathIds) ? 'all' : 'none'
}

export function mayDeleteMember(grant: Grant | null, orgPathIds: readonly number[]): boolean {
  if (!grant || !roleAllows('delete_member', grant.role)) return false
  return grantCovers(grant, orgPathIds)
}

/** The most powerful grant first: the default acting role. */
const RANK: Record<Role, number> = { political_dept: 0, committee: 1, branch: 2, member: 3, masses: 4 }

export function sortGrants(grants: readonly Grant[]): Grant[] {
  return [...grants].sort((a, b) => RANK[a.role] - RANK[b.role] || a.id - b.id)
}
