/**
 * A `fetch` that applies text replacements to every response body (an SSE stream or a JSON body) before the
 * client reads it. It stands in for server behaviour mock-vllm does not produce (`finish_reason: "abort"`, a
 * tool parser that passes malformed arguments through), while the request still goes over real HTTP. The
 * body is read whole first, so a stream arrives at once; its framing is unchanged.
 */
export function rewritingFetch(replacements: ReadonlyArray<readonly [string, string]>): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init)
    let text = await response.text()
    for (const [from, to] of replacements) text = text.replaceAll(from, to)
    const headers = new Headers(response.headers)
    headers.delete('content-length')
    return new Response(text, { status: response.status, headers })
  }
}
