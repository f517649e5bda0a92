// Unit tests: one fetch stand-in that each test programs (the API client captures `fetch` when it
// is created, so the stand-in is installed before any module imports it).
import { afterEach, vi } from 'vitest'

export type Handler = (req: Request) => Response | Promise<Response>
let handler: Handler = () => new Response('no handler', { status: 599 })
export const requests: Request[] = []

export function onFetch(h: Handler) {
  handler = h
}

globalThis.fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
  const req = input instanceof Request ? input : new Request(input, init)
  requests.push(req.clone())
  return handler(req)
}) as typeof fetch

afterEach(() => {
  requests.length = 0
  handler = () => new Response('no handler', { status: 599 })
  localStorage.clear()
  sessionStorage.clear()
})

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } })
}

export function problem(status: number, code: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ type: `urn:dangjian:problem:${code}`, title: code, title_zh: code, status, code, ...extra }), {
    status,
    headers: { 'Content-Type': 'application/problem+json', ...headers },
  })
}
