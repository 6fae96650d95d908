import type { Logger } from 'pino'
import { LimitsTable, type TenantLimits } from './limits-file.js'
import { WatchedFile } from './watched-file.js'

// LIMITS_FILE as each front thread holds it: the file, watched and reloaded
// (watched-file.ts), and the lookup the router and the routes use.

export interface LimitsSource {
  /** `tenant`'s limits as the file says now; null when LIMITS_FILE is unset. */
  of: (tenant: string) => TenantLimits | null
  /** The whole file as it is now; null when LIMITS_FILE is unset. */
  table: () => LimitsTable | null
  reload: () => void
  close: () => void
}

/** Opens LIMITS_FILE (`path`; '' for none), `onChange` told each new file in force; throws WatchedFileError for a file that cannot be used. */
export function openLimits (path: string, retentionMs: number, log: Logger, onChange?: (table: LimitsTable) => void): LimitsSource {
  if (path === '') return { of: () => null, table: () => null, reload: () => {}, close: () => {} }
  const file = WatchedFile.open({ setting: 'LIMITS_FILE', path, parse: (text) => LimitsTable.parse(text, retentionMs), log, ...(onChange === undefined ? {} : { onChange }) })
  return {
    of: (tenant) => file.current.of(tenant),
    table: () => file.current,
    reload: () => { file.reload('SIGHUP') },
    close: () => file.close()
  }
}
