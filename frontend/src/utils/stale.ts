// Pure helpers for stale edits (412/409 stale_version) and partial updates.
import type { StaleRow } from '@/components/StaleDialog.vue'

export interface FieldSpec<K extends string = string> {
  key: K
  label: string
  format?: (v: unknown) => string
}

function same(a: unknown, b: unknown): boolean {
  const norm = (v: unknown) => (v === undefined || v === '' ? null : v)
  return norm(a) === norm(b)
}

function show(spec: FieldSpec, v: unknown): string {
  if (v === null || v === undefined || v === '') return '—'
  return spec.format ? spec.format(v) : String(v)
}

/** The fields the user changed since the record was read. */
export function changedKeys<T extends Record<string, unknown>>(keys: readonly (keyof T & string)[], original: T, current: Partial<T>): (keyof T & string)[] {
  return keys.filter((k) => !same(original[k], current[k]))
}

/** A PATCH body: only what changed; '' becomes null (clears the field). */
export function patchBody<T extends Record<string, unknown>>(keys: readonly (keyof T & string)[], original: T, current: Partial<T>): Partial<T> {
  const body: Partial<T> = {}
  for (const k of changedKeys(keys, original, current)) {
    const v = current[k]
    body[k] = (v === '' || v === undefined ? null : v) as T[typeof k]
  }
  return body
}

/** Rows for the stale dialog: every field someone else or the user changed. */
export function staleRows<T extends Record<string, unknown>>(specs: readonly FieldSpec<keyof T & string>[], original: T, theirs: T, yours: Partial<T>): StaleRow[] {
  return specs
    .filter((s) => !same(original[s.key], theirs[s.key]) || !same(original[s.key], yours[s.key]))
    .map((s) => ({
      field: s.key,
      label: s.label,
      original: show(s, original[s.key]),
      theirs: show(s, theirs[s.key]),
      yours: show(s, yours[s.key]),
      conflict: !same(original[s.key], yours[s.key]) && !same(original[s.key], theirs[s.key]),
    }))
}

/** The form after "reload and keep my input": the new record with the user's changes on top. */
export function rebase<T extends Record<string, unknown>>(keys: readonly (keyof T & string)[], original: T, theirs: T, yours: Partial<T>): Partial<T> {
  const out: Partial<T> = {}
  for (const k of keys) out[k] = same(original[k], yours[k]) ? theirs[k] : yours[k]
  return out
}
