// Everything a cluster is called in NATS, from CLUSTER_NAME: two clusters
// with different names share one NATS without seeing each other.
//
//   stream   <name>             subjects <name>.p.<partition>: the log of record
//   bucket   <name>-members     m.<instance>: heartbeats; p.<partition>: leases
//   subject  <name>.q.<instance>: queries an instance answers for its partitions

export interface ClusterNames {
  readonly stream: string
  readonly bucket: string
  partition (p: number): string
  /** The subjects of every partition (the stream's subject filter). */
  readonly partitions: string
  queries (instance: string): string
}

export function clusterNames (name: string): ClusterNames {
  return {
    stream: name,
    bucket: `${name}-members`,
    partition: (p) => `${name}.p.${p}`,
    partitions: `${name}.p.*`,
    queries: (instance) => `${name}.q.${instance}`
  }
}

/** KV keys of the member bucket. */
export const memberKey = (instance: string): string => `m.${instance}`
export const leaseKey = (partition: number): string => `p.${partition}`
