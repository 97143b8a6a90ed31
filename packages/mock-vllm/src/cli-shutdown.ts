import { readFileSync } from 'node:fs'

/** Why the `mock-vllm` command stops. */
export type StopReason = 'SIGINT' | 'SIGTERM' | 'SIGHUP' | 'parent-exited'

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

/** How often the ancestors are checked; a stale server is gone within about this long. */
const PARENT_CHECK_MS = 500

/** The processes that started this one, read at start-up: the parent and, where the OS tells, its parent. */
export interface Ancestry {
  parent: number
  /** `undefined` where it cannot be read (no `/proc`, i.e. not Linux). */
  grandparent: number | undefined
}

/** This process's ancestry now. Call it as early as possible, so a parent that dies during start-up counts. */
export function readAncestry(): Ancestry {
  const parent = process.ppid
  return { parent, grandparent: parentOf(parent) }
}

/**
 * Calls `stop` once, on the first of SIGINT, SIGTERM, SIGHUP (a closed terminal) or, when `ancestry` is
 * given, the death of the parent or the grandparent. The ancestors matter under `npx mock-vllm`: npm starts
 * `sh -c mock-vllm`, and the shell neither forwards signals nor dies with npm, so killing the npx process (by
 * SIGTERM, SIGHUP or SIGKILL) would leave the server running, re-parented. Both checks read the OS: a dead
 * process's children are re-parented to init or a subreaper, so the parent pid changes. A second signal while
 * stopping exits at once.
 *
 * @returns a function that removes the listeners and the ancestry check.
 */
export function onStopRequest(stop: (reason: StopReason) => void, ancestry?: Ancestry): () => void {
  let stopping = false
  let ancestryCheck: NodeJS.Timeout | undefined
  const request = (reason: StopReason) => {
    // the user insists (a second Ctrl-C): do not wait for open connections
    if (stopping) process.exit(1)
    stopping = true
    clearInterval(ancestryCheck)
    stop(reason)
  }
  const listeners = STOP_SIGNALS.map((signal) => {
    const listener = () => request(signal)
    process.on(signal, listener)
    return [signal, listener] as const
  })
  if (ancestry !== undefined) {
    ancestryCheck = setInterval(() => {
      if (ancestorExited(ancestry)) request('parent-exited')
    }, PARENT_CHECK_MS)
    ancestryCheck.unref()
  }
  return () => {
    clearInterval(ancestryCheck)
    for (const [signal, listener] of listeners) process.off(signal, listener)
  }
}

function ancestorExited(ancestry: Ancestry): boolean {
  // `process.ppid` is read from the OS on every access
  if (process.ppid !== ancestry.parent) return true
  return ancestry.grandparent !== undefined && parentOf(ancestry.parent) !== ancestry.grandparent
}

/** The parent pid of `pid` from `/proc/<pid>/stat`; `undefined` when the process is gone or there is no `/proc`. */
function parentOf(pid: number): number | undefined {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // `pid (comm) state ppid …`; comm may hold spaces and parentheses, so read after the last `)`
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const parent = Number(fields[1])
  return Number.isInteger(parent) ? parent : undefined
}
