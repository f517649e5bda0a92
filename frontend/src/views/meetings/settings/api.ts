// The settings endpoints of issue 6 (meeting kinds, per-org rules and has_committee, officers)
// through the one client. The types are the generated ones, named after what the calls answer or
// take, so no API shape is written twice.
import { api, call, ifMatch } from '@/api/client'
import type { paths } from '@/api/schema'

export function listKinds() {
  return call(api.GET('/api/v1/meeting-kinds'))
}

export type NewKind = paths['/api/v1/meeting-kinds']['post']['requestBody']['content']['application/json']
export type KindPatch = NonNullable<paths['/api/v1/meeting-kinds/{code}']['patch']['requestBody']>['content']['application/json']

export function createKind(body: NewKind) {
  return call(api.POST('/api/v1/meeting-kinds', { body }))
}

export function updateKind(code: string, version: number, body: KindPatch) {
  return call(api.PATCH('/api/v1/meeting-kinds/{code}', { params: { path: { code } }, body, headers: { 'If-Match': ifMatch(version) } }))
}

export function getRules(orgId: number) {
  return call(api.GET('/api/v1/orgs/{id}/meeting-rules', { params: { path: { id: orgId } } }))
}

export type RulesUpdate = paths['/api/v1/orgs/{id}/meeting-rules']['put']['requestBody']['content']['application/json']

export function putRules(orgId: number, body: RulesUpdate) {
  return call(api.PUT('/api/v1/orgs/{id}/meeting-rules', { params: { path: { id: orgId } }, body }))
}

export function getOfficers(orgId: number) {
  return call(api.GET('/api/v1/orgs/{id}/officers', { params: { path: { id: orgId } } }))
}

export type OfficersUpdate = paths['/api/v1/orgs/{id}/officers']['put']['requestBody']['content']['application/json']

export function putOfficers(orgId: number, body: OfficersUpdate) {
  return call(api.PUT('/api/v1/orgs/{id}/officers', { params: { path: { id: orgId } }, body }))
}

/** The members an officer is chosen from: the org's (with its party groups') members in good standing. */
export function orgMembers(orgId: number, q?: string) {
  return call(api.GET('/api/v1/members', { params: { query: { org_id: orgId, status: 'normal', page_size: 100, ...(q ? { q } : {}) } } }))
}

export function orgPath(orgId: number) {
  return call(api.GET('/api/v1/orgs/{id}/path', { params: { path: { id: orgId } } }))
}

export type MeetingKind = Awaited<ReturnType<typeof listKinds>>[number]
export type Frequency = MeetingKind['frequency']
export type MeetingRules = Awaited<ReturnType<typeof getRules>>
export type EffectiveRule = MeetingRules['rules'][number]
export type Officer = Awaited<ReturnType<typeof getOfficers>>[number]
export type OfficerPost = Officer['post']
