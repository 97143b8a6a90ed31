import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { dataParallelRank, readRoutingOptions, routingHeaders } from './routing-headers'

describe('routingHeaders', () => {
  it('sends the rollout id in X-Session-ID by default, percent-encoded when it is not printable ASCII', () => {
    const defaults = readRoutingOptions('test', undefined)
    expect(routingHeaders('task-7/0', defaults)).toEqual({ 'X-Session-ID': 'task-7/0' })
    expect(routingHeaders(42, defaults)).toEqual({ 'X-Session-ID': '42' })
    expect(routingHeaders('état/0', defaults)).toEqual({ 'X-Session-ID': '%C3%A9tat%2F0' })
  })

  it("adds vLLM's data-parallel rank from sha256 of the id when a data-parallel size is given", () => {
    const options = readRoutingOptions('test', { header: 'X-SMG-Routing-Key', dataParallelSize: 8 })
    const digest = createHash('sha256').update('task-7/0').digest()
    const expected = Number(digest.readBigUInt64BE(0) % 8n)
    expect(routingHeaders('task-7/0', options)).toEqual({
      'X-SMG-Routing-Key': 'task-7/0',
      'X-data-parallel-rank': String(expected),
    })
    const ranks = new Set(Array.from({ length: 200 }, (_, index) => dataParallelRank(`r${index}`, 8)))
    expect([...ranks].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
  })

  it('sends no header when header is null', () => {
    expect(routingHeaders('a', readRoutingOptions('test', { header: null }))).toEqual({})
  })
})
