// Progress on stderr: "[k/n] what is running, elapsed, estimated time left".
// The plan lists every step with an estimate in seconds; as steps finish, the
// ratio of time actually taken to time estimated rescales what is left.

export interface PlannedStep {
  key: string
  label: string
  estimateS: number
}

function clock (s: number): string {
  const t = Math.max(0, Math.round(s))
  return `${Math.floor(t / 60)}:${String(t % 60).padStart(2, '0')}`
}

export class Progress {
  private readonly started = performance.now()
  private current = -1
  private currentStarted = 0
  private doneEstimate = 0
  private doneActual = 0

  constructor (private readonly plan: readonly PlannedStep[]) {}

  get total (): number { return this.plan.length }

  /** Estimated seconds for the whole plan. */
  get estimateS (): number { return this.plan.reduce((sum, s) => sum + s.estimateS, 0) }

  /** Marks the step `key` as started (and the previous one as finished). */
  begin (key: string): void {
    this.finishCurrent()
    const index = this.plan.findIndex((s) => s.key === key)
    const elapsed = (performance.now() - this.started) / 1000
    if (index < 0) {
      // A step the plan did not foresee (e.g. a growth point that could not be reused).
      process.stderr.write(`bench [extra] ${key.padEnd(52)} ${clock(elapsed)} elapsed\n`)
      return
    }
    this.current = index
    this.currentStarted = performance.now()
    const step = this.plan[index]!
    const k = String(index + 1).padStart(String(this.total).length)
    process.stderr.write(`bench [${k}/${this.total}] ${step.label.padEnd(52)} ${clock(elapsed)} elapsed, ~${clock(this.leftS(index))} left\n`)
  }

  /** Marks the last step finished. */
  end (): void {
    this.finishCurrent()
    this.current = -1
  }

  private finishCurrent (): void {
    if (this.current < 0) return
    this.doneEstimate += this.plan[this.current]!.estimateS
    this.doneActual += (performance.now() - this.currentStarted) / 1000
  }

  /** Seconds left from the start of step `index`, scaled by how the finished steps compared with their estimates. */
  private leftS (index: number): number {
    let left = 0
    for (let i = index; i < this.plan.length; i++) left += this.plan[i]!.estimateS
    const pace = this.doneEstimate > 0 ? Math.min(3, Math.max(0.5, this.doneActual / this.doneEstimate)) : 1
    return left * pace
  }
}
