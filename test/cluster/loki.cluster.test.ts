// test/integration/loki.test.ts once more, against a two-instance cluster
// on a real nats-server (the fixture switch, test/integration/cluster-switch.ts).
process.env.LOGAGG_TEST_CLUSTER = '1'
await import('../integration/loki.test.js')
