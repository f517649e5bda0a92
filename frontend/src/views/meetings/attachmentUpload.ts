// Uploading a meeting attachment: the type and size checked here first (JPEG, PNG, WebP, PDF;
// 10 MiB, the server's DANGJIAN_ATTACHMENT_MAX_BYTES default) so a wrong file is refused at once;
// the server checks the bytes themselves (a text file named .png is refused there).
import { api, call } from '@/api/client'
import type { AttachmentCategory } from './types'

export const MAX_MB = 10
export const ACCEPT = '.jpg,.jpeg,.png,.webp,.pdf,image/jpeg,image/png,image/webp,application/pdf'
const TYPES = ['image/jpeg', 'image/png', 'image/webp', 'application/pdf']
const BY_EXT: Record<string, string> = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', pdf: 'application/pdf' }

/** The file's type as the browser says, else by its extension. */
export function typeOf(f: { name: string; type: string }): string {
  if (f.type) return f.type
  return BY_EXT[f.name.toLowerCase().split('.').pop() ?? ''] ?? ''
}

/** Why a file cannot be uploaded, or null. */
export function refusal(f: { name: string; type: string; size: number }): 'type' | 'size' | null {
  if (!TYPES.includes(typeOf(f))) return 'type'
  if (f.size > MAX_MB * 1024 * 1024) return 'size'
  return null
}

export function uploadAttachment(meetingId: number, file: File, category: AttachmentCategory, addendumId?: number) {
  const form = new FormData()
  form.append('file', file, file.name)
  const query = addendumId ? { category, addendum_id: addendumId } : { category }
  return call(
    api.POST('/api/v1/meetings/{id}/attachments', {
      params: { path: { id: meetingId }, query },
      // The generated body type describes the form's fields; the browser sends the FormData itself.
      body: form as unknown as never,
      bodySerializer: (b: unknown) => b as FormData,
    }),
  )
}
