// The login's tokens: kept in localStorage so that a reload stays logged in, refreshed once at a
// time (in this tab by a shared promise, across tabs by a Web Lock) because the server rotates
// refresh tokens and treats a reused one as stolen (docs/api.md, Authentication).
import type { components } from './schema'

export type TokenResponse = components['schemas']['TokenResponse']

export interface Tokens {
  access: string
  refresh: string
  /** ms since the epoch */
  accessExpiresAt: number
}

const KEY = 'dangjian.tokens'
let tokens: Tokens | null = read()
const listeners = new Set<(t: Tokens | null, fromOtherTab: boolean) => void>()

function read(): Tokens | null {
  try {
    const raw = globalThis.localStorage?.getItem(KEY)
    if (!raw) return null
    const v = JSON.parse(raw) as Tokens
    return typeof v.access === 'string' && typeof v.refresh === 'string' ? v : null
  } catch {
    return null
  }
}

function notify(fromOtherTab = false) {
  for (const l of listeners) l(tokens, fromOtherTab)
}

export function getTokens(): Tokens | null {
  return tokens
}

export function onTokensChange(fn: (t: Tokens | null, fromOtherTab: boolean) => void): () => void {
  listeners.add(fn)
  return () => listeners.delete(fn)
}

export function setTokens(r: TokenResponse, now = Date.now()): Tokens {
  tokens = { access: r.access_token, refresh: r.refresh_token, accessExpiresAt: now + r.expires_in * 1000 }
  globalThis.localStorage?.setItem(KEY, JSON.stringify(tokens))
  notify()
  return tokens
}

export function clearTokens() {
  tokens = null
  globalThis.localStorage?.removeItem(KEY)
  notify()
}

// Another tab logged in, refreshed or logged out.
globalThis.addEventListener?.('storage', (e: StorageEvent) => {
  if (e.key !== KEY) return
  tokens = read()
  notify(true)
})

export type RefreshFn = (refreshToken: string) => Promise<TokenResponse | null>

let inFlight: Promise<boolean> | null = null

/**
 * Gets a new access token with the refresh token, at most once at a time. `staleAccess` is the
 * token that was refused: when another caller (or tab) has already replaced it, nothing is sent.
 * Resolves false when the login has ended (the refresh token is invalid, used or missing).
 */
export function refreshOnce(refresh: RefreshFn, staleAccess: string | undefined): Promise<boolean> {
  if (tokens && staleAccess !== undefined && tokens.access !== staleAccess) return Promise.resolve(true)
  if (!inFlight) {
    const run = async (): Promise<boolean> => {
      // Another tab may have rotated the tokens while we waited for the lock.
      const stored = read()
      if (stored && staleAccess !== undefined && stored.access !== staleAccess) {
        tokens = stored
        notify()
        return true
      }
      const current = stored ?? tokens
      if (!current) return false
      const r = await refresh(current.refresh)
      if (!r) {
        // Only forget the login if nobody replaced it meanwhile.
        if (read()?.refresh === current.refresh) clearTokens()
        return false
      }
      setTokens(r)
      return true
    }
    const locks = globalThis.navigator?.locks
    const p = locks ? (locks.request('dangjian-refresh', run) as unknown as Promise<boolean>) : run()
    inFlight = p.finally(() => {
      inFlight = null
    })
  }
  return inFlight
}
