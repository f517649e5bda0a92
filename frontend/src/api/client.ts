// The one API client: openapi-fetch over the generated types, with middleware that
//  - sends the bearer token and the acting grant (X-Acting-Grant, the role switcher),
//  - on 401 token_expired (or invalid_token, or token_revoked: the account's roles changed, or its
//    login ended) refreshes once (single-flight) and retries the request,
//  - when the login has ended, asks the app to log in again (a dialog that keeps the page and
//    its form) and then retries.
// Callers use `call(api.GET(...))`, which returns the data or throws an ApiError.
import createClient, { type Middleware } from 'openapi-fetch'
import type { paths } from './schema'
import { ApiError } from './errors'
import { getTokens, refreshOnce, type TokenResponse } from './session'

export const ACTING_GRANT_HEADER = 'X-Acting-Grant'

/** Without middleware: login, refresh, logout. */
export const rawApi = createClient<paths>({ baseUrl: '' })

export const api = createClient<paths>({ baseUrl: '' })

type Hooks = {
  actingGrant: () => number | null
  /** The login has ended: resolve true once the user has logged in again. */
  sessionEnded: () => Promise<boolean>
}
const hooks: Hooks = { actingGrant: () => null, sessionEnded: async () => false }

export function configureClient(h: Partial<Hooks>) {
  Object.assign(hooks, h)
}

export async function refreshTokens(refreshToken: string): Promise<TokenResponse | null> {
  try {
    const { data } = await rawApi.POST('/api/v1/auth/refresh', { body: { refresh_token: refreshToken } })
    return data ?? null
  } catch {
    return null
  }
}

const retryCopies = new WeakMap<Request, Request>()
const RETRIED = 'X-Dangjian-Retried'

async function problemCode(response: Response): Promise<string | undefined> {
  try {
    const body = (await response.clone().json()) as { code?: unknown }
    return typeof body.code === 'string' ? body.code : undefined
  } catch {
    return undefined
  }
}

function withToken(request: Request, access: string): Request {
  const r = new Request(request)
  r.headers.set('Authorization', `Bearer ${access}`)
  r.headers.set(RETRIED, '1')
  return r
}

export const authMiddleware: Middleware = {
  onRequest({ request }) {
    const tokens = getTokens()
    if (tokens && !request.headers.has('Authorization')) request.headers.set('Authorization', `Bearer ${tokens.access}`)
    if (!request.headers.has(ACTING_GRANT_HEADER)) {
      const g = hooks.actingGrant()
      if (g !== null) request.headers.set(ACTING_GRANT_HEADER, String(g))
    }
    // A copy with the body unread, in case the request must be sent again after a refresh.
    retryCopies.set(request, request.clone())
    return request
  },
  async onResponse({ request, response }) {
    if (response.status !== 401 || request.headers.has(RETRIED)) return response
    const copy = retryCopies.get(request)
    if (!copy) return response
    const sent = request.headers.get('Authorization')?.replace(/^Bearer /, '')
    const code = await problemCode(response)
    let ok = false
    // An expired (or otherwise refused) access token: a refresh may still get a new one.
    if (sent && (code === 'token_expired' || code === 'invalid_token' || code === 'token_revoked' || code === 'unauthenticated')) {
      ok = await refreshOnce(refreshTokens, sent)
    }
    // Only a login that was in use is worth a dialog; a request sent without one just fails.
    if (!ok && sent) ok = await hooks.sessionEnded()
    const tokens = getTokens()
    if (!ok || !tokens) return response
    return fetch(withToken(copy, tokens.access))
  },
}

api.use(authMiddleware)

type FetchResult<T> = { data?: T; error?: unknown; response: Response }

/** The data of a successful call, or an ApiError (problem+json mapped, network failures included). */
export async function call<T>(p: Promise<FetchResult<T>>): Promise<T> {
  let r: FetchResult<T>
  try {
    r = await p
  } catch (e) {
    throw e instanceof ApiError ? e : ApiError.network(e)
  }
  if (!r.response.ok || r.error !== undefined) throw ApiError.fromResponse(r.response, r.error)
  return r.data as T
}

/** Headers that pin one request to a grant (the workbench asks per role). */
export function asGrant(grantId: number): Record<string, string> {
  return { [ACTING_GRANT_HEADER]: String(grantId) }
}

/** `If-Match` for a version read earlier (docs/api.md, Versions). */
export function ifMatch(version: number): string {
  return `"${version}"`
}
