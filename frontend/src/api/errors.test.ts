import { describe, expect, it } from 'vitest'
import { ApiError, fieldErrorMap, unplacedFieldErrors, toApiError } from './errors'

function resp(status: number, headers: Record<string, string> = {}) {
  return new Response(null, { status, headers })
}

describe('ApiError.fromResponse', () => {
  it('maps a problem document with field errors', () => {
    const e = ApiError.fromResponse(resp(422), {
      type: 'urn:dangjian:problem:validation_failed', title: 'Some fields are invalid', title_zh: '部分字段填写有误', status: 422, code: 'validation_failed',
      detail_zh: 'id_number：公民身份号码校验位错误',
      errors: [
        { field: 'id_number', code: 'id_number_checksum', message: 'bad check digit', message_zh: '公民身份号码校验位错误' },
        { field: 'phone', code: 'invalid_phone', message: 'bad phone', message_zh: '手机号格式不正确' },
        { field: 'phone', code: 'too_long', message: 'too long', message_zh: '' },
      ],
    })
    expect(e.status).toBe(422)
    expect(e.code).toBe('validation_failed')
    expect(e.fieldErrors).toEqual({ id_number: '公民身份号码校验位错误', phone: '手机号格式不正确；内容过长' })
    expect(e.userMessage).toBe('请按提示修改标红的字段')
    expect(e.summary).toBe('部分字段填写有误')
  })

  it('translates the stable code and keeps the server detail', () => {
    const e = ApiError.fromResponse(resp(423, { 'Retry-After': '900' }), {
      type: 'x', title: 'Account locked', title_zh: '账号已锁定', status: 423, code: 'account_locked', detail_zh: '登录失败次数过多，账号已锁定 15 分钟',
    })
    expect(e.summary).toBe('登录失败次数过多，账号已锁定')
    expect(e.userMessage).toBe('登录失败次数过多，账号已锁定 15 分钟')
    expect(e.retryAfter).toBe(900)
  })

  it('falls back to the zh title for an unknown code', () => {
    const e = ApiError.fromResponse(resp(409), { type: 'x', title: 'Conflict', title_zh: '操作冲突', status: 409, code: 'some_new_code' })
    expect(e.summary).toBe('操作冲突')
  })

  it('recognizes stale edits by code or by 412', () => {
    expect(ApiError.fromResponse(resp(409), { type: 'x', title: '', title_zh: '记录已被他人修改', status: 409, code: 'stale_version' }).isStale).toBe(true)
    expect(ApiError.fromResponse(resp(412), { type: 'x', title: '', title_zh: '', status: 412, code: 'stale_version' }).isStale).toBe(true)
    expect(ApiError.fromResponse(resp(409), { type: 'x', title: '', title_zh: '', status: 409, code: 'duplicate' }).isStale).toBe(false)
  })

  it('handles bodies that are not problems', () => {
    expect(ApiError.fromResponse(resp(502), 'Bad gateway').code).toBe('internal')
    expect(ApiError.fromResponse(resp(404), undefined).code).toBe('not_found')
  })

  it('wraps network failures', () => {
    const e = toApiError(new TypeError('Failed to fetch'))
    expect(e.code).toBe('network')
    expect(e.userMessage).toBe('无法连接服务器，请检查网络')
  })
})

describe('field error helpers', () => {
  it('uses the locale for a field code without a zh message', () => {
    expect(fieldErrorMap([{ field: 'x', code: 'required', message: 'required', message_zh: '' }])).toEqual({ x: '必填' })
  })
  it('lists errors of fields the form does not show', () => {
    const lines = unplacedFieldErrors(
      [
        { field: 'phone', code: 'invalid_phone', message: '', message_zh: '手机号格式不正确' },
        { field: 'parent_id', code: 'org_move_cycle', message: '', message_zh: '不能移到下级' },
      ],
      ['phone'],
    )
    expect(lines).toEqual(['上级组织：不能移到下级'])
  })
})
