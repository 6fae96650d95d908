import type { Response } from 'express'

/** Writes a JSON body that is already text, skipping Express's per-response extras (ETag, charset sniffing). */
export function sendJson (res: Response, status: number, body: string | Buffer, headers?: Record<string, string>): void {
  res.statusCode = status
  res.setHeader('content-type', 'application/json; charset=utf-8')
  if (headers !== undefined) for (const [k, v] of Object.entries(headers)) res.setHeader(k, v)
  res.end(body)
}
