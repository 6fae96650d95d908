import type { Logger } from 'pino'
import { LimitsTable, type TenantLimits } from './limits-file.js'
import { WatchedFile } from './watched-file.js'

// LIMITS_FILE as each front thread holds it: the file, watched and reloaded
// (watched-file.ts), and the lookup the router and the routes use.

export interface LimitsSource {
  /** `tenant`'s limits as the file says now; null when LIMITS_FILE is unset. */
  of: (tenant: string) => TenantLimits | null
  reload: () => void
  close: () => void
}

/** Opens LIMITS_FILE (`path`; '' for none); throws WatchedFileError for a file that cannot be used. */
export function openLimits (path: string, retentionMs: number, log: Logger): LimitsSource {
  if (path === '') return { of: () => null, reload: () => {}, close: () => {} }
  const file = WatchedFile.open({ setting: 'LIMITS_FILE', path, parse: (text) => LimitsTable.parse(text, retentionMs), log })
  return {
    of: (tenant) => file.current.of(tenant),
    reload: () => { file.reload('SIGHUP') },
    close: () => file.close()
  }
}
