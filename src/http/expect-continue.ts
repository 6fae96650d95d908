import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { ShuttingDownError } from '../core/errors.js'
import { bodyFormat } from '../ingest/body.js'
import type { Settings } from '../settings/settings.js'
import { errorAnswer, type HttpError } from './answer.js'
import type { Lifecycle } from './app.js'
import { bodyEncoding, checkDeclaredLength } from './body.js'
import type { HttpPolicy } from './policy.js'
import { send } from './send.js'

// `Expect: 100-continue` asks whether to send the body at all. Node answers
// 100 Continue by itself unless the server handles 'checkContinue', so a body
// that would be refused was invited anyway. Here every check that needs only
// the headers runs first: 503 while closing, 403 (Origin, Host), and for
// POST /logs 401 (token), 415 (type, encoding) and 413 (Content-Length). A
// refusal closes the connection, since the client may send the body anyway.

export interface ContinueDeps {
  settings: Settings
  log: Logger
  lifecycle: Lifecycle
  policy: HttpPolicy
}

type Listener = (req: IncomingMessage, res: ServerResponse) => void

/** The 'checkContinue' listener: refuse from the headers, or invite the body and hand the request on. */
export function expectContinue (deps: ContinueDeps, next: Listener): Listener {
  const { settings, log, lifecycle, policy } = deps
  return function checkContinue (req, res) {
    try {
      if (lifecycle.closing) throw new ShuttingDownError()
      policy.checkSource?.(req.headers)
      const url = req.url ?? ''
      const q = url.indexOf('?')
      if (req.method === 'POST' && (q === -1 ? url : url.slice(0, q)) === '/logs') {
        policy.checkIngest?.(req.headers.authorization)
        bodyFormat(req.headers['content-type'])
        bodyEncoding(req.headers['content-encoding'])
        checkDeclaredLength(req, settings.maxBody)
      }
    } catch (err) {
      const answer = errorAnswer(err as HttpError, settings.maxBody, log, { method: req.method, url: req.url })
      answer.headers = { ...answer.headers, connection: 'close' }
      send(res, answer, policy.headers)
      return
    }
    res.writeContinue()
    next(req, res)
  }
}
