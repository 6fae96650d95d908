import { readFileSync, watch, type FSWatcher } from 'node:fs'
import { basename, dirname } from 'node:path'
import type { Logger } from 'pino'

// A settings file that is read again while the server runs (TOKENS_FILE,
// LIMITS_FILE): on SIGHUP (main.ts asks every front) and when the file
// changes (fs.watch on its folder, so an editor's or a deploy's rename is
// seen too, debounced). A new text is checked whole before it replaces the
// one in force; a bad one is refused, logged with what is wrong, and the old
// one stays. At start, a bad file stops the server.

/** Changes within this long are read once. */
const DEBOUNCE_MS = 100

/** A file that cannot be used at start: the server does not start (server.ts says so in one line). */
export class WatchedFileError extends Error {
  override name = 'WatchedFileError'
}

export interface WatchedFileOptions<T> {
  /** The setting that names the file, for messages (TOKENS_FILE). */
  setting: string
  path: string
  /** Checks a text whole: returns what it says, or throws with what is wrong. */
  parse: (text: string) => T
  log: Logger
  /** Told each new value once it is in force. */
  onChange?: (value: T) => void
}

export class WatchedFile<T> {
  private watcher: FSWatcher | null = null
  private timer: NodeJS.Timeout | null = null
  private text: string

  private constructor (private readonly options: WatchedFileOptions<T>, text: string, private value: T) {
    this.text = text
  }

  /** What the file says now (the last good text). */
  get current (): T { return this.value }

  /** Reads and checks the file; a missing or bad one throws WatchedFileError naming the setting and the problem. */
  static open<T> (options: WatchedFileOptions<T>): WatchedFile<T> {
    let text: string
    try {
      text = readFileSync(options.path, 'utf8')
    } catch (err) {
      throw new WatchedFileError(`${options.setting} ${options.path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
    let value: T
    try {
      value = options.parse(text)
    } catch (err) {
      throw new WatchedFileError(`${options.setting} ${options.path}: ${(err as Error).message}`)
    }
    const file = new WatchedFile(options, text, value)
    file.watch()
    return file
  }

  private watch (): void {
    const name = basename(this.options.path)
    try {
      this.watcher = watch(dirname(this.options.path), { persistent: false }, (_event, changed) => {
        if (changed !== null && changed !== name) return
        if (this.timer !== null) clearTimeout(this.timer)
        this.timer = setTimeout(() => {
          this.timer = null
          this.reload('change')
        }, DEBOUNCE_MS)
        this.timer.unref()
      })
      this.watcher.on('error', (err) => this.options.log.warn({ err, file: this.options.path }, `${this.options.setting}: watching the file failed; send SIGHUP to reload it`))
    } catch (err) {
      this.options.log.warn({ err, file: this.options.path }, `${this.options.setting}: the file cannot be watched; send SIGHUP to reload it`)
    }
  }

  /** Reads the file again; true when a new text is in force. A bad or unreadable one is logged and the old one stays. */
  reload (why: 'change' | 'SIGHUP'): boolean {
    const { setting, path, log } = this.options
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (err) {
      log.error({ file: path, why, error: (err as NodeJS.ErrnoException).code ?? (err as Error).message }, `${setting}: the file cannot be read; the one read before stays in force`)
      return false
    }
    if (text === this.text) return false
    let value: T
    try {
      value = this.options.parse(text)
    } catch (err) {
      log.error({ file: path, why, error: (err as Error).message }, `${setting}: the new file is refused; the one read before stays in force`)
      return false
    }
    this.text = text
    this.value = value
    log.info({ file: path, why }, `${setting}: reloaded`)
    this.options.onChange?.(value)
    return true
  }

  close (): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.watcher?.close()
  }
}
