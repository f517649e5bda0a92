// Who sees 导入: the roles the import operations admit (docs/api.md: branch, committee, political_dept).
import type { Role } from '@/api/types'
import { isOrgManager } from '@/utils/permissions'

export function mayImport(role: Role | null | undefined): boolean {
  return isOrgManager(role)
}
