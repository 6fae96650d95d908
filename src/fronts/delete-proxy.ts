import type { CancelResult, DeleteApi, DeleteRequestView } from '../shards/delete-requests.js'
import type { LabelMatcher } from '../logql/ast.js'

// The delete API on a front thread beyond the first: each call is a message
// to the first front, which keeps the list (shards/delete-requests.ts).

export type DeleteCall =
  | { op: 'add', tenant: string, query: string, matchers: LabelMatcher[], start: number, end: number }
  | { op: 'list', tenant: string }
  | { op: 'cancel', tenant: string, id: string }

export type DeleteResult = DeleteRequestView | DeleteRequestView[] | CancelResult

/** Runs a forwarded call on the list itself. */
export async function runDeleteCall (api: DeleteApi, call: DeleteCall): Promise<DeleteResult> {
  switch (call.op) {
    case 'add': return await api.add(call.tenant, call.query, call.matchers, call.start, call.end)
    case 'list': return await api.list(call.tenant)
    case 'cancel': return await api.cancel(call.tenant, call.id)
  }
}

export class DeleteProxy implements DeleteApi {
  private nextId = 1
  private readonly waiting = new Map<number, (result: DeleteResult) => void>()

  constructor (private readonly post: (id: number, call: DeleteCall) => void) {}

  /** The first front's answer to call `id`. */
  answered (id: number, result: DeleteResult): void {
    this.waiting.get(id)?.(result)
    this.waiting.delete(id)
  }

  private call (call: DeleteCall): Promise<DeleteResult> {
    const id = this.nextId++
    return new Promise((resolve) => {
      this.waiting.set(id, resolve)
      this.post(id, call)
    })
  }

  async add (tenant: string, query: string, matchers: LabelMatcher[], start: number, end: number): Promise<DeleteRequestView> {
    return await this.call({ op: 'add', tenant, query, matchers, start, end }) as DeleteRequestView
  }

  async list (tenant: string): Promise<DeleteRequestView[]> {
    return await this.call({ op: 'list', tenant }) as DeleteRequestView[]
  }

  async cancel (tenant: string, id: string): Promise<CancelResult> {
    return await this.call({ op: 'cancel', tenant, id }) as CancelResult
  }
}
