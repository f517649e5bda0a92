// The check-in QR code's life: fetch a code, count down to its expiry (the server's 30 s window),
// fetch the next one at zero. The countdown runs on the local clock from the moment of the fetch,
// bounded to [MIN_SECS, valid_secs], so a PC clock that is off does not make it spin or stall.
import { getCurrentInstance, onBeforeUnmount, ref } from 'vue'

export interface CodeLike {
  code: string
  path: string
  expires_at: string
  valid_secs: number
}

export const MIN_SECS = 3

/** Seconds to show for a code fetched at `now`. */
export function lifetimeSecs(expiresAt: string, validSecs: number, now: number): number {
  const left = Math.ceil((Date.parse(expiresAt) - now) / 1000)
  if (!Number.isFinite(left)) return validSecs
  return Math.max(MIN_SECS, Math.min(validSecs, left))
}

export function useCodeRefresher<C extends CodeLike>(fetchCode: () => Promise<C>, opts: { now?: () => number; onError?: (e: unknown) => void } = {}) {
  const now = opts.now ?? (() => Date.now())
  const code = ref<C | null>(null) as { value: C | null }
  const left = ref(0)
  const loading = ref(false)
  const failed = ref(false)
  let deadline = 0
  let timer: ReturnType<typeof setInterval> | undefined
  let running = false

  async function refresh() {
    if (loading.value) return
    loading.value = true
    try {
      const c = await fetchCode()
      code.value = c
      failed.value = false
      const secs = lifetimeSecs(c.expires_at, c.valid_secs, now())
      deadline = now() + secs * 1000
      left.value = secs
    } catch (e) {
      failed.value = true
      // Try again in a few seconds rather than at once.
      deadline = now() + MIN_SECS * 1000
      left.value = MIN_SECS
      opts.onError?.(e)
    } finally {
      loading.value = false
    }
  }

  function tick() {
    if (!running) return
    left.value = Math.max(0, Math.ceil((deadline - now()) / 1000))
    if (left.value <= 0) void refresh()
  }

  function start() {
    if (running) return
    running = true
    void refresh()
    timer = setInterval(tick, 1000)
  }

  function stop() {
    running = false
    clearInterval(timer)
    timer = undefined
  }

  if (getCurrentInstance()) onBeforeUnmount(stop)
  return { code, left, loading, failed, start, stop, refresh }
}
