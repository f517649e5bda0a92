// Who sees 导入: the roles the import operations admit (their OpenAPI security scopes).
import type { Role } from '@/api/types'
import { roleAllows } from '@/utils/permissions'

export function mayImport(role: Role | null | undefined): boolean {
  return roleAllows('upload', role) && roleAllows('get_template', role)
}

export function mayListImports(role: Role | null | undefined): boolean {
  return roleAllows('list_imports', role)
}
