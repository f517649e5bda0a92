// Problem documents (RFC 9457, docs/api.md "Errors") as one typed error the screens can show.
import type { components } from './schema'
import { t } from '@/locales'

export type Problem = components['schemas']['Problem']
export type FieldError = components['schemas']['FieldError']

function isProblem(body: unknown): body is Problem {
  return typeof body === 'object' && body !== null && typeof (body as Problem).code === 'string' && typeof (body as Problem).status === 'number'
}

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly titleZh: string | undefined
  readonly detailZh: string | undefined
  readonly fields: FieldError[]
  readonly retryAfter: number | undefined

  constructor(init: { status: number; code: string; titleZh?: string | null; detailZh?: string | null; fields?: FieldError[]; retryAfter?: number }) {
    super(init.detailZh ?? init.titleZh ?? init.code)
    this.name = 'ApiError'
    this.status = init.status
    this.code = init.code
    this.titleZh = init.titleZh ?? undefined
    this.detailZh = init.detailZh ?? undefined
    this.fields = init.fields ?? []
    this.retryAfter = init.retryAfter
  }

  static fromResponse(response: Response, body: unknown): ApiError {
    const ra = Number(response.headers.get('Retry-After'))
    const retryAfter = Number.isFinite(ra) && ra > 0 ? ra : undefined
    if (isProblem(body)) {
      return new ApiError({ status: response.status, code: body.code, titleZh: body.title_zh, detailZh: body.detail_zh, fields: body.errors ?? [], retryAfter })
    }
    const code = response.status >= 500 ? 'internal' : response.status === 404 ? 'not_found' : 'unknown'
    return new ApiError({ status: response.status, code, retryAfter })
  }

  static network(cause: unknown): ApiError {
    const e = new ApiError({ status: 0, code: 'network' })
    e.cause = cause
    return e
  }

  /** The translated `code` (locales), else the server's zh title. */
  get summary(): string {
    return t.errors.codes[this.code] ?? this.titleZh ?? t.errors.codes.unknown!
  }

  /** What to tell the user: the server's zh detail says the most (attempts left, until when…). */
  get userMessage(): string {
    if (this.code === 'validation_failed' && this.fields.length) return t.errors.fixFields
    return this.detailZh ?? this.summary
  }

  get isStale(): boolean {
    return this.code === 'stale_version' || this.status === 412
  }

  get isSessionEnd(): boolean {
    return this.status === 401
  }

  /** field → message for the form items; several messages on one field are joined. */
  get fieldErrors(): Record<string, string> {
    return fieldErrorMap(this.fields)
  }
}

export function fieldMessage(f: FieldError): string {
  return f.message_zh || t.errors.fieldCodes[f.code] || f.message
}

export function fieldErrorMap(fields: FieldError[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const f of fields) {
    const msg = fieldMessage(f)
    out[f.field] = out[f.field] ? `${out[f.field]}；${msg}` : msg
  }
  return out
}

/** Field errors that no form item shows, as "label：message" lines (so none is lost). */
export function unplacedFieldErrors(fields: FieldError[], placed: readonly string[]): string[] {
  return fields.filter((f) => !placed.includes(f.field)).map((f) => `${t.fields[f.field] ?? f.field}：${fieldMessage(f)}`)
}

export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e
  return ApiError.network(e)
}
