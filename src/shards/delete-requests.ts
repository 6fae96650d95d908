import { randomBytes } from 'node:crypto'
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import type { Logger } from 'pino'
import type { LabelMatcher } from '../logql/ast.js'
import type { Deletion } from '../store/deletions.js'

// Delete requests (Loki's compactor API, /loki/api/v1/delete), kept by the
// first front: a request waits `cancelPeriodMs` (Loki's
// delete_request_cancel_period) as `received`, when it may be cancelled;
// then it is `processed`: sent to every shard (store/deletions.ts), which no
// longer reads its entries, while ingest goes on. With DATA_DIR the list is
// a file there (written whole, then renamed), so processed requests stay in
// force across a restart. A processed request is forgotten once all it
// covers is past RETENTION. Other front threads reach it by message (DeleteApi).

export interface DeleteRequest {
  id: string
  tenant: string
  query: string
  matchers: LabelMatcher[]
  /** Epoch µs, inclusive. */
  start: number
  end: number
  /** Epoch ms. */
  createdAt: number
  status: 'received' | 'processed'
}

/** A request as GET /loki/api/v1/delete lists it (Loki's fields; times in seconds). */
export interface DeleteRequestView { request_id: string, start_time: number, end_time: number, query: string, status: string, created_at: number }

export type CancelResult = 'cancelled' | 'processed' | 'unknown'

/** What the delete routes call: the list itself on the first front, messages to it on the others. */
export interface DeleteApi {
  add (tenant: string, query: string, matchers: LabelMatcher[], start: number, end: number): Promise<DeleteRequestView>
  list (tenant: string): Promise<DeleteRequestView[]>
  cancel (tenant: string, id: string): Promise<CancelResult>
}

export interface DeleteRequestsOptions {
  /** The file the list is kept in (DATA_DIR/delete-requests.json), or null in memory only. */
  file: string | null
  cancelPeriodMs: number
  retentionMs: number
  /** Hands the requests in force to every shard. */
  send: (list: Deletion[]) => void
  log: Logger
}

const TICK_MS = 250

export const viewOf = (r: DeleteRequest): DeleteRequestView => ({ request_id: r.id, start_time: r.start / 1e6, end_time: r.end / 1e6, query: r.query, status: r.status, created_at: r.createdAt / 1000 })

export class DeleteRequests implements DeleteApi {
  private requests: DeleteRequest[] = []
  private readonly timer: NodeJS.Timeout

  constructor (private readonly options: DeleteRequestsOptions) {
    if (options.file !== null) {
      try {
        this.requests = JSON.parse(readFileSync(options.file, 'utf8')) as DeleteRequest[]
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') options.log.error({ err, file: options.file }, 'delete requests: the file cannot be read; starting with none')
      }
    }
    this.timer = setInterval(() => this.tick(), TICK_MS).unref()
  }

  /** The requests in force (processed), for the shards. */
  inForce (): Deletion[] {
    return this.requests.filter((r) => r.status === 'processed').map((r) => ({ id: r.id, tenant: r.tenant, matchers: r.matchers, start: r.start, end: r.end }))
  }

  async add (tenant: string, query: string, matchers: LabelMatcher[], start: number, end: number): Promise<DeleteRequestView> {
    const r: DeleteRequest = { id: randomBytes(4).toString('hex'), tenant, query, matchers, start, end, createdAt: Date.now(), status: 'received' }
    this.requests.push(r)
    this.save()
    this.options.log.info({ tenant, requestId: r.id, query, start, end }, 'delete request received')
    return viewOf(r)
  }

  async list (tenant: string): Promise<DeleteRequestView[]> {
    return this.requests.filter((r) => r.tenant === tenant).map(viewOf)
  }

  async cancel (tenant: string, id: string): Promise<CancelResult> {
    const r = this.requests.find((x) => x.tenant === tenant && x.id === id)
    if (r === undefined) return 'unknown'
    if (r.status === 'processed') return 'processed'
    this.requests = this.requests.filter((x) => x !== r)
    this.save()
    return 'cancelled'
  }

  /** Processes the requests past their cancel period, and forgets those past RETENTION. */
  private tick (): void {
    const now = Date.now()
    let changed = false
    for (const r of this.requests) {
      if (r.status === 'received' && now - r.createdAt >= this.options.cancelPeriodMs) {
        r.status = 'processed'
        changed = true
        this.options.log.info({ tenant: r.tenant, requestId: r.id }, 'delete request processed')
      }
    }
    const kept = this.requests.filter((r) => r.status === 'received' || r.end / 1000 >= now - this.options.retentionMs)
    if (kept.length !== this.requests.length) {
      this.requests = kept
      changed = true
    }
    if (!changed) return
    this.save()
    this.options.send(this.inForce())
  }

  private save (): void {
    const { file } = this.options
    if (file === null) return
    try {
      writeFileSync(`${file}.tmp`, JSON.stringify(this.requests))
      renameSync(`${file}.tmp`, file)
    } catch (err) {
      this.options.log.error({ err, file }, 'delete requests: the file cannot be written')
    }
  }

  close (): void {
    clearInterval(this.timer)
  }
}
