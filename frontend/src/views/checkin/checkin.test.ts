import { describe, expect, it } from 'vitest'
import { ApiError } from '@/api/errors'
import { checkinMessage } from './checkinMessage'

const fieldErr = (code: string) => new ApiError({ status: 422, code: 'validation_failed', fields: [{ field: 'code', code, message: code, message_zh: '' }] })

describe('check-in messages', () => {
  it('names an old code, a forged one, a stranger and a closed check-in', () => {
    expect(checkinMessage(fieldErr('checkin_code_expired'))).toBe('二维码已过期，请重新扫描')
    expect(checkinMessage(new ApiError({ status: 422, code: 'checkin_code_expired' }))).toBe('二维码已过期，请重新扫描')
    expect(checkinMessage(fieldErr('checkin_code_invalid'))).toBe('二维码无效')
    expect(checkinMessage(new ApiError({ status: 403, code: 'not_an_attendee' }))).toContain('不是本次会议的应到人员')
    expect(checkinMessage(new ApiError({ status: 409, code: 'checkin_closed' }))).toBe('当前不在签到时间内')
  })

  it('falls back to the server\'s words', () => {
    expect(checkinMessage(new ApiError({ status: 500, code: 'internal', detailZh: '出错了' }))).toBe('出错了')
  })
})
