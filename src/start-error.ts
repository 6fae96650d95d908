// Why the server could not start, in one line that names what to change: main
// prints it as is, without a stack (a busy port or a wrong HOST printed a
// stack trace and a JSON record before).

export class StartError extends Error {
  override name = 'StartError'
}

/** What to do about a failed listen, by the error's code. */
const REMEDIES: Record<string, (setting: string) => string> = {
  EADDRINUSE: (s) => `address in use; choose another ${s.split('/')[1] ?? 'PORT'} or stop what holds it`,
  EACCES: (s) => `permission denied (ports below 1024 need privileges); choose another ${s.split('/')[1] ?? 'PORT'}`,
  EADDRNOTAVAIL: (s) => `no such address on this machine; set ${s.split('/')[0] ?? 'HOST'} to one of its addresses, or 0.0.0.0 for all`,
  ENOTFOUND: (s) => `not an address nor a host name that resolves; check ${s.split('/')[0] ?? 'HOST'}`,
  EAI_AGAIN: (s) => `the host name could not be resolved now; check ${s.split('/')[0] ?? 'HOST'} or use an address`,
  EAI_FAIL: (s) => `the host name could not be resolved; check ${s.split('/')[0] ?? 'HOST'} or use an address`
}

/** A listen error as a StartError; `settings` names the host and port settings, e.g. 'HOST/PORT'. */
export function listenError (err: NodeJS.ErrnoException, host: string, port: number, settings = 'HOST/PORT'): Error {
  const remedy = err.code === undefined ? undefined : REMEDIES[err.code]
  const where = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
  return new StartError(`cannot listen on ${where}: ${remedy === undefined ? err.message : remedy(settings)}`, { cause: err })
}
