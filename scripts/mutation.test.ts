import { execFileSync } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
// @ts-expect-error plain ESM script without type declarations
import { MUTATION_GROUPS, RANGE_ANCHORS } from './mutation/groups.mjs'
// @ts-expect-error plain ESM script without type declarations
import { belowTarget, markdownTable, scoreRows } from './mutation/score-table.mjs'

const roots: string[] = []

afterEach(() => {
  for (const dir of roots.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const mutants = (...statuses: string[]) => statuses.map((status) => ({ status }))

describe('mutation score table', () => {
  it('scores detected (killed + timeout) over valid mutants; ignored and compile errors do not count', () => {
    const rows = scoreRows({
      files: {
        'packages/b.ts': { mutants: mutants('Killed', 'Killed', 'Timeout', 'Survived', 'Ignored') },
        'packages/a.ts': { mutants: mutants('Killed', 'NoCoverage', 'CompileError') },
        'packages/c.ts': { mutants: mutants('Ignored') },
      },
    })
    expect(rows).toEqual([
      { file: 'packages/a.ts', killed: 1, survived: 0, noCoverage: 1, timeout: 0, ignored: 0, score: 50 },
      { file: 'packages/b.ts', killed: 2, survived: 1, noCoverage: 0, timeout: 1, ignored: 1, score: 75 },
      { file: 'packages/c.ts', killed: 0, survived: 0, noCoverage: 0, timeout: 0, ignored: 1, score: null },
    ])
    expect(markdownTable(rows).split('\n')).toEqual([
      '| file | killed | survived | no coverage | timeout | equivalent (ignored) | score |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      '| packages/a.ts | 1 | 0 | 1 | 0 | 0 | 50.0 % |',
      '| packages/b.ts | 2 | 1 | 0 | 1 | 1 | 75.0 % |',
      '| packages/c.ts | 0 | 0 | 0 | 0 | 1 | n/a |',
    ])
  })

  it('flags the files under 90 %, not those at 90 % or without valid mutants', () => {
    const rows = scoreRows({
      files: {
        'at.ts': { mutants: mutants(...Array(9).fill('Killed'), 'Survived') },
        'under.ts': { mutants: mutants(...Array(8).fill('Killed'), 'Survived', 'NoCoverage') },
        'none.ts': { mutants: [] },
      },
    })
    expect(belowTarget(rows).map((row: { file: string }) => row.file)).toEqual(['under.ts'])
  })
})

describe("the sandbox's node_modules links", () => {
  it('point workspace packages at the sandbox copy and everything else at the real installed path', () => {
    const repository = mkdtempSync(join(tmpdir(), 'mutation-links-'))
    roots.push(repository)
    const write = (path: string, text = '') => {
      mkdirSync(join(repository, path, '..'), { recursive: true })
      writeFileSync(join(repository, path), text)
    }
    write('pnpm-workspace.yaml', 'packages: [packages/*]\n')
    write('packages/spec/src/index.ts')
    write('packages/client/src/index.ts')
    write('node_modules/.pnpm/left-pad@1.0.0/node_modules/left-pad/index.js')
    write('node_modules/.vite-temp/config.mjs')
    mkdirSync(join(repository, 'packages/client/node_modules/@vllm-tito'), { recursive: true })
    symlinkSync('../../../spec', join(repository, 'packages/client/node_modules/@vllm-tito/spec'))
    symlinkSync(
      '../../../node_modules/.pnpm/left-pad@1.0.0/node_modules/left-pad',
      join(repository, 'packages/client/node_modules/left-pad'),
    )
    // the sandbox as Stryker fills it: the files, without node_modules
    const sandbox = join(repository, '.stryker-tmp/sandbox-1')
    mkdirSync(join(sandbox, 'packages/spec/src'), { recursive: true })
    mkdirSync(join(sandbox, 'packages/client/src'), { recursive: true })

    const script = fileURLToPath(new URL('./mutation/link-node-modules.mjs', import.meta.url))
    const output = execFileSync(process.execPath, [script], {
      cwd: sandbox,
      env: { ...process.env, MUTATION_REPOSITORY: repository },
      encoding: 'utf8',
    })
    expect(output.trim()).toBe(`linked 2 node_modules folders into ${sandbox}`)
    const client = join(sandbox, 'packages/client/node_modules')
    // the workspace link is recreated as it was, so it resolves to the sandbox's (mutated) spec
    expect(readlinkSync(join(client, '@vllm-tito/spec'))).toBe('../../../spec')
    expect(realpathSync(join(client, '@vllm-tito/spec'))).toBe(realpathSync(join(sandbox, 'packages/spec')))
    // an installed package is linked by its real path in the repository
    expect(readlinkSync(join(client, 'left-pad'))).toBe(
      realpathSync(join(repository, 'node_modules/.pnpm/left-pad@1.0.0/node_modules/left-pad')),
    )
    expect(readlinkSync(join(sandbox, 'node_modules/.pnpm'))).toBe(
      realpathSync(join(repository, 'node_modules/.pnpm')),
    )
    // vite's temporary folder is never shared with the repository
    expect(() => readlinkSync(join(sandbox, 'node_modules/.vite-temp'))).toThrow(/ENOENT/)
  })
})

describe('the mutation groups', () => {
  const repository = fileURLToPath(new URL('..', import.meta.url))
  const groups = MUTATION_GROUPS as Record<string, { mutate: string[]; testPackages: string[] }>
  const anchors = RANGE_ANCHORS as Record<string, [string, string]>
  const entries = Object.values(groups).flatMap((group) => group.mutate)

  it('name files that exist and test packages that have a vitest config', () => {
    for (const entry of entries) expect(existsSync(join(repository, entry.split(':')[0]!)), entry).toBe(true)
    for (const name of Object.values(groups).flatMap((group) => group.testPackages)) {
      expect(existsSync(join(repository, 'packages', name, 'vitest.config.ts')), name).toBe(true)
    }
  })

  it('give every line range an anchor, and each range still starts and ends on its anchored lines', () => {
    const ranges = entries.filter((entry) => entry.includes(':'))
    expect(ranges.length).toBeGreaterThan(0)
    expect(Object.keys(anchors).sort()).toEqual([...ranges].sort())
    for (const range of ranges) {
      const [, file, from, to] = /^(.+):(\d+)-(\d+)$/.exec(range) ?? []
      expect(file, `${range} is not file:from-to`).toBeDefined()
      const lines = readFileSync(join(repository, file!), 'utf8').split('\n')
      const [first, last] = anchors[range]!
      expect(lines[Number(from) - 1], `first line of ${range}`).toContain(first)
      expect(lines[Number(to) - 1], `last line of ${range}`).toContain(last)
    }
  })
})
