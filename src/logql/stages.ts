import type { LogQuery } from './ast.js'

// The stages of a LogQL query that reshape an entry after it matched: drop /
// keep on its labels, line_format on its line. One implementation, run where
// the query runs (the shards, for log and metric queries alike).

export type LabelStages = LogQuery['labelStages']

/** Whether label `name` survives the query's drop / keep stages. */
export function keptLabel (name: string, stages: LabelStages): boolean {
  for (const stage of stages) if (stage.names.includes(name) !== (stage.kind === 'keep')) return false
  return true
}

/** `labels` after the query's drop / keep stages (the object itself when there are none). */
export function applyLabelStages (labels: Record<string, string>, stages: LabelStages): Record<string, string> {
  if (stages.length === 0) return labels
  const out: Record<string, string> = {}
  for (const k in labels) if (keptLabel(k, stages)) out[k] = labels[k]!
  return out
}

/** `| line_format "…{{.name}}…"`: each `{{.name}}` replaced by that label or field ('' when absent). */
export const formatLine = (template: string, fields: Readonly<Record<string, string>>): string =>
  template.replace(/\{\{\s*\.([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g, (_, name: string) => fields[name] ?? '')
